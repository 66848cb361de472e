"""Property tests of the pure planner (the CanopyCheck analogue): generated bases, edits on both sides of
every mapped field (status, due date, labels, the card's text), plans applied to an in-memory world as if
every write succeeded, then planned again. The worlds are in :mod:`tests.core.worlds`."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadsync.core import (
    DUE,
    KEEP,
    BaseUpdate,
    ConflictPolicy,
    CreateCard,
    LinkCard,
    RecordConflict,
    Side,
    Snapshot,
    UpdateBase,
    UpdateCard,
    WriteLead,
    parse_lead_id,
    plan,
    settle,
)
from tests.core.worlds import (
    MAPPING,
    World,
    base_before,
    conflicting_leads,
    kept_by,
    live,
    unknown_is_none,
    winners_for,
    worlds,
)

policies = st.sampled_from(list(ConflictPolicy))
FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_MAPPED_FIELDS_ONLY = BaseUpdate()


def _agreement_only(w: World, op: UpdateBase) -> None:
    """A second cycle may only record in the base what both sides already agree on."""
    u = op.updates
    others = replace(u, status=KEEP, due=KEEP, labels=None)
    assert others == _MAPPED_FIELDS_ONLY, f"a second cycle changed more than agreement: {op}"
    base = w.pairs[op.lead_id]
    pair = live(w, base)
    assert pair is not None, op
    lead, card = pair
    if u.status is not KEEP:
        assert lead.status == MAPPING.status_for(card.list_id) == u.status, op
    if u.due is not KEEP:
        assert lead.due == card.due == u.due, op
    if u.labels is not None:
        assert lead.labels == w.options_of(card) == u.labels, op


@FAST
@given(worlds(), policies)
def test_a_plan_converges_in_one_cycle_and_a_second_plan_writes_nothing(
    w: World, policy: ConflictPolicy
) -> None:
    w.apply(w.plan(policy, winners_for(w)))
    again = w.plan(policy, winners_for(w))
    assert again.writes == (), again.writes
    for op in again.ops:
        assert isinstance(op, UpdateBase), f"a second cycle did more than record agreement: {op}"
        _agreement_only(w, op)
    w.apply(again)
    third = w.plan(policy, winners_for(w))
    assert third.ops == (), third.ops


@FAST
@given(worlds(), policies)
def test_planning_twice_gives_the_same_plan(w: World, policy: ConflictPolicy) -> None:
    assert w.unsettled(policy) == w.unsettled(policy)
    winners = winners_for(w)
    assert w.plan(policy, winners) == w.plan(policy, winners)


@FAST
@given(worlds(), policies)
def test_no_lead_ever_gets_two_cards_nor_an_option_two_labels(w: World, policy: ConflictPolicy) -> None:
    p = w.plan(policy, winners_for(w))
    creates = [op.lead_id for op in p.ops if isinstance(op, CreateCard)]
    assert len(creates) == len(set(creates))
    linked_cards = {b.card_id for b in w.pairs.values()}
    claimed = {parse_lead_id(c.desc) for c in w.cards.values() if c.id not in linked_cards}
    for lid in creates:
        assert lid not in w.pairs
        assert lid not in claimed, "a lead claimed by an existing card must be adopted, not given a new card"
    known = dict(w.label_map or {})
    w.apply(p)
    linked = [b.card_id for b in w.pairs.values()]
    assert len(linked) == len(set(linked)), "a card is linked to two leads"
    labels = w.label_map or {}
    assert all(labels[o] == lid for o, lid in known.items()), "an option's label was replaced"
    assert len(set(labels.values())) == len(labels), "two options share a label"


@FAST
@given(worlds(), policies)
def test_after_a_cycle_every_live_pair_agrees_on_every_field_unless_a_conflict_is_open(
    w: World, policy: ConflictPolicy
) -> None:
    w.apply(w.plan(policy, winners_for(w)))
    for lid, base in w.pairs.items():
        pair = live(w, base)
        if pair is None or base.lead_deleted:
            continue
        lead, card = pair
        if w.label_map is not None:
            assert lead.labels == w.options_of(card), f"labels of {lid} differ"
        if lid not in w.open_due_conflicts:
            assert lead.due == card.due == base.due, f"due dates of {lid} differ"
        card_status = MAPPING.status_for(card.list_id)
        if lid in w.open_conflicts or lead.status is None or card_status is None:
            continue
        if MAPPING.list_for(lead.status) is not None:
            assert lead.status == card_status == base.status


@FAST
@given(worlds())
def test_manual_policy_never_writes_a_conflicting_status_or_due_date(w: World) -> None:
    conflicts, due_conflicts = set(conflicting_leads(w)), set(conflicting_leads(w, DUE))
    p = w.plan(ConflictPolicy.MANUAL)
    for op in p.ops:
        if isinstance(op, WriteLead):
            assert op.lead_id not in conflicts or op.changes.status is None
            assert op.lead_id not in due_conflicts or op.changes.due is KEEP
        if isinstance(op, UpdateCard):
            assert op.lead_id not in conflicts or op.changes.list_id is None
            assert op.lead_id not in due_conflicts or op.changes.due is KEEP


@FAST
@given(worlds(), policies)
def test_an_edit_of_the_labels_on_either_side_survives(w: World, policy: ConflictPolicy) -> None:
    """Labels merge per option and never conflict: an option added on one side (and so not removed on
    the other) ends on both sides, one removed on either side ends on neither, and a card's labels
    that map to no option are never removed."""
    p = w.plan(policy, winners_for(w))
    expected = {}
    for lid in w.leads:
        base = base_before(w, p, lid)
        pair = None if base is None or base.lead_deleted else live(w, base)
        if base is None or pair is None or w.label_map is None:
            continue
        lead, card = pair
        a, t, b = lead.labels, w.options_of(card), base.labels
        stray = card.label_ids - set(w.label_map.values())
        expected[lid] = (base.card_id, (a - b) | (t - b), (b - a) | (b - t), stray)
    w.apply(p)
    for lid, (card_id, added, removed, stray) in expected.items():
        lead, card = w.leads[lid], w.cards[card_id]
        for side, options in (("lead", lead.labels), ("card", w.options_of(card))):
            assert added <= options, f"{lid}: an option added was lost on the {side}"
            assert not removed & options, f"{lid}: an option removed is back on the {side}"
        assert stray <= card.label_ids, f"{lid}: the person's own labels were removed from the card"
        assert card.label_ids <= stray | set((w.label_map or {}).values()), f"{lid}: a stray label added"


@FAST
@given(worlds(), policies)
def test_a_due_date_edit_wins_unless_a_recorded_conflict_kept_the_other_side(
    w: World, policy: ConflictPolicy
) -> None:
    """One-sided changes of the due date win; both sides changed to different dates is a conflict of
    its own, recorded with the policy's winner; under ``manual`` both sides stay as they are, the
    conflict open, and the next cycle writes nothing for that pair while it stays open."""
    winners = winners_for(w)
    p = w.plan(policy, winners)
    recorded = {
        op.lead_id: op.conflict for op in p.ops if isinstance(op, RecordConflict) and op.conflict.field == DUE
    }
    expected = {}
    for lid in w.leads:
        base = base_before(w, p, lid)
        pair = None if base is None or base.lead_deleted else live(w, base)
        if base is None or pair is None:
            assert lid not in recorded
            continue
        lead, card = pair
        a, t, b = lead.due, card.due, base.due
        if a == t or (a != b) != (t != b):
            assert lid not in recorded, f"a due conflict recorded for {lid} without one"
            expected[lid] = (base.card_id, a if a != b else t, a if a != b else t)
            continue
        conflict = recorded.get(lid)
        assert conflict is not None, f"both sides of {lid} changed its due date and no conflict is recorded"
        assert (conflict.base_status, conflict.airtable_status, conflict.trello_status) == (
            unknown_is_none(b),
            a,
            t,
        )
        winner = kept_by(policy, winners[1], lid)
        assert conflict.winner == winner
        kept = {Side.AIRTABLE: (a, a), Side.TRELLO: (t, t), None: (a, t)}[winner]
        expected[lid] = (base.card_id, *kept)
    w.apply(p)
    for lid, (card_id, lead_due, card_due) in expected.items():
        assert (w.leads[lid].due, w.cards[card_id].due) == (lead_due, card_due), lid
    left_open = {lid for lid, c in recorded.items() if c.winner is None}
    assert w.open_due_conflicts == left_open, "a due conflict left to a person is not open"
    assert not left_open or policy is ConflictPolicy.MANUAL
    again = w.plan(policy, winners_for(w))
    for op in again.ops:
        lid = op.base.lead_id if isinstance(op, LinkCard) else op.lead_id
        if lid in w.open_due_conflicts:
            assert isinstance(op, UpdateBase), f"{op} while the due conflict of {lid} is open"
            assert op.updates.due is KEEP


@FAST
@given(worlds(), policies)
def test_a_status_edit_wins_unless_a_recorded_conflict_kept_the_other_side(
    w: World, policy: ConflictPolicy
) -> None:
    """The status as the due date: a one-sided change wins, both sides changed differently is a
    recorded conflict with the policy's winner (pairs whose status or list maps to nothing are left
    alone and reported)."""
    winners = winners_for(w)
    p = w.plan(policy, winners)
    recorded = {
        op.lead_id: op.conflict for op in p.ops if isinstance(op, RecordConflict) and op.conflict.field != DUE
    }
    expected = {}
    for lid in w.leads:
        base = base_before(w, p, lid)
        pair = None if base is None or base.lead_deleted else live(w, base)
        if base is None or pair is None:
            continue
        lead, card = pair
        a, t, b = lead.status, MAPPING.status_for(card.list_id), base.status
        if a is None or t is None or MAPPING.list_for(a) is None:
            assert lid not in recorded
            continue
        if a == t or (a != b) != (t != b):
            assert lid not in recorded, f"a status conflict recorded for {lid} without one"
            expected[lid] = (base.card_id, a if a != b else t, a if a != b else t)
            continue
        conflict = recorded[lid]
        winner = kept_by(policy, winners[0], lid)
        assert conflict.winner == winner
        expected[lid] = (base.card_id, *{Side.AIRTABLE: (a, a), Side.TRELLO: (t, t), None: (a, t)}[winner])
    w.apply(p)
    for lid, (card_id, lead_status, card_status) in expected.items():
        card = w.cards[card_id]
        assert (w.leads[lid].status, MAPPING.status_for(card.list_id)) == (lead_status, card_status), lid


@FAST
@given(worlds(), policies)
def test_nothing_is_ever_deleted_and_archived_cards_are_never_recreated(
    w: World, policy: ConflictPolicy
) -> None:
    p = w.plan(policy, winners_for(w))
    for op in p.ops:
        if isinstance(op, CreateCard):
            assert op.lead_id not in w.pairs
        if isinstance(op, UpdateCard) and op.changes.closed is True:
            assert op.lead_id not in w.leads, "only a deleted lead archives its card"


@FAST
@given(worlds(), policies)
def test_the_plan_does_not_depend_on_the_order_the_sides_were_read_in(
    w: World, policy: ConflictPolicy
) -> None:
    status_winners, due_winners = winners_for(w)
    forward = w.plan(policy, (status_winners, due_winners))
    reversed_snapshot = Snapshot(dict(reversed(list(w.leads.items()))), dict(reversed(list(w.cards.items()))))
    backward = settle(
        plan(
            reversed_snapshot,
            dict(reversed(list(w.pairs.items()))),
            w.lists(),
            policy,
            open_conflicts=w.open_conflicts,
            open_due_conflicts=w.open_due_conflicts,
        ),
        status_winners,
        w.lists(),
        due_winners=due_winners,
    )
    assert set(map(repr, forward.ops)) == set(map(repr, backward.ops))
