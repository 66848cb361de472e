"""Trello's ``/1`` routes: boards, lists, cards, actions, members, tokens and batch, and the one
Starlette endpoint that authenticates, rate-limits and dispatches every call to them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from leadsync.sandbox.identities import Identity
from leadsync.sandbox.request_log import tag_identity
from leadsync.sandbox.trello import (
    action_queries,
    board_routes,
    card_field_routes,
    label_routes,
    label_writes,
    list_routes,
    token_routes,
    webhooks,
)
from leadsync.sandbox.trello.card_changes import card_changes, date_value, label_ids, target_list, text_value
from leadsync.sandbox.trello.errors import TrelloError, express_404, invalid_value, not_found
from leadsync.sandbox.trello.model import TrelloWorld
from leadsync.sandbox.trello.request import MAX_TEXT, Ctx, authenticate, read_params
from leadsync.sandbox.trello.router import Router
from leadsync.sandbox.trello.rows import HEX24, SHORT_LINK, BoardRow, CardRow

__all__ = [
    "CARD_FILTERS",
    "LIST_FILTERS",
    "MAX_BATCH",
    "MY_BOARD_FILTERS",
    "ROUTER",
    "batch",
    "board_actions",
    "board_cards",
    "board_lists",
    "card_actions",
    "create_card",
    "create_list",
    "delete_card",
    "get_board",
    "get_card",
    "get_list",
    "get_member",
    "list_cards",
    "my_boards",
    "project",
    "routes",
    "token_member",
    "update_card",
]

CARD_FILTERS = ("all", "closed", "none", "open", "visible", "complete", "incomplete")
LIST_FILTERS = ("all", "closed", "none", "open")
MY_BOARD_FILTERS = (
    "all",
    "closed",
    "members",
    "open",
    "organization",
    "public",
    "starred",
    "pinned",
    "unpinned",
)
MAX_BATCH = 10


def project(
    full: dict[str, Any], fields: str | None, extra: dict[str, Callable[[], Any]] | None = None
) -> dict[str, Any]:
    """``fields=all`` (the default) or a comma list; ``id`` is always there. Names the model does not have
    are left out (whether Trello refuses them is UNVERIFIED)."""
    if fields is None or fields == "all":
        return dict(full)
    shown = {"id": full["id"]}
    for name in (f.strip() for f in fields.split(",")):
        if name in full:
            shown[name] = full[name]
        elif extra and name in extra:
            shown[name] = extra[name]()
    return shown


def _card_filter(world: TrelloWorld, name: str, allowed: tuple[str, ...]) -> Callable[[CardRow], bool]:
    """``visible`` is open cards on open lists, so archived cards only show with ``all``/``closed``."""
    if name not in allowed:
        raise invalid_value("filter")
    tests: dict[str, Callable[[CardRow], bool]] = {
        "all": lambda c: True,
        "closed": lambda c: c.closed,
        "none": lambda c: False,
        "open": lambda c: not c.closed,
        "visible": lambda c: not c.closed and not world.lists[c.id_list].closed,
        "complete": lambda c: c.due_complete,
        "incomplete": lambda c: not c.due_complete,
    }
    return tests[name]


def _cards(
    ctx: Ctx, cards: list[CardRow], filter_name: str, allowed: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Filtered, bounded by ``since``/``before`` (by id: creation order; UNVERIFIED for cards, it is how
    Trello pages collections), cut at ``limit`` (1..1000) and projected by ``fields``."""
    world = ctx.world
    keep = _card_filter(world, filter_name, allowed)
    bounds = action_queries.window(ctx, {c.id: c.seq for c in world.cards.values()})
    limit = ctx.integer("limit", 0, 1, action_queries.MAX_ACTIONS)  # 0: not given, no cut
    chosen = [c for c in cards if keep(c) and all(b(c.seq, c.id) for b in bounds)]
    chosen = chosen[:limit] if limit else chosen
    fields = ctx.text("fields")
    return [project(world.card_json(c), fields) for c in chosen]


# ---- boards ------------------------------------------------------------------------------------------


