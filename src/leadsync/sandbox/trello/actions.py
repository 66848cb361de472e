"""Trello actions: the ``type``, ``data`` and ``display`` each write logs (queries are in ``action_queries``).

An action's ``data`` is exactly what captured Trello traffic shows: a move carries ``listBefore``,
``listAfter``, ``old.idList`` and the new ``card.idList``; any other card edit carries the changed key in
``card`` with its previous value in ``old`` and the card's ``list``; ``deleteCard`` names no card name.
"""

from __future__ import annotations

from typing import Any

from leadsync.sandbox.identities import Identity
from leadsync.sandbox.trello.rows import BoardRow, CardRow, ListRow

__all__ = [
    "board_ref",
    "card_entity",
    "card_ref",
    "create_board",
    "create_card",
    "create_list",
    "delete_card",
    "edit_card",
    "edit_list",
    "list_entity",
    "list_ref",
    "member_creator",
    "member_entity",
    "move_card",
]


# ---- the pieces of ``data`` ------------------------------------------------------------------------


def board_ref(board: BoardRow) -> dict[str, Any]:
    """A board as actions name it in ``data``."""
    return {"id": board.id, "name": board.name, "shortLink": board.short_link}


def list_ref(lst: ListRow) -> dict[str, Any]:
    """A list as actions name it in ``data``."""
    return {"id": lst.id, "name": lst.name}


def card_ref(card: CardRow) -> dict[str, Any]:
    """A card as actions name it in ``data``."""
    return {"id": card.id, "name": card.name, "idShort": card.id_short, "shortLink": card.short_link}


def member_creator(identity: Identity) -> dict[str, Any]:
    """The ``memberCreator`` object of an action made by ``identity``."""
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


def member_entity(identity: Identity) -> dict[str, Any]:
    """The ``display.entities.memberCreator`` of an action made by ``identity``."""
    return {
        "type": "member",
        "id": identity.trello_member_id,
        "username": identity.trello_username,
        "text": identity.full_name,
    }


def card_entity(card: CardRow) -> dict[str, Any]:
    """A card as ``display.entities`` names it."""
    return {
        "type": "card",
        "idList": card.id_list,
        "id": card.id,
        "shortLink": card.short_link,
        "text": card.name,
    }


def list_entity(lst: ListRow) -> dict[str, Any]:
    """A list as ``display.entities`` names it."""
    return {"type": "list", "id": lst.id, "text": lst.name}


# ---- one action per write --------------------------------------------------------------------------


def create_card(
    identity: Identity, board: BoardRow, lst: ListRow, card: CardRow
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The ``createCard`` action of a new card."""
    data = {"card": card_ref(card), "list": list_ref(lst), "board": board_ref(board)}
    entities = {
        "card": card_entity(card),
        "list": list_entity(lst),
        "memberCreator": member_entity(identity),
    }
    return "createCard", data, {"translationKey": "action_create_card", "entities": entities}


def move_card(
    identity: Identity, board: BoardRow, before: ListRow, after: ListRow, card: CardRow
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The ``updateCard`` action of a card moved from ``before`` to ``after``."""
    data = {
        "card": {**card_ref(card), "idList": after.id},
        "old": {"idList": before.id},
        "board": board_ref(board),
        "listBefore": list_ref(before),
        "listAfter": list_ref(after),
    }
    entities = {
        "card": card_entity(card),
        "listBefore": list_entity(before),
        "listAfter": list_entity(after),
        "memberCreator": member_entity(identity),
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
    """The ``updateCard`` action of one changed card field, with its previous value in ``old``."""
    data = {
        "card": {**card_ref(card), field: new},
        "old": {field: old},
        "board": board_ref(board),
        "list": list_ref(lst),
    }
    entities: dict[str, Any] = {"card": card_entity(card), "memberCreator": member_entity(identity)}
    if field == "name":
        entities["name"] = {"type": "text", "text": old}
    if field in ("due", "start") and new is not None:
        entities["date"] = {"type": "date", "date": new}
    return "updateCard", data, {"translationKey": _edit_key(field, old, new), "entities": entities}


def delete_card(
    identity: Identity, board: BoardRow, lst: ListRow, card: CardRow
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The ``deleteCard`` action of a deleted card."""
    data = {
        "card": {"id": card.id, "idShort": card.id_short},
        "list": list_ref(lst),
        "board": board_ref(board),
    }
    entities = {
        "card": {"type": "card", "idShort": card.id_short, "id": card.id},
        "list": list_entity(lst),
        "memberCreator": member_entity(identity),
    }
    return "deleteCard", data, {"translationKey": "action_delete_card", "entities": entities}


def create_list(
    identity: Identity, board: BoardRow, lst: ListRow
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The ``createList`` action of a new list."""
    data = {"list": list_ref(lst), "board": board_ref(board)}
    entities = {
        "list": list_entity(lst),
        "board": {"type": "board", "id": board.id, "shortLink": board.short_link, "text": board.name},
        "memberCreator": member_entity(identity),
    }
    return "createList", data, {"translationKey": "action_added_list_to_board", "entities": entities}


def _board_entity(board: BoardRow) -> dict[str, Any]:
    return {"type": "board", "id": board.id, "shortLink": board.short_link, "text": board.name}


def create_board(identity: Identity, board: BoardRow) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The ``createBoard`` action of a new board."""
    entities = {"board": _board_entity(board), "memberCreator": member_entity(identity)}
    return (
        "createBoard",
        {"board": board_ref(board)},
        {"translationKey": "action_create_board", "entities": entities},
    )


def edit_list(
    identity: Identity, board: BoardRow, lst: ListRow, field: str, old: Any, new: Any
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The ``updateList`` action of one changed list field: a rename carries ``data.old.name`` and the new
    ``list.name``; archiving carries ``list.closed`` and ``old.closed`` (captured webhook traffic)."""
    data = {"list": {**list_ref(lst), field: new}, "old": {field: old}, "board": board_ref(board)}
    key = {
        "name": "action_renamed_list",
        "closed": "action_archived_list" if new else "action_sent_list_to_board",
    }.get(field, "action_changed_list")
    entities = {
        "list": list_entity(lst),
        "board": _board_entity(board),
        "memberCreator": member_entity(identity),
    }
    return "updateList", data, {"translationKey": key, "entities": entities}
