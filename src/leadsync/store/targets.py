"""Pending job targets: what webhooks named for a flow's next cycle, kept until a cycle has applied them.

With a PostgreSQL store, ``serve`` only records a delivery's leads and cards here and defers a job; at
most one job per flow waits (procrastinate's queueing lock), so every event of a burst lands in the same
rows and the one job that runs takes them all. The job reads the rows, runs its cycle, and only then
deletes the rows it read, by id (:meth:`TargetStore.clear_targets`): a worker killed mid-cycle leaves them for
whoever retries the job, and a row added while the cycle ran stays for the next one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, insert, select

from leadsync.core import CardId, LeadId
from leadsync.store.connection import StoreConnection, now
from leadsync.store.schema import conflicts, job_targets

__all__ = ["PendingTargets", "TargetStore"]


@dataclass(frozen=True, slots=True)
class PendingTargets:
    """A flow's pending targets as one job reads them."""

    ids: tuple[int, ...] = ()
    """The rows read: :meth:`TargetStore.clear_targets` deletes these, never one committed after the read
    (a row numbered below one read may commit later, so "up to the newest id" would not do)."""
    leads: frozenset[LeadId] = field(default_factory=frozenset)
    cards: frozenset[CardId] = field(default_factory=frozenset)
    full: bool = False
    sweep: bool = False
    """A periodic sweep found a job waiting already: that job runs an incremental cycle."""
    pings: int = 0
    """Airtable notifications: the job reads the webhook's payloads to learn which leads changed."""
    oldest: datetime | None = None
    """When the oldest pending event arrived."""

    def __bool__(self) -> bool:
        return bool(self.ids)


class TargetStore(StoreConnection):
    """Recording, reading and clearing the pending targets of this store's flow."""

    def add_targets(
        self,
        *,
        leads: Iterable[str] = (),
        cards: Iterable[str] = (),
        full: bool = False,
        ping: bool = False,
        sweep: bool = False,
    ) -> None:
        """Record an event's targets for the flow's next job, in one transaction."""
        at = now()
        rows: list[dict[str, object]] = [
            {"flow": self.flow, "kind": kind, "target": target, "at": at}
            for kind, ids in (("lead", leads), ("card", cards))
            for target in dict.fromkeys(ids)
        ]
        for kind, wanted in (("full", full), ("ping", ping), ("sweep", sweep)):
            if wanted:
                rows.append({"flow": self.flow, "kind": kind, "target": None, "at": at})
        if not rows:
            return
        with self._tx(f"record the targets of flow {self.flow!r}") as conn:
            conn.execute(insert(job_targets), rows)

    def pending_targets(self) -> PendingTargets:
        """Every pending target of the flow (the rows stay until :meth:`clear_targets`)."""
        query = select(job_targets).where(job_targets.c.flow == self.flow).order_by(job_targets.c.id)
        with self._read(f"read the targets of flow {self.flow!r}") as conn:
            rows = conn.execute(query).all()
        if not rows:
            return PendingTargets()
        return PendingTargets(
            ids=tuple(r.id for r in rows),
            leads=frozenset(LeadId(r.target) for r in rows if r.kind == "lead"),
            cards=frozenset(CardId(r.target) for r in rows if r.kind == "card"),
            full=any(r.kind == "full" for r in rows),
            sweep=any(r.kind == "sweep" for r in rows),
            pings=sum(r.kind == "ping" for r in rows),
            oldest=min((r.at for r in rows if r.kind != "sweep"), default=None),
        )

    def clear_targets(self, ids: Iterable[int]) -> None:
        """Forget these rows of the flow's targets (a cycle has applied them)."""
        wanted = list(ids)
        if not wanted:
            return
        with self._tx(f"clear the targets of flow {self.flow!r}") as conn:
            conn.execute(
                delete(job_targets).where(job_targets.c.flow == self.flow, job_targets.c.id.in_(wanted))
            )

    def open_conflict_counts(self) -> dict[str, int]:
        """Open conflicts by flow, every flow of the store (for ``/metrics``)."""
        query = (
            select(conflicts.c.flow, func.count())
            .where(conflicts.c.resolved_at.is_(None))
            .group_by(conflicts.c.flow)
        )
        with self._read("count the open conflicts") as conn:
            return {str(flow): int(n) for flow, n in conn.execute(query).all()}
