"""What a worker process needs to run a flow's job: the settings, the flows, one store, an engine per flow.

A job names its flow; :meth:`Runtime.run` reads the flow's pending targets (what webhooks named since its
last cycle), runs one cycle under the flow's store lock, and only then clears the targets it read, so a
worker killed mid-cycle leaves them for the retried job (cycles are idempotent: a half-run one re-reads
both sides and writes only what still differs). A failure is logged in the flow's activity with its
reason and raised again, for procrastinate to retry the job with backoff: one flow failing never stops
the others.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leadsync import webhook_events, webhooks
from leadsync.config import FlowConfig
from leadsync.core import CardId, LeadId
from leadsync.engine import CycleResult, Engine
from leadsync.errors import LeadsyncError
from leadsync.jobs import metrics
from leadsync.settings import Settings
from leadsync.store import PendingTargets, Store

__all__ = ["CYCLE_LOCK_WAIT", "MODES", "Runtime"]

log = logging.getLogger("leadsync.jobs")

MODES = ("targeted", "incremental", "full")
"""A job's mode: ``targeted`` runs what webhooks named (or nothing), ``incremental`` a sweep, ``full`` a full read."""

CYCLE_LOCK_WAIT = 30.0
"""The procrastinate lock already runs one job per flow; the store lock only waits out a manual sync."""


@dataclass
class Runtime:
    """The flows a worker serves, their engines (built once, on first use) and the shared store."""

    settings: Settings
    flows: dict[str, FlowConfig]
    store: Store
    _engines: dict[str, Engine] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def engine(self, flow: str) -> Engine:
        """The flow's engine (its clients and pacers), sharing the runtime's store and its pool."""
        with self._lock:
            if flow not in self._engines:
                self._engines[flow] = Engine(self.settings, flow=self.flows[flow], store=self.store)
            return self._engines[flow]

    def close(self) -> None:
        """Close every engine's HTTP client, then the store."""
        with self._lock:
            for engine in self._engines.values():
                engine.http.close()
            self._engines.clear()
        self.store.close()

    def run(self, flow: str, mode: str, targets: dict[str, list[str]]) -> dict[str, Any]:
        """One job of ``flow``: its pending targets and ``targets`` applied by one cycle; its summary."""
        if flow not in self.flows:  # a job deferred before the flow left leadsync.toml: nothing to do
            log.warning("job for flow %r skipped: leadsync.toml has no such flow any more", flow)
            return {"skipped": f"no flow {flow!r}"}
        engine = self.engine(flow)
        store = engine.store
        pending = store.pending_targets()
        try:
            result = self._cycle(engine, mode, pending, targets)
        except LeadsyncError as exc:
            metrics.CYCLES.labels(flow=flow, mode=mode, outcome="failed").inc()
            store.log("cycle failed", detail=f"{mode} job: {exc}")
            log.error("flow %s: %s job failed (retried with backoff): %s", flow, mode, exc)
            raise
        if pending:
            store.clear_targets(pending.ids)
            if pending.oldest is not None:
                waited = (datetime.now(UTC) - pending.oldest).total_seconds()
                metrics.WEBHOOK_TO_SYNCED.observe(max(0.0, waited))
        if result is None:
            return {"flow": flow, "mode": mode, "cycle": None}
        metrics.record_cycle(flow, result)
        summary = result.as_json()
        summary.pop("reports", None)
        return {"flow": flow, **summary}

    def _cycle(
        self, engine: Engine, mode: str, pending: PendingTargets, targets: dict[str, list[str]]
    ) -> CycleResult | None:
        leads = set(pending.leads) | {LeadId(i) for i in targets.get("leads", ())}
        cards = set(pending.cards) | {CardId(i) for i in targets.get("cards", ())}
        cursor_after: int | None = None
        if pending.pings:
            found, cursor_after = _airtable_changes(engine)
            leads |= found
        if mode == "full" or pending.full:
            result: CycleResult | None = engine.run_cycle(full=True, lock_wait=CYCLE_LOCK_WAIT)
        elif mode == "incremental" or pending.sweep:  # an incremental read covers what the targets named
            result = engine.run_cycle(lock_wait=CYCLE_LOCK_WAIT)
        elif leads or cards:
            result = engine.run_cycle(targets=(leads, cards), lock_wait=CYCLE_LOCK_WAIT)
        else:
            result = None  # only echoes of leadsync's own writes
        if cursor_after is not None:
            engine.store.update_sync_state(airtable_webhook_cursor=cursor_after)
        return result

    def maintain_webhooks(self) -> None:
        """Refresh every flow's Airtable webhook before it expires (a flow's failure is logged alone)."""
        for name in self.flows:
            started = time.monotonic()
            try:
                for note in webhooks.maintain(self.engine(name)):
                    log.info("flow %s: %s", name, note)
            except LeadsyncError as exc:
                log.error("flow %s: webhook refresh failed: %s", name, exc)
            log.debug("flow %s: webhooks checked in %.2fs", name, time.monotonic() - started)


def _airtable_changes(engine: Engine) -> tuple[set[LeadId], int | None]:
    """The leads the Airtable webhook's new payloads name (not leadsync's own writes), and the next cursor."""
    state = engine.store.sync_state()
    hook_id, table_id = state.airtable_webhook_id, state.airtable_table_id
    if not hook_id or not table_id:
        return set(), None
    user = state.airtable_user_id
    if user is None:
        user = engine.airtable.whoami()
        engine.store.update_sync_state(airtable_user_id=user)
    cursor = state.airtable_webhook_cursor or 1
    payloads: list[dict[str, Any]] = []
    for number, payload in engine.airtable.payloads(hook_id, cursor):
        payloads.append(payload)
        cursor = number + 1
    return set(webhook_events.airtable_targets(payloads, table_id, user).leads), cursor
