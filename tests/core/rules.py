"""Small worlds for the sync rules' example tests: leads, their cards, their merge bases, a plan."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from leadsync.core import (
    DEFAULT_STATUSES,
    Card,
    CardId,
    ConflictPolicy,
    Lead,
    LeadId,
    ListId,
    MergeBase,
    Plan,
    Side,
    Snapshot,
    StatusLists,
    card_title,
    plan,
    render_block,
    settle,
)

LISTS = StatusLists({status: ListId(f"{i:024x}") for i, status in enumerate(DEFAULT_STATUSES, 1)})
UNMAPPED = ListId("f" * 24)


def a_lead(n: int = 1, status: str | None = "NEW", **fields: str) -> Lead:
    """Lead number ``n``."""
    values = {"name": f"Ada {n}", "email": f"ada{n}@example.com", "source": "web", **fields}
    return Lead(LeadId(f"rec{n:014d}"), values["name"], values["email"], status, values["source"])


def list_of(status: str) -> ListId:
    """The list of ``status``."""
    list_id = LISTS.list_for(status)
    assert list_id is not None
    return list_id


def a_card(lead: Lead, status: str | None = None, *, created: int = 0x60000000, notes: str = "") -> Card:
    """The card leadsync would have made for ``lead`` (in ``status``'s list, the lead's by default)."""
    card_id = CardId(f"{created:08x}{int(lead.id[3:]):016x}")
    desc = f"{notes}{render_block(lead)}"
    return Card(card_id, card_title(lead.name), desc, list_of(status or lead.status or "NEW"))


def base_of(lead: Lead, card: Card, status: str | None = None) -> MergeBase:
    """The merge base of a pair in sync (on ``status``, the lead's by default)."""
    agreed = lead.status if status is None else status
    return MergeBase(lead.id, card.id, agreed, lead.name, lead.email, lead.source)


def synced(lead: Lead) -> tuple[Lead, Card, MergeBase]:
    """A lead, its card and their base, all in agreement."""
    card = a_card(lead)
    return lead, card, base_of(lead, card)


def planned(
    leads: Iterable[Lead],
    cards: Iterable[Card] = (),
    bases: Iterable[MergeBase] = (),
    policy: ConflictPolicy = ConflictPolicy.LATEST,
    *,
    winners: Mapping[LeadId, Side] | None = None,
    open_conflicts: Iterable[LeadId] = (),
) -> Plan:
    """One cycle's plan, settled with ``winners`` (no timestamps by default)."""
    snapshot = Snapshot({lead.id: lead for lead in leads}, {card.id: card for card in cards})
    pairs = {base.lead_id: base for base in bases}
    unsettled = plan(snapshot, pairs, LISTS, policy, open_conflicts=frozenset(open_conflicts))
    return settle(unsettled, winners or {}, LISTS)


def moved(card: Card, status: str) -> Card:
    """``card`` in ``status``'s list."""
    return replace(card, list_id=list_of(status))