async def get_board(ctx: Ctx) -> Any:
    """``GET /boards/{id}``: one board the caller can see, its fields projected, with its lists and cards when asked."""
    world = ctx.world
    board = world.board(ctx.path["id"], ctx.identity)
    shown = project(
        world.board_json(board), ctx.text("fields"), {"limits": lambda: world.board_limits(board)}
    )
    if (lists := ctx.text("lists") or "none") != "none":
        sub = Ctx(ctx.world, ctx.identity, {"filter": lists, "fields": ctx.text("list_fields")}, ctx.path)
        shown["lists"] = await board_lists(sub)
    if (cards := ctx.text("cards") or "none") != "none":
        sub = Ctx(ctx.world, ctx.identity, {"fields": ctx.text("card_fields")}, ctx.path)
        shown["cards"] = _cards(sub, world.cards_of_board(board.id), cards, CARD_FILTERS)
    return shown


async def board_lists(ctx: Ctx) -> Any:
    """``GET /boards/{id}/lists``: the board's lists by ``filter`` (open by default), each with its cards when asked."""
    world = ctx.world
    board = world.board(ctx.path["id"], ctx.identity)
    name = ctx.text("filter") or "open"
    if name not in LIST_FILTERS:
        raise invalid_value("filter")
    rows = [x for x in world.lists_of(board.id) if name == "all" or x.closed == (name == "closed")]
    if name == "none":
        rows = []
    fields, cards = ctx.text("fields"), ctx.text("cards", "none") or "none"
    shown = []
    for lst in rows:
        item = project(world.list_json(lst), fields)
        if cards != "none":
            sub = Ctx(ctx.world, ctx.identity, {"fields": ctx.text("card_fields")}, ctx.path)
            item["cards"] = _cards(sub, world.cards_of_list(lst.id), cards, CARD_FILTERS)
        shown.append(item)
    return shown


async def board_cards(ctx: Ctx) -> Any:
    """``GET /boards/{id}/cards[/{filter}]``: the board's cards by filter (visible by default), or one card of the board when the filter is a card id."""
    world = ctx.world
    board = world.board(ctx.path["id"], ctx.identity)
    name = ctx.path.get("filter") or ctx.text("filter") or "visible"
    if name not in CARD_FILTERS and (HEX24.match(name) or SHORT_LINK.match(name)):
        # /boards/{id}/cards/{idCard}: one card of this board.
        card = world.card(name, ctx.identity)
        if card.id_board != board.id:
            raise not_found()
        return project(world.card_json(card), ctx.text("fields"))
    return _cards(ctx, world.cards_of_board(board.id), name, CARD_FILTERS)


async def board_actions(ctx: Ctx) -> Any:
    """``GET /boards/{id}/actions``: the board's actions, newest first, filtered and paged as Trello does."""
    world = ctx.world
    board = world.board(ctx.path["id"], ctx.identity)
    return action_queries.query(
        ctx, [a for a in world.actions if a["data"].get("board", {}).get("id") == board.id]
    )


# ---- lists -------------------------------------------------------------------------------------------


async def get_list(ctx: Ctx) -> Any:
    """``GET /lists/{id}``: one list, its fields projected."""
    return project(TrelloWorld.list_json(ctx.world.list_(ctx.path["id"], ctx.identity)), ctx.text("fields"))


async def list_cards(ctx: Ctx) -> Any:
    """``GET /lists/{id}/cards``: the list's cards by ``filter`` (open by default)."""
    world = ctx.world
    lst = world.list_(ctx.path["id"], ctx.identity)
    return _cards(ctx, world.cards_of_list(lst.id), ctx.text("filter") or "open", LIST_FILTERS)


async def create_list(ctx: Ctx) -> Any:
    """``POST /lists``: a new list on the board ``idBoard``; 400 for a bad name or board."""
    world = ctx.world
    name = ctx.text("name") or ""
    if not 1 <= len(name) <= MAX_TEXT:
        raise invalid_value("name")
    board_ref = ctx.text("idBoard") or ""
    if not HEX24.match(board_ref) or board_ref.lower() not in world.boards:
        raise invalid_value("idBoard")
    board = world.board(board_ref, ctx.identity)
    return world.list_json(world.create_list(ctx.identity, board, name, ctx.params.get("pos")))


# ---- cards -------------------------------------------------------------------------------------------


async def get_card(ctx: Ctx) -> Any:
    """``GET /cards/{id}``: one card, its fields projected, with its list and board when asked."""
    world = ctx.world
    card = world.card(ctx.path["id"], ctx.identity)
    shown = project(world.card_json(card), ctx.text("fields"))
    if ctx.flag("list", False):
        shown["list"] = world.list_json(world.lists[card.id_list])
    if ctx.flag("board", False):
        shown["board"] = world.board_json(world.boards[card.id_board])
    return shown


