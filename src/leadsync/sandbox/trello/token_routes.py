"""Tokens: ``GET /1/tokens/{token}`` (who holds it, when it expires, what it may read and write) and
``GET /1/tokens/{token}/{field}``; ``GET /1/tokens/{token}/member`` is with the member routes.

Source: https://developer.atlassian.com/cloud/trello/rest/api-group-tokens/. The docs' example is
``{"id", "identifier", "idMember", "dateCreated", "dateExpires", "permissions": [{"idModel",
"modelType": "board", "read": true, "write": true}]}``; ``idModel`` ``"*"`` means every model of that
type, and a token made with ``expiration=never`` has ``dateExpires: null``. The sandbox's tokens are
``read,write`` tokens that never expire. Only a token's own holder may read it here (401
``unauthorized token`` otherwise, as for its webhooks); a token nobody holds is ``invalid token``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from leadsync.sandbox.clock import iso_ms
from leadsync.sandbox.identities import Identity
from leadsync.sandbox.trello.errors import TrelloError, express_404
from leadsync.sandbox.trello.request import Ctx
from leadsync.sandbox.trello.router import Router

__all__ = ["APP_IDENTIFIER", "TOKEN_FIELDS", "get_token", "register", "token_field", "token_json"]

APP_IDENTIFIER = "leadsync sandbox"
TOKEN_FIELDS = ("identifier", "idMember", "dateCreated", "dateExpires", "permissions")


def token_json(ctx: Ctx, who: Identity) -> dict[str, Any]:
    """The token of ``who``, as ``GET /1/tokens/{token}`` answers it."""
    created = int(ctx.world.created_at)
    digest = hashlib.sha256(who.trello_token.encode("ascii")).hexdigest()
    return {
        "id": f"{created:08x}{digest[:16]}",
        "identifier": APP_IDENTIFIER,
        "idMember": who.trello_member_id,
        "dateCreated": iso_ms(datetime.fromtimestamp(created, tz=UTC)),
        "dateExpires": None,
        "permissions": [
            {"idModel": "*", "modelType": "board", "read": True, "write": True},
            {"idModel": "*", "modelType": "organization", "read": True, "write": True},
            {"idModel": who.trello_member_id, "modelType": "member", "read": True, "write": True},
        ],
    }


def _own(ctx: Ctx) -> Identity:
    token = ctx.path["token"]
    if token == ctx.identity.trello_token:
        return ctx.identity
    if any(token == who.trello_token for who in ctx.shared.identities.values()):
        raise TrelloError(401, "unauthorized token")
    raise TrelloError(401, "invalid token")


async def get_token(ctx: Ctx) -> Any:
    """``GET /1/tokens/{token}``: ``fields`` (``all`` or a comma list; ``id`` always) and, with
    ``webhooks=true``, the token's webhooks."""
    who = _own(ctx)
    full = token_json(ctx, who)
    fields = ctx.text("fields") or "all"
    shown = (
        full if fields == "all" else {k: v for k, v in full.items() if k == "id" or k in fields.split(",")}
    )
    if ctx.flag("webhooks", False):
        shown["webhooks"] = [h.as_json() for h in ctx.world.webhooks.values() if h.token == who.trello_token]
    return shown


async def token_field(ctx: Ctx) -> Any:
    """``GET /1/tokens/{token}/{field}``: ``{"_value": <the field>}``."""
    field = ctx.path["field"]
    if field not in TOKEN_FIELDS:
        raise express_404("GET", f"/1/tokens/{ctx.path['token']}/{field}")
    return {"_value": token_json(ctx, _own(ctx))[field]}


def register(router: Router) -> None:
    """Add the token routes to ``router`` (after ``/tokens/{token}/member`` and ``/webhooks``)."""
    router.add("GET", "/tokens/{token}", get_token)
    router.add("GET", "/tokens/{token}/{field}", token_field)
