"""Property tests of the pure planner (the CanopyCheck analogue): generated bases, edits on both sides,
plans applied to an in-memory world as if every write succeeded, then planned again."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadsync.core import (
    Card,
    CardId,
    ConflictPolicy,
    CreateCard,
    Lead,
    LeadId,
    LinkCard,
    ListId,
    MergeBase,
    Plan,
    RecordConflict,
    ResolveConflict,
    Side,
    Snapshot,
    StatusLists,
    UpdateBase,
    UpdateCard,
    WriteLead,
    card_title,
    parse_lead_id,
    plan,
    render_block,
    settle,
)

STATUSES = ["NEW", "CONTACTED", "QUALIFIED", "LOST"]
MAPPING = StatusLists({s: ListId(f"{i:024x}") for i, s in enumerate(STATUSES, start=1)})
UNMAPPED_LIST = ListId("f" * 24)
_ids = itertools.count(1)


def lead_id(n: int) -> LeadId:
    return LeadId(f"rec{n:014d}")


def new_card_id() -> CardId:
    return CardId(f"{0x60000000 + next(_ids):08x}{next(_ids):016x}")


@dataclass
class World:
    leads: dict[LeadId, Lead] = field(default_factory=dict)
    cards: dict[CardId, Card] = field(default_factory=dict)
    pairs: dict[LeadId, MergeBase] = field(default_factory=dict)
    open_conflicts: set[LeadId] = field(default_factory=set)

    def snapshot(self) -> Snapshot:
        return Snapshot(dict(self.leads), dict(self.cards))

    def plan(self, policy: ConflictPolicy, winners: dict[LeadId, Side] | None = None) -> Plan:
        planned = plan(self.snapshot(), self.pairs, MAPPING, policy, open_conflicts=self.open_conflicts)
        return settle(planned, winners or {}, MAPPING)

    def apply(self, p: Plan) -> None:
        """Pretend every operation succeeded, in the executor's order."""
        order = (
            LinkCard,
            RecordConflict,
            ResolveConflict,
            UpdateBase,
            CreateCard,
            UpdateCard,
            WriteLead,
        )
        for kind in order:
            for op in p.ops:
                if isinstance(op, kind):
                    self._apply(op)

    def _apply(self, op: Any) -> None:
        if isinstance(op, LinkCard):
            self.pairs[op.base.lead_id] = op.base
        elif isinstance(op, RecordConflict):
            if op.conflict.winner is None:
                self.open_conflicts.add(op.lead_id)
        elif isinstance(op, ResolveConflict):
            self.open_conflicts.discard(op.lead_id)
        elif isinstance(op, UpdateBase):
            self.pairs[op.lead_id] = op.updates.applied_to(self.pairs[op.lead_id])
        elif isinstance(op, CreateCard):
            cid = new_card_id()
            self.cards[cid] = Card(cid, op.name, op.desc, op.list_id)
            self.pairs[op.lead_id] = replace(op.base, card_id=cid)
        elif isinstance(op, UpdateCard):
            card = self.cards[op.card_id]
            ch = op.changes
            self.cards[op.card_id] = replace(
                card,
                name=card.name if ch.title is None else ch.title,
                desc=card.desc if ch.description is None else ch.description,
                list_id=card.list_id if ch.list_id is None else ch.list_id,
                closed=card.closed if ch.closed is None else ch.closed,
            )
            self.pairs[op.lead_id] = op.base_updates.applied_to(self.pairs[op.lead_id])
        elif isinstance(op, WriteLead):
            self.leads[op.lead_id] = replace(self.leads[op.lead_id], status=op.status)
            self.pairs[op.lead_id] = op.base_updates.applied_to(self.pairs[op.lead_id])


