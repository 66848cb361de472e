"""The job queue as the store sees it: procrastinate's tables, read for ``status`` and ``/metrics``.

procrastinate keeps its jobs in the same PostgreSQL database as the store (``leadsync worker`` applies
its schema); a SQLite store, or a PostgreSQL one no worker ever started on, has no queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from leadsync.store.connection import StoreConnection

__all__ = ["QueueStats", "QueueStore"]

_STATS = text(
    """
    SELECT j.status::text AS status, count(*) AS jobs,
           coalesce(extract(epoch FROM now() - min(coalesce(e.at, now()))), 0) AS oldest
    FROM procrastinate_jobs j
    LEFT JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred'
    WHERE j.status IN ('todo', 'doing')
    GROUP BY j.status
    """
)
_FAILED = text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'")
_WORKERS = text("SELECT count(*) FROM procrastinate_workers")


@dataclass(frozen=True, slots=True)
class QueueStats:
    """How many jobs wait and run, and how long the oldest waiting one has waited (seconds)."""

    waiting: int = 0
    running: int = 0
    failed: int = 0
    oldest_waiting: float = 0.0
    workers: int = 0


class QueueStore(StoreConnection):
    """Reading procrastinate's job queue (PostgreSQL only)."""

    @property
    def has_queue(self) -> bool:
        """Whether this store can hold a job queue (PostgreSQL)."""
        return not self._is_sqlite

    def queue_stats(self) -> QueueStats | None:
        """The queue's state, or None on SQLite or before any worker applied procrastinate's schema."""
        if self._is_sqlite:
            return None
        with self._read("read the job queue") as conn:
            if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is None:
                return None
            by_status = {row.status: row for row in conn.execute(_STATS)}
            failed = int(conn.execute(_FAILED).scalar_one())
            workers = int(conn.execute(_WORKERS).scalar_one())
        todo, doing = by_status.get("todo"), by_status.get("doing")
        return QueueStats(
            waiting=int(todo.jobs) if todo else 0,
            running=int(doing.jobs) if doing else 0,
            failed=failed,
            oldest_waiting=float(todo.oldest) if todo else 0.0,
            workers=workers,
        )
