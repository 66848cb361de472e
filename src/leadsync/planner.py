"""The pure reconciler: both sides' snapshots and the merge base in, a plan out. No I/O.

For every linked pair it compares each side with the base (a three-way merge), so it knows which
side changed: status flows both ways, name/email/source flow from Airtable to the card only when
they changed in Airtable since the base. Unlinked leads get a card, unless an existing card already
claims them by its ``Lead ID:`` line, in which case that card is adopted. See the README's
"Sync rules" for the same rules in plain words.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Set
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field, replace
from typing import Any

from leadsync.desc import card_title, merge_desc, parse_lead_id, render_block
from leadsync.models import Base, Card, CardId, Lead, LeadId, ListId, Mapping, Side
from leadsync.settings import ConflictPolicy

UNKNOWN_STATUS = "\u2400leadsync:unknown"  # no NUL: PostgreSQL text cannot hold one
"""Base status of a freshly adopted pair: equal to no real value, so any difference is a conflict."""

NO_CARD_STATUSES = frozenset({"LOST"})
"""Statuses whose new leads get no card."""

_SHOWN_KEYS = {"lead name": "name", "email": "email", "source": "source"}


@dataclass(frozen=True)
class Snapshot:
    """What was read from both sides. ``*_complete`` says the read covered the whole side, so that
    an absent object is known to be gone; an incomplete read only says what changed."""

    leads: MappingABC[LeadId, Lead]
    cards: MappingABC[CardId, Card]
    leads_complete: bool = True
    cards_complete: bool = True
    deleted_leads: frozenset[LeadId] = frozenset()  # known gone, even in an incomplete read
    deleted_cards: frozenset[CardId] = frozenset()

    def lead_gone(self, lead_id: LeadId) -> bool:
        return lead_id not in self.leads and (self.leads_complete or lead_id in self.deleted_leads)

    def card_gone(self, card_id: CardId) -> bool:
        return card_id not in self.cards and (self.cards_complete or card_id in self.deleted_cards)


# ---- operations ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateCard:
    lead_id: LeadId
    list_id: ListId
    name: str
    desc: str
    base: Base  # the base to store once the card exists (its card_id filled in then)


@dataclass(frozen=True)
class UpdateCard:
    lead_id: LeadId
    card_id: CardId
    changes: dict[str, Any] = field(hash=False)  # Trello fields: idList, name, desc, closed
    base_updates: dict[str, Any] = field(hash=False)  # applied to the base once the write is confirmed
    kinds: frozenset[str] = frozenset()  # moved / updated / archived
    reason: str = ""


@dataclass(frozen=True)
class WriteLeadStatus:
    lead_id: LeadId
    status: str
    base_updates: dict[str, Any] = field(hash=False)
    reason: str = ""


@dataclass(frozen=True)
class LinkCard:
    """Adopt an existing card that claims an unlinked lead."""

    base: Base
    reason: str


@dataclass(frozen=True)
class UpdateBase:
    """A store-only change of the base (no API write)."""

    lead_id: LeadId
    updates: dict[str, Any] = field(hash=False)
    reason: str = ""


@dataclass(frozen=True)
class RecordConflict:
    lead_id: LeadId
    card_id: CardId
    base_status: str | None
    airtable_status: str | None
    trello_status: str | None
    winner: Side | None  # None: left for a person (manual policy, or no timestamps to compare)
    policy: str


@dataclass(frozen=True)
class ResolveConflict:
    """An open conflict that resolved itself: both sides now agree."""

    lead_id: LeadId
    resolution: str


@dataclass(frozen=True)
class Report:
    """Something a person should know that changes nothing: skipped or duplicate objects."""

    kind: str  # skipped / duplicate
    reason: str
    lead_id: LeadId | None = None
    card_id: CardId | None = None


Op = CreateCard | UpdateCard | WriteLeadStatus | LinkCard | UpdateBase | RecordConflict | ResolveConflict


@dataclass(frozen=True)
class Plan:
    ops: tuple[Op, ...] = ()
    reports: tuple[Report, ...] = ()

    @property
    def writes(self) -> tuple[CreateCard | UpdateCard | WriteLeadStatus, ...]:
        return tuple(op for op in self.ops if isinstance(op, CreateCard | UpdateCard | WriteLeadStatus))

    def __bool__(self) -> bool:
        return bool(self.ops)


@dataclass(frozen=True)
class StatusConflict:
    lead_id: LeadId
    card_id: CardId
    base_status: str | None
    airtable_status: str | None
    trello_status: str | None


# ---- planning --------------------------------------------------------------------------------------


def status_conflicts(
    snapshot: Snapshot, pairs: MappingABC[LeadId, Base], mapping: Mapping
) -> list[StatusConflict]:
    """Pairs whose status changed on both sides to different values (what ``latest`` needs timestamps for).

    Computed by planning with the manual policy, so it can never disagree with :func:`plan`; only the
    pairs where both sides were read, each with a status other than the base's and the other side's,
    can conflict, so only those are planned (adopted ones included, without the fields a conflict
    does not need).
    """
    status_of = _status_by_list(mapping)

    def may_conflict(base: Base) -> bool:
        lead, card = snapshot.leads.get(base.lead_id), snapshot.cards.get(base.card_id)
        if lead is None or card is None:
            return False
        trello = status_of.get(card.list_id)
        return lead.status != base.status and trello != base.status and lead.status != trello

    manual = _plan(snapshot, pairs, mapping, ConflictPolicy.MANUAL, only=may_conflict)
    return [
        StatusConflict(op.lead_id, op.card_id, op.base_status, op.airtable_status, op.trello_status)
        for op in manual.ops
        if isinstance(op, RecordConflict)
    ]


def _status_by_list(mapping: Mapping) -> dict[str, str]:
    """List id -> status, as :meth:`Mapping.status_for` answers (the first status of a shared list)."""
    out: dict[str, str] = {}
    for status, list_id in mapping.list_by_status.items():
        out.setdefault(list_id, status)
    return out


def _unchanged_lead(snapshot: Snapshot, base: Base) -> Lead | None:
    """An incremental read leaves out unchanged leads: they still hold the base's values."""
    if snapshot.lead_gone(base.lead_id):
        return None
    status = None if base.status == UNKNOWN_STATUS else base.status
    return Lead(base.lead_id, base.name, base.email, status, base.source)


