"""One sync cycle: read both sides, plan against the base, execute, record.

The engine wires the clients and the store from :class:`~leadsync.settings.Settings`, with the HTTP
client injected from outside (tests hand it a transport to the sandbox; production uses the real hosts).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from leadsync.clients.airtable import AirtableClient
from leadsync.clients.http import ApiHttp, RequestCounter, RetryRules
from leadsync.clients.pacing import Pacer
from leadsync.clients.trello import TrelloClient
from leadsync.core import (
    Card,
    CardId,
    Conflict,
    CreateCard,
    CycleMode,
    Lead,
    LeadId,
    ListId,
    Plan,
    Side,
    Snapshot,
    StatusLists,
    parse_lead_id,
    plan,
    settle,
)
from leadsync.errors import ApiError, ConfigError, ReadFailed
from leadsync.executor import Executor, Outcome, Progress
from leadsync.settings import Settings
from leadsync.store import Store, SyncStateChanges

log = logging.getLogger("leadsync.engine")

AIRTABLE_PENALTY = 30.0  # seconds Airtable refuses requests after a 429
WATERMARK_OVERLAP = timedelta(seconds=60)  # re-read a minute back: clocks differ, and commits land late
CARD_ACTION_FILTER = "createCard,updateCard,deleteCard,copyCard,moveCardToBoard,moveCardFromBoard"


@dataclass
class CycleResult:
    """The cycle's summary (as ``leadsync sync --json`` prints it), plus what a person needs to read."""

    outcome: Outcome
    api_calls: dict[str, dict[str, int]]
    rate_limited: dict[str, int]
    plan: Plan
    dry_run: bool = False
    mode: CycleMode = CycleMode.FULL
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The summary as ``leadsync sync --json`` prints it."""
        o = self.outcome
        return {
            "created": o.created, "moved": o.moved, "updated": o.updated, "archived": o.archived,
            "conflicts": o.conflicts, "skipped": o.skipped, "errors": o.errors,
            "api_calls": self.api_calls, "rate_limited": self.rate_limited, "dry_run": self.dry_run, "mode": self.mode,
            "seconds": round(self.seconds, 3),
            "failures": o.failures,
            "reports": [{"kind": r.kind, "reason": r.reason, "lead_id": r.lead_id, "card_id": r.card_id}
                        for r in o.reports],
        }  # fmt: skip


class StorePacer(Pacer):
    """A :class:`Pacer` whose window lives in the state store, so that every process on the store
    (``serve``, ``poll``, a one-off ``sync``) shares one budget per base and per token, and a 429 seen
    by one holds them all back."""

    def __init__(self, store: Store, key: str, limit: int, window: float) -> None:
        super().__init__(limit, window)
        self.store = store
        self.key = key

    def acquire(self) -> float:
        # This process's own reservation queue first: one thread per freed slot reaches the store, instead
        # of every waiting thread polling it.
        waited = super().acquire()
        while (wait := self.store.take_rate_slot(self.key, self.limit, self.window)) > 0:
            wait = min(wait, 0.5)  # look again soon: another process may release its pause
            time.sleep(wait)
            waited += wait
        return waited

    def pause(self, seconds: float) -> None:
        if self.store.rate_slots_in_use(self.key, self.window) >= self.limit:
            return  # our own requests (of any process) fill the window: acquire() already waits them out
        self.store.pause_rate(self.key, seconds)

    def penalize(self, seconds: float) -> None:
        self.store.pause_rate(self.key, seconds)


def _trello_headers(settings: Settings) -> dict[str, str]:
    key = settings.TRELLO_API_KEY.get_secret_value()
    token = settings.TRELLO_TOKEN.get_secret_value()
    return {"Authorization": f'OAuth oauth_consumer_key="{key}", oauth_token="{token}"'}


class Engine:
    """Clients, store and mapping for one Airtable table and one Trello board."""

    def __init__(
        self, settings: Settings, *, http: httpx.Client | None = None, store: Store | None = None
    ) -> None:
        self.settings = settings
        self.http = http or httpx.Client(
            timeout=httpx.Timeout(30.0, connect=10.0),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),  # as many as writers run
        )
        self.store = store or Store.open(settings.LEADSYNC_DATABASE_URL)
        self.counter = RequestCounter()
        scale = settings.LEADSYNC_RATE_LIMIT_SCALE
        token_key = hashlib.sha256(settings.TRELLO_TOKEN.get_secret_value().encode()).hexdigest()[:16]
        # The window's margin over the server's absorbs the time between claiming a slot and the request's
        # arrival (a commit, a busy core): 200 ms for Airtable, whose 429 costs a 30 s penalty.
        self.airtable_pacer = StorePacer(
            self.store, f"airtable:{settings.AIRTABLE_BASE_ID}", max(1, int(5 * scale)), 1.2
        )
        self.trello_pacer = StorePacer(self.store, f"trello:{token_key}", max(1, int(100 * scale)), 10.5)
        self.airtable = AirtableClient(
            ApiHttp("airtable", self.http, settings.AIRTABLE_API_URL, pacers=[self.airtable_pacer],
                    rules=RetryRules(rate_limit_wait=AIRTABLE_PENALTY, timeout=settings.LEADSYNC_MAX_RETRY_SECONDS), counter=self.counter,
                    headers={"Authorization": f"Bearer {settings.AIRTABLE_API_KEY.get_secret_value()}"}),
            settings.AIRTABLE_BASE_ID, settings.AIRTABLE_LEADS_TABLE_NAME,
        )  # fmt: skip
        self.trello = TrelloClient(
            ApiHttp("trello", self.http, settings.TRELLO_API_URL, pacers=[self.trello_pacer],
                    rules=RetryRules(rate_limit_wait=10.0, timeout=settings.LEADSYNC_MAX_RETRY_SECONDS), counter=self.counter,
                    headers=_trello_headers(settings), on_response=self._trello_headers_seen),
            settings.TRELLO_BOARD_ID,
        )  # fmt: skip
        self._mapping: StatusLists | None = None

    def close(self) -> None:
        self.http.close()
        self.store.close()

    def _trello_headers_seen(self, response: httpx.Response) -> None:
        """Trello says how many requests remain in its window: when none do, wait the window out."""
        remaining = response.headers.get("x-rate-limit-api-token-remaining")
        interval = response.headers.get("x-rate-limit-api-token-interval-ms")
        if (
            remaining is not None
            and remaining.isdigit()
            and int(remaining) == 0
            and interval
            and interval.isdigit()
        ):
            self.trello_pacer.pause(int(interval) / 1000)

    # ---- mapping ----------------------------------------------------------------------------------
    def mapping(self) -> StatusLists:
        """Status -> list id: from TRELLO_LIST_IDS, else by list name on the board (read once)."""
        if self._mapping is None:
            if self.settings.TRELLO_LIST_IDS:
                self._mapping = StatusLists({k: ListId(v) for k, v in self.settings.TRELLO_LIST_IDS.items()})
            else:
                try:
                    lists = {row["name"]: ListId(row["id"]) for row in self.trello.lists()}
                except ApiError as exc:
                    raise ReadFailed("Trello lists", exc) from exc
                wanted = self.settings.list_names
                missing = [name for name in wanted.values() if name not in lists]
                if missing:
                    raise ConfigError(
                        "TRELLO_LIST_IDS",
                        f"the board has no list named {', '.join(map(repr, missing))}",
                        "Create the lists on the board, or give TRELLO_LIST_IDS as JSON of status to list id",
                    )
                self._mapping = StatusLists({status: lists[name] for status, name in wanted.items()})
        return self._mapping

    # ---- reading ----------------------------------------------------------------------------------
    def member_id(self) -> str:
        """leadsync's own Trello member (its actions are echoes of its own writes)."""
        cached = self.store.sync_state().trello_member_id
        if cached is None:
            cached = str(self.trello.me()["id"])
            self.store.update_sync_state(trello_member_id=cached)
        return cached

    def read(self) -> Snapshot:
        """Both sides in full. A failed read raises :class:`ReadFailed`: never an empty side."""
        return self._read_full()[0]

    def _read_full(self) -> tuple[Snapshot, SyncStateChanges]:
        started = datetime.now(UTC)
        try:
            newest_action = self.trello.newest_action_id()
        except ApiError as exc:
            raise ReadFailed("Trello", exc) from exc
        try:
            leads = self.airtable.all_leads()
        except ApiError as exc:
            raise ReadFailed("Airtable", exc) from exc
        try:
            cards = self.trello.cards()
        except ApiError as exc:
            raise ReadFailed("Trello", exc) from exc
        cursors: SyncStateChanges = {"airtable_watermark": started, "last_full_scan": started}
        # A board with no action yet: Trello's ``since`` takes a date as well as an action id.
        cursors["trello_last_action"] = newest_action or started.strftime("%Y-%m-%dT%H:%M:%SZ")
        return Snapshot(leads, cards), cursors

    def _read_incremental(self, watermark: datetime, last_action: str) -> tuple[Snapshot, SyncStateChanges]:
        """Leads changed since the watermark (less an overlap) and cards touched by others' actions since
        the last seen one: a constant number of requests when nothing changed."""
        started = datetime.now(UTC)
        try:
            changed = self.airtable.changed_since(watermark - WATERMARK_OVERLAP)
        except ApiError as exc:
            raise ReadFailed("Airtable", exc) from exc
        try:
            actions = self.trello.actions(since=last_action, filter_=CARD_ACTION_FILTER)
            me = self.member_id()
        except ApiError as exc:
            raise ReadFailed("Trello", exc) from exc
        touched = {
            CardId(cid)
            for action in actions
            if action.get("idMemberCreator") != me
            and (cid := action.get("data", {}).get("card", {}).get("id"))
        }
        snapshot = self.read_targets(set(changed), touched, prefetched=changed)
        cursors: SyncStateChanges = {"airtable_watermark": started}
        if actions:
            cursors["trello_last_action"] = str(actions[0]["id"])
        return snapshot, cursors

    def read_targets(
        self, lead_ids: set[LeadId], card_ids: set[CardId], prefetched: dict[LeadId, Lead] | None = None
    ) -> Snapshot:
        """The named leads and cards, with each one's counterpart (by link, or by the card's ``Lead ID``)."""
        pairs = self.store.pairs()
        lead_ids, card_ids = set(lead_ids), set(card_ids)
        card_ids |= {pairs[lid].card_id for lid in lead_ids if lid in pairs}
        try:
            cards, gone_cards = self.trello.get_cards(card_ids)
        except ApiError as exc:
            raise ReadFailed("Trello", exc) from exc
        by_card = {b.card_id: lid for lid, b in pairs.items()}
        for card in cards.values():
            if card.id in by_card:
                lead_ids.add(by_card[card.id])
            claimed = parse_lead_id(card.desc)
            if claimed:
                lead_ids.add(claimed)
        for cid in gone_cards:
            if cid in by_card:
                lead_ids.add(by_card[cid])
        leads = dict(prefetched or {})
        try:
            leads.update(self.airtable.get_leads(lead_ids - leads.keys()))
        except ApiError as exc:
            raise ReadFailed("Airtable", exc) from exc
        # Every linked lead in view brings its card, those found gone included: a lead deleted is acted
        # on through its card (archived), which must be read for that.
        linked = {pairs[lid].card_id for lid in lead_ids | leads.keys() if lid in pairs}
        more = linked - cards.keys() - gone_cards
        if more:
            try:
                extra, extra_gone = self.trello.get_cards(more)
            except ApiError as exc:
                raise ReadFailed("Trello", exc) from exc
            cards.update(extra)
            gone_cards |= extra_gone
        # A lead asked for by id and not returned does not exist (the query itself succeeded).
        gone_leads = frozenset(lid for lid in lead_ids if lid not in leads)
        return Snapshot(
            leads,
            cards,
            leads_complete=False,
            cards_complete=False,
            deleted_leads=gone_leads,
            deleted_cards=frozenset(gone_cards),
        )

    def _choose_read(self, full: bool) -> tuple[CycleMode, Snapshot, SyncStateChanges]:
        state = self.store.sync_state()
        watermark, last_action, last_full = (
            state.airtable_watermark,
            state.trello_last_action,
            state.last_full_scan,
        )
        every = self.settings.LEADSYNC_FULL_SCAN_EVERY
        due = last_full is None or (every > 0 and datetime.now(UTC) - last_full > timedelta(seconds=every))
        if full or due or watermark is None or last_action is None or self.store.intents():
            snapshot, cursors = self._read_full()
            return CycleMode.FULL, snapshot, cursors
        snapshot, cursors = self._read_incremental(watermark, last_action)
        return CycleMode.INCREMENTAL, snapshot, cursors

    def latest_winners(self, conflicts: Sequence[Conflict], snapshot: Snapshot) -> dict[LeadId, Side]:
        """For each of these status conflicts, the side whose change is the later by each API's own
        timestamp: Trello's ``updateCard`` action that moved the card, Airtable's
        ``LAST_MODIFIED_TIME({Status})``. Asks nothing when there is no conflict."""
        if not conflicts:
            return {}
        moves = self._card_move_times({c.card_id for c in conflicts}, snapshot.cards)
        times = {c.lead_id: moves[c.card_id] for c in conflicts}
        try:
            airtable_later = self.airtable.status_changed_after(times)
        except ApiError as exc:
            raise ReadFailed("Airtable (status change times)", exc) from exc
        return {lid: Side.AIRTABLE if lid in airtable_later else Side.TRELLO for lid in times}

    def _card_move_times(self, card_ids: set[CardId], cards: Mapping[CardId, Card]) -> dict[CardId, datetime]:
        conflict_since = self.store.sync_state().trello_conflict_since
        since = None if conflict_since is None else conflict_since.isoformat()
        try:
            actions = self.trello.actions(since=since, filter_="updateCard:idList,createCard")
        except ApiError as exc:
            raise ReadFailed("Trello actions", exc) from exc
        out: dict[CardId, datetime] = {}
        for action in actions:  # newest first: the first seen per card is its latest move
            cid = action.get("data", {}).get("card", {}).get("id")
            if cid in card_ids and cid not in out:
                out[CardId(cid)] = datetime.fromisoformat(action["date"].replace("Z", "+00:00"))
        for cid in card_ids - out.keys():
            out[cid] = cards[cid].created_at if cid in cards else datetime.now(UTC)
        return out

    def run_cycle(
        self,
        *,
        full: bool = False,
        dry_run: bool = False,
        targets: tuple[set[LeadId], set[CardId]] | None = None,
        progress: Callable[[int], Progress] | None = None,
        lock_wait: float = 60.0,
    ) -> CycleResult:
        """One two-way cycle under the store's lock (one cycle at a time, across processes).

        ``targets`` limits the cycle to the named leads and cards (webhook events); otherwise it is
        incremental, or full on ``full``, on schedule, and when an interrupted create must be checked.
        """
        started = time.monotonic()
        calls_before, limited_before = self.counter.summary(), dict(self.counter.rate_limited)
        with self.store.lock("cycle", wait=lock_wait):
            mapping = self.mapping()
            cursors: SyncStateChanges = {}
            if targets is not None and self.store.sync_state().last_full_scan is not None:
                mode, snapshot = CycleMode.TARGETED, self.read_targets(*targets)
            else:
                # A store that never completed a full read (new, or lost) first re-links every card by
                # its Lead ID, whatever asked for the cycle: a targeted read would not see them (I11).
                mode, snapshot, cursors = self._choose_read(full)
            cycle_id = None if dry_run else self.store.start_cycle(mode)
            result: CycleResult | None = None
            try:
                result = self._cycle(mapping, snapshot, dry_run, progress)
                result.mode = mode
                result.seconds = time.monotonic() - started
                # This cycle's requests (the engine's counter runs across the cycles of a process).
                result.api_calls = {
                    api: {kind: n - calls_before[api][kind] for kind, n in kinds.items()}
                    for api, kinds in self.counter.summary().items()
                }
                result.rate_limited = {
                    api: n - limited_before.get(api, 0)
                    for api, n in self.counter.rate_limited.items()
                    if n - limited_before.get(api, 0)
                }
                if not dry_run and result.outcome.errors == 0:
                    # Cursors advance only when every change they cover was applied.
                    self.store.update_sync_state(**cursors)
                return result
            finally:
                if cycle_id is not None:
                    summary: dict[str, object] = result.as_json() if result else {"error": "cycle stopped"}
                    summary.pop("reports", None)
                    self.store.finish_cycle(cycle_id, summary, bool(result and result.outcome.errors == 0))

    def _cycle(
        self,
        mapping: StatusLists,
        snapshot: Snapshot,
        dry_run: bool,
        progress: Callable[[int], Progress] | None,
    ) -> CycleResult:
        cycle_started = datetime.now(UTC)
        pairs = self.store.pairs()  # once per cycle: 100,000 pairs take seconds to load
        intents = self.store.intents()
        planned = plan(
            snapshot, pairs, mapping, self.settings.LEADSYNC_CONFLICT_POLICY,
            intents=intents,
            open_conflicts={c.lead_id for c in self.store.open_conflicts()},
        )  # fmt: skip
        # Only the conflicts the ``latest`` policy decides by timestamps cost requests.
        winners = self.latest_winners([entry.conflict for entry in planned.unsettled], snapshot)
        the_plan = settle(planned, winners, mapping)
        if dry_run:
            outcome = Outcome(reports=list(the_plan.reports), skipped=len(the_plan.reports))
            return CycleResult(
                outcome, self.counter.summary(), dict(self.counter.rate_limited), the_plan, True
            )
        executor = Executor(
            self.store,
            self.airtable,
            self.trello,
            progress=progress(len(the_plan.writes)) if progress else None,
        )
        outcome = executor.apply(the_plan)
        if snapshot.cards_complete:
            # A complete read settles every create intent but those of this plan's creates: the card was
            # adopted (linking cleared it), or never made, or the lead wants none any more (deleted, LOST,
            # no status). Left behind, an intent would make every later cycle a full scan.
            creating = {op.lead_id for op in the_plan.ops if isinstance(op, CreateCard)}
            for lead_id in intents - creating:
                self.store.clear_intent(lead_id)
        # Trello actions before this cycle never matter again for "latest": keep the next query short.
        self.store.update_sync_state(trello_conflict_since=cycle_started - timedelta(minutes=5))
        return CycleResult(outcome, self.counter.summary(), dict(self.counter.rate_limited), the_plan)


__all__ = ["CycleResult", "Engine", "StorePacer"]
