"""leadsync's procrastinate tasks: a flow's cycle, the periodic sweep, webhook refresh, stalled jobs.

- ``sync_flow(flow, mode, targets)``: one cycle of one flow (:meth:`~leadsync.jobs.runtime.Runtime.run`),
  deferred with the flow's lock and queueing lock (:mod:`leadsync.jobs.defer`). A failed cycle is
  retried with exponential backoff (2, 4, 8, 16, 32 s), then left failed: the next sweep defers the
  flow again.
- ``sweep`` (every minute): an incremental job per flow; the engine makes it a full one every
  ``LEADSYNC_FULL_SCAN_EVERY`` seconds.
- ``refresh_webhooks`` (hourly): each flow's Airtable webhook refreshed before it expires.
- ``retry_stalled_jobs`` (every 5 s): procrastinate notices a dead worker by its heartbeat but never
  retries its jobs by itself; this is the periodic task its documentation gives
  (https://procrastinate.readthedocs.io/en/stable/howto/production/retry_stalled_jobs.html).

Periodic tasks are deferred by the workers themselves, once per tick whatever their number.
"""

from __future__ import annotations

import logging
from typing import Any, cast

import procrastinate
from procrastinate import JobContext, RetryStrategy
from procrastinate.exceptions import ConnectorException
from procrastinate.jobs import Status

from leadsync.jobs.defer import SYNC_TASK, defer_sync
from leadsync.jobs.runtime import Runtime

__all__ = ["RUNTIME_KEY", "STALLED_AFTER_KEY", "SYNC_RETRY", "register_tasks"]

log = logging.getLogger("leadsync.jobs")

RUNTIME_KEY = "leadsync_runtime"
"""The key of the worker's :class:`Runtime` in procrastinate's ``additional_context``."""

SYNC_RETRY = RetryStrategy(max_attempts=5, exponential_wait=2)
"""A failed cycle waits 2, 4, 8, 16, then 32 seconds before its next try."""

STALLED_AFTER_KEY = "leadsync_stalled_after"
"""The key of the seconds without a heartbeat after which a worker is dead."""


def _runtime(context: JobContext) -> Runtime:
    return cast(Runtime, context.additional_context[RUNTIME_KEY])


def register_tasks(app: procrastinate.App) -> None:
    """Register every leadsync task (and the periodic ones' schedules) on ``app``."""

    @app.task(name=SYNC_TASK, pass_context=True, retry=SYNC_RETRY)
    def sync_flow(
        context: JobContext, flow: str, mode: str = "targeted", targets: dict[str, list[str]] | None = None
    ) -> dict[str, Any]:
        """One cycle of ``flow``: its pending targets (and ``targets``), incremental or full per ``mode``."""
        return _runtime(context).run(flow, mode, targets or {})

    @app.periodic(cron="* * * * *")
    @app.task(name="sweep", queueing_lock="sweep", pass_context=True)
    async def sweep(context: JobContext, timestamp: int) -> None:
        """Defer an incremental job for every flow (a flow with one waiting already gets it merged)."""
        runtime = _runtime(context)
        for flow in runtime.flows:
            await defer_sync(app, runtime.store, flow, mode="incremental")

    @app.periodic(cron="0 * * * *")
    @app.task(name="refresh_webhooks", queueing_lock="refresh_webhooks", pass_context=True)
    def refresh_webhooks(context: JobContext, timestamp: int) -> None:
        """Refresh each flow's Airtable webhook before it expires."""
        _runtime(context).maintain_webhooks()

    @app.periodic(cron="* * * * * */5")  # the 6th column is seconds
    @app.task(name="retry_stalled_jobs", queueing_lock="retry_stalled_jobs", pass_context=True)
    async def retry_stalled_jobs(context: JobContext, timestamp: int) -> None:
        """Put the jobs of workers whose heartbeat stopped back in the queue."""
        seconds = float(context.additional_context.get(STALLED_AFTER_KEY, 30))
        for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds):
            try:
                await app.job_manager.retry_job(job)
                log.warning("job %s (%s) of a dead worker retried", job.id, job.task_name)
            except ConnectorException as exc:  # a waiting job of its flow holds the queueing lock
                # That waiting job will apply the same pending targets: close this one instead.
                await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
                log.warning(
                    "job %s of a dead worker closed: a job of its flow waits (%s)", job.id, type(exc).__name__
                )
