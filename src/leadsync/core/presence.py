"""Presence: a lead deleted in Airtable archives its card; a card archived or deleted in Trello leaves
its lead alone; an un-archived card resumes syncing from the base."""

from __future__ import annotations

from collections.abc import Mapping, Set

from leadsync.core.draft import PlanDraft
from leadsync.core.ops import (
    BaseUpdate,
    CardChanges,
    PairState,
    Report,
    ReportKind,
    UpdateBase,
    UpdateCard,
    WriteKind,
)
from leadsync.core.snapshot import Snapshot
from leadsync.core.statuses import UNKNOWN_STATUS
from leadsync.core.values import Card, Lead, MergeBase

__all__ = ["live_pair"]

_LEAD_DELETED = "lead deleted in Airtable"
_NO_CHANGE = BaseUpdate()
_LEAD_BACK = BaseUpdate(lead_deleted=False)  # restored in Airtable; the card stays archived until un-archived


def live_pair(
    snapshot: Snapshot,
    base: MergeBase,
    status_of: Mapping[str, str],
    open_conflicts: Set[str],
    draft: PlanDraft,
    open_due_conflicts: Set[str] = frozenset(),
) -> PairState | None:
    """The pair's state when both sides are live and syncing; None when presence settled it (its
    operations then added to ``draft``)."""
    lead = snapshot.leads.get(base.lead_id)
    card = snapshot.cards.get(base.card_id)
    if snapshot.lead_gone(base.lead_id) and not base.lead_deleted:
        _lead_deleted(snapshot, base, card, draft)
        return None
    pending = _LEAD_BACK if lead is not None and base.lead_deleted else _NO_CHANGE
    if card is None:
        if snapshot.card_gone(base.card_id) and not base.card_deleted:
            reason = "card deleted in Trello; lead left alone"
            draft.ops.append(UpdateBase(base.lead_id, BaseUpdate(card_deleted=True), reason))
        return None
    if base.card_deleted:
        pending = pending.then(BaseUpdate(card_deleted=False))  # a deleted card never comes back; symmetry
    if card.closed:
        _card_archived(base, card, pending, draft)
        return None
    if base.card_closed:
        pending = pending.then(BaseUpdate(card_closed=False))  # un-archived: resume syncing from the base
    effective = pending.applied_to(base)
    if effective.lead_deleted:
        if pending:
            draft.ops.append(UpdateBase(base.lead_id, pending, "card un-archived, lead still deleted"))
        return None
    lead = lead or _unchanged_lead(effective)
    return PairState(
        lead,
        card,
        effective,
        pending,
        status_of.get(card.list_id),
        base.lead_id in open_conflicts,
        base.lead_id in open_due_conflicts,
    )


def _lead_deleted(snapshot: Snapshot, base: MergeBase, card: Card | None, draft: PlanDraft) -> None:
    if card is not None and not card.closed and not base.card_deleted:
        archive = BaseUpdate(lead_deleted=True, card_closed=True)
        kinds = frozenset({WriteKind.ARCHIVED})
        draft.ops.append(
            UpdateCard(base.lead_id, base.card_id, CardChanges(closed=True), archive, kinds, _LEAD_DELETED)
        )
        return
    gone = BaseUpdate(lead_deleted=True)
    if snapshot.card_gone(base.card_id):
        gone = gone.then(BaseUpdate(card_deleted=True))
    elif card is not None and card.closed:
        gone = gone.then(BaseUpdate(card_closed=True))
    draft.ops.append(UpdateBase(base.lead_id, gone, _LEAD_DELETED))


def _card_archived(base: MergeBase, card: Card, pending: BaseUpdate, draft: PlanDraft) -> None:
    if not base.card_closed:
        pending = pending.then(BaseUpdate(card_closed=True))
        reason = "card archived in Trello: lead left alone"
        draft.reports.append(Report(ReportKind.SKIPPED, reason, base.lead_id, card.id))
    if pending:
        draft.ops.append(UpdateBase(base.lead_id, pending, "card archived in Trello"))


def _unchanged_lead(base: MergeBase) -> Lead:
    """An incremental read leaves out unchanged leads: they still hold the base's values.

    Only reached for a lead not read and not known gone (a complete read without it is a deletion)."""
    status = None if base.status == UNKNOWN_STATUS else base.status
    return Lead(
        base.lead_id,
        base.name,
        base.email,
        status,
        base.source,
        base.title,
        base.extra,
        base.due,
        base.labels,
    )