names = st.text(alphabet="abcXYZ é'{}\\\n", min_size=0, max_size=8)
status_st = st.sampled_from([*STATUSES, None, "NURTURE"])


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """A synced world (every pair agreeing with its base), then random edits on both sides."""
    w = World()
    n = draw(st.integers(0, 8))
    for i in range(n):
        lid = lead_id(i)
        status = draw(st.sampled_from(STATUSES[:3]))
        lead = Lead(lid, draw(names), draw(names), status, draw(names))
        w.leads[lid] = lead
        if draw(st.booleans()):
            cid = new_card_id()
            w.cards[cid] = Card(
                cid, card_title(lead.name), "notes\n\n" + render_block(lead), MAPPING.list_by_status[status]
            )
            w.pairs[lid] = MergeBase(lid, cid, status, lead.name, lead.email, lead.source)
    # Edits on both sides.
    for lid in list(w.leads):
        what = draw(st.sampled_from(["none", "status", "name", "email", "delete", "blank"]))
        lead = w.leads[lid]
        if what == "status":
            w.leads[lid] = replace(lead, status=draw(status_st))
        elif what == "name":
            w.leads[lid] = replace(lead, name=draw(names))
        elif what == "email":
            w.leads[lid] = replace(lead, email=draw(names))
        elif what == "delete":
            del w.leads[lid]
        elif what == "blank":
            w.leads[lid] = replace(lead, status=None)
    for cid in list(w.cards):
        what = draw(st.sampled_from(["none", "move", "rename", "archive", "delete", "unmapped", "claim"]))
        card = w.cards[cid]
        if what == "move":
            w.cards[cid] = replace(card, list_id=MAPPING.list_by_status[draw(st.sampled_from(STATUSES))])
        elif what == "rename":
            w.cards[cid] = replace(card, name=draw(names) or "x")
        elif what == "archive":
            w.cards[cid] = replace(card, closed=True)
        elif what == "delete":
            del w.cards[cid]
        elif what == "unmapped":
            w.cards[cid] = replace(card, list_id=UNMAPPED_LIST)
        elif what == "claim" and n:
            w.cards[cid] = replace(card, desc=f"Lead ID: {lead_id(draw(st.integers(0, n - 1)))}")
    # New leads, and stray cards that claim leads (seed-made cards, duplicates).
    for j in range(draw(st.integers(0, 3))):
        lid = lead_id(100 + j)
        w.leads[lid] = Lead(lid, draw(names), draw(names), draw(status_st), "")
    for _ in range(draw(st.integers(0, 3))):
        target = lead_id(draw(st.sampled_from([*range(n), 100, 101, 555])))
        cid = new_card_id()
        w.cards[cid] = Card(
            cid,
            "Follow up: someone",
            f"Lead ID: {target}",
            MAPPING.list_by_status[draw(st.sampled_from(STATUSES))],
            closed=draw(st.booleans()),
        )
    return w


def conflicting_leads(w: World) -> list[LeadId]:
    """The leads whose status changed on both sides to different values (what ``latest`` settles)."""
    return [
        entry.conflict.lead_id
        for entry in plan(w.snapshot(), w.pairs, MAPPING, ConflictPolicy.LATEST).unsettled
    ]


def winners_for(w: World) -> dict[LeadId, Side]:
    return {lid: Side.TRELLO if int(lid[3:]) % 2 else Side.AIRTABLE for lid in conflicting_leads(w)}


policies = st.sampled_from(list(ConflictPolicy))
FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(worlds(), policies)
def test_a_plan_converges_in_one_cycle_and_a_second_plan_does_nothing(
    w: World, policy: ConflictPolicy
) -> None:
    w.apply(w.plan(policy, winners_for(w)))
    again = w.plan(policy, winners_for(w))
    assert again.ops == (), again.ops


@FAST
@given(worlds(), policies)
def test_no_lead_ever_gets_two_cards(w: World, policy: ConflictPolicy) -> None:
    p = w.plan(policy, winners_for(w))
    creates = [op.lead_id for op in p.ops if isinstance(op, CreateCard)]
    assert len(creates) == len(set(creates))
    linked_cards = {b.card_id for b in w.pairs.values()}
    claimed = {parse_lead_id(c.desc) for c in w.cards.values() if c.id not in linked_cards}
    for lid in creates:
        assert lid not in w.pairs
        assert lid not in claimed, "a lead claimed by an existing card must be adopted, not given a new card"
    w.apply(p)
    linked = [b.card_id for b in w.pairs.values()]
    assert len(linked) == len(set(linked)), "a card is linked to two leads"


@FAST
@given(worlds(), policies)
def test_after_a_cycle_every_live_pair_agrees_on_status_unless_a_conflict_is_open(
    w: World, policy: ConflictPolicy
) -> None:
    w.apply(w.plan(policy, winners_for(w)))
    for lid, base in w.pairs.items():
        lead, card = w.leads.get(lid), w.cards.get(base.card_id)
        if lead is None or card is None or card.closed or lid in w.open_conflicts:
            continue
        card_status = MAPPING.status_for(card.list_id)
        if lead.status is None or card_status is None or MAPPING.list_for(lead.status) is None:
            continue
        assert lead.status == card_status == base.status


@FAST
@given(worlds())
def test_manual_policy_never_writes_a_conflicting_status(w: World) -> None:
    conflicts = set(conflicting_leads(w))
    p = w.plan(ConflictPolicy.MANUAL)
    for op in p.ops:
        if isinstance(op, WriteLead):
            assert op.lead_id not in conflicts
        if isinstance(op, UpdateCard):
            assert op.lead_id not in conflicts or op.changes.list_id is None


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
    winners = winners_for(w)
    forward = w.plan(policy, winners)
    reversed_snapshot = Snapshot(dict(reversed(list(w.leads.items()))), dict(reversed(list(w.cards.items()))))
    backward = settle(
        plan(
            reversed_snapshot,
            dict(reversed(list(w.pairs.items()))),
            MAPPING,
            policy,
            open_conflicts=w.open_conflicts,
        ),
        winners,
        MAPPING,
    )
    assert set(map(repr, forward.ops)) == set(map(repr, backward.ops))
