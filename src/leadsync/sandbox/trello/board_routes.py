"""Trello's board routes beyond reading one: ``POST /1/boards``, ``DELETE /1/boards/{id}``, a board's
members and memberships, and one board field at a time (``GET /1/boards/{id}/{field}``).

Sources: https://developer.atlassian.com/cloud/trello/rest/api-group-boards/. Prefs travel with
underscores on the wire (``prefs_permissionLevel=public``). A one-field read answers ``{"_value": ...}``.
A board its member cannot see is a 401 ``unauthorized permission requested``, never a 404.
"""

from __future__ import annotations

from typing import Any

from leadsync.sandbox.trello import board_writes
from leadsync.sandbox.trello.errors import TrelloError, express_404, invalid_value
from leadsync.sandbox.trello.request import MAX_TEXT, Ctx
from leadsync.sandbox.trello.router import Router

__all__ = [
    "BOARD_FIELDS",
    "PREF_CHOICES",
    "board_field",
    "board_members",
    "board_memberships",
    "create_board",
    "delete_board",
    "register",
]

BOARD_FIELDS = (
    "closed", "dateLastActivity", "dateLastView", "desc", "descData", "idMemberCreator", "idOrganization",
    "invitations", "invited", "labelNames", "memberships", "name", "pinned", "powerUps", "prefs",
    "shortLink", "shortUrl", "starred", "subscribed", "url",
)  # fmt: skip
# Each documented ``prefs_<name>`` parameter of ``POST /1/boards`` and the values it takes.
PREF_CHOICES: dict[str, tuple[str, ...]] = {
    "permissionLevel": ("org", "private", "public"),
    "voting": ("disabled", "members", "observers", "org", "public"),
    "comments": ("disabled", "members", "observers", "org", "public"),
    "invitations": ("members", "admins"),
    "selfJoin": ("true", "false"),
    "cardCovers": ("true", "false"),
    "background": ("blue", "orange", "green", "red", "purple", "pink", "lime", "sky", "grey"),
    "cardAging": ("pirate", "regular"),
}
_MEMBER_FILTERS = ("admins", "all", "none", "normal", "owners")


def _prefs(ctx: Ctx) -> dict[str, Any]:
    prefs: dict[str, Any] = {}
    for name, choices in PREF_CHOICES.items():
        if not ctx.has(f"prefs_{name}"):
            continue
        value = ctx.text(f"prefs_{name}")
        if value not in choices:
            raise invalid_value(f"prefs_{name}")
        prefs[name] = value == "true" if choices == ("true", "false") else value
    return prefs


async def create_board(ctx: Ctx) -> Any:
    """``POST /1/boards``: a new board of the caller's (``name`` 1..16384 required), with the default lists
    To Do, Doing, Done and the default labels unless ``defaultLists``/``defaultLabels`` are ``false``.

    Workspaces and board copies (``idOrganization``, ``idBoardSource``) do not exist in the sandbox: it
    answers ``invalid value for <param>`` for them.
    """
    name = ctx.text("name") or ""
    if not 1 <= len(name) <= MAX_TEXT:
        raise invalid_value("name")
    desc = ctx.text("desc") or ""
    if len(desc) > MAX_TEXT:
        raise invalid_value("desc")
    for unsupported in ("idOrganization", "idBoardSource"):
        if ctx.text(unsupported):
            raise invalid_value(unsupported)
    board = board_writes.create_board(
        ctx.world,
        ctx.identity,
        name,
        desc,
        _prefs(ctx),
        default_lists=ctx.flag("defaultLists", True),
        default_labels=ctx.flag("defaultLabels", True),
    )
    return ctx.world.board_json(board)


async def delete_board(ctx: Ctx) -> Any:
    """``DELETE /1/boards/{id}``: the board and everything on it, for good; a later read is a 404.
    Only the board's admins may (the answer to a normal member is UNVERIFIED: 401 as other refusals)."""
    world = ctx.world
    board = world.board(ctx.path["id"], ctx.identity)
    if ctx.identity.trello_member_id not in board.admins:
        raise TrelloError(401, "unauthorized permission requested")
    board_writes.delete_board(world, board)
    return {"_value": None}  # the body is UNVERIFIED; the same as other deletes of one object


async def board_field(ctx: Ctx) -> Any:
    """``GET /1/boards/{id}/{field}``: ``{"_value": <the field>}``; an undocumented field is no route."""
    field = ctx.path["field"]
    if field not in BOARD_FIELDS:
        raise express_404("GET", f"/1/boards/{ctx.path['id']}/{field}")
    world = ctx.world
    board = world.board(ctx.path["id"], ctx.identity)
    shown = {"invitations": [], "invited": False, "powerUps": [], **world.board_json(board)}
    return {"_value": shown[field]}


def _member_type(board_admins: list[str], member_id: str) -> str:
    return "admin" if member_id in board_admins else "normal"


async def board_members(ctx: Ctx) -> Any:
    """``GET /1/boards/{id}/members``: ``[{id, fullName, username}]`` by ``filter`` (``all`` by default),
    ``fields`` defaulting to ``fullName,username``."""
    world = ctx.world
    board = world.board(ctx.path["id"], ctx.identity)
    name = ctx.text("filter") or "all"
    if name not in _MEMBER_FILTERS:
        raise invalid_value("filter")
    fields = (ctx.text("fields") or "fullName,username").split(",")
    people = {who.trello_member_id: who for who in ctx.shared.identities.values()}
    shown = []
    for member_id in board.members:
        kind = _member_type(board.admins, member_id)
        if (
            name == "none"
            or (name in ("admins", "owners") and kind != "admin")
            or (name == "normal" and kind != "normal")
        ):
            continue
        who = people[member_id]
        full = {"id": member_id, "fullName": who.full_name, "username": who.trello_username}
        shown.append({k: v for k, v in full.items() if k == "id" or k in fields or "all" in fields})
    return shown


async def board_memberships(ctx: Ctx) -> Any:
    """``GET /1/boards/{id}/memberships``: ``[{id, idMember, memberType, unconfirmed, deactivated}]`` by
    ``filter`` (``all``, ``admins``, ``normal``, ``none`` or ``me``), each with its ``member`` when
    ``member=true``."""
    world = ctx.world
    board = world.board(ctx.path["id"], ctx.identity)
    name = ctx.text("filter") or "all"
    if name not in ("all", "admins", "normal", "none", "me"):
        raise invalid_value("filter")
    people = {who.trello_member_id: who for who in ctx.shared.identities.values()}
    shown = []
    for membership in world.board_json(board)["memberships"]:
        kind, member_id = membership["memberType"], membership["idMember"]
        if (
            name == "none"
            or (name == "admins" and kind != "admin")
            or (name == "normal" and kind != "normal")
        ):
            continue
        if name == "me" and member_id != ctx.identity.trello_member_id:
            continue
        if ctx.flag("member", False):
            who = people[member_id]
            membership["member"] = {
                "id": member_id,
                "fullName": who.full_name,
                "username": who.trello_username,
            }
        shown.append(membership)
    return shown


def register(router: Router) -> None:
    """Add the board routes to ``router`` (after every ``/boards/{id}/<name>`` route of its own, so the
    one-field route only catches what is left)."""
    router.add("POST", "/boards", create_board)
    router.add("DELETE", "/boards/{id}", delete_board)
    router.add("GET", "/boards/{id}/members", board_members)
    router.add("GET", "/boards/{id}/memberships", board_memberships)
    router.add("GET", "/boards/{id}/{field}", board_field)