def plan(
    snapshot: Snapshot,
    pairs: MappingABC[LeadId, Base],
    mapping: Mapping,
    policy: ConflictPolicy,
    *,
    intents: Set[LeadId] = frozenset(),
    open_conflicts: Set[LeadId] = frozenset(),
    winners: MappingABC[LeadId, Side] | None = None,
) -> Plan:
    """Everything one cycle should do, as operations for the executor and reports for the person.

    ``winners`` holds, for the ``latest`` policy, the side whose status change is the later one, per
    conflicting lead (see :func:`status_conflicts`); a conflict without an entry is left open.
    """
    return _plan(
        snapshot, pairs, mapping, policy, intents=intents, open_conflicts=open_conflicts, winners=winners
    )


def _plan(
    snapshot: Snapshot,
    pairs: MappingABC[LeadId, Base],
    mapping: Mapping,
    policy: ConflictPolicy,
    *,
    intents: Set[LeadId] = frozenset(),
    open_conflicts: Set[LeadId] = frozenset(),
    winners: MappingABC[LeadId, Side] | None = None,
    only: Callable[[Base], bool] | None = None,
) -> Plan:
    """:func:`plan`; with ``only``, just the pairs (linked or adopted) it accepts, and no new leads."""
    ops: list[Op] = []
    reports: list[Report] = []
    winners = winners or {}
    status_of = _status_by_list(mapping)
    adoptions = _plan_adoptions(snapshot, pairs, reports, shown_fields=only is None)
    ops.extend(adoptions.values())
    bases = [*pairs.values(), *(link.base for link in adoptions.values())]
    for base in bases if only is None else filter(only, bases):
        _plan_pair(snapshot, base, mapping, status_of, policy, open_conflicts, winners, ops, reports)
    if only is not None:
        return Plan(tuple(ops), tuple(reports))

    for lead in snapshot.leads.values():
        if lead.id in pairs or lead.id in adoptions:
            continue
        _plan_new_lead(snapshot, lead, mapping, intents, ops, reports)

    return Plan(tuple(ops), tuple(reports))


