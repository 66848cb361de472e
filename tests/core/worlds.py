"""Generated worlds for the planner's property tests: leads, cards and their merge bases agreeing on
every mapped field (status, due date, labels, the card's text), then a person's random edits on both
sides; plans applied as if every write succeeded, the way the executor applies them."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import strategies as st

from leadsync.core import (
    DUE,
    KEEP,
    UNKNOWN_STATUS,
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
    plan,
    render_block,
    settle,
)

__all__ = [
    "DUES",
    "MAPPING",
    "OPTIONS",
    "STATUSES",
    "STRAY_LABELS",
    "Winners",
    "World",
    "base_before",
    "conflicting_leads",
    "kept_by",
    "lead_id",
    "live",
    "unknown_is_none",
    "winners_for",
    "worlds",
]

STATUSES = ["NEW", "CONTACTED", "QUALIFIED", "LOST"]
MAPPING = StatusLists({s: ListId(f"{i:024x}") for i, s in enumerate(STATUSES, start=1)})
UNMAPPED_LIST = ListId("f" * 24)
DUES = [None, "2026-01-05", "2026-02-10", "2026-03-15T09:30:00.000Z"]
OPTIONS = ["Hot", "Cold", "Warm", "VIP"]
STRAY_LABELS = ["lbl-persons-own-1", "lbl-persons-own-2"]  # card labels that map to no option
_ids = itertools.count(1)

Winners = tuple[dict[LeadId, Side], dict[LeadId, Side]]
"""The later side of each status conflict and of each due-date conflict (the ``latest`` policy's)."""


def lead_id(n: int) -> LeadId:
    """Lead number ``n``."""
    return LeadId(f"rec{n:014d}")


def new_card_id() -> CardId:
    """A card id no other card of any world has."""
    return CardId(f"{0x60000000 + next(_ids):08x}{next(_ids):016x}")


@dataclass
class World:
    """Both sides, the store's pairs and open conflicts, and the board's label of each option
    (None: the flow maps no labels field)."""

    leads: dict[LeadId, Lead] = field(default_factory=dict)
    cards: dict[CardId, Card] = field(default_factory=dict)
    pairs: dict[LeadId, MergeBase] = field(default_factory=dict)
    open_conflicts: set[LeadId] = field(default_factory=set)
    open_due_conflicts: set[LeadId] = field(default_factory=set)
    label_map: dict[str, str] | None = field(default_factory=dict)
    labels_made: int = 0

    def lists(self) -> StatusLists:
        """The flow's statuses and its labels as the board has them now."""
        labels = None if self.label_map is None else dict(self.label_map)
        return replace(MAPPING, label_by_option=labels)

    def snapshot(self) -> Snapshot:
        """Both sides, read in full."""
        return Snapshot(dict(self.leads), dict(self.cards))

    def unsettled(self, policy: ConflictPolicy) -> Plan:
        """The planner's plan, before :func:`settle`."""
        return plan(
            self.snapshot(),
            self.pairs,
            self.lists(),
            policy,
            open_conflicts=self.open_conflicts,
            open_due_conflicts=self.open_due_conflicts,
        )

    def plan(self, policy: ConflictPolicy, winners: Winners | None = None) -> Plan:
        """One cycle's settled plan (``winners``: the later sides; none known by default)."""
        status, due = winners or ({}, {})
        return settle(self.unsettled(policy), status, self.lists(), due_winners=due)

    def options_of(self, card: Card) -> frozenset[str]:
        """The options a card's labels stand for."""
        return self.lists().options_of(card.label_ids)

    def label_ids(self, options: frozenset[str]) -> frozenset[str]:
        """The board labels of ``options``, a label made for each option that has none (as the
        executor's LabelBook does, once)."""
        assert self.label_map is not None, "a label write in a flow without a labels field"
        for option in sorted(options):
            if option not in self.label_map:
                self.labels_made += 1
                self.label_map[option] = f"lbl-made-{self.labels_made}"
        return frozenset(self.label_map[o] for o in options)

    def apply(self, p: Plan) -> None:
        """Pretend every operation succeeded, in the executor's order."""
        order = (LinkCard, RecordConflict, ResolveConflict, UpdateBase, CreateCard, UpdateCard, WriteLead)
        for kind in order:
            for op in p.ops:
                if isinstance(op, kind):
                    self._apply(op)

    def _apply(self, op: Any) -> None:
        if isinstance(op, LinkCard):
            self.pairs[op.base.lead_id] = op.base
        elif isinstance(op, RecordConflict):
            if op.conflict.winner is None:
                opened = self.open_due_conflicts if op.conflict.field == DUE else self.open_conflicts
                opened.add(op.lead_id)
        elif isinstance(op, ResolveConflict):
            closed = self.open_due_conflicts if op.field == DUE else self.open_conflicts
            closed.discard(op.lead_id)
        elif isinstance(op, UpdateBase):
            self.pairs[op.lead_id] = op.updates.applied_to(self.pairs[op.lead_id])
        elif isinstance(op, CreateCard):
            cid = new_card_id()
            labels = self.label_ids(op.labels) if op.labels else frozenset()
            self.cards[cid] = Card(cid, op.name, op.desc, op.list_id, due=op.due, label_ids=labels)
            self.pairs[op.lead_id] = replace(op.base, card_id=cid)
        elif isinstance(op, UpdateCard):
            self._update_card(op)
        elif isinstance(op, WriteLead):
            lead, ch = self.leads[op.lead_id], op.changes
            self.leads[op.lead_id] = replace(
                lead,
                status=lead.status if ch.status is None else ch.status,
                due=lead.due if ch.due is KEEP else ch.due,
                labels=lead.labels if ch.labels is None else ch.labels,
            )
            self.pairs[op.lead_id] = op.base_updates.applied_to(self.pairs[op.lead_id])

    def _update_card(self, op: UpdateCard) -> None:
        card, ch = self.cards[op.card_id], op.changes
        label_ids = card.label_ids
        if ch.add_labels or ch.remove_labels:
            # As the executor: the labels read, less those removed, plus those added.
            removed = self.label_ids(ch.remove_labels) if ch.remove_labels else frozenset()
            label_ids = (ch.card_label_ids - removed) | self.label_ids(ch.add_labels)
        self.cards[op.card_id] = replace(
            card,
            name=card.name if ch.title is None else ch.title,
            desc=card.desc if ch.description is None else ch.description,
            list_id=card.list_id if ch.list_id is None else ch.list_id,
            closed=card.closed if ch.closed is None else ch.closed,
            due=card.due if ch.due is KEEP else ch.due,
            label_ids=label_ids,
        )
        self.pairs[op.lead_id] = op.base_updates.applied_to(self.pairs[op.lead_id])


LEAD_EDITS = ["none", "status", "name", "email", "delete", "blank", "due", "labels", "due+labels"]
CARD_EDITS = ["none", "move", "rename", "archive", "delete", "unmapped", "claim"]
CARD_EDITS += ["due", "labels", "due+labels"]
names = st.text(alphabet="abcXYZ é'{}\\\n", min_size=0, max_size=8)
status_st = st.sampled_from([*STATUSES, None, "NURTURE"])
dues = st.sampled_from(DUES)
agreed_statuses = st.sampled_from(STATUSES[:3])
any_status = st.sampled_from(STATUSES)
lead_edits = st.sampled_from(LEAD_EDITS)
card_edits = st.sampled_from(CARD_EDITS)


@functools.cache
def _subsets(items: tuple[str, ...]) -> st.SearchStrategy[frozenset[str]]:
    return st.integers(0, 2 ** len(items) - 1).map(
        lambda mask: frozenset(item for i, item in enumerate(items) if mask >> i & 1)
    )


def subsets(items: list[str]) -> st.SearchStrategy[frozenset[str]]:
    """Any subset of ``items``, drawn as one bit mask (one draw, where ``st.frozensets`` makes many;
    one strategy per list of items: making strategies costs more than drawing from them)."""
    return _subsets(tuple(items))


option_sets = subsets(OPTIONS)


def _card_labels(draw: st.DrawFn, w: World, options: frozenset[str]) -> frozenset[str]:
    """The labels of a card showing ``options`` (those with a board label), and maybe some of the
    person's own."""
    mapped = frozenset() if w.label_map is None else frozenset(w.label_map[o] for o in options)
    return mapped | draw(subsets(STRAY_LABELS))


def _synced(draw: st.DrawFn, w: World, n: int) -> None:
    """``n`` leads, about half with a card, every pair agreeing with its base on every field."""
    labelled = [] if w.label_map is None else sorted(w.label_map)
    for i in range(n):
        lid = lead_id(i)
        status = draw(agreed_statuses)
        labels = draw(subsets(labelled)) if labelled else frozenset()
        lead = Lead(lid, draw(names), draw(names), status, draw(names), due=draw(dues), labels=labels)
        w.leads[lid] = lead
        if draw(st.booleans()):
            cid = new_card_id()
            desc = "notes\n\n" + render_block(lead)
            list_id = MAPPING.list_by_status[status]
            label_ids = _card_labels(draw, w, labels)
            w.cards[cid] = Card(cid, card_title(lead.name), desc, list_id, due=lead.due, label_ids=label_ids)
            w.pairs[lid] = MergeBase(
                lid, cid, status, lead.name, lead.email, lead.source, due=lead.due, labels=labels
            )


def _edit_lead(draw: st.DrawFn, w: World, lid: LeadId) -> None:
    what = draw(lead_edits)
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
    if what in ("due", "due+labels"):
        lead = w.leads[lid] = replace(lead, due=draw(dues))
    if what in ("labels", "due+labels") and w.label_map is not None:
        w.leads[lid] = replace(lead, labels=draw(option_sets))


def _edit_card(draw: st.DrawFn, w: World, cid: CardId, n: int) -> None:
    what = draw(card_edits)
    card = w.cards[cid]
    if what == "move":
        w.cards[cid] = replace(card, list_id=MAPPING.list_by_status[draw(any_status)])
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
    if what in ("due", "due+labels"):
        card = w.cards[cid] = replace(card, due=draw(dues))
    if what in ("labels", "due+labels"):
        # The person picks among the board's labels: those of options, and their own.
        board = sorted({*STRAY_LABELS, *(w.label_map or {}).values()})
        w.cards[cid] = replace(card, label_ids=draw(subsets(board)))


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """A synced world (every pair agreeing with its base), then random edits on both sides."""
    labelled = draw(subsets(OPTIONS[:3]))
    mapped = draw(st.integers(0, 4)) > 0  # one world in five maps no labels field
    w = World(label_map={o: f"lbl-{o.lower()}" for o in sorted(labelled)} if mapped else None)
    n = draw(st.integers(0, 8))
    _synced(draw, w, n)
    for lid in list(w.leads):
        _edit_lead(draw, w, lid)
    for cid in list(w.cards):
        _edit_card(draw, w, cid, n)
    # New leads, and stray cards that claim leads (seed-made cards, duplicates).
    labels_st = st.just(frozenset[str]()) if w.label_map is None else option_sets
    for j in range(draw(st.integers(0, 3))):
        lid = lead_id(100 + j)
        w.leads[lid] = Lead(lid, draw(names), draw(names), draw(status_st), "", due=draw(dues))
        w.leads[lid] = replace(w.leads[lid], labels=draw(labels_st))
    for _ in range(draw(st.integers(0, 3))):
        target = lead_id(draw(st.sampled_from([*range(n), 100, 101, 555])))
        cid = new_card_id()
        list_id = MAPPING.list_by_status[draw(any_status)]
        closed = draw(st.booleans())
        labels = _card_labels(draw, w, draw(option_sets) & frozenset(w.label_map or ()))
        w.cards[cid] = Card(
            cid, "Follow up: someone", f"Lead ID: {target}", list_id, closed, draw(dues), labels
        )
    return w


def conflicting_leads(w: World, field_name: str = "status") -> list[LeadId]:
    """The leads whose ``field_name`` changed on both sides to different values (what ``latest``
    settles by timestamps)."""
    return _conflicting(w.unsettled(ConflictPolicy.LATEST), field_name)


def _conflicting(unsettled: Plan, field_name: str) -> list[LeadId]:
    return [e.conflict.lead_id for e in unsettled.unsettled if e.conflict.field == field_name]


def winners_for(w: World) -> Winners:
    """A later side for every conflict ``latest`` must settle (by the lead's number, differently for
    the status and the due date, so both combinations occur)."""
    unsettled = w.unsettled(ConflictPolicy.LATEST)
    status = {
        lid: Side.TRELLO if int(lid[3:]) % 2 else Side.AIRTABLE for lid in _conflicting(unsettled, "status")
    }
    due = {lid: Side.AIRTABLE if int(lid[3:]) % 3 else Side.TRELLO for lid in _conflicting(unsettled, DUE)}
    return status, due


def base_before(w: World, p: Plan, lid: LeadId) -> MergeBase | None:
    """The base a pair was planned from: the store's, or the one an adoption in ``p`` starts with."""
    adopted = {op.base.lead_id: op.base for op in p.ops if isinstance(op, LinkCard)}
    return w.pairs.get(lid) or adopted.get(lid)


def live(w: World, base: MergeBase) -> tuple[Lead, Card] | None:
    """The lead and card of a pair that syncs (both there, the card open, the lead not deleted)."""
    lead, card = w.leads.get(base.lead_id), w.cards.get(base.card_id)
    if lead is None or card is None or card.closed:
        return None
    return lead, card


def unknown_is_none(value: str | None) -> str | None:
    """A base value as a conflict record shows it (an adopted pair's unknown value as None)."""
    return None if value == UNKNOWN_STATUS else value


def kept_by(policy: ConflictPolicy, latest: Mapping[LeadId, Side], lid: LeadId) -> Side | None:
    """The side a policy keeps in a conflict of ``lid`` (None: left to a person)."""
    return {
        ConflictPolicy.AIRTABLE: Side.AIRTABLE,
        ConflictPolicy.TRELLO: Side.TRELLO,
        ConflictPolicy.LATEST: latest.get(lid),
        ConflictPolicy.MANUAL: None,
    }[policy]
