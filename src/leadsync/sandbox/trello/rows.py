"""The Trello emulator's objects: boards, lists, labels, cards and webhooks, as stored, and the shapes of their ids."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HEX24", "SHORT_LINK", "BoardRow", "CardRow", "LabelRow", "ListRow", "WebhookRow"]

HEX24 = re.compile(r"^[0-9a-fA-F]{24}$")
# A shortLink has a letter in it: an all-digit ref is "invalid id" (observed for PUT /1/cards/12312321).
SHORT_LINK = re.compile(r"^(?=.*[A-Za-z])[0-9A-Za-z]{8}$")


@dataclass
class ListRow:
    """One list of a board."""

    id: str
    name: str
    id_board: str
    pos: float
    closed: bool = False


@dataclass
class LabelRow:
    """One label of a board: a name (may be empty) and a colour (``None``: shown on no card front)."""

    id: str
    id_board: str
    name: str
    color: str | None


@dataclass
class CardRow:
    """One card, on a list of a board."""

    id: str
    name: str
    desc: str
    id_list: str
    id_board: str
    pos: float
    short_link: str
    id_short: int
    date_last_activity: str
    closed: bool = False
    due: str | None = None
    due_complete: bool = False
    start: str | None = None
    due_reminder: int | None = None  # minutes before ``due``
    id_members: list[str] = field(default_factory=list)
    id_labels: list[str] = field(default_factory=list)
    seq: int = 0  # creation order, for since/before by id


@dataclass
class BoardRow:
    """One board and the members who can see it."""

    id: str
    name: str
    short_link: str
    members: list[str] = field(default_factory=list)  # member ids with access
    id_member_creator: str = ""
    date_last_activity: str = ""
    desc: str = ""
    closed: bool = False
    next_id_short: int = 1
    # The board's prefs as ``POST /1/boards`` sets them (``prefs_<name>`` on the wire), over the defaults.
    prefs: dict[str, Any] = field(default_factory=dict)
    admins: list[str] = field(default_factory=list)  # members whose memberType is ``admin``


@dataclass
class WebhookRow:
    """One Trello webhook, owned by the token that made it."""

    id: str
    description: str
    id_model: str
    callback_url: str
    active: bool
    token: str  # webhooks belong to the token that made them
    key: str  # whose application secret signs the deliveries
    consecutive_failures: int = 0
    first_consecutive_fail_date: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The webhook as the API shows it."""
        return {
            "id": self.id,
            "description": self.description,
            "idModel": self.id_model,
            "callbackURL": self.callback_url,
            "active": self.active,
            "consecutiveFailures": self.consecutive_failures,
            "firstConsecutiveFailDate": self.first_consecutive_fail_date,
        }