def _plan_pair(
    snapshot: Snapshot,
    base: Base,
    mapping: Mapping,
    status_of: MappingABC[str, str],
    policy: ConflictPolicy,
    open_conflicts: Set[LeadId],
    winners: MappingABC[LeadId, Side],
    ops: list[Op],
    reports: list[Report],
) -> None:
    lead = snapshot.leads.get(base.lead_id)
    card = snapshot.cards.get(base.card_id)
    store: dict[str, Any] = {}

    # Presence: deleted leads archive their card; deleted or archived cards leave the lead alone.
    if snapshot.lead_gone(base.lead_id) and not base.lead_deleted:
        if card is not None and not card.closed and not base.card_deleted:
            ops.append(
                UpdateCard(
                    base.lead_id,
                    base.card_id,
                    {"closed": True},
                    {"lead_deleted": True, "card_closed": True},
                    frozenset({"archived"}),
                    "lead deleted in Airtable",
                )
            )
        else:
            gone: dict[str, Any] = {"lead_deleted": True}
            if snapshot.card_gone(base.card_id):
                gone["card_deleted"] = True
            elif card is not None and card.closed:
                gone["card_closed"] = True
            ops.append(UpdateBase(base.lead_id, gone, "lead deleted in Airtable"))
        return
    if lead is not None and base.lead_deleted:
        store["lead_deleted"] = False  # restored in Airtable; the card stays archived until un-archived
    if card is None:
        if snapshot.card_gone(base.card_id) and not base.card_deleted:
            ops.append(
                UpdateBase(base.lead_id, {"card_deleted": True}, "card deleted in Trello; lead left alone")
            )
        return
    if base.card_deleted:
        store["card_deleted"] = False  # the card is back (a deleted card never is; kept for symmetry)
    if card.closed:
        if not base.card_closed:
            store["card_closed"] = True
            reports.append(
                Report("skipped", "card archived in Trello: lead left alone", base.lead_id, card.id)
            )
        if store:
            ops.append(UpdateBase(base.lead_id, store, "card archived in Trello"))
        return
    if base.card_closed:
        store["card_closed"] = False  # un-archived: resume syncing from the base
    effective = replace(base, **store) if store else base
    if effective.lead_deleted:
        if store:
            ops.append(UpdateBase(base.lead_id, store, "card un-archived, lead still deleted"))
        return
    if lead is None:
        lead = _unchanged_lead(snapshot, effective)
    if lead is None:  # unreachable: a complete read without the lead returned above
        return

    card_changes: dict[str, Any] = {}
    card_base: dict[str, Any] = {}
    kinds: set[str] = set()
    lead_write: WriteLeadStatus | None = None

    # Status: both ways, three-way.
    a, t = lead.status, status_of.get(card.list_id)
    b = effective.status
    if a is None:
        if b is not None:
            reports.append(Report("skipped", "lead has no Status: card left where it is", lead.id, card.id))
    elif mapping.list_for(a) is None:
        reports.append(Report("skipped", f"Status {a!r} maps to no list", lead.id, card.id))
    elif t is None:
        reports.append(Report("skipped", "card is in a list that maps to no status", lead.id, card.id))
    else:
        a_changed, t_changed = a != b, t != b
        if lead.id in open_conflicts and a == t:
            ops.append(ResolveConflict(lead.id, "both sides agree"))
        if a_changed and t_changed:
            if a == t:
                store["status"] = a  # a false conflict: both made the same change
            else:
                winner = _conflict_winner(policy, winners.get(lead.id))
                if winner is None and lead.id in open_conflicts:
                    return  # already recorded and waiting for a person; nothing else syncs for this pair
                ops.append(
                    RecordConflict(
                        lead.id, card.id, None if b == UNKNOWN_STATUS else b, a, t, winner, policy.value
                    )
                )
                if winner is Side.AIRTABLE:
                    t_changed = False
                elif winner is Side.TRELLO:
                    a_changed = False
        if a_changed and not t_changed:
            target = mapping.list_for(a)
            assert target is not None
            card_changes["idList"] = target
            card_base["status"] = a
            kinds.add("moved")
        elif t_changed and not a_changed:
            lead_write = WriteLeadStatus(lead.id, t, {"status": t}, "card moved in Trello")

    # Name, email, source: Airtable -> card, only when they changed in Airtable since the base.
    if (lead.name, lead.email, lead.source) != (effective.name, effective.email, effective.source):
        fields = {"name": lead.name, "email": lead.email, "source": lead.source}
        merged = merge_desc(card.desc, lead)
        if merged is None:
            reports.append(
                Report(
                    "skipped",
                    "card description is full (16384 characters): block not updated",
                    lead.id,
                    card.id,
                )
            )
        else:
            text_changes: dict[str, Any] = {}
            if lead.name != effective.name and card.name != card_title(lead.name):
                text_changes["name"] = card_title(lead.name)
            if merged != card.desc:
                text_changes["desc"] = merged
            if text_changes:
                card_changes.update(text_changes)
                card_base.update(fields)
                kinds.add("updated")
            else:
                store.update(fields)

    if card_changes:
        ops.append(
            UpdateCard(
                lead.id, card.id, card_changes, card_base, frozenset(kinds), "lead changed in Airtable"
            )
        )
    if lead_write is not None:
        ops.append(lead_write)
    if store:
        ops.append(UpdateBase(lead.id, store, "sides agree"))


