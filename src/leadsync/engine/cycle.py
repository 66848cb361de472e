"""One sync cycle: read both sides, plan against the base, settle, execute, record.

:class:`Engine` holds what :class:`~leadsync.engine.wiring.Wiring` builds from the settings and runs
cycles under the store's lock, one at a time across processes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from leadsync.config import FlowConfig, load_flows, one_flow
from leadsync.core import (
    DUE,
    CardId,
    Conflict,
    CreateCard,
    CycleMode,
    Lead,
    LeadId,
    Plan,
    Side,
    Snapshot,
    StatusLists,
    plan,
    settle,
)
from leadsync.engine.latest import latest_winners
from leadsync.engine.mapping import FlowMapping
from leadsync.engine.reading import Reader
from leadsync.engine.wiring import Wiring
from leadsync.executor import Executor, Outcome, Progress
from leadsync.settings import Settings
from leadsync.store import Store, SyncStateChanges

__all__ = ["CycleResult", "Engine"]

log = logging.getLogger("leadsync.engine")


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


class Engine:
    """Clients, store and mapping for one Airtable table and one Trello board."""

    def __init__(
        self,
        settings: Settings,
        *,
        flow: FlowConfig | None = None,
        http: httpx.Client | None = None,
        store: Store | None = None,
    ) -> None:
        """Wire the clients of ``flow`` (default: the one flow the settings define); ``http`` and
        ``store`` are built from the settings unless given."""
        self.settings = settings
        self.flow = flow or one_flow(load_flows(settings), None)
        self.wiring = Wiring.build(settings, self.flow, http=http, store=store)
        self.http = self.wiring.http
        self.store = self.wiring.store
        self.counter = self.wiring.counter
        self.airtable_pacer = self.wiring.airtable_pacer
        self.trello_pacer = self.wiring.trello_pacer
        self.airtable = self.wiring.airtable
        self.trello = self.wiring.trello
        self.reader = Reader(settings, self.flow, self.store, self.airtable, self.trello)
        self.flow_mapping = FlowMapping(self.flow, self.store, self.airtable, self.trello, self.reader)

    def close(self) -> None:
        """Close the HTTP client and the store."""
        self.wiring.close()

    def mapping(self) -> StatusLists:
        """Status -> list id (from TRELLO_LIST_IDS, else by list name on the board, read once), the
        statuses that get no card, and the options' board labels; the table is resolved first when no
        cycle did yet."""
        if self.flow_mapping.table is None:
            self.flow_mapping.refresh_table()
        return self.flow_mapping.lists()

    def member_id(self) -> str:
        """leadsync's own Trello member (its actions are echoes of its own writes)."""
        return self.reader.member_id()

    def read(self) -> Snapshot:
        """Both sides in full. A failed read raises :class:`ReadFailed`: never an empty side."""
        return self.reader.full()[0]

    def read_targets(
        self, lead_ids: set[LeadId], card_ids: set[CardId], prefetched: dict[LeadId, Lead] | None = None
    ) -> Snapshot:
        """The named leads and cards, with each one's counterpart (by link, or by the card's ``Lead ID``)."""
        return self.reader.targets(lead_ids, card_ids, prefetched)

    def latest_winners(self, conflicts: Sequence[Conflict], snapshot: Snapshot) -> dict[LeadId, Side]:
        """For each of these conflicts (all of one field), the side that changed it last (``latest``)."""
        return latest_winners(
            conflicts, snapshot, store=self.store, airtable=self.airtable, trello=self.trello
        )

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
            self.flow_mapping.refresh_table()  # every cycle: renames, deletions and type changes seen
            mapping = self.mapping()
            cursors: SyncStateChanges = {}
            if targets is not None and self.store.sync_state().last_full_scan is not None:
                mode, snapshot = CycleMode.TARGETED, self.read_targets(*targets)
            else:
                # A store that never completed a full read (new, or lost) first re-links every card by
                # its Lead ID, whatever asked for the cycle: a targeted read would not see them (I11).
                mode, snapshot, cursors = self.reader.choose(full)
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
        open_conflicts = self.store.open_conflicts()
        planned = plan(
            snapshot, pairs, mapping, self.flow.policy,
            intents=intents,
            open_conflicts={c.lead_id for c in open_conflicts if c.field == "status"},
            open_due_conflicts={c.lead_id for c in open_conflicts if c.field == DUE},
        )  # fmt: skip
        # Only the conflicts the ``latest`` policy decides by timestamps cost requests.
        waiting = [entry.conflict for entry in planned.unsettled]
        winners = self.latest_winners([c for c in waiting if c.field == "status"], snapshot)
        due_winners = self.latest_winners([c for c in waiting if c.field == DUE], snapshot)
        the_plan = settle(planned, winners, mapping, due_winners=due_winners)
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
            labels=self.flow_mapping.labels,
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
