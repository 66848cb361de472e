"""Ids, times and record builders shared by the store's tests."""

from __future__ import annotations

from datetime import UTC, datetime

from leadsync.core import CardId, Conflict, ConflictPolicy, LeadId, MergeBase

__all__ = ["CARD_1", "CARD_2", "LEAD_A", "LEAD_B", "T0", "base", "conflict"]

LEAD_A = LeadId("recAAAAAAAAAAAAAA")
LEAD_B = LeadId("recBBBBBBBBBBBBBB")
CARD_1 = CardId("65f0a0000000000000000001")
CARD_2 = CardId("65f0a0000000000000000002")
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def base(lead: LeadId = LEAD_A, card: CardId = CARD_1, status: str | None = "NEW", **kw: object) -> MergeBase:
    """A pair's base with the given ids and status (and any other field)."""
    return MergeBase(lead_id=lead, card_id=card, status=status, **kw)  # type: ignore[arg-type]


def conflict(lead: LeadId = LEAD_A, at: datetime = T0, **kw: object) -> Conflict:
    """An open manual conflict of ``lead`` detected at ``at`` (fields overridable)."""
    fields: dict[str, object] = {
        "lead_id": lead,
        "card_id": CARD_1,
        "base_status": "NEW",
        "airtable_status": "WON",
        "trello_status": "LOST",
        "policy": ConflictPolicy.MANUAL,
        "detected_at": at,
        **kw,
    }
    return Conflict(**fields)  # type: ignore[arg-type]
