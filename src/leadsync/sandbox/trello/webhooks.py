"""Trello webhooks: creation behind a HEAD check of the callback, and the token-scoped CRUD.

Deliveries are in :mod:`~leadsync.sandbox.trello.deliveries`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from leadsync.sandbox.identities import Identity
from leadsync.sandbox.trello.errors import TrelloError, invalid_value, not_found
from leadsync.sandbox.trello.model import TrelloWorld
from leadsync.sandbox.trello.request import MAX_TEXT, Ctx
from leadsync.sandbox.trello.router import Router
from leadsync.sandbox.trello.rows import HEX24, WebhookRow

__all__ = [
    "DUPLICATE",
    "NOT_YOURS",
    "create",
    "delete",
    "get",
    "list_for_token",
    "register",
    "update",
]

DUPLICATE = "A webhook with that callback, model, and token already exists"
NOT_YOURS = "webhook does not belong to token"


# ---- validation --------------------------------------------------------------------------------------


def _callback(ctx: Ctx) -> str:
    url = ctx.text("callbackURL")
    parts = urlsplit(url or "")
    if not url or parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid_value("callbackURL")
    return url


def _model(ctx: Ctx, given: Any) -> str:
    """A board, list or card the caller can see, by its 24-hex id."""
    if not isinstance(given, str) or not HEX24.match(given):
        raise invalid_value("idModel")
    world, ref = ctx.world, given.lower()
    if ref in world.boards:
        world.board(ref, ctx.identity)
    elif ref in world.lists:
        world.list_(ref, ctx.identity)
    elif ref in world.cards:
        world.card(ref, ctx.identity)
    else:
        raise invalid_value("idModel")
    return ref


def _description(ctx: Ctx, default: str) -> str:
    text = ctx.text("description", default) or ""
    if len(text) > MAX_TEXT:
        raise invalid_value("description")
    return text


def _refuse_duplicate(world: TrelloWorld, who: Identity, url: str, model: str, skip: str = "") -> None:
    for hook in world.webhooks.values():
        if (
            hook.id != skip
            and hook.callback_url == url
            and hook.id_model == model
            and hook.token == who.trello_token
        ):
            raise TrelloError(400, DUPLICATE)


async def _head_check(ctx: Ctx, url: str) -> None:
    """Trello HEADs the callback before it creates (or re-points) a webhook, and wants a 200."""
    status = await ctx.shared.dispatcher.head(url)
    if status != 200:
        # Trello's wording when nothing answers at all is UNVERIFIED; the sandbox says so plainly.
        got = "no response" if status is None else str(status)
        raise TrelloError(
            400, {"message": f"URL ({url}) did not return 200 status code, got {got}", "error": "ERROR"}
        )


def _own_token(ctx: Ctx) -> None:
    """``/tokens/{token}/...`` only serves the caller's own token."""
    if ctx.path.get("token") not in (None, ctx.identity.trello_token):
        raise TrelloError(401, "unauthorized token")


def _hook(ctx: Ctx) -> WebhookRow:
    """The caller's webhook ``{id}``. Another token's webhook is a 401 (the status Trello uses for
    ``webhook does not belong to token`` is UNVERIFIED; 401 matches its other permission errors)."""
    _own_token(ctx)
    ref = ctx.path["id"]
    if not HEX24.match(ref):
        raise invalid_value("idWebhook")
    hook = ctx.world.webhooks.get(ref.lower())
    if hook is None:
        raise not_found()
    if hook.token != ctx.identity.trello_token:
        raise TrelloError(401, NOT_YOURS)
    return hook


# ---- handlers ----------------------------------------------------------------------------------------


async def create(ctx: Ctx) -> Any:
    """``POST /1/webhooks``: a new webhook, once its callback answered a HEAD with 200."""
    _own_token(ctx)
    url, description = _callback(ctx), _description(ctx, "")
    active = ctx.flag("active", True)
    model = _model(ctx, ctx.params.get("idModel"))
    _refuse_duplicate(ctx.world, ctx.identity, url, model)
    await _head_check(ctx, url)
    # The world may have changed during the HEAD: check again, then create without awaiting.
    world = ctx.world
    model = _model(ctx, model)
    _refuse_duplicate(world, ctx.identity, url, model)
    who = ctx.identity
    hook = WebhookRow(world.new_id()[0], description, model, url, active, who.trello_token, who.trello_key)
    world.webhooks[hook.id] = hook
    return hook.as_json()


async def list_for_token(ctx: Ctx) -> Any:
    """``GET /1/tokens/{token}/webhooks``: the token's webhooks."""
    _own_token(ctx)
    token = ctx.identity.trello_token
    return [h.as_json() for h in ctx.world.webhooks.values() if h.token == token]


async def get(ctx: Ctx) -> Any:
    """``GET /1/webhooks/{id}``."""
    return _hook(ctx).as_json()


async def update(ctx: Ctx) -> Any:
    """``PUT /1/webhooks/{id}``: change the callback, model, description or active flag."""
    hook = _hook(ctx)
    url = _callback(ctx) if ctx.has("callbackURL") else hook.callback_url
    model = _model(ctx, ctx.params["idModel"]) if ctx.has("idModel") else hook.id_model
    description = _description(ctx, hook.description)
    active = ctx.flag("active", hook.active)
    _refuse_duplicate(ctx.world, ctx.identity, url, model, skip=hook.id)
    if url != hook.callback_url:
        await _head_check(ctx, url)
        hook = _hook(ctx)
        _refuse_duplicate(ctx.world, ctx.identity, url, model, skip=hook.id)
    hook.callback_url, hook.id_model, hook.description, hook.active = url, model, description, active
    return hook.as_json()


async def delete(ctx: Ctx) -> Any:
    """``DELETE /1/webhooks/{id}``."""
    hook = _hook(ctx)
    del ctx.world.webhooks[hook.id]
    return {"_value": None}  # the body observed from DELETE /1/webhooks/{id}


def register(router: Router) -> None:
    """Add the webhook routes to ``router``."""
    for prefix in ("/webhooks", "/tokens/{token}/webhooks"):
        router.add("POST", prefix, create)
        router.add("GET", prefix + "/{id}", get)
        router.add("PUT", prefix + "/{id}", update)
        router.add("DELETE", prefix + "/{id}", delete)
    router.add("GET", "/tokens/{token}/webhooks", list_for_token)
