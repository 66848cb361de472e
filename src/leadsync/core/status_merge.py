"""The status merge of one live pair: three-way against the base, both ways, conflicts by policy."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from leadsync.core.conflicts import Conflict
from leadsync.core.draft import PlanDraft
from leadsync.core.ops import BaseUpdate, PairState, RecordConflict, Report, ReportKind, ResolveConflict
from leadsync.core.statuses import UNKNOWN_STATUS, ConflictPolicy, StatusLists
from leadsync.core.values import ListId, Side

__all__ = ["StatusMerge", "conflict_of", "conflict_winner", "merge_status", "needs_latest"]


@dataclass(frozen=True, slots=True)
class StatusMerge:
    """What the status merge decided: the list to move the card to (with the status that means), the
    status to write to the lead, and the base changes so far."""

    pending: BaseUpdate
    card_list: ListId | None = None
    card_status: str | None = None
    lead_status: str | None = None


def _syncable(state: PairState, lists: StatusLists, draft: PlanDraft) -> tuple[str, str] | None:
    """The lead's and the card's statuses when both map to the other side; otherwise None, and the
    pair's status is reported and left alone."""
    lead, card = state.lead, state.card
    if lead.status is None:
        if state.base.status is not None:
            reason = "lead has no Status: card left where it is"
            draft.reports.append(Report(ReportKind.SKIPPED, reason, lead.id, card.id))
        return None
    if lists.list_for(lead.status) is None:
        reason = f"Status {lead.status!r} maps to no list"
        draft.reports.append(Report(ReportKind.SKIPPED, reason, lead.id, card.id))
        return None
    if state.trello_status is None:
        reason = "card is in a list that maps to no status"
        draft.reports.append(Report(ReportKind.SKIPPED, reason, lead.id, card.id))
        return None
    return lead.status, state.trello_status


def needs_latest(state: PairState, lists: StatusLists) -> bool:
    """Both sides changed the status to different values, both mapped: what a policy must decide."""
    a, t, b = state.lead.status, state.trello_status, state.base.status
    return a is not None and t is not None and lists.list_for(a) is not None and b not in (a, t) and a != t


def conflict_of(state: PairState, policy: ConflictPolicy) -> Conflict:
    """The pair's status conflict, undecided."""
    base_status = None if state.base.status == UNKNOWN_STATUS else state.base.status
    return Conflict(state.lead.id, state.card.id, base_status, state.lead.status, state.trello_status, policy)


def conflict_winner(policy: ConflictPolicy, latest: Side | None) -> Side | None:
    """The side a policy keeps; ``latest`` is the later side, when the timestamps are known."""
    if policy is ConflictPolicy.AIRTABLE:
        return Side.AIRTABLE
    if policy is ConflictPolicy.TRELLO:
        return Side.TRELLO
    if policy is ConflictPolicy.LATEST:
        return latest
    return None


def merge_status(
    state: PairState, lists: StatusLists, policy: ConflictPolicy, latest: Side | None, draft: PlanDraft
) -> StatusMerge | None:
    """The status merge of a live pair. None: an open conflict waits for a person, and nothing else
    syncs for this pair."""
    statuses = _syncable(state, lists, draft)
    if statuses is None:
        return StatusMerge(state.pending)
    (a, t), b = statuses, state.base.status
    if state.conflict_open and a == t:
        draft.ops.append(ResolveConflict(state.lead.id, "both sides agree"))
    if a == b == t or (a != b and t != b and a == t):
        # Nothing changed, or both made the same change (a false conflict): only the base learns it.
        return StatusMerge(state.pending if a == b else state.pending.then(_status_is(a)))
    if a != b and t != b:
        winner = conflict_winner(policy, latest)
        if winner is None and state.conflict_open:
            return None
        draft.ops.append(RecordConflict(conflict_of(state, policy).decided(winner)))
        if winner is None:
            return StatusMerge(state.pending)
        return _one_way(state, lists, winner)
    return _one_way(state, lists, Side.AIRTABLE if a != b else Side.TRELLO)


@cache
def _status_is(status: str) -> BaseUpdate:
    """The base update that records ``status`` as agreed (one shared value per status: it is immutable)."""
    return BaseUpdate(status=status)


def _one_way(state: PairState, lists: StatusLists, changed: Side) -> StatusMerge:
    """The changed side's status reaches the other side."""
    if changed is Side.AIRTABLE:
        status = state.lead.status
        return StatusMerge(state.pending, card_list=lists.list_for(status), card_status=status)
    return StatusMerge(state.pending, lead_status=state.trello_status)
