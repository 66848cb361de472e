"""The world of the model-based test: a seeded sandbox, a person editing both trackers, leadsync processes
that crash and restart on one state store, and a model of what the person did, against which the store
is checked after every step and both trackers at the end (the invariants I1-I11 of
``sync-correctness.md``).

The model records the person's edits only, each with a logical clock, never what leadsync should do: the
end state is judged by rules that hold whatever the timing (the last edit of a field wins, unless a
conflict was recorded after it and the policy chose the other side). Two things the person does can be
undone by leadsync legitimately, and the model is told when they are:

- an edit made *during* a cycle to an object that cycle then writes from its earlier read ("raced"):
  neither API offers a conditional write, so that edit is overwritten; it is detected exactly (the value
  the person wrote is gone when the cycle ends) and dropped from the model, and counted;
- a card title the person set, once the lead's name changes (names flow Airtable -> Trello).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from leadsync import webhook_events
from leadsync.core import (
    UNKNOWN_STATUS,
    Card,
    CardId,
    ConflictPolicy,
    Lead,
    LeadId,
    ListId,
    card_title,
    merge_desc,
    parse_lead_id,
    render_block,
)
from leadsync.engine import CycleResult, Engine
from leadsync.errors import ReadFailed
from leadsync.sandbox import BackgroundServer, FaultRule
from leadsync.sandbox.person import Person
from leadsync.settings import Settings
from leadsync.store import Store
from tests.reliability.engines import (
    TLS,
    Crash,
    engine_settings,
    leadsync_writes,
    new_engine,
    sandbox,
    writes,
)
from tests.reliability.fields import (
    DUE_DATES,
    DUE_FIELD,
    OWN_LABEL,
    TAGS,
    TAGS_FIELD,
    Edit,
    LabelEdits,
    card_due,
    last_word_kept,
    prepare,
    presence_changes,
)

STATUSES = ("NEW", "CONTACTED", "QUALIFIED", "LOST")
UNMAPPED_STATUS = "NURTURE"  # a Status the person adds in Airtable that maps to no list
UNMAPPED_LIST = "Backlog"  # a list the person adds to the board that maps to no status
MACHINE_TIMEOUT = 0.3  # seconds per request for leadsync while faults are injected (a hang outlasts it)
HANG_SECONDS = 0.4
QUIESCENCE_ROUNDS = 8  # cycles allowed to reach the fixpoint once the world is quiet (I2)

STATS: Counter[str] = Counter()
"""Figures across every sequence of a run (read by ``bench.reliability``)."""


# ---- the model -------------------------------------------------------------------------------------------


@dataclass
class LeadModel:
    id: LeadId
    status: list[Edit] = field(default_factory=list)  # the person's Status values, creation first
    renamed: list[int] = field(default_factory=list)  # clocks of the person's changes of Name
    deleted_at: int | None = None
    due: list[Edit] = field(default_factory=list)  # the person's Follow-up dates
    labels: LabelEdits = field(default_factory=dict)  # per tag: the person's adding (True) or removing it


@dataclass
class CardModel:
    id: CardId
    by_person: bool
    claim: LeadId | None  # the lead its description named when first seen
    moves: list[Edit] = field(default_factory=list)  # the status of the list the person put it in
    titles: list[Edit] = field(default_factory=list)  # (title, whether the lead's name was synced then)
    outside: list[Edit] = field(default_factory=list)  # the person's text outside the managed block
    closed: list[Edit] = field(default_factory=list)
    deleted_at: int | None = None
    deleted_linked_in: int | None = None  # the store generation that linked it when it was deleted
    due: list[Edit] = field(default_factory=list)  # the due dates the person set (as dates)
    labels: LabelEdits = field(default_factory=dict)  # per tag (or the person's own label), as on leads


@dataclass
class Pending:
    """An edit made during a cycle, checked when the cycle ends: still there, or overwritten (raced)."""

    key: tuple[str, str]
    expected: Any
    entries: list[Edit]
    entry: Edit


def outside_lines(desc: str) -> list[str]:
    """The lines of a description outside its managed block (the person's text)."""
    lines = desc.splitlines()
    prefixes = ("lead name:", "email:", "source:", "lead id:")
    for i, line in enumerate(lines):
        if parse_lead_id(line) is not None:
            start, end = i, i + 1
            while start > 0 and lines[start - 1].strip().lower().startswith(prefixes):
                start -= 1
            while (
                end < len(lines)
                and lines[end].strip().lower().startswith(prefixes)
                and parse_lead_id(lines[end]) is None
            ):
                end += 1
            return lines[:start] + lines[end:]
    return lines


def block_values(desc: str) -> dict[str, str]:
    """Name, email and source as a description's managed block shows them (a line left out shows "")."""
    shown = {"lead name": "", "email": "", "source": ""}
    for line in desc.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in shown:
            shown[key.strip().lower()] = value.strip()
    return shown


# ---- the person --------------------------------------------------------------------------------------------


class Hand:
    """The person, through the sandbox's APIs with the person's credentials. Faults injected for leadsync
    can hit the person's requests too: the person then tries again, as anyone would in a browser."""

    def __init__(self, settings: dict[str, str]) -> None:
        self.p = Person(settings, client=httpx.Client(timeout=5.0, verify=TLS))

    def close(self) -> None:
        self.p.close()

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        failed = False
        for _ in range(12):
            try:
                return fn(*args, **kwargs)
            except (RuntimeError, httpx.HTTPError) as exc:
                if failed and ": 404 " in str(exc):
                    return None  # applied by an attempt whose response was lost (a delete)
                failed = True
                STATS["person retried"] += 1
        raise AssertionError("the person's request kept failing")


# ---- the world ---------------------------------------------------------------------------------------------


class World:
    """One sequence: sandbox, person, store, the current leadsync process, and the model."""

    def __init__(self, seed: int, policy: ConflictPolicy, *, timeout: float = MACHINE_TIMEOUT) -> None:
        self.seed = seed
        self.policy = policy
        self.timeout = timeout  # per request, for leadsync while the world is not quiet
        self.server: BackgroundServer
        self.server, self.state = sandbox(seed)
        self.dir = Path(tempfile.mkdtemp(prefix="leadsync-machine-"))
        self.generation = 0
        self.hand = Hand(self.state.settings())
        self.config = self.dir / "leadsync.toml"
        prepare(self.hand.p.client, self.state, self.config, policy)
        self.settings = self._settings()
        self.clock = 0
        self.leads: dict[LeadId, LeadModel] = {}
        self.cards: dict[CardId, CardModel] = {}
        self.bases: dict[LeadId, list[Edit]] = {}  # base statuses seen, and when
        self.base_dues: dict[LeadId, list[Edit]] = {}  # base due dates seen, and when
        self.base_labels: dict[tuple[LeadId, str], list[Edit]] = {}  # per tag: in the base or not
        self.conflicts: dict[LeadId, list[Edit]] = {}  # conflicts seen (value: the record), and when
        self._conflicts_seen: set[tuple[int, int]] = set()
        self.store_lost_at: list[int] = []
        self.linked_cards: set[CardId] = set()
        self.linked_at: dict[CardId, int] = {}  # when a card was first seen linked
        # The start of the cycle that linked a card, per store generation (the labels of an adopted pair
        # are the union of both sides': the person's label edits before it are not judged one by one).
        self.link_cycle: dict[tuple[int, CardId], int] = {}
        self.stale_blocks: set[CardId] = set()  # cards whose block the person overwrote with an older one
        self.trace: list[tuple[str, int, int, int, int, int, int]] = []  # what each cycle did
        self._lock = threading.RLock()
        self._pending: list[Pending] = []
        self.lists = dict(self.state.trello.list_ids)
        s = self.state.settings()
        person_trello = {"key": s["PERSON_TRELLO_API_KEY"], "token": s["PERSON_TRELLO_TOKEN"]}
        made = self.hand.p.client.post(
            f"{self.server.url}/1/lists",
            params={**person_trello, "name": UNMAPPED_LIST, "idBoard": self.state.trello.board_id},
            timeout=10,
        )
        made.raise_for_status()
        self.lists[UNMAPPED_LIST] = str(made.json()["id"])
        self.status_of_list = {lid: name for name, lid in self.lists.items() if name in STATUSES}
        hook = self.hand.p.client.post(
            f"{self.server.url}/v0/bases/{self.state.airtable.base_id}/webhooks",
            headers={"Authorization": f"Bearer {s['AIRTABLE_API_KEY']}"},
            json={"specification": {"options": {"filters": {"dataTypes": ["tableData"]}}}},
            timeout=10,
        )
        hook.raise_for_status()
        self.airtable_hook = str(hook.json()["id"])
        self.events_seen = {"trello": 0, "airtable": 0}
        self.engine: Engine = new_engine(self.settings, timeout)
        self.observer = Store.open(self.settings.LEADSYNC_DATABASE_URL)

    def _settings(self, **overrides: Any) -> Settings:
        return engine_settings(
            self.state,
            self.dir / f"state-{self.generation}.db",
            LEADSYNC_CONFLICT_POLICY=self.policy.value,
            LEADSYNC_MAX_RETRY_SECONDS=5,
            LEADSYNC_CONFIG=str(self.config),
            **overrides,
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.engine.close()
        with contextlib.suppress(Exception):
            self.observer.close()
        self.hand.close()
        self.server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def tick(self) -> int:
        with self._lock:
            self.clock += 1
            return self.clock

    # ---- what is there now (read from the sandbox's state, between requests) -------------------------
    def actual_leads(self) -> dict[LeadId, Lead]:
        table = self.state.airtable.table(self.state.airtable.table_name)
        fid = {f.name: f.id for f in table.fields.values()}
        out: dict[LeadId, Lead] = {}
        for rid, row in list(table.records.items()):
            cells = dict(row.cells)
            status = cells.get(fid["Status"])
            out[LeadId(rid)] = Lead(
                LeadId(rid),
                str(cells.get(fid["Name"]) or ""),
                str(cells.get(fid["Email"]) or ""),
                str(status) if status else None,
                str(cells.get(fid["Source"]) or ""),
                due=card_due(cells.get(fid[DUE_FIELD])),
                labels=frozenset(cells.get(fid[TAGS_FIELD]) or ()),
            )
        return out

    def actual_cards(self) -> dict[CardId, Card]:
        return {
            CardId(c.id): Card(
                CardId(c.id),
                c.name,
                c.desc,
                ListId(c.id_list),
                c.closed,
                card_due(c.due),
                frozenset(c.id_labels),
            )
            for c in list(self.state.trello.cards.values())
        }

    def board_labels(self) -> dict[str, str]:
        """Label id -> name, for the board's labels."""
        board = self.state.trello.board_id
        return {label.id: label.name for label in list(self.state.trello.labels_of(board))}

    def card_labels(self, card: Card) -> frozenset[str]:
        """The names of a card's labels (tags, and the person's own)."""
        names = self.board_labels()
        return frozenset(names[lid] for lid in card.label_ids if lid in names)

    def card_model(self, card: Card) -> CardModel:
        """The model of a card, made when it is first seen (leadsync's cards appear during cycles)."""
        with self._lock:
            model = self.cards.get(card.id)
            if model is None:
                model = self.cards[card.id] = CardModel(card.id, False, parse_lead_id(card.desc))
            return model

    # ---- the person's edits -----------------------------------------------------------------------------
    def add_lead(self, name: str, email: str, status: str | None, source: str) -> None:
        lead_id = LeadId(self.hand.p.add_lead(name, email, status, source))
        self.leads[lead_id] = LeadModel(lead_id, [Edit(self.tick(), status)])
        STATS["person edits"] += 1

    def add_card(self, status: str, title: str, claim: int | None) -> None:
        live = self.live_leads()
        claimed = live[claim % len(live)] if claim is not None and live else None
        desc = f"Lead ID: {claimed}" if claimed else "A card of the person's own"
        raw = self.hand.p.add_card(status, title, desc)
        clock = self.tick()
        card = CardModel(CardId(raw["id"]), True, claimed)
        card.moves.append(Edit(clock, self.status_of_list.get(self.lists[status])))
        card.titles.append(Edit(clock, (title, False)))
        card.outside.append(Edit(clock, outside_lines(desc)))
        self.cards[card.id] = card
        STATS["person edits"] += 1

    def live_leads(self) -> list[LeadId]:
        """The leads there now, oldest first (not by id: the sandbox draws ids from one random stream,
        so concurrent requests can hand the same seed's ids out in another order)."""
        there = self.actual_leads()
        return [lead_id for lead_id in self.leads if lead_id in there]

    def live_cards(self) -> list[Card]:
        """The cards there now, in an order that does not depend on the clock or on the order in which
        concurrent creates got their ids: by the lead they name, then by title."""
        order = {lead_id: i for i, lead_id in enumerate(self.leads)}
        cards = list(self.actual_cards().values())
        return sorted(
            cards, key=lambda c: (order.get(self.card_model(c).claim or LeadId(""), -1), c.name, c.id)
        )

    def edit(self, kind: str, index: int, value: Any, *, during: bool = False) -> None:
        """One edit of a lead (``lead_*``) or a card (``card_*``), picked by ``index`` among those there."""
        with self._lock:
            if kind.startswith("lead_"):
                leads = self.live_leads()
                if leads:
                    self._edit_lead(kind, leads[index % len(leads)], value, during)
            else:
                cards = self.live_cards()
                if cards:
                    self._edit_card(kind, cards[index % len(cards)], value, during)

    def both_sides(self, what: str, index: int, pick: int) -> None:
        """``what`` (status, due or labels) of a linked pair (picked by ``index``) set to two different
        values on its two sides, neither the one its base holds (picked by ``pick``)."""
        with self._lock:
            leads, cards = self.actual_leads(), self.actual_cards()
            pairs = [
                (lead_id, cards[b.card_id], b)
                for lead_id, b in sorted(self.observer.pairs().items(), key=lambda p: self._order(p[0]))
                if lead_id in leads and b.card_id in cards
            ]
            if not pairs:
                return
            lead_id, card, base = pairs[index % len(pairs)]
            if what == "labels":
                subsets = [frozenset(t for i, t in enumerate(TAGS) if n >> i & 1) for n in range(8)]
                self._edit_lead("lead_labels", lead_id, subsets[pick % 8], False)
                self._edit_card("card_labels", card, subsets[(pick // 8) % 8], False)
                return
            values: list[Any] = list(DUE_DATES if what == "due" else STATUSES)
            agreed = base.due if what == "due" else base.status
            values = [v for v in values if v != agreed]
            a, t = values[pick % len(values)], values[(pick + 1) % len(values)]
            self._edit_lead(f"lead_{what}", lead_id, a, False)
            self._edit_card("card_due" if what == "due" else "card_move", card, t, False)

    def _order(self, lead_id: LeadId) -> int:
        """A lead's place in the order of creation (not its id: see :meth:`live_leads`)."""
        return list(self.leads).index(lead_id) if lead_id in self.leads else -1

    def _record(self, key: tuple[str, str], entries: list[Edit], value: Any, during: bool) -> None:
        entry = Edit(self.tick(), value)
        entries.append(entry)
        STATS["person edits"] += 1
        if key[0].startswith(("lead_due", "card_due", "lead_label", "card_label")):
            STATS[f"person edits of {key[0].split(':')[0].replace('_', ' ')}s"] += 1
        if during:
            STATS["edits during a cycle"] += 1
            self._pending.append(Pending(key, value, entries, entry))

    def _edit_lead(self, kind: str, lead_id: LeadId, value: Any, during: bool) -> None:
        model = self.leads[lead_id]
        p = self.hand.p
        if kind == "lead_delete":
            self.hand.call(p.delete_lead, lead_id)
            model.deleted_at = self.tick()
            STATS["person edits"] += 1
        elif kind == "lead_status":
            self.hand.call(p.edit_lead, lead_id, Status=value)
            self._record(("lead_status", lead_id), model.status, value, during)
        elif kind == "lead_due":
            self.hand.call(p.edit_lead, lead_id, **{DUE_FIELD: value})
            self._record(("lead_due", lead_id), model.due, value, during)
        elif kind == "lead_labels":
            tags_before = self.actual_leads()[lead_id].labels
            self.hand.call(p.edit_lead, lead_id, **{TAGS_FIELD: sorted(value)})
            for tag, present in presence_changes(tags_before, value, TAGS).items():
                self._record(
                    (f"lead_label:{tag}", lead_id), model.labels.setdefault(tag, []), present, during
                )
        else:
            field_name = {"lead_name": "Name", "lead_email": "Email", "lead_source": "Source"}[kind]
            before = self.actual_leads()[lead_id].name
            self.hand.call(p.edit_lead, lead_id, **{field_name: value})
            if kind == "lead_name" and value != before:
                model.renamed.append(self.tick())
            STATS["person edits"] += 1

    def _edit_card(self, kind: str, card: Card, value: Any, during: bool) -> None:
        model = self.card_model(card)
        p = self.hand.p
        if kind == "card_delete":
            linked = self.observer.pair_by_card(card.id) is not None
            self.hand.call(p.delete_card, card.id)
            model.deleted_at = self.tick()
            model.deleted_linked_in = self.generation if linked else None
            STATS["person edits"] += 1
        elif kind == "card_move":
            self.hand.call(p.update_card, card.id, idList=self.lists[value])
            status = self.status_of_list.get(self.lists[value])
            self._record(("card_move", card.id), model.moves, status, during)
        elif kind == "card_title":
            lead = self.actual_leads().get(model.claim) if model.claim else None
            base = self.observer.get_pair(model.claim) if model.claim else None
            synced = bool(lead and base and base.card_id == card.id and base.name == lead.name)
            self.hand.call(p.update_card, card.id, name=value)
            self._record(("card_title", card.id), model.titles, (value, synced and not during), during)
        elif kind == "card_note":
            desc = f"{value}\n{card.desc}" if card.desc else value
            self.hand.call(p.update_card, card.id, desc=desc)
            self._record(("card_note", card.id), model.outside, outside_lines(desc), during)
            if during and self._replaced_another_write(card):
                # The person wrote the whole description back from what they read before leadsync's
                # write of it landed: theirs is the last word, and leadsync's block is gone until the
                # lead changes again (as when two people edit one description in Trello).
                STATS["person overwrote a leadsync write"] += 1
                self.stale_blocks.add(card.id)
        elif kind == "card_archive":
            self.hand.call(p.update_card, card.id, closed=bool(value))
            self._record(("card_archive", card.id), model.closed, bool(value), during)
        elif kind == "card_due":
            # Set in Trello's UI: a time of that day (the Follow-up field holds the date).
            self.hand.call(p.update_card, card.id, due=None if value is None else f"{value}T09:30:00.000Z")
            self._record(("card_due", card.id), model.due, value, during)
        elif kind == "card_labels":
            self._set_card_labels(card, model, value, during)
        else:
            raise AssertionError(f"unknown edit {kind}")

    def _set_card_labels(self, card: Card, model: CardModel, names: frozenset[str], during: bool) -> None:
        """The person picks the card's labels among the board's (a tag without a label yet can't be)."""
        by_name: dict[str, str] = {}
        for label_id, name in self.board_labels().items():
            by_name.setdefault(name, label_id)  # the oldest of a name, should leadsync ever make two
        before = self.card_labels(card)
        wanted = [by_name[n] for n in sorted(names) if n in by_name]
        others = [lid for lid in card.label_ids if self.board_labels().get(lid) not in (*TAGS, OWN_LABEL)]
        self.hand.call(self.hand.p.update_card, card.id, idLabels=",".join(others + wanted))
        after = {n for n in names if n in by_name}
        for name, present in presence_changes(before, after, (*TAGS, OWN_LABEL)).items():
            self._record((f"card_label:{name}", card.id), model.labels.setdefault(name, []), present, during)

    def _replaced_another_write(self, card: Card) -> bool:
        """Whether the person's description write just replaced one they had not read."""
        person = self.state.person.trello_member_id
        for action in reversed(list(self.state.trello.actions)):
            data = action.get("data", {})
            if data.get("card", {}).get("id") == card.id and "desc" in data.get("old", {}):
                return bool(action.get("idMemberCreator") == person and data["old"]["desc"] != card.desc)
        return False

    def settle_pending(self) -> None:
        """After a cycle: an edit made during it that the cycle then overwrote is dropped from the model."""
        leads, cards = self.actual_leads(), self.actual_cards()
        last: dict[tuple[str, str], Pending] = {}
        for pending in self._pending:
            last[pending.key] = pending
        for key, pending in last.items():
            kind, obj = key
            now: Any
            if kind.startswith("lead_"):
                lead = leads.get(LeadId(obj))
                now = pending.expected if lead is None else self._lead_value(kind, lead)
            else:
                card = cards.get(CardId(obj))
                if card is None:
                    continue
                now = self._card_value(kind, card, pending.expected)
            if now != pending.expected:
                STATS["raced (edit overwritten by the cycle it was made during)"] += 1
                for p in self._pending:
                    if p.key == key and p.entry in p.entries:
                        p.entries.remove(p.entry)
        self._pending.clear()

    @staticmethod
    def _lead_value(kind: str, lead: Lead) -> Any:
        if kind == "lead_status":
            return lead.status
        if kind == "lead_due":
            return lead.due
        return kind.removeprefix("lead_label:") in lead.labels

    def _card_value(self, kind: str, card: Card, expected: Any) -> Any:
        if kind == "card_due":
            return card.due
        if kind.startswith("card_label:"):
            return kind.removeprefix("card_label:") in self.card_labels(card)
        if kind == "card_move":
            return self.status_of_list.get(card.list_id)
        if kind == "card_title":
            return (card.name, expected[1])
        if kind == "card_note":
            return outside_lines(card.desc)
        return card.closed

    # ---- leadsync ---------------------------------------------------------------------------------------
    def arm(self, faults: list[tuple[str, str, str, int]]) -> list[FaultRule]:
        rules = []
        for method, prefix, action, count in faults:
            if action.isdigit():
                headers = {"Retry-After": "0"} if action == "429" else {}
                rule = FaultRule(method, prefix, "status", count, int(action), headers=headers)
            else:
                rule = FaultRule(method, prefix, action, count, hang_seconds=HANG_SECONDS)
            rules.append(rule)
        self.state.faults.extend(rules)
        STATS["faults injected"] += sum(count for *_, count in faults)
        return rules

    def disarm(self, rules: list[FaultRule], armed: list[int]) -> None:
        STATS["faults that hit a request"] += sum(a - r.count for a, r in zip(armed, rules, strict=True))
        self.state.faults.clear()

    def restart(self, *, timeout: float | None = None) -> None:
        """The process is gone (its objects dropped); a new one starts on the same store."""
        with contextlib.suppress(Exception):
            self.engine.close()
        self.engine = new_engine(self.settings, timeout or self.timeout)

    def lose_store(self) -> None:
        """The state store is deleted: a new, empty one takes its place (I11)."""
        self.engine.close()
        self.observer.close()
        self.store_lost_at.append(self.tick())
        self.generation += 1
        self.settings = self._settings()
        self.engine = new_engine(self.settings, self.timeout)
        self.observer = Store.open(self.settings.LEADSYNC_DATABASE_URL)
        STATS["stores lost"] += 1

    def progress(
        self, crash_at: int | None, during: list[tuple[int, str, int, Any]]
    ) -> Callable[[int], Callable[[int], None]]:
        todo = sorted(during, key=lambda d: d[0])

        def factory(_total: int) -> Callable[[int], None]:
            done = [0]

            def advance(n: int) -> None:
                with self._lock:
                    done[0] += n
                    while todo and todo[0][0] <= done[0]:
                        _, kind, index, value = todo.pop(0)
                        self.edit(kind, index, value, during=True)
                    if crash_at is not None and done[0] >= crash_at:
                        raise Crash(f"killed after {done[0]} writes")

            return advance

        return factory

    def cycle(
        self,
        kind: str,
        crash_at: int | None,
        during: list[tuple[int, str, int, Any]],
        faults: list[tuple[str, str, str, int]],
        order: Any,
        batches: int,
    ) -> None:
        """One cycle (``incremental``/``full``), or targeted cycles for webhook deliveries (``webhooks``),
        with faults armed, edits made and a crash at the drawn write."""
        rules = self.arm(faults)
        armed = [r.count for r in rules]
        start = self.tick()
        progress = self.progress(crash_at, during)
        try:
            if kind == "webhooks":
                for i, targets in enumerate(self.deliveries(order, batches)):
                    STATS["targeted cycles"] += 1
                    self._run(progress if i == 0 else None, targets=targets)
            else:
                STATS[f"{kind} cycles"] += 1
                self._run(progress, full=kind == "full")
        except Crash:
            STATS["crashes"] += 1
            self.restart()
        finally:
            self.disarm(rules, armed)
            self.settle_pending()
        self.observe(start)

    def _run(self, progress: Any, **kwargs: Any) -> CycleResult | None:
        try:
            result = self.engine.run_cycle(lock_wait=5.0, progress=progress, **kwargs)
        except ReadFailed:
            STATS["cycles stopped by a failed read"] += 1
            return None
        if result.outcome.errors:
            STATS["cycles with record errors"] += 1
        o = result.outcome
        self.trace.append((result.mode, o.created, o.moved, o.updated, o.archived, o.conflicts, o.errors))
        return result

    def deliveries(self, order: Any, batches: int) -> list[tuple[set[LeadId], set[CardId]]]:
        """What both APIs' webhooks delivered since the last time, duplicated and shuffled, in batches:
        Trello's deliveries are its board actions, Airtable's pings lead to its webhook payloads."""
        actions = self.state.trello.actions[self.events_seen["trello"] :]
        self.events_seen["trello"] += len(actions)
        hook = self.state.airtable.webhooks[self.airtable_hook]
        payloads = [p for cursor, _, p in hook.payloads if cursor > self.events_seen["airtable"]]
        if hook.payloads:
            self.events_seen["airtable"] = hook.payloads[-1][0]
        member = self.state.leadsync.trello_member_id
        table = self.state.airtable.table_id
        events = [webhook_events.trello_targets({"action": a, "model": {}}, member) for a in actions]
        events += [webhook_events.airtable_targets([p], table, None) for p in payloads]
        events = [e for e in events if e]
        events += [e for e in events if order.random() < 0.5]  # at-least-once: some come twice
        order.shuffle(events)
        STATS["webhook events delivered"] += len(events)
        out = []
        size = max(1, -(-len(events) // max(1, batches)))
        for i in range(0, len(events), size):
            chunk = events[i : i + size]
            out.append(({x for e in chunk for x in e.leads}, {x for e in chunk for x in e.cards}))
        return out

    # ---- the store's invariants, after every step (I10, I5, I7) -------------------------------------------
    def observe(self, cycle_start: int | None = None) -> None:
        """Read the store, remember what the end-state rules need, and check the store's invariants."""
        at = cycle_start if cycle_start is not None else self.clock
        store = self.observer
        pairs = store.pairs()
        leads, cards = self.actual_leads(), self.actual_cards()
        for card in cards.values():
            self.card_model(card)
        self.linked_cards.update(b.card_id for b in pairs.values())
        for base in pairs.values():
            self.linked_at.setdefault(base.card_id, self.clock)
            self.link_cycle.setdefault((self.generation, base.card_id), at)
        for lead_id, base in pairs.items():
            seen = self.bases.setdefault(lead_id, [])
            if not seen or seen[-1].value != base.status:
                seen.append(Edit(self.clock, base.status))
            dues = self.base_dues.setdefault(lead_id, [])
            if not dues or dues[-1].value != base.due:
                dues.append(Edit(self.clock, base.due))
            for tag in TAGS:
                tags = self.base_labels.setdefault((lead_id, tag), [])
                if not tags or tags[-1].value != (tag in base.labels):
                    tags.append(Edit(self.clock, tag in base.labels))
        for c in store.conflicts(10_000):
            # I7: both sides at the same value is agreement, never a conflict
            assert c.airtable_status != c.trello_status, f"a false conflict recorded for {c.lead_id}"
            if (self.generation, c.id or 0) not in self._conflicts_seen:
                self._conflicts_seen.add((self.generation, c.id or 0))
                self.conflicts.setdefault(c.lead_id, []).append(Edit(at, c))
                STATS["conflicts recorded" if c.field == "status" else f"{c.field} conflicts recorded"] += 1
        self.check_store(pairs, leads, cards)

    def check_store(self, pairs: Any, leads: dict[LeadId, Lead], cards: dict[CardId, Card]) -> None:
        store = self.observer
        card_ids = [b.card_id for b in pairs.values()]
        assert len(card_ids) == len(set(card_ids)), "a card is linked to two leads"
        mapped = {*STATUSES, UNKNOWN_STATUS, None}
        for lead_id, base in pairs.items():
            assert lead_id in self.leads, f"pair of a lead that never existed: {lead_id}"
            assert base.card_id in self.cards, f"pair of a card that never existed: {base.card_id}"
            assert base.status in mapped, f"base status {base.status!r} of {lead_id}"
            assert base.due in {*DUE_DATES, UNKNOWN_STATUS}, f"base due date {base.due!r} of {lead_id}"
            assert base.labels <= set(TAGS), f"base labels {set(base.labels)} of {lead_id}"
            if base.lead_deleted:
                assert lead_id not in leads, f"lead {lead_id} marked deleted but exists (a spurious delete)"
            if base.card_deleted:
                assert base.card_id not in cards, f"card {base.card_id} marked deleted but exists"
            assert self.cards[base.card_id].claim == lead_id, f"card {base.card_id} linked to {lead_id}"
        assert not store.intents() & pairs.keys(), "a create intent left for a linked lead"
        open_conflicts = store.open_conflicts()
        if self.policy is not ConflictPolicy.MANUAL:
            assert not open_conflicts, "an open conflict under a policy that decides"
        assert all(c.lead_id in pairs for c in open_conflicts), "an open conflict of an unlinked lead"
        last = store.last_cycle()
        assert last is None or last.finished_at is not None, "a cycle left unfinished"

    # ---- quiescence and the end state (I1-I5, I11) --------------------------------------------------------
    def quiesce(self) -> None:
        """No more faults, edits or crashes: a new process syncs until a cycle has nothing to do."""
        self.state.faults.clear()
        self.restart(timeout=10.0)
        for rounds in range(1, QUIESCENCE_ROUNDS + 1):
            result = self.engine.run_cycle(full=True, lock_wait=5.0)
            self.observe(self.tick())
            if result.outcome.errors == 0 and writes(result) == 0:
                STATS[f"quiescent after {rounds} cycles"] += 1
                return
        raise AssertionError(f"no fixpoint after {QUIESCENCE_ROUNDS} quiet cycles (I2)")

    def check_end(self) -> None:
        leads, cards = self.actual_leads(), self.actual_cards()
        pairs = self.observer.pairs()
        open_fields: dict[LeadId, set[str]] = {}
        for c in self.observer.open_conflicts():
            open_fields.setdefault(c.lead_id, set()).add(c.field)
        self.check_no_duplicates(leads, cards, pairs)
        for lead_id, base in pairs.items():
            lead, card = leads.get(lead_id), cards.get(base.card_id)
            if lead is None:
                self.check_deleted_lead(lead_id, card)
                continue
            if card is None or card.closed:
                continue  # archived or deleted card: the lead is left alone
            fields_open = open_fields.get(lead_id, set())
            for field_name in sorted(fields_open):
                self.check_open_conflict(lead, card, field_name)
            if "status" in fields_open:
                continue  # an open status conflict holds the whole pair until a person settles it
            self.check_converged(lead, card, base, due_open="due" in fields_open)
        assert not self.observer.intents(), "create intents left after quiescence"

    def check_no_duplicates(
        self, leads: dict[LeadId, Lead], cards: dict[CardId, Card], pairs: dict[LeadId, Any]
    ) -> None:
        """I4 and no resurrection: leadsync made at most one card per lead, ever (unless the store was lost
        after the person deleted that card), and every lead that should have a card has one."""
        made: Counter[LeadId] = Counter()
        for card in self.cards.values():
            # A card the person deleted while the store did not link it (made in a crash window, or the
            # store was lost since) leaves no trace leadsync could know of: another one is made.
            forgotten = card.deleted_at is not None and card.deleted_linked_in != self.generation
            if not card.by_person and card.claim is not None and not forgotten:
                made[card.claim] += 1
        for lead_id, n in made.items():
            assert n <= 1, f"leadsync made {n} cards for lead {lead_id}: {self.story(lead_id)}"
        for lead_id, lead in leads.items():
            if lead.status not in ("NEW", "CONTACTED", "QUALIFIED"):
                continue
            base = pairs.get(lead_id)
            assert base is not None, f"lead {lead_id} ({lead.status}) has no card"
            assert base.card_id in cards or base.card_deleted, f"lead {lead_id}'s card is missing"
        names = Counter(self.board_labels().values())
        for tag in TAGS:
            assert names[tag] <= 1, f"{names[tag]} labels named {tag!r} on the board"
        for row in list(self.state.trello.cards.values()):
            assert len(row.id_labels) == len(set(row.id_labels)), f"card {row.id} carries a label twice"

    def story(self, lead_id: LeadId) -> str:
        """What the model knows of a lead and the cards that claim it (for failure messages)."""
        cards = [
            (c.id, "person" if c.by_person else "leadsync", f"deleted at {c.deleted_at}",
             f"linked in {c.deleted_linked_in}" if c.id in self.linked_cards else "never linked")
            for c in self.cards.values() if c.claim == lead_id
        ]  # fmt: skip
        return f"{self.leads.get(lead_id)}; cards {cards}; stores lost at {self.store_lost_at}"

    def check_deleted_lead(self, lead_id: LeadId, card: Card | None) -> None:
        """I5: a deleted lead's card is archived, never deleted, unless the person brought it back."""
        deleted_at = self.leads[lead_id].deleted_at
        assert deleted_at is not None, f"lead {lead_id} vanished without the person deleting it"
        if card is None:
            assert self.cards[self._card_of(lead_id)].deleted_at is not None, "leadsync deleted a card"
            return
        reopened = [e for e in self.cards[card.id].closed if e.clock > deleted_at and not e.value]
        reclosed = [e for e in self.cards[card.id].closed if e.clock > deleted_at and e.value]
        if not reopened or (reclosed and reclosed[-1].clock > reopened[-1].clock):
            assert card.closed, f"card {card.id} of deleted lead {lead_id} is not archived"

    def _card_of(self, lead_id: LeadId) -> CardId:
        base = self.observer.get_pair(lead_id)
        assert base is not None
        return base.card_id

    def check_open_conflict(self, lead: Lead, card: Card, field_name: str) -> None:
        """Manual policy: leadsync changed neither side's value of the field since it recorded the
        conflict."""
        assert self.policy is ConflictPolicy.MANUAL
        record = self.observer.get_open_conflict(lead.id, field_name)
        assert record is not None
        seen = [c.clock for c in self.conflicts[lead.id] if c.value.id == record.id]
        at = seen[-1] if seen else 0
        lead_model, card_model = self.leads[lead.id], self.cards[card.id]
        if field_name == "due":
            a_edits, t_edits = lead_model.due, card_model.due
            now = (lead.due, card.due)
        else:
            a_edits, t_edits = lead_model.status, card_model.moves
            now = (lead.status, self.status_of_list.get(card.list_id))
        a = [e for e in a_edits if e.clock > at]
        t = [e for e in t_edits if e.clock > at]
        expect_a = a[-1].value if a else record.airtable_status
        expect_t = t[-1].value if t else record.trello_status
        assert now[0] == expect_a, f"lead {lead.id}'s {field_name} changed under an open conflict"
        assert now[1] == expect_t, f"card {card.id}'s {field_name} changed under an open conflict"

    def check_converged(self, lead: Lead, card: Card, base: Any, *, due_open: bool = False) -> None:
        """I1 (both sides and the base agree) and I3 (no lost update) for one active pair, on every
        mapped field (the due date unless its conflict is open)."""
        if not due_open:
            assert lead.due == card.due == base.due, (
                f"due dates not converged: lead {lead.id} {lead.due!r}, card {card.due!r}, base {base.due!r}"
            )
            self.check_no_lost_due(lead, card)
        self.check_labels(lead, card, base)
        status = self.status_of_list.get(card.list_id)
        if lead.status in STATUSES and status is not None:
            assert lead.status == status == base.status, (
                f"not converged: lead {lead.id} {lead.status!r}, card {status!r}, base {base.status!r}"
            )
            self.check_no_lost_status(lead, card, status)
        assert (base.name, base.email, base.source) == (lead.name, lead.email, lead.source), (
            f"base of {lead.id} holds {base.name!r}/{base.email!r}/{base.source!r}"
        )
        merged = merge_desc(card.desc, lead)
        assert (
            merged in (None, card.desc)
            or block_values(card.desc) == block_values(render_block(lead))
            or card.id in self.stale_blocks
        ), f"card {card.id}'s block is not the lead's"
        model = self.cards[card.id]
        if model.outside:
            assert outside_lines(card.desc) == model.outside[-1].value, (
                f"the person's notes on {card.id} lost"
            )
        self.check_title(lead, card, model)

    def check_no_lost_status(self, lead: Lead, card: Card, final: str) -> None:
        """I3: the pair ends with the value of the person's last edit of its status, on either side,
        unless a conflict was recorded after that edit, in which case it ends with what the policy kept
        of the values the conflict record shows; or the last edit set the agreed value back (Unison)."""
        a, t = self.leads[lead.id].status, self.cards[card.id].moves
        edits = sorted(a + t, key=lambda e: e.clock)
        if not edits:
            return
        last = edits[-1]
        if final == last.value:
            return
        later = [
            c.value
            for c in self.conflicts.get(lead.id, [])
            if c.clock >= last.clock and c.value.field == "status"
        ]
        if later:
            record = later[-1]
            kept = {
                ConflictPolicy.AIRTABLE: [record.airtable_status],
                ConflictPolicy.TRELLO: [record.trello_status],
                ConflictPolicy.LATEST: [record.airtable_status, record.trello_status],
                ConflictPolicy.MANUAL: [record.airtable_status, record.trello_status],
            }[self.policy]
            assert final in kept, f"lead {lead.id}: {final!r} after a conflict, {self.policy} keeps {kept}"
            return
        seen = self.bases.get(lead.id, [])
        agreed = [b.value for b in seen if b.clock >= last.clock] + [
            b.value for b in seen if b.clock < last.clock
        ][-1:]
        if last.value in agreed and final in {e.value for e in edits}:
            return  # the last edit set the agreed value back, which is no change (Unison's rule)
        raise AssertionError(
            f"lost update: lead {lead.id} ends {final!r}, but the person's last edit set {last.value!r} "
            f"and no conflict was recorded after it (edits: {[(e.clock, e.value) for e in edits]})"
        )

    def _kept(self, record: Any) -> list[Any]:
        """The values a conflict's policy may keep."""
        return {
            ConflictPolicy.AIRTABLE: [record.airtable_status],
            ConflictPolicy.TRELLO: [record.trello_status],
            ConflictPolicy.LATEST: [record.airtable_status, record.trello_status],
            ConflictPolicy.MANUAL: [record.airtable_status, record.trello_status],
        }[self.policy]

    def check_no_lost_due(self, lead: Lead, card: Card) -> None:
        """I3 for the due date: as for the status, with the due date's own conflicts."""
        edits = self.leads[lead.id].due + self.cards[card.id].due
        last = max((e.clock for e in edits), default=0)
        later = [
            self._kept(c.value)
            for c in self.conflicts.get(lead.id, [])
            if c.clock >= last and c.value.field == "due"
        ]
        lost = last_word_kept(edits, lead.due, self.base_dues.get(lead.id, []), later)
        assert lost is None, f"lost update of the due date of lead {lead.id}: {lost}"

    def check_labels(self, lead: Lead, card: Card, base: Any) -> None:
        """I1 and I3 for the labels, per tag (labels never conflict: the person's last edit of a tag,
        on either side, is what both sides end with); the person's own label is never touched."""
        names = self.card_labels(card)
        assert lead.labels == names & set(TAGS) == base.labels, (
            f"labels not converged: lead {lead.id} {sorted(lead.labels)}, card {sorted(names)}, "
            f"base {sorted(base.labels)}"
        )
        model, lead_model = self.cards[card.id], self.leads[lead.id]
        own = model.labels.get(OWN_LABEL)
        if own:
            assert (OWN_LABEL in names) == own[-1].value, f"the person's own label on {card.id} changed"
        if self.store_lost_at:
            return  # a re-adopted pair's labels are both sides' (a removal before it is undone)
        linked = self.link_cycle.get((self.generation, card.id), self.clock + 1)
        for tag in TAGS:
            edits = lead_model.labels.get(tag, []) + model.labels.get(tag, [])
            if not edits or max(e.clock for e in edits) < linked:
                continue  # before the pair was linked: an adopted card keeps both sides' labels
            agreed = self.base_labels.get((lead.id, tag), [])
            lost = last_word_kept(edits, tag in lead.labels, agreed, [])
            assert lost is None, f"lost update of tag {tag!r} on lead {lead.id}: {lost}"

    def check_title(self, lead: Lead, card: Card, model: CardModel) -> None:
        """Names flow Airtable -> Trello: a lead renamed while its card was linked gives the card its title;
        otherwise a title the person set survives (when the lead's name was synced as they set it)."""
        ours = card_title(lead.name)
        if self.store_lost_at:
            return  # a re-adopted card's title is judged against the block only (see planner._shown_fields)
        linked_at = self.linked_at.get(card.id, self.clock + 1)
        since = model.titles[-1].clock if model.titles else -1
        renamed = [r for r in self.leads[lead.id].renamed if r > since]
        if any(r > linked_at for r in renamed) or (not model.titles and not model.by_person):
            assert card.name == ours, f"card {card.id} title {card.name!r}, the lead's name is {lead.name!r}"
            return
        if not model.titles:
            return
        title, synced = model.titles[-1].value
        if synced and not renamed:
            assert card.name == title, f"the person's title of card {card.id} was overwritten"
        else:
            assert card.name in (title, ours), f"card {card.id} title {card.name!r}"

    def check_repeat_cycles_write_nothing(self) -> None:
        """I2: once converged, a full, an incremental and a targeted cycle write nothing."""
        log_start = len(self.state.log)
        results = [self.engine.run_cycle(full=True), self.engine.run_cycle()]
        pairs = self.observer.pairs()
        results.append(self.engine.run_cycle(targets=(set(pairs), {b.card_id for b in pairs.values()})))
        for result in results:
            assert writes(result) == 0, f"a repeat {result.mode} cycle wrote"
            assert result.outcome.errors == 0, result.outcome.failures
        written = leadsync_writes(self.state.log[log_start:])
        assert not written, f"repeat cycles sent writes: {written}"

    def resolve_open_conflicts(self) -> None:
        """Manual policy: a person resolves each open conflict with ``leadsync conflicts resolve``."""
        from typer.testing import CliRunner

        from leadsync.cli import app

        env = {
            **{k: v for k, v in self.state.settings().items() if not k.startswith("PERSON_")},
            "LEADSYNC_DATABASE_URL": self.settings.LEADSYNC_DATABASE_URL,
            "LEADSYNC_CONFLICT_POLICY": self.policy.value,
            "LEADSYNC_CONFIG": str(self.config),
        }
        for i, record in enumerate(self.observer.open_conflicts()):
            keep = "airtable" if (i + self.seed) % 2 == 0 else "trello"
            args = ["conflicts", "resolve", record.lead_id, "--keep", keep]
            root = logging.getLogger()
            handlers, level = list(root.handlers), root.level
            try:
                result = CliRunner().invoke(app, args, env=env)
            finally:  # the command sets up its own logging to a stream the runner then closes
                root.handlers[:] = handlers
                root.setLevel(level)
            assert result.exit_code == 0, result.output
            # The person's decision (the kept side's value now) is the last word on the field.
            lead, card = self.actual_leads().get(record.lead_id), self.actual_cards().get(record.card_id)
            if lead is None or card is None:
                continue  # a conflict of a pair the person has taken apart since: closed, nothing to sync
            clock = self.tick()
            if record.field == "due":
                kept = lead.due if keep == "airtable" else card.due
                self.leads[record.lead_id].due.append(Edit(clock, kept))
                self.cards[record.card_id].due.append(Edit(clock, kept))
            else:
                kept = lead.status if keep == "airtable" else self.status_of_list.get(card.list_id)
                self.leads[record.lead_id].status.append(Edit(clock, kept))
                self.cards[record.card_id].moves.append(Edit(clock, kept))
            STATS["conflicts resolved by a person"] += 1

    def finish(self) -> None:
        """Quiescence, then the end-state invariants and the repeat-cycle check."""
        self.quiesce()
        for _ in range(3):
            if not self.observer.open_conflicts():
                break
            self.check_end()
            self.resolve_open_conflicts()
            self.quiesce()
        assert not self.observer.open_conflicts(), "conflicts still open after a person resolved them"
        self.check_end()
        self.check_repeat_cycles_write_nothing()
        deletes = [e for e in self.state.log if e.who == "leadsync" and e.method == "DELETE"]
        assert not deletes, "leadsync deleted something"
        STATS["sequences"] += 1

    def fingerprint(self) -> dict[str, Any]:
        """Everything both sides and the store hold, with leads named by their order of creation and
        cards by the lead they name: two runs of one sequence from one seed give the same fingerprint."""
        ordinal = {lead_id: f"lead {i}" for i, lead_id in enumerate(self.leads)}
        list_name = {lid: name for name, lid in self.lists.items()}

        def named(text: str) -> str:
            for lead_id, name in ordinal.items():
                text = text.replace(lead_id, name)
            return text

        def card_key(card_id: CardId) -> str:
            model = self.cards.get(card_id)
            return f"card of {ordinal.get(model.claim, model.claim)}" if model and model.claim else "a card"

        leads = self.actual_leads()
        return {
            "leads": [(ordinal[lid], *self._lead_values(leads.get(lid))) for lid in self.leads],
            "cards": sorted(
                (card_key(c.id), c.name, named(c.desc), list_name.get(c.list_id), c.closed, c.due,
                 sorted(self.card_labels(c)))
                for c in self.actual_cards().values()
            ),
            "pairs": sorted(
                (ordinal[lead], card_key(b.card_id), b.status, b.name, b.email, b.source, b.card_closed,
                 b.lead_deleted, b.card_deleted)
                for lead, b in self.observer.pairs().items()
            ),
            "conflicts": sorted(
                (ordinal[c.lead_id], c.base_status or "", c.airtable_status or "", c.trello_status or "",
                 c.resolution or "")
                for c in self.observer.conflicts(10_000)
            ),
            "cycles": self.trace,
        }  # fmt: skip

    @staticmethod
    def _lead_values(lead: Lead | None) -> tuple[Any, ...]:
        if lead is None:
            return ("deleted",)
        return (lead.name, lead.email, lead.status, lead.source, lead.due, sorted(lead.labels))


@contextlib.contextmanager
def world(seed: int, policy: ConflictPolicy, *, timeout: float = MACHINE_TIMEOUT) -> Iterator[World]:
    w = World(seed, policy, timeout=timeout)
    try:
        yield w
    finally:
        w.close()
