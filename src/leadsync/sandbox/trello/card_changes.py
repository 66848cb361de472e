"""Reading a card write's parameters: names and descriptions within Trello's lengths, ISO dates, the
target list and board, positions, members and labels, as ``POST /1/cards`` and ``PUT /1/cards/{id}``
(and its one-field forms) take them.

Dates: "A date, or null... you should pass in an ISO-formatted date string"; Trello answers them in UTC
with milliseconds and ``Z`` (https://developer.atlassian.com/cloud/trello/rest/api-group-cards/).
"""

from __future__ import annotations

from typing import Any

from leadsync.sandbox.clock import iso_ms
from leadsync.sandbox.trello.errors import invalid_value
from leadsync.sandbox.trello.request import MAX_TEXT, Ctx, parse_date
from leadsync.sandbox.trello.rows import HEX24, CardRow

__all__ = ["card_changes", "date_value", "label_ids", "target_list", "text_value"]


def text_value(ctx: Ctx, name: str, low: int) -> str:
    """``name``/``desc`` within Trello's documented lengths. The 400 body for a bad length is UNVERIFIED:
    the sandbox answers Trello's usual ``invalid value for <param>``."""
    value = ctx.text(name) or ""
    if not low <= len(value) <= MAX_TEXT:
        raise invalid_value(name)
    return value


def date_value(ctx: Ctx, name: str) -> str | None:
    """An ISO date as Trello stores it (UTC, milliseconds, ``Z``), or ``None`` for ``null`` or empty."""
    value = ctx.text(name)
    if value in (None, "", "null"):
        return None
    return iso_ms(parse_date(value, name))


def target_list(ctx: Ctx, ref: str | None) -> str:
    """The id of the list ``ref`` names, on a board the caller can see; 400 ``invalid value for idList``."""
    world = ctx.world
    if not ref or not HEX24.match(ref) or ref.lower() not in world.lists:
        raise invalid_value("idList")
    return world.list_(ref, ctx.identity).id


def label_ids(ctx: Ctx, board_id: str) -> list[str] | None:
    """``idLabels``: ids of labels of the card's board (a malformed id is Trello's JSON ``Invalid
    objectId``; the answer for a label of another board is UNVERIFIED: ``invalid value for idLabels``)."""
    ids = ctx.id_list("idLabels")
    if ids is None:
        return None
    labels = ctx.world.labels
    if any(i not in labels or labels[i].id_board != board_id for i in ids):
        raise invalid_value("idLabels")
    return list(dict.fromkeys(ids))


def _reminder(ctx: Ctx) -> int | None:
    value = ctx.params.get("dueReminder")
    if value in (None, "", "null"):
        return None
    return ctx.integer("dueReminder", 0, -1, 10**9)


def card_changes(ctx: Ctx, card: CardRow) -> dict[str, Any]:
    """The validated changes a ``PUT /1/cards/{id}`` asks of ``card`` (only the parameters given)."""
    world = ctx.world
    changes: dict[str, Any] = {}
    if ctx.has("name"):
        changes["name"] = text_value(ctx, "name", 1)
    if ctx.has("desc"):
        changes["desc"] = text_value(ctx, "desc", 0)
    if ctx.has("closed"):
        changes["closed"] = ctx.flag("closed", card.closed)
    if ctx.has("idList"):
        changes["idList"] = target_list(ctx, ctx.text("idList"))
    if ctx.has("idBoard"):
        board_ref = ctx.text("idBoard") or ""
        if not HEX24.match(board_ref) or board_ref.lower() not in world.boards:
            raise invalid_value("idBoard")
        board = world.board(board_ref, ctx.identity)
        if "idList" in changes and world.lists[changes["idList"]].id_board != board.id:
            raise invalid_value("idList")
        if "idList" not in changes and board.id != card.id_board:
            # A board alone sends the card to that board's first open list (UNVERIFIED).
            first = next((x for x in world.lists_of(board.id) if not x.closed), None)
            if first is None:
                raise invalid_value("idList")
            changes["idList"] = first.id
    if ctx.has("pos"):
        target = changes.get("idList", card.id_list)
        siblings = [c.pos for c in world.cards_of_list(target) if c.id != card.id]
        changes["pos"] = world.place(ctx.params["pos"], siblings, "bottom")
    for name in ("due", "start"):
        if ctx.has(name):
            changes[name] = date_value(ctx, name)
    if ctx.has("dueComplete"):
        changes["dueComplete"] = ctx.flag("dueComplete", card.due_complete)
    if ctx.has("dueReminder"):
        changes["dueReminder"] = _reminder(ctx)
    if ctx.has("idMembers"):
        changes["idMembers"] = ctx.id_list("idMembers") or []
    if ctx.has("idLabels"):
        board_id = world.lists[changes.get("idList", card.id_list)].id_board
        changes["idLabels"] = label_ids(ctx, board_id) or []
    return changes
