"""Domain values shared by the planner, the store, the clients and the executor.

Everything here is a frozen dataclass or an alias: the planner compares these by value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import NewType

LeadId = NewType("LeadId", str)
"""An Airtable record id: ``rec`` + 14 letters or digits."""

CardId = NewType("CardId", str)
"""A Trello card id: 24 hex characters whose first 8 are the creation time."""

ListId = NewType("ListId", str)
"""A Trello list id."""


class Side(StrEnum):
    AIRTABLE = "airtable"
    TRELLO = "trello"


def card_created_at(card_id: str) -> datetime:
    """The creation time Trello encodes in the first 8 hex characters of an id."""
    return datetime.fromtimestamp(int(card_id[:8], 16), tz=UTC)


@dataclass(frozen=True, slots=True)
class Lead:
    """One row of the Leads table, as read (empty cells are empty strings / None)."""

    id: LeadId
    name: str = ""
    email: str = ""
    status: str | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class Card:
    """One card of the board, as read (archived cards included)."""

    id: CardId
    name: str
    desc: str
    list_id: ListId
    closed: bool = False

    @property
    def created_at(self) -> datetime:
        return card_created_at(self.id)


@dataclass(frozen=True, slots=True)
class Base:
    """What both sides agreed on at the last sync of one linked lead/card pair (the merge base).

    ``name``/``email``/``source`` are the lead's values last written to the card; ``status`` is the
    status both sides last agreed on (None: the lead had no status). ``card_closed`` is the card's
    archive flag as last seen; ``lead_deleted``/``card_deleted`` record a side that is gone for good.
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


@dataclass(frozen=True, slots=True)
class Mapping:
    """Status <-> list mapping (1:1)."""

    list_by_status: dict[str, ListId] = field(default_factory=dict)

    def list_for(self, status: str | None) -> ListId | None:
        return None if status is None else self.list_by_status.get(status)

    def status_for(self, list_id: str) -> str | None:
        for status, lid in self.list_by_status.items():
            if lid == list_id:
                return status
        return None

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.list_by_status.items())))
