"""Adoption: unlinked cards that carry ``Lead ID:`` are linked to their lead (the oldest per lead),
never duplicated; a linked card can't steal another lead by editing its description."""

from __future__ import annotations

from collections.abc import Mapping

from leadsync.core.block import parse_lead_id, shown_fields
from leadsync.core.ops import LinkCard, Report, ReportKind
from leadsync.core.snapshot import Snapshot
from leadsync.core.statuses import UNKNOWN_STATUS
from leadsync.core.values import Card, LeadId, MergeBase

__all__ = [
    "ADOPTED",
    "plan_adoptions",
]

ADOPTED = "adopted an existing card that carries the lead's id"


def plan_adoptions(
    snapshot: Snapshot, pairs: Mapping[LeadId, MergeBase], reports: list[Report]
) -> dict[LeadId, LinkCard]:
    """The links to make, per lead; what can't be linked is added to ``reports``."""
    first, more = _claims(snapshot, pairs, reports)
    adoptions: dict[LeadId, LinkCard] = {}
    for lead_id, card in first.items():
        if lead_id in more or lead_id in pairs or lead_id not in snapshot.leads:
            keep = _adoptable(snapshot, pairs, lead_id, [card, *more.get(lead_id, ())], reports)
        else:
            keep = card  # the usual case, spelled out: one card claims a lead that exists and is free
        if keep is not None:
            adoptions[lead_id] = LinkCard(_adopted_base(lead_id, keep), ADOPTED)
    return adoptions


def _claims(
    snapshot: Snapshot, pairs: Mapping[LeadId, MergeBase], reports: list[Report]
) -> tuple[dict[LeadId, Card], dict[LeadId, list[Card]]]:
    """Unlinked cards by the lead their ``Lead ID`` line names: the first seen, and any others (kept
    apart, so the usual single claim costs no list); linked cards naming another lead are reported."""
    card_to_lead = {b.card_id: lead_id for lead_id, b in pairs.items()}
    first: dict[LeadId, Card] = {}
    more: dict[LeadId, list[Card]] = {}
    for card in snapshot.cards.values():
        claimed = parse_lead_id(card.desc)
        if claimed is None:
            continue
        linked_lead = card_to_lead.get(card.id)
        if linked_lead is None:
            if claimed in first:
                more.setdefault(claimed, []).append(card)
            else:
                first[claimed] = card
        elif claimed != linked_lead:
            reason = f"description names lead {claimed}, but the card stays linked to {linked_lead}"
            reports.append(Report(ReportKind.SKIPPED, reason, claimed, card.id))
    return first, more


def _adoptable(
    snapshot: Snapshot,
    pairs: Mapping[LeadId, MergeBase],
    lead_id: LeadId,
    cards: list[Card],
    reports: list[Report],
) -> Card | None:
    """The card to link to ``lead_id`` among those claiming it (None: none may be linked)."""
    if len(cards) > 1:
        # By creation time, the id's first 8 hex digits (as Card.created_at), then by id.
        cards.sort(key=lambda c: (int(c.id[:8], 16), c.id))
    if lead_id in pairs:
        owner = pairs[lead_id].card_id
        reason = f"claims a lead already linked to card {owner}"
        reports.extend(Report(ReportKind.DUPLICATE, reason, lead_id, card.id) for card in cards)
        return None
    if lead_id not in snapshot.leads:
        if snapshot.leads_complete:
            reason = "claims a lead that does not exist"
            reports.extend(Report(ReportKind.SKIPPED, reason, lead_id, card.id) for card in cards)
        return None
    keep = cards[0]
    if len(cards) > 1:
        reason = f"a second card for the lead; card {keep.id} stays linked"
        reports.extend(Report(ReportKind.DUPLICATE, reason, lead_id, card.id) for card in cards[1:])
    return keep


def _adopted_base(lead_id: LeadId, card: Card) -> MergeBase:
    """Name/email/source as the card shows them (so a matching card needs no write); status and due date
    unknown, so a differing value is a conflict settled by the policy (a conservative bootstrap); no
    labels, so both sides' labels are kept."""
    shown = shown_fields(card)
    return MergeBase(
        lead_id,
        card.id,
        UNKNOWN_STATUS,
        shown.get("name", ""),
        shown.get("email", ""),
        shown.get("source", ""),
        card_closed=card.closed,
        due=UNKNOWN_STATUS,  # like the status: a differing due date is a conflict the policy settles
    )
