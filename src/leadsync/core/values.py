"""Domain values: the ids, the two sides, a lead, a card, and the merge base of a linked pair.

Everything here is a frozen dataclass or an alias: the planner compares these by value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import NewType

__all__ = ["NO_LABELS", "Card", "CardId", "Lead", "LeadId", "ListId", "MergeBase", "Side", "card_created_at"]

LeadId = NewType("LeadId", str)
"""An Airtable record id: ``rec`` + 14 letters or digits."""

CardId = NewType("CardId", str)
"""A Trello card id: 24 hex characters whose first 8 are the creation time."""

ListId = NewType("ListId", str)
"""A Trello list id."""

NO_LABELS: frozenset[str] = frozenset()
"""The one empty set of labels every lead, card and base without labels shares: CPython makes a new empty
frozenset on each ``frozenset()`` call (216 bytes; 40 MB over 100,000 leads and their bases)."""


class Side(StrEnum):
    """One of the two systems kept in sync."""

    AIRTABLE = "airtable"
    TRELLO = "trello"


def card_created_at(card_id: str) -> datetime:
    """The creation time Trello encodes in the first 8 hex characters of an id."""
    return datetime.fromtimestamp(int(card_id[:8], 16), tz=UTC)


@dataclass(frozen=True, slots=True)
class Lead:
    """One row of the Leads table, as read (empty cells are empty strings / None).

    ``title`` is the card title the flow's template gives ("" when the template is the default,
    ``Follow up: {name}``); ``extra`` the block's lines beyond name, email and source, as (label, text);
    ``due`` the due date in the Airtable field's own form (``YYYY-MM-DD`` or an ISO date-time);
    ``labels`` the options of the labels field. Roles a flow does not map stay empty.
    """

    id: LeadId
    name: str = ""
    email: str = ""
    status: str | None = None
    source: str = ""
    title: str = ""
    extra: tuple[tuple[str, str], ...] = ()
    due: str | None = None
    labels: frozenset[str] = NO_LABELS


@dataclass(frozen=True, slots=True)
class Card:
    """One card of the board, as read (archived cards included)."""

    id: CardId
    name: str
    desc: str
    list_id: ListId
    closed: bool = False
    due: str | None = None  # in the form of the flow's Airtable due field (the shell converts it)
    label_ids: frozenset[str] = NO_LABELS

    @property
    def created_at(self) -> datetime:
        """When Trello made the card (from its id)."""
        return card_created_at(self.id)


@dataclass(frozen=True, slots=True)
class MergeBase:
    """What both sides agreed on at the last sync of one linked lead/card pair.

    ``name``/``email``/``source``/``title``/``extra`` are the lead's values last written to the card;
    ``status``, ``due`` and ``labels`` the values both sides last agreed on (None: the lead had no
    status, or no due date). ``card_closed`` is the card's archive flag as last seen;
    ``lead_deleted``/``card_deleted`` record a side that is gone for good.
    """

    lead_id: LeadId
    card_id: CardId
    status: str | None
    name: str = ""
    email: str = ""
    source: str = ""
    card_closed: bool = False
    lead_deleted: bool = False
    card_deleted: bool = False
    title: str = ""
    extra: tuple[tuple[str, str], ...] = ()
    due: str | None = None
    labels: frozenset[str] = NO_LABELS
