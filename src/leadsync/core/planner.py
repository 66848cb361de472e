"""The pure reconciler: both sides' snapshots and the merge base in, a plan out. No I/O.

For every linked pair it compares each side with the base (a three-way merge), so it knows which
side changed: status flows both ways, name/email/source flow from Airtable to the card only when
they changed in Airtable since the base. Unlinked leads get a card, unless an existing card already
claims them by its ``Lead ID:`` line, in which case that card is adopted. See the README's
"Sync rules in plain words" for the same rules in plain words.

Planning is one pass. Under the ``latest`` policy, a pair whose status changed on both sides to
different values comes back *unsettled*, its operations held back; once the caller knows which side
changed last, :func:`settle` finishes those pairs.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Set
from contextlib import contextmanager
from dataclasses import replace

from leadsync.core.adoption import plan_adoptions
from leadsync.core.block import card_title, render_block
from leadsync.core.card_text import CardText, card_text
from leadsync.core.draft import PlanDraft
from leadsync.core.ops import (
    BaseUpdate,
    CardChanges,
    CreateCard,
    PairState,
    Plan,
    Report,
    ReportKind,
    Unsettled,
    UpdateBase,
    UpdateCard,
    WriteKind,
    WriteLeadStatus,
)
from leadsync.core.presence import live_pair
from leadsync.core.snapshot import Snapshot
from leadsync.core.status_merge import StatusMerge, conflict_of, merge_status, needs_latest
from leadsync.core.statuses import NO_CARD_STATUSES, ConflictPolicy, StatusLists
from leadsync.core.values import CardId, Lead, LeadId, MergeBase, Side

__all__ = ["plan", "settle"]


def plan(
    snapshot: Snapshot,
    pairs: Mapping[LeadId, MergeBase],
    lists: StatusLists,
    policy: ConflictPolicy,
    *,
    intents: Set[LeadId] = frozenset(),
    open_conflicts: Set[LeadId] = frozenset(),
) -> Plan:
    """Everything one cycle should do, as operations for the executor and reports for the person.

    Under the ``latest`` policy, the pairs whose conflict needs timestamps are in ``unsettled``:
    pass the plan to :func:`settle` with the later side of each.
    """
    with _cycle_collector_paused():
        return _plan(snapshot, pairs, lists, policy, intents, open_conflicts)


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Planning 100,000 pairs allocates a few hundred thousand small acyclic objects, which set off
    full cycle collections over everything the process holds (a third of the planning time).
    Reference counting frees all of them; the collector runs again afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _plan(
    snapshot: Snapshot,
    pairs: Mapping[LeadId, MergeBase],
    lists: StatusLists,
    policy: ConflictPolicy,
    intents: Set[LeadId],
    open_conflicts: Set[LeadId],
) -> Plan:
    draft = PlanDraft()
    status_of = lists.status_by_list()
    adoptions = plan_adoptions(snapshot, pairs, draft.reports)
    draft.ops.extend(adoptions.values())
    for base in [*pairs.values(), *(link.base for link in adoptions.values())]:
        state = live_pair(snapshot, base, status_of, open_conflicts, draft)
        if state is None:
            continue
        if policy is ConflictPolicy.LATEST and needs_latest(state, lists):
            draft.unsettled.append(Unsettled(conflict_of(state, policy), state))
        else:
            _finish_pair(state, lists, policy, None, draft)
    for lead in snapshot.leads.values():
        if lead.id not in pairs and lead.id not in adoptions:
            _plan_new_lead(snapshot, lead, lists, intents, draft)
    return draft.done()


def settle(unfinished: Plan, winners: Mapping[LeadId, Side], lists: StatusLists) -> Plan:
    """``unfinished`` with its unsettled pairs finished: each conflict goes to ``winners``' side for its
    lead; a conflict without an entry is recorded and left open."""
    draft = PlanDraft(list(unfinished.ops), list(unfinished.reports))
    for entry in unfinished.unsettled:
        winner = winners.get(entry.conflict.lead_id)
        _finish_pair(entry.state, lists, entry.conflict.policy, winner, draft)
    return draft.done()


def _finish_pair(
    state: PairState, lists: StatusLists, policy: ConflictPolicy, latest: Side | None, draft: PlanDraft
) -> None:
    """The status merge and the card's text of one live pair, as operations."""
    merged = merge_status(state, lists, policy, latest, draft)
    if merged is None:
        return
    lead = state.lead
    text = card_text(state, draft)
    if text is not None and text.title is None and text.description is None:
        pending = merged.pending.then(text.shown)  # the card already shows the lead: only the base learns
        text = None
    else:
        pending = merged.pending
    if merged.card_list is not None or text is not None:
        draft.ops.append(_card_update(state, merged, text))
    if merged.lead_status is not None:
        write = BaseUpdate(status=merged.lead_status)
        draft.ops.append(WriteLeadStatus(lead.id, merged.lead_status, write, "card moved in Trello"))
    if pending:
        draft.ops.append(UpdateBase(lead.id, pending, "sides agree"))


def _card_update(state: PairState, merged: StatusMerge, text: CardText | None) -> UpdateCard:
    """The card write of a pair: a move, new text, or both."""
    kinds: set[WriteKind] = set()
    changes, card_base = CardChanges(), BaseUpdate()
    if merged.card_list is not None:
        changes = CardChanges(list_id=merged.card_list)
        card_base = BaseUpdate(status=merged.card_status)
        kinds.add(WriteKind.MOVED)
    if text is not None:
        changes = replace(changes, title=text.title, description=text.description)
        card_base = card_base.then(text.shown)
        kinds.add(WriteKind.UPDATED)
    reason = "lead changed in Airtable"
    return UpdateCard(state.lead.id, state.card.id, changes, card_base, frozenset(kinds), reason)


def _plan_new_lead(
    snapshot: Snapshot, lead: Lead, lists: StatusLists, intents: Set[LeadId], draft: PlanDraft
) -> None:
    """A card for an unlinked lead, in its status's list; none for a LOST lead or one without a status."""
    if lead.status is None:
        reason = "lead has no Status yet: no card until it has one"
        draft.reports.append(Report(ReportKind.SKIPPED, reason, lead.id))
        return
    list_id = lists.list_for(lead.status)
    if list_id is None:
        draft.reports.append(Report(ReportKind.SKIPPED, f"Status {lead.status!r} maps to no list", lead.id))
        return
    if lead.status in NO_CARD_STATUSES:
        return
    if lead.id in intents and not snapshot.cards_complete:
        reason = "an interrupted create is checked on the next full read"
        draft.reports.append(Report(ReportKind.SKIPPED, reason, lead.id))
        return
    base = MergeBase(lead.id, CardId(""), lead.status, lead.name, lead.email, lead.source)
    draft.ops.append(CreateCard(lead.id, list_id, card_title(lead.name), render_block(lead), base))
