"""Deferring a flow's sync job: record what the event named, then queue at most one waiting job per flow.

Every job of a flow has ``lock=flow:<name>`` (procrastinate runs one at a time) and
``queueing_lock=flow:<name>`` (at most one waits). The targets go to the store first
(:meth:`~leadsync.store.Store.add_targets`); deferring then either queues a job or meets
``AlreadyEnqueued``, which means a job of the flow is waiting and has not read the targets yet: it will
take these with the others, so a burst of webhooks becomes one cycle. A job that is *running* holds no
queueing lock, so an event arriving mid-cycle queues the next job.
"""

from __future__ import annotations

from collections.abc import Iterable

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued

from leadsync.jobs.app import JOB_QUEUE
from leadsync.store import Store

__all__ = ["SYNC_TASK", "defer_sync", "flow_lock"]

SYNC_TASK = "sync_flow"
"""The name of the task that runs one cycle of a flow."""


def flow_lock(flow: str) -> str:
    """The lock and queueing lock of ``flow``'s jobs."""
    return f"flow:{flow}"


async def defer_sync(
    app: procrastinate.App,
    store: Store,
    flow: str,
    *,
    mode: str = "targeted",
    leads: Iterable[str] = (),
    cards: Iterable[str] = (),
    full: bool = False,
    ping: bool = False,
) -> int | None:
    """Record the targets and defer ``flow``'s job; its id, or None when one was waiting already."""
    store.for_flow(flow).add_targets(
        leads=leads, cards=cards, full=full, ping=ping, sweep=mode == "incremental"
    )
    deferrer = app.configure_task(
        SYNC_TASK, lock=flow_lock(flow), queueing_lock=flow_lock(flow), queue=JOB_QUEUE
    )
    try:
        job_id: int = await deferrer.defer_async(flow=flow, mode=mode)
    except AlreadyEnqueued:
        return None
    return job_id
