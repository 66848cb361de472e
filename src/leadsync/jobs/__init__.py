"""Jobs on procrastinate: many flows synced by any number of ``leadsync worker`` processes.

With a PostgreSQL store, ``serve`` verifies webhooks and defers jobs; workers run them. One module per
concern: ``app`` (the procrastinate app and its schema), ``defer`` (queueing a flow's job, bursts
merged), ``tasks`` (the tasks and their schedules), ``runtime`` (what a job runs), ``metrics``
(Prometheus) and ``command`` (``leadsync worker``).
"""

from __future__ import annotations

from leadsync.jobs.app import JOB_QUEUE, build_app, ensure_schema
from leadsync.jobs.defer import SYNC_TASK, defer_sync, flow_lock

__all__ = ["JOB_QUEUE", "SYNC_TASK", "build_app", "defer_sync", "ensure_schema", "flow_lock"]