async def create_card(ctx: Ctx) -> Any:
    """``POST /cards``: a new card in ``idList`` (at the bottom unless ``pos`` says otherwise), recorded as a ``createCard`` action."""
    world = ctx.world
    lst = world.lists[target_list(ctx, ctx.text("idList"))]
    values: dict[str, Any] = {"name": text_value(ctx, "name", 0), "desc": text_value(ctx, "desc", 0)}
    values["pos"] = world.place(ctx.params.get("pos"), [c.pos for c in world.cards_of_list(lst.id)], "bottom")
    values["due"], values["start"] = date_value(ctx, "due"), date_value(ctx, "start")
    values["dueComplete"] = ctx.flag("dueComplete", False)
    values["idMembers"], values["idLabels"] = ctx.id_list("idMembers"), label_ids(ctx, lst.id_board)
    return world.card_json(world.create_card(ctx.identity, lst, values))


async def update_card(ctx: Ctx) -> Any:
    """``PUT /cards/{id}``: change the given fields of one card (moving it between lists or boards included), recorded as ``updateCard`` actions."""
    world = ctx.world
    card = world.card(ctx.path["id"], ctx.identity)
    changes = card_changes(ctx, card)
    labels = changes.pop("idLabels", None)
    world.update_card(ctx.identity, card, changes)
    if labels is not None:
        label_writes.set_labels(world, ctx.identity, card, labels)
    return world.card_json(card)


async def delete_card(ctx: Ctx) -> Any:
    """``DELETE /cards/{id}``: delete one card for good, recorded as a ``deleteCard`` action."""
    world = ctx.world
    world.delete_card(ctx.identity, world.card(ctx.path["id"], ctx.identity))
    return {"limits": {}}  # the usual body; UNVERIFIED


async def card_actions(ctx: Ctx) -> Any:
    """Trello's documented default filter for a card's actions is ``commentCard, updateCard:idList``."""
    world = ctx.world
    card = world.card(ctx.path["id"], ctx.identity)
    mine = [a for a in world.actions if a["data"].get("card", {}).get("id") == card.id]
    return action_queries.query(ctx, mine, default_filter="commentCard,updateCard:idList")


# ---- members and tokens ------------------------------------------------------------------------------


def _member_json(ctx: Ctx, who: Identity) -> dict[str, Any]:
    full = {
        "id": who.trello_member_id,
        "username": who.trello_username,
        "fullName": who.full_name,
        "initials": "".join(p[0] for p in who.full_name.split()[:2]).upper(),
        "avatarHash": None,
        "avatarUrl": None,
        "bio": "",
        "confirmed": True,
        "memberType": "normal",
        "url": f"https://trello.com/{who.trello_username}",
        "idBoards": [b.id for b in ctx.world.accessible_boards(who)],
    }
    if who == ctx.identity:
        full["email"] = who.email  # a member's email shows only to themselves
    return project(full, ctx.text("fields"))


async def get_member(ctx: Ctx) -> Any:
    """``GET /members/{id}``: a member by id, username or ``me`` (the email shown only to the member themselves)."""
    ref = ctx.path["id"]
    if ref == "me":
        return _member_json(ctx, ctx.identity)
    for who in ctx.shared.identities.values():
        if ref in (who.trello_member_id, who.trello_username):
            return _member_json(ctx, who)
    raise not_found()


async def my_boards(ctx: Ctx) -> Any:
    """``GET /members/{id}/boards``: the caller's own boards by ``filter`` (``all`` by default; also
    ``open``, ``closed``, ``members``, ``public``, ``organization``, ``starred``, ``pinned``,
    ``unpinned``), their fields projected, each with its lists when ``lists`` asks; 401 for another member."""
    if ctx.path["id"] not in ("me", ctx.identity.trello_member_id, ctx.identity.trello_username):
        raise TrelloError(401, "unauthorized member permission requested")
    world = ctx.world
    name = ctx.text("filter") or "all"
    if name not in MY_BOARD_FILTERS:
        raise invalid_value("filter")
    keep: dict[str, Callable[[BoardRow], bool]] = {
        "all": lambda b: True,
        "members": lambda b: True,
        "unpinned": lambda b: True,
        "open": lambda b: not b.closed,
        "closed": lambda b: b.closed,
        "public": lambda b: b.prefs.get("permissionLevel") == "public",
        "organization": lambda b: False,  # the sandbox has no workspaces
        "starred": lambda b: False,
        "pinned": lambda b: False,
    }
    boards = [b for b in world.accessible_boards(ctx.identity) if keep[name](b)]
    shown = []
    for b in boards:
        item = project(world.board_json(b), ctx.text("fields"))
        if (lists := ctx.text("lists") or "none") != "none":
            sub = Ctx(ctx.world, ctx.identity, {"filter": lists}, {"id": b.id})
            item["lists"] = await board_lists(sub)
        shown.append(item)
    return shown


