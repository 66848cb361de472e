"""What a person does from the dashboard: settle a conflict, ask for a cycle.

Settling is the same as ``leadsync conflicts resolve LEAD --keep SIDE``: :func:`leadsync.settling.settle_conflict`
reads both sides, decides the conflict and the pair's new base, and the store keeps both. Asking for a cycle goes through
:func:`queue_cycle` alone, so that a job queue can take the place of the embedded worker later.
"""

from __future__ import annotations

from typing import Protocol

from leadsync.core import Conflict, LeadId, Side
from leadsync.engine import Engine
from leadsync.errors import LeadsyncError
from leadsync.settling import settle_conflict
from leadsync.store import DEFAULT_FLOW

__all__ = ["CycleQueue", "NothingToSettle", "queue_cycle", "settle"]


class NothingToSettle(LeadsyncError):
    """The lead has no open conflict (settled meanwhile, or never in conflict)."""


class CycleQueue(Protocol):
    """Whatever runs the cycles of this process (today: the server's :class:`~leadsync.server.SyncWorker`)."""

    def notify(self, *, leads: list[LeadId] = ..., full: bool = ...) -> None:
        """Queue a cycle: of the named leads, or a full one."""


def settle(engine: Engine, lead_id: LeadId, keep: Side, field: str | None = None) -> Conflict:
    """Keep ``keep``'s value in the lead's open conflict of ``field`` (the oldest open one when None);
    the next cycle writes it to the other side. Blocking: it reads both sides."""
    store = engine.store
    if store.get_open_conflict(lead_id, field) is None or store.get_pair(lead_id) is None:
        raise NothingToSettle(f"lead {lead_id} has no open conflict" + (f" on {field}" if field else ""))
    return settle_conflict(engine, lead_id, keep, field)


def queue_cycle(queue: CycleQueue | None, flow: str, *, leads: list[LeadId] | None = None) -> bool:
    """Queue a cycle of ``flow``: a full one, or one of ``leads``, taken like any other request.

    False when nothing in this process runs that flow's cycles (the flow is served elsewhere)."""
    if queue is None or flow != DEFAULT_FLOW:
        return False
    if leads:
        queue.notify(leads=leads)
    else:
        queue.notify(full=True)
    return True
