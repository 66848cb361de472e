"""The JSON of Trello's boards, lists, labels and cards, as the API and webhook payloads show them."""

from __future__ import annotations

import re
from typing import Any

from leadsync.sandbox.trello.rows import BoardRow, CardRow, LabelRow, ListRow

__all__ = ["ALL_LABEL_COLORS", "LABEL_COLORS", "board_json", "card_json", "label_json", "list_json"]

LABEL_COLORS = ("green", "yellow", "orange", "red", "purple", "blue", "sky", "lime", "pink", "black")
# Each base colour also comes ``_dark`` and ``_light``: 30 in all (trello.js ``models/color.ts``, generated
# from https://developer.atlassian.com/cloud/trello/rest/api-group-labels/).
ALL_LABEL_COLORS = tuple(f"{c}{s}" for c in LABEL_COLORS for s in ("", "_dark", "_light"))


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def label_json(label: LabelRow) -> dict[str, Any]:
    """A label as ``GET /1/labels/{id}`` answers it: ``{id, idBoard, name, color}``."""
    return {"id": label.id, "idBoard": label.id_board, "name": label.name, "color": label.color}


def board_json(board: BoardRow, labels: list[LabelRow] | None = None) -> dict[str, Any]:
    """A board as ``GET /1/boards/{id}`` answers it; ``labelNames`` names the first label of each base
    colour among ``labels``."""
    names = dict.fromkeys(LABEL_COLORS, "")
    for label in reversed(labels or []):
        if label.color in names:
            names[label.color] = label.name
    prefs = {"permissionLevel": "private", "background": "blue", "cardAging": "regular", **board.prefs}
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
        "prefs": prefs,
        "labelNames": names,
        "dateLastActivity": board.date_last_activity,
        "dateLastView": None,
        "memberships": [
            {
                "id": m,
                "idMember": m,
                "memberType": "admin" if m in board.admins else "normal",
                "unconfirmed": False,
                "deactivated": False,
            }
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


def card_json(card: CardRow, labels: list[LabelRow] | None = None) -> dict[str, Any]:
    """A card as ``GET /1/cards/{id}`` answers it; ``labels`` are the full objects of its ``idLabels``."""
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
        "dueReminder": card.due_reminder,
        "email": None,
        "idBoard": card.id_board,
        "idChecklists": [],
        "idList": card.id_list,
        "idMembers": list(card.id_members),
        "idMembersVoted": [],
        "idShort": card.id_short,
        "idAttachmentCover": None,
        "labels": [label_json(label) for label in labels or []],
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
