"""What one cycle read from both sides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from leadsync.core.values import Card, CardId, Lead, LeadId

__all__ = ["Snapshot"]


@dataclass(frozen=True)
class Snapshot:
    """What was read from both sides. ``*_complete`` says the read covered the whole side, so that
    an absent object is known to be gone; an incomplete read only says what changed."""

    leads: Mapping[LeadId, Lead]
    cards: Mapping[CardId, Card]
    leads_complete: bool = True
    cards_complete: bool = True
    deleted_leads: frozenset[LeadId] = frozenset()  # known gone, even in an incomplete read
    deleted_cards: frozenset[CardId] = frozenset()

    def lead_gone(self, lead_id: LeadId) -> bool:
        """The lead is known not to exist any more."""
        return lead_id not in self.leads and (self.leads_complete or lead_id in self.deleted_leads)

    def card_gone(self, card_id: CardId) -> bool:
        """The card is known not to exist any more."""
        return card_id not in self.cards and (self.cards_complete or card_id in self.deleted_cards)
