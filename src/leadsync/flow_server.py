"""``leadsync serve`` for many flows, or on a PostgreSQL store: per-flow webhook routes, and jobs.

Routes: ``GET /health``, ``GET /metrics`` (Prometheus), ``HEAD``+``POST /webhook/trello/{flow}``,
``POST /webhook/airtable/{flow}`` (the unsuffixed ``/webhook/trello`` and ``/webhook/airtable`` stay for
the flow ``default``), and ``POST /sync`` (every flow in full, with ``X-Webhook-Secret``). Each flow's
deliveries are verified with that flow's secrets: the Trello callback URL it registered, its Airtable
webhook's MAC secret.

What a verified delivery becomes depends on the store:

- **PostgreSQL with workers** (``queue`` mode: ``serve --queue``, or by default once a ``leadsync
  worker`` has prepared the queue in the store's database): its targets are recorded and the flow's job deferred
  (:func:`~leadsync.jobs.defer_sync`); ``serve`` runs no cycle itself, ``leadsync worker`` processes do,
  so the two scale apart.
- **Otherwise** (``embedded`` mode; SQLite needs no PostgreSQL): one :class:`~leadsync.server.SyncWorker` thread
  per flow in this process runs the cycles, as ``serve`` always did for its one flow.

The seed's single-flow SQLite server (:func:`leadsync.server.create_server`) is still what ``serve``
runs for the environment-only setup; this module serves everything else.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

from leadsync import webhook_events, webhook_signatures
from leadsync.config import DEFAULT_FLOW_NAME, FlowConfig
from leadsync.dashboard import FlowHub, mount_dashboard
from leadsync.engine import Engine
from leadsync.jobs import metrics
from leadsync.server import SyncWorker, _client_gone, _problem, _raw_header, _read_body
from leadsync.settings import Settings
from leadsync.store import Store

__all__ = ["Hub", "create_flows_server", "queue_ready"]

log = logging.getLogger("leadsync.server")


@dataclass
class Hub:
    """The flows ``serve`` answers for, and where their events go (a job queue or worker threads)."""

    settings: Settings
    store: Store
    queue: Any = None  # the open procrastinate app (PostgreSQL), else None
    workers: dict[str, SyncWorker] = field(default_factory=dict)
    flows: dict[str, FlowConfig] = field(default_factory=dict)

    def flow_store(self, flow: str) -> Store:
        """The store seen as ``flow``."""
        return self.store.for_flow(flow)

    def own_member(self, flow: str) -> str | None:
        """leadsync's Trello member for ``flow`` (its actions are echoes), when known."""
        if flow in self.workers:
            return self.workers[flow].own_member()
        return self.flow_store(flow).sync_state().trello_member_id

    async def notify(self, flow: str, *, leads: Any = (), cards: Any = (), ping: bool = False,
                     full: bool = False) -> None:  # fmt: skip
        """Hand an event's targets to the flow's worker thread, or record them and defer its job."""
        if self.queue is None:
            self.workers[flow].notify(leads=leads, cards=cards, airtable_ping=ping, full=full)
            return
        from leadsync.jobs import defer_sync

        await defer_sync(self.queue, self.store, flow, leads=leads, cards=cards, ping=ping, full=full)


def _flow_of(hub: Hub, name: str) -> str | None:
    return name if name in hub.flows else None


def queue_ready(settings: Settings) -> bool:
    """Whether the store is PostgreSQL with procrastinate's queue in it (a ``leadsync worker`` ran)."""
    if settings.LEADSYNC_DATABASE_URL.startswith("sqlite"):
        return False
    with Store.open(settings.LEADSYNC_DATABASE_URL) as store:
        return store.queue_stats() is not None


