"""The pure reconciler: both sides' snapshots and the merge base in, a plan out. No I/O.

For every linked pair it compares each side with the base (a three-way merge), so it knows which
side changed: status, due date and labels flow both ways (each merged against its own base value),
the title and the managed block flow from Airtable to the card only when they changed in Airtable
since the base. Unlinked leads get a card, unless an existing card already
claims them by its ``Lead ID:`` line, in which case that card is adopted. See the README's
"Sync rules in plain words" for the same rules in plain words.

Planning is one pass. Under the ``latest`` policy, a pair whose status (or due date) changed on both
sides to different values comes back *unsettled*, its operations held back; once the caller knows
which side changed last, :func:`settle` finishes those pairs.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Set
from contextlib import contextmanager
from dataclasses import replace

from leadsync.core.adoption import plan_adoptions
from leadsync.core.block import lead_title, render_block
from leadsync.core.card_text import CardText, card_text
from leadsync.core.draft import PlanDraft
from leadsync.core.field_merge import FieldWrites, due_conflict_of, due_needs_latest, merge_fields
from leadsync.core.ops import (
    BaseUpdate,
    CardChanges,
    CreateCard,
    LeadChanges,
    PairState,
    Plan,
    Report,
    ReportKind,
    Unsettled,
    UpdateBase,
    UpdateCard,
    WriteKind,
    WriteLead,
)
from leadsync.core.presence import live_pair
from leadsync.core.snapshot import Snapshot
from leadsync.core.status_merge import StatusMerge, conflict_of, merge_status, needs_latest
from leadsync.core.statuses import ConflictPolicy, StatusLists
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
    open_due_conflicts: Set[LeadId] = frozenset(),
) -> Plan:
    """Everything one cycle should do, as operations for the executor and reports for the person.

    ``open_conflicts`` and ``open_due_conflicts`` are the leads whose status or due-date conflict waits
    for a person. Under the ``latest`` policy, the pairs whose conflict needs timestamps are in
    ``unsettled``: pass the plan to :func:`settle` with the later side of each.
    """
    with _cycle_collector_paused():
        return _plan(snapshot, pairs, lists, policy, intents, (open_conflicts, open_due_conflicts))


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
    open_conflicts: tuple[Set[LeadId], Set[LeadId]],
) -> Plan:
    draft = PlanDraft()
    status_of = lists.status_by_list()
    adoptions = plan_adoptions(snapshot, pairs, draft.reports)
    draft.ops.extend(adoptions.values())
    open_status, open_due = open_conflicts
    for base in [*pairs.values(), *(link.base for link in adoptions.values())]:
        state = live_pair(snapshot, base, status_of, open_status, draft, open_due)
        if state is None:
            continue
        status_waits = policy is ConflictPolicy.LATEST and needs_latest(state, lists)
        due_waits = policy is ConflictPolicy.LATEST and due_needs_latest(state)
        if status_waits:
            draft.unsettled.append(Unsettled(conflict_of(state, policy), state))
        if due_waits:
            draft.unsettled.append(Unsettled(due_conflict_of(state, policy), state))
        if not (status_waits or due_waits):
            _finish_pair(state, lists, policy, (None, None), draft)
    for lead in snapshot.leads.values():
        if lead.id not in pairs and lead.id not in adoptions:
            _plan_new_lead(snapshot, lead, lists, intents, draft)
    return draft.done()


def settle(
    unfinished: Plan,
    winners: Mapping[LeadId, Side],
    lists: StatusLists,
    *,
    due_winners: Mapping[LeadId, Side] | None = None,
) -> Plan:
    """``unfinished`` with its unsettled pairs finished: each status conflict goes to ``winners``' side
    for its lead, each due-date conflict to ``due_winners``'; a conflict without an entry is recorded
    and left open."""
    draft = PlanDraft(list(unfinished.ops), list(unfinished.reports))
    due_winners = due_winners or {}
    finished: set[LeadId] = set()
    for entry in unfinished.unsettled:
        lead_id = entry.conflict.lead_id
        if lead_id in finished:  # both its status and its due date waited on timestamps
            continue
        finished.add(lead_id)
        latest = (winners.get(lead_id), due_winners.get(lead_id))
        _finish_pair(entry.state, lists, entry.conflict.policy, latest, draft)
    return draft.done()


def _finish_pair(
    state: PairState,
    lists: StatusLists,
    policy: ConflictPolicy,
    latest: tuple[Side | None, Side | None],
    draft: PlanDraft,
) -> None:
    """The merges (status, due date, labels) and the card's text of one live pair, as operations;
    ``latest`` is the later side of a status and of a due-date conflict, when known."""
    merged = merge_status(state, lists, policy, latest[0], draft)
    if merged is None:
        return
    fields = merge_fields(state, lists, policy, latest[1], draft)
    lead = state.lead
    text = card_text(state, draft)
    pending = merged.pending.then(fields.agreed)
    if text is not None and text.title is None and text.description is None:
        pending = pending.then(text.shown)  # the card already shows the lead: only the base learns
        text = None
    if merged.card_list is not None or text is not None or fields.writes_card:
        draft.ops.append(_card_update(state, merged, text, fields))
    if merged.lead_status is not None or fields.writes_lead:
        draft.ops.append(_lead_write(lead.id, merged, fields))
    if pending:
        draft.ops.append(UpdateBase(lead.id, pending, "sides agree"))


def _lead_write(lead_id: LeadId, merged: StatusMerge, fields: FieldWrites) -> WriteLead:
    """The lead write of a pair: a status the card's move gave, a due date, labels."""
    changes = LeadChanges(status=merged.lead_status, due=fields.lead_due, labels=fields.lead_labels)
    base = fields.lead_base
    if merged.lead_status is not None:
        base = BaseUpdate(status=merged.lead_status).then(base)
    reason = "card moved in Trello" if merged.lead_status is not None else "card changed in Trello"
    return WriteLead(lead_id, changes, base, reason)


def _card_update(
    state: PairState, merged: StatusMerge, text: CardText | None, fields: FieldWrites
) -> UpdateCard:
    """The card write of a pair: a move, new text, a due date, labels, or several of these."""
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
    if fields.writes_card:
        changes = replace(
            changes,
            due=fields.card_due,
            add_labels=fields.card_add,
            remove_labels=fields.card_remove,
            card_label_ids=state.card.label_ids,
        )
        card_base = card_base.then(fields.card_base)
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
    if lead.status in lists.no_card:
        return
    if lead.id in intents and not snapshot.cards_complete:
        reason = "an interrupted create is checked on the next full read"
        draft.reports.append(Report(ReportKind.SKIPPED, reason, lead.id))
        return
    base = MergeBase(
        lead.id, CardId(""), lead.status, lead.name, lead.email, lead.source,
        title=lead.title, extra=lead.extra, due=lead.due, labels=lead.labels,
    )  # fmt: skip
    draft.ops.append(
        CreateCard(
            lead.id, list_id, lead_title(lead), render_block(lead), base, due=lead.due, labels=lead.labels
        )
    )
