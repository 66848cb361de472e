"""Trello actions: the ``data`` shapes of every write (reference §3) and the action query parameters.

An action's ``data`` is exactly what captured Trello traffic shows: a move carries ``listBefore``,
``listAfter``, ``old.idList`` and the new ``card.idList``; any other card edit carries the changed key in
``card`` with its previous value in ``old`` and the card's ``list``; ``deleteCard`` names no card name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from leadsync.sandbox.trello_http import HEX24, Ctx, invalid_value, parse_date

if TYPE_CHECKING:
    from leadsync.sandbox.state import Identity
    from leadsync.sandbox.trello import BoardRow, CardRow, ListRow

ACTION_FIELDS = ("id", "idMemberCreator", "data", "appCreator", "type", "date", "limits", "display")
_FILTER_ITEM = re.compile(r"^[A-Za-z]+(?::[A-Za-z]+)?$")
MAX_ACTIONS = 1000


# ---- the pieces of ``data`` ------------------------------------------------------------------------


def board_ref(board: BoardRow) -> dict[str, Any]:
    return {"id": board.id, "name": board.name, "shortLink": board.short_link}


def list_ref(lst: ListRow) -> dict[str, Any]:
    return {"id": lst.id, "name": lst.name}


def card_ref(card: CardRow) -> dict[str, Any]:
    return {"id": card.id, "name": card.name, "idShort": card.id_short, "shortLink": card.short_link}


def member_creator(identity: Identity) -> dict[str, Any]:
    initials = "".join(part[0] for part in identity.full_name.split()[:2]).upper()
    return {
        "id": identity.trello_member_id,
        "activityBlocked": False,
        "avatarHash": None,
        "avatarUrl": None,
        "fullName": identity.full_name,
        "idMemberReferrer": None,
        "initials": initials,
        "nonPublic": {},
        "nonPublicAvailable": True,
        "username": identity.trello_username,
    }


def _member_entity(identity: Identity) -> dict[str, Any]:
    return {
        "type": "member",
        "id": identity.trello_member_id,
        "username": identity.trello_username,
        "text": identity.full_name,
    }


def _card_entity(card: CardRow) -> dict[str, Any]:
    return {
        "type": "card",
        "idList": card.id_list,
        "id": card.id,
        "shortLink": card.short_link,
        "text": card.name,
    }


def _list_entity(lst: ListRow) -> dict[str, Any]:
    return {"type": "list", "id": lst.id, "text": lst.name}


# ---- one action per write --------------------------------------------------------------------------


def create_card(
    identity: Identity, board: BoardRow, lst: ListRow, card: CardRow
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    data = {"card": card_ref(card), "list": list_ref(lst), "board": board_ref(board)}
    entities = {
        "card": _card_entity(card),
        "list": _list_entity(lst),
        "memberCreator": _member_entity(identity),
    }
    return "createCard", data, {"translationKey": "action_create_card", "entities": entities}


def move_card(
    identity: Identity, board: BoardRow, before: ListRow, after: ListRow, card: CardRow
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    data = {
        "card": {**card_ref(card), "idList": after.id},
        "old": {"idList": before.id},
        "board": board_ref(board),
        "listBefore": list_ref(before),
        "listAfter": list_ref(after),
    }
    entities = {
        "card": _card_entity(card),
        "listBefore": _list_entity(before),
        "listAfter": _list_entity(after),
        "memberCreator": _member_entity(identity),
    }
    return "updateCard", data, {"translationKey": "action_move_card_from_list_to_list", "entities": entities}


def _edit_key(field: str, old: Any, new: Any) -> str:
    if field == "name":
        return "action_renamed_card"
    if field == "desc":
        return "action_changed_description_of_card"
    if field == "closed":
        return "action_archived_card" if new else "action_sent_card_to_board"
    if field == "pos":
        return "action_moved_card_higher" if new < old else "action_moved_card_lower"
    if field == "due":
        return (
            "action_added_a_due_date"
            if old is None
            else "action_removed_a_due_date"
            if new is None
            else "action_changed_a_due_date"
        )
    if field == "dueComplete":
        return "action_marked_the_due_date_complete" if new else "action_marked_the_due_date_incomplete"
    return "action_changed_card"


def edit_card(
    identity: Identity, board: BoardRow, lst: ListRow, card: CardRow, field: str, old: Any, new: Any
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    data = {
        "card": {**card_ref(card), field: new},
        "old": {field: old},
        "board": board_ref(board),
        "list": list_ref(lst),
    }
    entities: dict[str, Any] = {"card": _card_entity(card), "memberCreator": _member_entity(identity)}
    if field == "name":
        entities["name"] = {"type": "text", "text": old}
    return "updateCard", data, {"translationKey": _edit_key(field, old, new), "entities": entities}


def delete_card(
    identity: Identity, board: BoardRow, lst: ListRow, card: CardRow
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    data = {
        "card": {"id": card.id, "idShort": card.id_short},
        "list": list_ref(lst),
        "board": board_ref(board),
    }
    entities = {
        "card": {"type": "card", "idShort": card.id_short, "id": card.id},
        "list": _list_entity(lst),
        "memberCreator": _member_entity(identity),
    }
    return "deleteCard", data, {"translationKey": "action_delete_card", "entities": entities}


def create_list(
    identity: Identity, board: BoardRow, lst: ListRow
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    data = {"list": list_ref(lst), "board": board_ref(board)}
    entities = {
        "list": _list_entity(lst),
        "board": {"type": "board", "id": board.id, "shortLink": board.short_link, "text": board.name},
        "memberCreator": _member_entity(identity),
    }
    return "createList", data, {"translationKey": "action_added_list_to_board", "entities": entities}


# ---- since / before --------------------------------------------------------------------------------

Bound = Callable[[int, str], bool]


def cursor(value: str, name: str, known: dict[str, int], *, since: bool) -> Bound:
    """``since``/``before`` as a test on (sequence, id): a known id compares by creation order; an
    unknown id compares as an ObjectId; a date becomes the ObjectId of its second, the way a Mongo
    query on ``_id`` would (so ``since=<date>`` includes that whole second, ``before=<date>`` excludes
    it; the rounding is UNVERIFIED, the reference only says both forms are accepted)."""
    if HEX24.match(value):
        oid = value.lower()
        seq = known.get(oid)
        if seq is not None:
            return (lambda s, _i: s > seq) if since else (lambda s, _i: s < seq)
    else:
        moment = parse_date(value, name)
        oid = f"{int(moment.timestamp()):08x}" + "0" * 16
    return (lambda _s, i: i > oid) if since else (lambda _s, i: i < oid)


def window(ctx: Ctx, known: dict[str, int]) -> list[Bound]:
    bounds: list[Bound] = []
    for name in ("since", "before"):
        value = ctx.text(name)
        if value:
            bounds.append(cursor(value, name, known, since=name == "since"))
    return bounds


# ---- the query -------------------------------------------------------------------------------------


def type_filter(spec: str) -> Callable[[dict[str, Any]], bool]:
    """``all`` or a comma list of types, ``type:field`` matching the updates that changed ``field``."""
    items = [item.strip() for item in spec.split(",") if item.strip()]
    if not items or any(not _FILTER_ITEM.match(item) for item in items):
        raise invalid_value("filter")
    if "all" in items:
        return lambda _a: True
    wanted = [tuple(item.split(":", 1)) if ":" in item else (item, None) for item in items]

    def keep(action: dict[str, Any]) -> bool:
        old = action["data"].get("old", {})
        return any(action["type"] == t and (f is None or f in old) for t, f in wanted)

    return keep


def query(ctx: Ctx, actions: Sequence[dict[str, Any]], default_filter: str = "all") -> list[dict[str, Any]]:
    """Newest first, filtered by ``filter``/``since``/``before``, paged by ``limit``/``page``, projected by
    ``fields``/``memberCreator``. ``actions`` is every candidate, oldest first."""
    keep = type_filter(ctx.text("filter") or default_filter)
    limit = ctx.integer("limit", 50, 0, MAX_ACTIONS)
    page = ctx.integer("page", 0, 0, MAX_ACTIONS)
    if page * limit >= MAX_ACTIONS:  # "Page * limit must be less than 1000"
        raise invalid_value("page")
    known = {a["id"]: seq for seq, a in enumerate(actions)}
    bounds = window(ctx, known)
    chosen = [
        a
        for seq, a in reversed(list(enumerate(actions)))
        if keep(a) and all(bound(seq, a["id"]) for bound in bounds)
    ][page * limit : page * limit + limit]
    fields = ctx.text("fields") or "all"
    names = ACTION_FIELDS if fields == "all" else [f.strip() for f in fields.split(",")]
    with_creator = ctx.flag("memberCreator", True)
    result = []
    for action in chosen:
        shown = {"id": action["id"], **{n: action[n] for n in names if n in action and n != "memberCreator"}}
        if with_creator:
            shown["memberCreator"] = action["memberCreator"]
        result.append(shown)
    return result