def _conflict_winner(policy: ConflictPolicy, latest: Side | None) -> Side | None:
    if policy is ConflictPolicy.AIRTABLE:
        return Side.AIRTABLE
    if policy is ConflictPolicy.TRELLO:
        return Side.TRELLO
    if policy is ConflictPolicy.LATEST:
        return latest
    return None


def _plan_adoptions(
    snapshot: Snapshot, pairs: MappingABC[LeadId, Base], reports: list[Report], *, shown_fields: bool = True
) -> dict[LeadId, LinkCard]:
    """Unlinked cards that carry ``Lead ID:`` are adopted (the oldest per lead), never duplicated.
    ``shown_fields=False`` leaves the bases' name, email and source empty (for status questions only)."""
    card_to_lead = {b.card_id: lead_id for lead_id, b in pairs.items()}
    claims: dict[LeadId, list[Card]] = defaultdict(list)
    for card in snapshot.cards.values():
        claimed = parse_lead_id(card.desc)
        if claimed is None:
            continue
        linked_lead = card_to_lead.get(card.id)
        if linked_lead is not None:
            if claimed != linked_lead:
                reports.append(
                    Report(
                        "skipped",
                        f"description names lead {claimed}, but the card stays linked to {linked_lead}",
                        claimed,
                        card.id,
                    )
                )
            continue
        claims[claimed].append(card)

    adoptions: dict[LeadId, LinkCard] = {}
    for lead_id, cards in claims.items():
        if len(cards) > 1:
            # By creation time, the id's first 8 hex digits (as Card.created_at), then by id.
            cards.sort(key=lambda c: (int(c.id[:8], 16), c.id))
        if lead_id in pairs:
            owner = pairs[lead_id].card_id
            for card in cards:
                reports.append(
                    Report("duplicate", f"claims a lead already linked to card {owner}", lead_id, card.id)
                )
            continue
        lead = snapshot.leads.get(lead_id)
        if lead is None:
            if snapshot.leads_complete:
                for card in cards:
                    reports.append(Report("skipped", "claims a lead that does not exist", lead_id, card.id))
            continue
        keep, *extra = cards
        for card in extra:
            reports.append(
                Report(
                    "duplicate", f"a second card for the lead; card {keep.id} stays linked", lead_id, card.id
                )
            )
        # Name/email/source as the card shows them (so a matching card needs no write); status unknown,
        # so a differing status is a conflict settled by the policy (conservative bootstrap, I11).
        shown = _shown_fields(keep) if shown_fields else {}
        adoptions[lead_id] = LinkCard(
            Base(
                lead_id,
                keep.id,
                UNKNOWN_STATUS,
                shown.get("name", ""),
                shown.get("email", ""),
                shown.get("source", ""),
                card_closed=keep.closed,
            ),
            "adopted an existing card that carries the lead's id",
        )
    return adoptions


def _shown_fields(card: Card) -> dict[str, str]:
    """Name/email/source as the card's managed block shows them, when the block and title agree."""
    shown: dict[str, str] = {}
    for line in card.desc.splitlines():
        key, sep, value = line.partition(":")
        if sep and (name := _SHOWN_KEYS.get(key.strip().lower())) is not None and name not in shown:
            shown[name] = value.strip()
    if "name" in shown and card.name != card_title(shown["name"]):
        del shown["name"]
    return shown


def _plan_new_lead(
    snapshot: Snapshot,
    lead: Lead,
    mapping: Mapping,
    intents: Set[LeadId],
    ops: list[Op],
    reports: list[Report],
) -> None:
    if lead.status is None:
        reports.append(Report("skipped", "lead has no Status yet: no card until it has one", lead.id))
        return
    list_id = mapping.list_for(lead.status)
    if list_id is None:
        reports.append(Report("skipped", f"Status {lead.status!r} maps to no list", lead.id))
        return
    if lead.status in NO_CARD_STATUSES:
        return
    if lead.id in intents and not snapshot.cards_complete:
        reports.append(Report("skipped", "an interrupted create is checked on the next full read", lead.id))
        return
    ops.append(
        CreateCard(
            lead.id,
            list_id,
            card_title(lead.name),
            render_block(lead),
            Base(lead.id, CardId(""), lead.status, lead.name, lead.email, lead.source),
        )
    )
