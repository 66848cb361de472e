"""The merges of the two-way fields beyond status: the due date and the labels.

Each is three-way against its own base value. A due date changed on one side reaches the other; both
changed to different dates is a conflict of its own, decided by the flow's policy like a status
conflict (under ``latest``, by each API's time of that field's change). Labels merge per option: an
option added on either side is added, one removed on either side is removed, so two people's label
edits never conflict; labels on the card that map to no option are a person's and are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadsync.core.conflicts import Conflict
from leadsync.core.draft import PlanDraft
from leadsync.core.ops import KEEP, BaseUpdate, Keep, PairState, RecordConflict, ResolveConflict
from leadsync.core.status_merge import conflict_winner
from leadsync.core.statuses import UNKNOWN_STATUS, ConflictPolicy, StatusLists
from leadsync.core.values import Side

__all__ = ["DUE", "FieldWrites", "due_conflict_of", "due_needs_latest", "merge_fields"]

DUE = "due"
"""The ``field`` of a due-date conflict."""

_NO_CHANGE = BaseUpdate()  # frozen: one shared default


@dataclass(frozen=True, slots=True)
class FieldWrites:
    """What the due and labels merges write to each side, and the base changes each write confirms
    (``agreed``: the base changes that need no write)."""

    card_due: str | Keep | None = KEEP
    card_add: frozenset[str] = frozenset()
    card_remove: frozenset[str] = frozenset()
    card_base: BaseUpdate = _NO_CHANGE
    lead_due: str | Keep | None = KEEP
    lead_labels: frozenset[str] | None = None
    lead_base: BaseUpdate = _NO_CHANGE
    agreed: BaseUpdate = _NO_CHANGE

    @property
    def writes_card(self) -> bool:
        """The card needs a write."""
        return self.card_due is not KEEP or bool(self.card_add or self.card_remove)

    @property
    def writes_lead(self) -> bool:
        """The lead needs a write."""
        return self.lead_due is not KEEP or self.lead_labels is not None


_NOTHING = FieldWrites()


def due_needs_latest(state: PairState) -> bool:
    """Both sides changed the due date to different values: what a policy must decide."""
    a, t, b = state.lead.due, state.card.due, state.base.due
    return a != b and t != b and a != t


def due_conflict_of(state: PairState, policy: ConflictPolicy) -> Conflict:
    """The pair's due-date conflict, undecided."""
    base_due = None if state.base.due == UNKNOWN_STATUS else state.base.due
    return Conflict(state.lead.id, state.card.id, base_due, state.lead.due, state.card.due, policy, field=DUE)


def merge_fields(
    state: PairState, lists: StatusLists, policy: ConflictPolicy, latest: Side | None, draft: PlanDraft
) -> FieldWrites:
    """The due and labels merges of a live pair; ``latest`` is the later side of a due conflict."""
    lead, card, base = state.lead, state.card, state.base
    if lead.due == card.due == base.due and lists.label_by_option is None and not state.due_conflict_open:
        return _NOTHING  # the common case, of every pair of every cycle: no allocation
    due = _merge_due(state, policy, latest, draft)
    labels = _merge_labels(state, lists)
    return FieldWrites(
        card_due=due.card_due,
        card_add=labels.card_add,
        card_remove=labels.card_remove,
        card_base=due.card_base.then(labels.card_base),
        lead_due=due.lead_due,
        lead_labels=labels.lead_labels,
        lead_base=due.lead_base.then(labels.lead_base),
        agreed=due.agreed.then(labels.agreed),
    )


def _merge_due(
    state: PairState, policy: ConflictPolicy, latest: Side | None, draft: PlanDraft
) -> FieldWrites:
    a, t, b = state.lead.due, state.card.due, state.base.due
    if a == t:
        if state.due_conflict_open:
            draft.ops.append(ResolveConflict(state.lead.id, "both sides agree", field=DUE))
        return FieldWrites(agreed=BaseUpdate(due=a)) if a != b else FieldWrites()
    if a != b and t != b:
        winner = conflict_winner(policy, latest)
        if winner is None and state.due_conflict_open:
            return FieldWrites()
        draft.ops.append(RecordConflict(due_conflict_of(state, policy).decided(winner)))
        if winner is None:
            return FieldWrites()
        changed = winner
    else:
        changed = Side.AIRTABLE if a != b else Side.TRELLO
    if changed is Side.AIRTABLE:
        return FieldWrites(card_due=a, card_base=BaseUpdate(due=a))
    return FieldWrites(lead_due=t, lead_base=BaseUpdate(due=t))


def _merge_labels(state: PairState, lists: StatusLists) -> FieldWrites:
    if lists.label_by_option is None:
        return FieldWrites()  # the flow maps no labels field
    a, b = state.lead.labels, state.base.labels
    t = lists.options_of(state.card.label_ids)
    if a == t:
        return FieldWrites(agreed=BaseUpdate(labels=a)) if a != b else FieldWrites()
    merged = (b | (a - b) | (t - b)) - (b - a) - (b - t)
    card_add, card_remove = merged - t, t - merged
    lead_labels = merged if merged != a else None
    # Each write's base is what makes the next cycle see only the other side's pending change: after
    # the card alone took ``merged``, the lead's value; after the lead alone took it, the card's. Both
    # done, the sides agree and the next cycle only records it.
    card_base = BaseUpdate(labels=a) if lead_labels is not None else BaseUpdate(labels=merged)
    lead_base = BaseUpdate(labels=t) if (card_add or card_remove) else BaseUpdate(labels=merged)
    return FieldWrites(
        card_add=card_add,
        card_remove=card_remove,
        card_base=card_base if (card_add or card_remove) else BaseUpdate(),
        lead_labels=lead_labels,
        lead_base=lead_base if lead_labels is not None else BaseUpdate(),
    )
