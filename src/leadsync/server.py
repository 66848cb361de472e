"""``leadsync serve``: the webhook server (FastAPI).

Routes: ``GET /health``; ``HEAD``+``POST /webhook/trello`` (verified by ``X-Trello-Webhook``);
``POST /webhook/airtable`` (verified by ``X-Airtable-Content-MAC``); ``POST /sync`` (a manual full
trigger, only with the seed's ``X-Webhook-Secret``); the dashboard at ``/`` when a password is set
(:mod:`leadsync.dashboard`). A request is answered at once; one worker thread
turns the events into targeted cycles, coalescing bursts, and runs a periodic incremental sweep that
heals any missed event and keeps the Airtable webhook alive.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

from leadsync import webhook_events, webhook_signatures, webhooks
from leadsync.core import CardId, LeadId
from leadsync.dashboard import OneWorker, mount_dashboard
from leadsync.engine import Engine
from leadsync.errors import ConfigError, LeadsyncError, LockBusy
from leadsync.settings import Settings

log = logging.getLogger("leadsync.server")

MAX_BODY = 1 << 20  # 1 MiB: far above any real delivery
DEBOUNCE = 0.05  # seconds to wait for more events of a burst before one cycle takes them all
# How long a cycle waits for the store's lock, and how soon a sweep that could not get it tries again:
# short, so that /health reports a held lock within seconds and syncing resumes soon after its release.
LOCK_WAIT = 2.0
LOCK_RETRY = 1.0
STATUS_OK = "ok"
STATUS_STOPPED = "worker stopped"
STATUS_WAITING = "waiting for the store lock"

__all__ = [
    "DEBOUNCE",
    "LOCK_RETRY",
    "LOCK_WAIT",
    "MAX_BODY",
    "STATUS_OK",
    "STATUS_STOPPED",
    "STATUS_WAITING",
    "SyncWorker",
    "WorkerState",
    "create_server",
]


@dataclass
class WorkerState:
    """What the worker has pending and has done, as ``/health`` reports it."""

    pending_leads: set[LeadId] = field(default_factory=set)
    pending_cards: set[CardId] = field(default_factory=set)
    airtable_pings: int = 0
    full_requested: bool = False
    cycles: int = 0
    events: int = 0
    echoes: int = 0
    last_error: str | None = None
    last_cycle_at: str | None = None
    last_sweep_at: str | None = None
    waiting_for_lock_since: str | None = None  # set while another process holds the store's lock


class SyncWorker:
    """The one thread that runs cycles for this process (the store's lock serialises processes)."""

    def __init__(self, engine: Engine, sweep_interval: float, debounce: float = DEBOUNCE) -> None:
        self.engine = engine
        self.sweep_interval = sweep_interval
        self.debounce = debounce
        self.state = WorkerState()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="leadsync-worker", daemon=True)
        self._member: str | None = None
        self._user: str | None = None

    # ---- called by request handlers ------------------------------------------------------------------
    def notify(self, *, leads: Iterable[LeadId] = (), cards: Iterable[CardId] = (),
               airtable_ping: bool = False, full: bool = False) -> None:  # fmt: skip
        """Queue what an event named for the next cycle and wake the thread."""
        with self._lock:
            self.state.pending_leads.update(leads)
            self.state.pending_cards.update(cards)
            self.state.airtable_pings += airtable_ping
            self.state.full_requested |= full
            self.state.events += 1
        self._wake.set()

    def own_member(self) -> str | None:
        """leadsync's Trello member: deliveries of actions it made are echoes of its own writes."""
        if self._member is None:
            try:
                self._member = self.engine.member_id()
            except LeadsyncError as exc:
                log.warning("could not read leadsync's Trello member: %s", exc)
        return self._member

    # ---- the thread ----------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the thread (a sweep runs at once)."""
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end and wait for it (at most 30 s)."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)

    @property
    def alive(self) -> bool:
        """Whether the thread is running."""
        return self._thread.is_alive()

    @property
    def status(self) -> str:
        """``ok``, or what keeps this worker from syncing."""
        if not self.alive:
            return STATUS_STOPPED
        return STATUS_WAITING if self.state.waiting_for_lock_since else STATUS_OK

    def _run(self) -> None:
        next_sweep = time.monotonic()  # a sweep at start catches up on whatever happened while down
        while not self._stop.is_set():
            try:
                next_sweep = self._step(next_sweep)
            except Exception as exc:  # a bug must not end syncing: log it, keep serving
                self.state.last_error = f"unexpected {type(exc).__name__}: {exc}"
                log.exception("unexpected error in the sync worker (it keeps running)")
                time.sleep(1.0)

    def _step(self, next_sweep: float) -> float:
        """Wait for events or the sweep's time, then run what is due; returns the next sweep's time."""
        self._wake.wait(timeout=max(0.0, next_sweep - time.monotonic()))
        if self._stop.is_set():
            return next_sweep
        if self._wake.is_set():
            time.sleep(self.debounce)  # let the rest of a burst arrive
            self._wake.clear()
            self._drain()
        if time.monotonic() >= next_sweep:
            next_sweep = time.monotonic() + self._sweep()
        return next_sweep

    def _take(self) -> tuple[set[LeadId], set[CardId], int, bool]:
        with self._lock:
            s = self.state
            taken = (s.pending_leads, s.pending_cards, s.airtable_pings, s.full_requested)
            s.pending_leads, s.pending_cards, s.airtable_pings, s.full_requested = set(), set(), 0, False
            return taken

    def _put_back(self, leads: set[LeadId], cards: set[CardId], pings: int, full: bool) -> None:
        with self._lock:
            self.state.pending_leads |= leads
            self.state.pending_cards |= cards
            self.state.airtable_pings += pings
            self.state.full_requested |= full
        self._wake.set()

    def _drain(self) -> None:
        leads, cards, pings, full = self._take()
        if not (leads or cards or pings or full):
            return
        cursor_after: int | None = None
        try:
            if pings:
                found, cursor_after = self._read_airtable_payloads()
                leads |= found.leads
                self.state.echoes += found.echoes
            if full:
                self._cycle(full=True)
            elif leads or cards:
                self._cycle(targets=(leads, cards))
            if cursor_after is not None:
                self.engine.store.update_sync_state(airtable_webhook_cursor=cursor_after)
        except LockBusy:
            self._put_back(leads, cards, pings, full)  # another process is mid-cycle: try again soon
            time.sleep(0.2)
        except LeadsyncError as exc:
            # Events are hints: the next sweep reads every change since its watermark anyway.
            self.state.last_error = str(exc)
            log.error("event cycle failed (the next sweep will heal it): %s", exc)

    def _read_airtable_payloads(self) -> tuple[webhook_events.Targets, int | None]:
        state = self.engine.store.sync_state()
        hook_id, table_id = state.airtable_webhook_id, state.airtable_table_id
        if not hook_id or not table_id:
            return webhook_events.Targets(), None
        cursor = state.airtable_webhook_cursor or 1
        payloads: list[dict[str, Any]] = []
        for number, payload in self.engine.airtable.payloads(hook_id, cursor):
            payloads.append(payload)
            cursor = number + 1
        return webhook_events.airtable_targets(payloads, table_id, self.own_user()), cursor

    def own_user(self) -> str | None:
        """leadsync's Airtable user: payloads it authored are echoes of its own writes."""
        if self._user is None:
            self._user = self.engine.store.sync_state().airtable_user_id
        if self._user is None:
            try:
                self._user = self.engine.airtable.whoami()
                self.engine.store.update_sync_state(airtable_user_id=self._user)
            except LeadsyncError as exc:
                log.warning("could not read leadsync's Airtable user: %s", exc)
        return self._user

    def _cycle(self, **kwargs: Any) -> None:
        asked_at = datetime.now(UTC).isoformat()
        try:
            result = self.engine.run_cycle(lock_wait=LOCK_WAIT, **kwargs)
        except LockBusy:
            if self.state.waiting_for_lock_since is None:
                self.state.waiting_for_lock_since = asked_at
                log.info("the store's lock is held by another process: syncing waits for it")
            raise
        except Exception:
            self._no_longer_waiting()  # whatever failed, it was not the lock being held
            raise
        self._no_longer_waiting()
        self.state.cycles += 1
        self.state.last_cycle_at = datetime.now(UTC).isoformat()
        self.state.last_error = "; ".join(result.outcome.failures) or None
        o = result.outcome
        if o.created or o.moved or o.updated or o.archived or o.conflicts or o.errors:
            log.info("%s cycle: created %d, moved %d, updated %d, archived %d, conflicts %d, errors %d",
                     result.mode, o.created, o.moved, o.updated, o.archived, o.conflicts, o.errors)  # fmt: skip

    def _no_longer_waiting(self) -> None:
        if self.state.waiting_for_lock_since is not None:
            log.info("the store's lock is free again (waited since %s)", self.state.waiting_for_lock_since)
            self.state.waiting_for_lock_since = None

    def _sweep(self) -> float:
        """One sweep; returns the seconds until the next (soon when the store's lock was busy)."""
        try:
            if self.state.waiting_for_lock_since is None:  # not again on every retry while the lock is held
                for note in webhooks.maintain(self.engine):
                    log.info("%s", note)
            self._cycle()
            self.state.last_sweep_at = datetime.now(UTC).isoformat()
        except LockBusy:
            return LOCK_RETRY
        except ConfigError as exc:
            # A wrong setting (a refused token, an unknown board) fails every later sweep the same way.
            self.state.last_error = str(exc)
            log.error("sync stopped, a setting is wrong: %s", exc)
            self._stop.set()
        except LeadsyncError as exc:
            self.state.last_error = str(exc)
            log.error("sweep failed: %s", exc)
        return self.sweep_interval


