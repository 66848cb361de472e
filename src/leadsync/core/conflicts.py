"""Conflicts: both sides changed a two-way field (the status, or the due date) of a lead to different
values since the merge base.

One type for a conflict found by the planner, recorded by the store and resolved by a person.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from leadsync.core.statuses import ConflictPolicy
from leadsync.core.values import CardId, LeadId, MergeBase, Side

__all__ = ["Conflict", "keep_side"]


@dataclass(frozen=True, slots=True)
class Conflict:
    """One conflict of a linked pair on one ``field`` (``"status"`` or ``"due"``).

    ``base_status``, ``airtable_status`` and ``trello_status`` hold that field's values (their names
    are the status's, the first field that could conflict). ``winner`` is the side the policy kept (None: left for a person, or not decided yet).
    ``detected_at``, ``resolved_at`` and ``resolution`` are set once the conflict is recorded or settled;
    ``id`` is its number in the store's record, once read back from it.
    """

    lead_id: LeadId
    card_id: CardId
    base_status: str | None
    airtable_status: str | None
    trello_status: str | None
    policy: ConflictPolicy
    winner: Side | None = None
    detected_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None
    id: int | None = None
    field: str = "status"

    def decided(self, winner: Side | None) -> Conflict:
        """This conflict with the policy's choice (None: left for a person) and its resolution text."""
        resolution = None if winner is None else f"{self.policy.value}: kept {winner.value}"
        return replace(self, winner=winner, resolution=resolution)

    def status_of(self, side: Side) -> str | None:
        """The value ``side`` holds in this conflict."""
        return self.airtable_status if side is Side.AIRTABLE else self.trello_status


def keep_side(
    conflict: Conflict, base: MergeBase, keep: Side, at: datetime, *, losing_now: str | None
) -> tuple[Conflict, MergeBase]:
    """A person keeps ``keep``'s value: the conflict resolved, and the pair's new merge base.

    The new base holds the losing side's value, so the kept side is the only one that changed since
    the base: the next cycle writes the kept side's value to the other side, like any one-sided change.
    ``losing_now`` is the losing side's value as it is now: a person may have edited either side since
    the conflict was recorded, and a base holding an older value would make that edit look like a change
    of its own (the person's choice lost, or a new conflict).
    """
    resolved = replace(conflict, winner=keep, resolved_at=at, resolution=f"manual: kept {keep.value}")
    if conflict.field == "due":
        return resolved, replace(base, due=losing_now)
    return resolved, replace(base, status=losing_now)
