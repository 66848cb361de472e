"""The status vocabulary: the default statuses, the ones whose leads get no card, the conflict
policy, and the mapping between statuses and the board's lists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from leadsync.core.values import NO_LABELS, ListId

__all__ = ["DEFAULT_STATUSES", "NO_CARD_STATUSES", "UNKNOWN_STATUS", "ConflictPolicy", "StatusLists"]

DEFAULT_STATUSES = ("NEW", "CONTACTED", "QUALIFIED", "LOST")
"""The Leads table's statuses, each synced to the board's list of the same name by default."""

NO_CARD_STATUSES = frozenset({"LOST"})
"""Statuses whose new leads get no card."""

UNKNOWN_STATUS = "\u2400leadsync:unknown"  # no NUL: PostgreSQL text cannot hold one
"""Base status of a freshly adopted pair: equal to no real value, so any difference is a conflict."""


class ConflictPolicy(StrEnum):
    """What happens when both sides changed a lead's status to different values."""

    LATEST = "latest"
    AIRTABLE = "airtable"
    TRELLO = "trello"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class StatusLists:
    """The 1:1 mapping between statuses and the board's lists, the statuses whose new leads get no
    card, and the board's label of each option of the labels field (by id, so a rename holds)."""

    list_by_status: Mapping[str, ListId] = field(default_factory=dict)
    no_card: frozenset[str] = NO_CARD_STATUSES
    label_by_option: Mapping[str, str] | None = None  # None: the flow maps no labels field

    def list_for(self, status: str | None) -> ListId | None:
        """The list a card of this status belongs in, if any."""
        return None if status is None else self.list_by_status.get(status)

    def status_for(self, list_id: str) -> str | None:
        """The status a card in this list stands for (the first one, should two share a list)."""
        for status, lid in self.list_by_status.items():
            if lid == list_id:
                return status
        return None

    def status_by_list(self) -> dict[str, str]:
        """List id -> status, as :meth:`status_for` answers, for lookups in bulk."""
        out: dict[str, str] = {}
        for status, list_id in self.list_by_status.items():
            out.setdefault(list_id, status)
        return out

    def options_of(self, label_ids: frozenset[str]) -> frozenset[str]:
        """The options a card's labels stand for (labels that map to no option are not counted)."""
        if not label_ids or not self.label_by_option:
            return NO_LABELS
        return frozenset(option for option, lid in self.label_by_option.items() if lid in label_ids)

    def __hash__(self) -> int:
        return hash(
            (
                tuple(sorted(self.list_by_status.items())),
                self.no_card,
                tuple(sorted((self.label_by_option or {}).items())),
            )
        )