def create_flows_server(settings: Settings, flows: list[FlowConfig], *, queue: bool = False) -> FastAPI:
    """The webhook server of ``flows``: jobs deferred to workers with ``queue`` (PostgreSQL), else a
    worker thread per flow in this process."""
    holder: dict[str, Hub] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        store = Store.open(settings.LEADSYNC_DATABASE_URL)
        hub = Hub(settings, store, flows={f.name: f for f in flows})
        holder["hub"] = hub
        metrics.watch_store(store)
        engines: list[Engine] = []
        try:
            if queue:
                from leadsync.jobs import build_app, ensure_schema

                app = build_app(settings.LEADSYNC_DATABASE_URL)
                async with app.open_async():
                    await ensure_schema(app, settings.LEADSYNC_DATABASE_URL)
                    hub.queue = app
                    yield
                return
            for flow in flows:
                engine = Engine(settings, flow=flow, store=store)
                engines.append(engine)
                hub.workers[flow.name] = SyncWorker(engine, float(settings.LEADSYNC_SWEEP_INTERVAL))
            for worker in hub.workers.values():
                worker.start()
            yield
        finally:
            for worker in hub.workers.values():
                worker.stop()
            for engine in engines:
                engine.http.close()
            store.close()

    app = FastAPI(title="leadsync", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.add_exception_handler(ClientDisconnect, _client_gone)

    def hub() -> Hub:
        return holder["hub"]

    @app.get("/health")
    def health() -> dict[str, Any]:
        h = hub()
        report: dict[str, Any] = {"status": "ok", "mode": "queue" if h.queue is not None else "embedded"}
        per_flow: dict[str, Any] = {}
        for name in h.flows:
            store = h.flow_store(name)
            last = store.last_cycle()
            per_flow[name] = {
                "last_cycle": None if last is None else {"mode": last.mode, "ok": last.ok,
                                                         "started_at": last.started_at.isoformat()},
                "open_conflicts": len(store.open_conflicts()),
                "worker": h.workers[name].status if name in h.workers else None,
            }  # fmt: skip
        report["flows"] = per_flow
        stats = h.store.queue_stats()
        if stats is not None:
            report["queue"] = {"waiting": stats.waiting, "running": stats.running, "failed": stats.failed,
                               "oldest_waiting_seconds": round(stats.oldest_waiting, 1), "workers": stats.workers}  # fmt: skip
        return report

    @app.get("/metrics")
    def metrics_page() -> Response:
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)

    async def trello(request: Request, flow: str) -> Response:
        h = hub()
        body = await _read_body(request)
        if body is None:
            return _problem(413, "body too large")
        secret = settings.TRELLO_API_SECRET.get_secret_value() if settings.TRELLO_API_SECRET else ""
        suffix = "" if flow == DEFAULT_FLOW_NAME else f"/{flow}"
        callback = await asyncio.to_thread(lambda: h.flow_store(flow).sync_state().trello_webhook_callback)
        callback = callback or (f"{settings.LEADSYNC_PUBLIC_URL}/webhook/trello{suffix}"
                                if settings.LEADSYNC_PUBLIC_URL else "")  # fmt: skip
        if not webhook_signatures.verify_trello(
            secret, body, callback, _raw_header(request, b"x-trello-webhook")
        ):
            return _problem(401, "signature does not verify")
        try:
            event = webhook_events.decode_body(body)
            member = await asyncio.to_thread(h.own_member, flow)
            targets = webhook_events.trello_targets(event, member)
        except webhook_events.MalformedEvent:
            return _problem(400, "not a Trello webhook delivery")
        metrics.WEBHOOKS.labels(api="trello").inc()
        if targets:
            await h.notify(flow, cards=targets.cards)
        return Response(status_code=200)

    async def airtable(request: Request, flow: str) -> Response:
        h = hub()
        body = await _read_body(request)
        if body is None:
            return _problem(413, "body too large")
        store = h.flow_store(flow)
        secret = await asyncio.to_thread(store.airtable_mac_secret)
        if not webhook_signatures.verify_airtable(
            secret, body, _raw_header(request, b"x-airtable-content-mac")
        ):
            return _problem(401, "MAC does not verify")
        try:
            hook_id = webhook_events.airtable_ping_webhook_id(webhook_events.decode_body(body))
        except webhook_events.MalformedEvent:
            return _problem(400, "not an Airtable webhook notification")
        if hook_id != (await asyncio.to_thread(store.sync_state)).airtable_webhook_id:
            return _problem(400, "notification for an unknown webhook")
        metrics.WEBHOOKS.labels(api="airtable").inc()
        await h.notify(flow, ping=True)
        return Response(status_code=204)

    def unknown(flow: str) -> Response:
        return _problem(404, f"no flow {flow!r}")

    @app.head("/webhook/trello")
    @app.head("/webhook/trello/{flow}")
    def trello_head(flow: str = DEFAULT_FLOW_NAME) -> Response:
        return Response(status_code=200 if _flow_of(hub(), flow) else 404)

    @app.post("/webhook/trello")
    @app.post("/webhook/trello/{flow}")
    async def trello_delivery(request: Request, flow: str = DEFAULT_FLOW_NAME) -> Response:
        return await trello(request, flow) if _flow_of(hub(), flow) else unknown(flow)

    @app.post("/webhook/airtable")
    @app.post("/webhook/airtable/{flow}")
    async def airtable_ping(request: Request, flow: str = DEFAULT_FLOW_NAME) -> Response:
        return await airtable(request, flow) if _flow_of(hub(), flow) else unknown(flow)

    @app.post("/sync")
    async def manual_sync(request: Request) -> Response:
        expected = settings.WEBHOOK_SECRET.get_secret_value() if settings.WEBHOOK_SECRET else ""
        given = request.headers.get("x-webhook-secret", "")
        if not expected:
            return _problem(404, "manual trigger disabled: set WEBHOOK_SECRET to enable it")
        if not hmac.compare_digest(expected.encode(), given.encode()):
            return _problem(401, "X-Webhook-Secret missing or wrong")
        for name in hub().flows:
            await hub().notify(name, full=True)
        return JSONResponse({"status": "sync scheduled", "flows": sorted(hub().flows)}, status_code=202)

    mount_dashboard(app, settings, FlowHub(hub))  # only when LEADSYNC_DASHBOARD_PASSWORD is set
    return app
