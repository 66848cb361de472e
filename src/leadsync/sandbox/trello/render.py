"""The JSON of Trello's boards, lists and cards, as the API and webhook payloads show them."""

from __future__ import annotations

import re
from typing import Any

from leadsync.sandbox.trello.rows import BoardRow, CardRow, ListRow

__all__ = ["LABEL_COLORS", "board_json", "card_json", "list_json"]

LABEL_COLORS = ("green", "yellow", "orange", "red", "purple", "blue", "sky", "lime", "pink", "black")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def board_json(board: BoardRow) -> dict[str, Any]:
    """A board as ``GET /1/boards/{id}`` answers it."""
    return {
        "id": board.id,
        "name": board.name,
        "desc": board.desc,
        "descData": None,
        "closed": board.closed,
        "dateClosed": None,
        "idOrganization": None,
        "idEnterprise": None,
        "idMemberCreator": board.id_member_creator,
        "pinned": False,
        "starred": False,
        "subscribed": False,
        "url": f"https://trello.com/b/{board.short_link}/{_slug(board.name)}",
        "shortUrl": f"https://trello.com/b/{board.short_link}",
        "shortLink": board.short_link,
        "prefs": {"permissionLevel": "private", "background": "blue", "cardAging": "regular"},
        "labelNames": dict.fromkeys(LABEL_COLORS, ""),
        "dateLastActivity": board.date_last_activity,
        "dateLastView": None,
        "memberships": [
            {"id": m, "idMember": m, "memberType": "normal", "unconfirmed": False, "deactivated": False}
            for m in board.members
        ],
    }


def list_json(lst: ListRow) -> dict[str, Any]:
    """A list as ``GET /1/lists/{id}`` answers it."""
    return {
        "id": lst.id,
        "name": lst.name,
        "closed": lst.closed,
        "color": None,
        "idBoard": lst.id_board,
        "pos": lst.pos,
        "subscribed": False,
        "softLimit": None,
    }


def card_json(card: CardRow) -> dict[str, Any]:
    """A card as ``GET /1/cards/{id}`` answers it."""
    return {
        "id": card.id,
        "badges": {
            "attachmentsByType": {"trello": {"board": 0, "card": 0}},
            "location": False,
            "votes": 0,
            "viewingMemberVoted": False,
            "subscribed": False,
            "fogbugz": "",
            "checkItems": 0,
            "checkItemsChecked": 0,
            "checkItemsEarliestDue": None,
            "comments": 0,
            "attachments": 0,
            "description": bool(card.desc),
            "due": card.due,
            "dueComplete": card.due_complete,
            "start": card.start,
        },
        "checkItemStates": [],
        "closed": card.closed,
        "dueComplete": card.due_complete,
        "dateLastActivity": card.date_last_activity,
        "desc": card.desc,
        "descData": {"emoji": {}},
        "due": card.due,
        "dueReminder": None,
        "email": None,
        "idBoard": card.id_board,
        "idChecklists": [],
        "idList": card.id_list,
        "idMembers": list(card.id_members),
        "idMembersVoted": [],
        "idShort": card.id_short,
        "idAttachmentCover": None,
        "labels": [],
        "idLabels": list(card.id_labels),
        "manualCoverAttachment": False,
        "name": card.name,
        "pos": card.pos,
        "shortLink": card.short_link,
        "shortUrl": f"https://trello.com/c/{card.short_link}",
        "start": card.start,
        "subscribed": False,
        "url": f"https://trello.com/c/{card.short_link}/{card.id_short}-{_slug(card.name)}",
        "cover": {
            "idAttachment": None,
            "color": None,
            "idUploadedBackground": None,
            "size": "normal",
            "brightness": "dark",
            "idPlugin": None,
        },
        "isTemplate": False,
        "cardRole": None,
    }
