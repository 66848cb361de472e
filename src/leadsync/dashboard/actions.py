"""What a person does from the dashboard: settle a conflict (asking for a cycle is the backend's
:meth:`~leadsync.dashboard.backend.Backend.queue`).

Settling is the same as ``leadsync conflicts resolve LEAD --keep SIDE``: :func:`leadsync.settling.settle_conflict`
reads both sides, decides the conflict and the pair's new base, and the store keeps both.
"""

from __future__ import annotations

from leadsync.core import Conflict, LeadId, Side
from leadsync.engine import Engine
from leadsync.errors import LeadsyncError
from leadsync.settling import settle_conflict

__all__ = ["NothingToSettle", "settle"]


class NothingToSettle(LeadsyncError):
    """The lead has no open conflict (settled meanwhile, or never in conflict)."""


def settle(engine: Engine, lead_id: LeadId, keep: Side, field: str | None = None) -> Conflict:
    """Keep ``keep``'s value in the lead's open conflict of ``field`` (the oldest open one when None);
    the next cycle writes it to the other side. Blocking: it reads both sides."""
    store = engine.store
    if store.get_open_conflict(lead_id, field) is None or store.get_pair(lead_id) is None:
        raise NothingToSettle(f"lead {lead_id} has no open conflict" + (f" on {field}" if field else ""))
    return settle_conflict(engine, lead_id, keep, field)
