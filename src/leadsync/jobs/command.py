"""``leadsync worker``: run procrastinate workers for every flow on PostgreSQL.

Any number of workers, on any number of machines, share one PostgreSQL store: each takes jobs from the
queue, one cycle at a time per flow (the flow's lock), ``--concurrency`` cycles of different flows at
once. Every worker takes any flow's job, so every worker must read the same ``leadsync.toml``. SIGTERM
or Ctrl+C lets running cycles finish (at most ``SHUTDOWN_GRACE`` seconds) and exits 0; a
worker that dies instead (SIGKILL, a lost machine) is noticed by its stopped heartbeat after
``--stalled-after`` seconds, and another worker retries its job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Annotated

import typer
from rich.console import Console

from leadsync.config import FlowConfig
from leadsync.settings import Settings

__all__ = ["SHUTDOWN_GRACE", "register", "run_worker"]

log = logging.getLogger("leadsync.worker")

SHUTDOWN_GRACE = 60.0
"""Seconds a stopping worker waits for its running cycles before aborting them."""


def run_worker(
    settings: Settings,
    flows: list[FlowConfig],
    *,
    concurrency: int = 1,
    metrics_port: int | None = None,
    stalled_after: float = 30.0,
    name: str | None = None,
) -> None:
    """Apply procrastinate's schema if needed, then work the queue until stopped (a signal)."""
    from procrastinate import App

    from leadsync.jobs.app import build_app, conninfo, ensure_schema
    from leadsync.jobs.metrics import watch_store
    from leadsync.jobs.runtime import Runtime
    from leadsync.jobs.tasks import RUNTIME_KEY, STALLED_AFTER_KEY
    from leadsync.store import Store

    url = settings.LEADSYNC_DATABASE_URL
    conninfo(url)  # a SQLite URL is a ConfigError naming the variable, before anything opens
    store = Store.open(url)
    runtime = Runtime(settings, {flow.name: flow for flow in flows}, store)
    watch_store(store)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port)

    async def work(app: App) -> None:
        async with app.open_async():
            if await ensure_schema(app, url):
                log.info("procrastinate's schema applied")
            await app.run_worker_async(
                name=name or "worker",
                concurrency=concurrency,
                additional_context={RUNTIME_KEY: runtime, STALLED_AFTER_KEY: stalled_after},
                update_heartbeat_interval=max(0.5, stalled_after / 3),
                stalled_worker_timeout=stalled_after,
                shutdown_graceful_timeout=SHUTDOWN_GRACE,
                delete_jobs="successful",
                fetch_job_polling_interval=1.0,
            )

    try:
        asyncio.run(work(build_app(url, pool_size=concurrency + 3)))
    finally:
        runtime.close()


def register(
    app: typer.Typer,
    *,
    settings: Callable[[], Settings],
    flows: Callable[[Settings, list[str] | None], list[FlowConfig]],
    exits: Callable[[], AbstractContextManager[None]],
    err: Console,
) -> None:
    """Add ``leadsync worker`` to the CLI (its helpers are passed in: this module imports no cli)."""

    @app.command("worker")
    def worker(
        concurrency: Annotated[
            int, typer.Option("--concurrency", "-c", min=1, help="Cycles of different flows run at once.")
        ] = 1,
        metrics_port: Annotated[
            int | None, typer.Option("--metrics-port", help="Serve GET /metrics (Prometheus) on this port.")
        ] = None,
        stalled_after: Annotated[
            float,
            typer.Option(
                "--stalled-after", min=1.0, help="Seconds without a heartbeat before a worker is dead."
            ),
        ] = 30.0,
        name: Annotated[str | None, typer.Option("--name", help="This worker's name in the logs.")] = None,
    ) -> None:
        """Run sync jobs from the PostgreSQL queue (any number of workers; Ctrl+C or SIGTERM to stop)."""
        loaded = settings()
        with exits():
            chosen = flows(loaded, None)  # every flow: any worker may take any flow's job
            names = ", ".join(f.name for f in chosen)
            err.print(f"leadsync worker: flows {names}; concurrency {concurrency}; Ctrl+C to stop")
            run_worker(
                loaded,
                chosen,
                concurrency=concurrency,
                metrics_port=metrics_port,
                stalled_after=stalled_after,
                name=name,
            )
        err.print("stopped")