def _raw_header(request: Request, name: bytes) -> bytes | None:
    """A header's value as the client sent its bytes (Starlette's ``str`` view decodes them as latin-1)."""
    for key, value in request.scope["headers"]:
        if key.lower() == name:
            return bytes(value)
    return None


async def _read_body(request: Request) -> bytes | None:
    """The raw body, or None when it passes MAX_BODY (checked while reading, not only by header)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _client_gone(request: Request, exc: Exception) -> Response:
    """A client that hung up mid-body is routine on the internet: one line, no traceback, no work done."""
    client = request.client.host if request.client else "unknown client"
    log.info("%s %s: %s disconnected before its body was read", request.method, request.url.path, client)
    return Response(status_code=400)  # never sent: there is no one left to send it to


def create_server(settings: Settings, *, engine_factory: Callable[[], Engine] | None = None,
                  sweep_interval: float | None = None) -> FastAPI:  # fmt: skip
    """The webhook server's app; its worker starts and stops with the app's lifespan."""
    holder: dict[str, SyncWorker] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        engine = engine_factory() if engine_factory else Engine(settings)
        worker = SyncWorker(engine, sweep_interval or float(settings.LEADSYNC_SWEEP_INTERVAL))
        holder["worker"] = worker
        worker.start()
        try:
            yield
        finally:
            worker.stop()
            engine.close()

    app = FastAPI(title="leadsync", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.add_exception_handler(ClientDisconnect, _client_gone)

    def worker() -> SyncWorker:
        return holder["worker"]

    @app.get("/health")
    def health() -> dict[str, Any]:
        w = worker()
        store = w.engine.store
        last = store.last_cycle()
        sync = store.sync_state()
        return {
            "status": w.status,
            "last_cycle": None if last is None else {
                "mode": last.mode, "started_at": last.started_at.isoformat(), "ok": last.ok,
            },
            "open_conflicts": len(store.open_conflicts()),
            "webhooks": {
                "airtable": sync.airtable_webhook_id,
                "airtable_expires": None if sync.airtable_webhook_expires is None
                else sync.airtable_webhook_expires.isoformat(),
                "trello": sync.trello_webhook_id,
            },
            "worker": {
                "events": w.state.events, "cycles": w.state.cycles, "echoes_ignored": w.state.echoes,
                "last_cycle_at": w.state.last_cycle_at, "last_sweep_at": w.state.last_sweep_at,
                "last_error": w.state.last_error, "waiting_for_lock_since": w.state.waiting_for_lock_since,
            },
        }  # fmt: skip

    @app.head("/webhook/trello")
    def trello_head() -> Response:
        return Response(status_code=200)

    @app.post("/webhook/trello")
    async def trello_delivery(request: Request) -> Response:
        body = await _read_body(request)
        if body is None:
            return _problem(413, "body too large")
        secret = settings.TRELLO_API_SECRET.get_secret_value() if settings.TRELLO_API_SECRET else ""
        callback = worker().engine.store.sync_state().trello_webhook_callback or (
            f"{settings.LEADSYNC_PUBLIC_URL}/webhook/trello" if settings.LEADSYNC_PUBLIC_URL else ""
        )
        if not webhook_signatures.verify_trello(
            secret, body, callback, _raw_header(request, b"x-trello-webhook")
        ):
            return _problem(401, "signature does not verify")
        try:
            event = webhook_events.decode_body(body)
            targets = webhook_events.trello_targets(event, worker().own_member())
        except webhook_events.MalformedEvent:
            return _problem(400, "not a Trello webhook delivery")
        if targets.echoes:
            worker().state.echoes += targets.echoes
        elif targets:
            worker().notify(cards=targets.cards)
        return Response(status_code=200)

    @app.post("/webhook/airtable")
    async def airtable_ping(request: Request) -> Response:
        body = await _read_body(request)
        if body is None:
            return _problem(413, "body too large")
        store = worker().engine.store
        secret = store.airtable_mac_secret()
        if not webhook_signatures.verify_airtable(
            secret, body, _raw_header(request, b"x-airtable-content-mac")
        ):
            return _problem(401, "MAC does not verify")
        try:
            hook_id = webhook_events.airtable_ping_webhook_id(webhook_events.decode_body(body))
        except webhook_events.MalformedEvent:
            return _problem(400, "not an Airtable webhook notification")
        if hook_id != store.sync_state().airtable_webhook_id:
            return _problem(400, "notification for an unknown webhook")
        worker().notify(airtable_ping=True)
        return Response(status_code=204)

    @app.post("/sync")
    async def manual_sync(request: Request) -> Response:
        expected = settings.WEBHOOK_SECRET.get_secret_value() if settings.WEBHOOK_SECRET else ""
        given = request.headers.get("x-webhook-secret", "")
        if not expected:
            return _problem(404, "manual trigger disabled: set WEBHOOK_SECRET to enable it")
        if not hmac.compare_digest(expected.encode(), given.encode()):
            return _problem(401, "X-Webhook-Secret missing or wrong")
        worker().notify(full=True)
        return JSONResponse({"status": "sync scheduled"}, status_code=202)

    mount_dashboard(app, settings, OneWorker(worker))  # only when LEADSYNC_DASHBOARD_PASSWORD is set
    return app