async def token_member(ctx: Ctx) -> Any:
    """``GET /tokens/{token}/member``: the member a token belongs to; 401 for another caller's token."""
    if ctx.path["token"] != ctx.identity.trello_token:
        raise TrelloError(401, "unauthorized token")
    return _member_json(ctx, ctx.identity)


# ---- batch -------------------------------------------------------------------------------------------


async def batch(ctx: Ctx) -> Any:
    """Up to 10 GET routes (without ``/1``), comma-separated; a route's own commas come encoded as
    ``%2C``. Each answer is ``{"<status>": body}`` in order; nested batch routes are left out ("ignored").
    Error items carry the same body as the route alone would (their shape is UNVERIFIED), and the batch
    counts as one request against the rate limits (per-route counting is UNVERIFIED)."""
    routes = [r.strip() for r in (ctx.text("urls") or "").split(",") if r.strip()]
    if not routes or len(routes) > MAX_BATCH:
        raise invalid_value("urls")  # the wording for too many routes is UNVERIFIED
    answers = []
    for route in routes:
        if route[:3].lower() == "%2f":
            route = unquote(route)
        parts = urlsplit(route)
        path = unquote(parts.path)
        if path.strip("/").split("/")[0] == "batch":
            continue
        matched = ROUTER.match("GET", path)
        if matched is None:
            answers.append({"404": express_404("GET", f"/1{path}").body})
            continue
        handler, path_params = matched
        sub = Ctx(ctx.world, ctx.identity, dict(parse_qsl(parts.query, keep_blank_values=True)), path_params)
        try:
            answers.append({"200": await handler(sub)})
        except TrelloError as exc:
            answers.append({str(exc.status): exc.body})
    return answers


# ---- wiring ------------------------------------------------------------------------------------------


def _router() -> Router:
    router = Router()
    router.add("GET", "/boards/{id}", get_board)
    router.add("GET", "/boards/{id}/lists", board_lists)
    router.add("GET", "/boards/{id}/cards", board_cards)
    router.add("GET", "/boards/{id}/cards/{filter}", board_cards)
    router.add("GET", "/boards/{id}/actions", board_actions)
    label_routes.register(router)
    list_routes.register(router)
    router.add("POST", "/lists", create_list)
    router.add("GET", "/lists/{id}", get_list)
    router.add("GET", "/lists/{id}/cards", list_cards)
    router.add("POST", "/cards", create_card)
    router.add("GET", "/cards/{id}", get_card)
    router.add("PUT", "/cards/{id}", update_card)
    router.add("DELETE", "/cards/{id}", delete_card)
    router.add("GET", "/cards/{id}/actions", card_actions)
    router.add("GET", "/members/{id}", get_member)
    router.add("GET", "/members/{id}/boards", my_boards)
    router.add("GET", "/tokens/{token}/member", token_member)
    router.add("GET", "/batch", batch)
    webhooks.register(router)
    token_routes.register(router)
    board_routes.register(router)
    card_field_routes.register(router)
    return router


ROUTER = _router()


def routes(world: TrelloWorld) -> list[BaseRoute]:
    """Every ``/1`` route: one endpoint that authenticates, rate-limits and dispatches."""
    shared = world.shared

    async def endpoint(request: Request) -> Response:
        full_path = request.url.path
        matched = ROUTER.match(request.method, "/" + request.path_params["rest"])
        if matched is None:
            return express_404(request.method, full_path).response()
        handler, path_params = matched
        try:
            params = await read_params(request)
            who = authenticate(shared, params, request.headers.get("authorization"), path_params.get("token"))
        except TrelloError as exc:
            return exc.response()
        tag_identity(request, who.name)
        verdict = shared.trello_limits.check(who.trello_key, who.trello_token, full_path, shared.rate_scale)
        if not verdict.ok:
            body = {"error": verdict.error, "message": "Rate limit exceeded"}
            return JSONResponse(body, status_code=429, headers=verdict.headers)
        try:
            response: Response = JSONResponse(await handler(Ctx(world, who, params, path_params)))
        except TrelloError as exc:
            response = exc.response()
        response.headers.update(verdict.headers)
        return response

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
    return [Route("/{rest:path}", endpoint, methods=methods)]
