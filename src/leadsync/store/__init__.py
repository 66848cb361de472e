"""The state store: merge bases of linked pairs, create intents, conflicts, sync state, journal, locks.

One module per concern, each a class over :class:`~leadsync.store.connection.StoreConnection` (the engine
and the transaction helpers), and :class:`Store` composes them by inheritance. Mixins rather than
composition because every concern needs the same connection and transaction helpers, and because callers
(engine, executor, CLI, output) keep one flat object with the methods they have always called
(``store.pairs()``, ``store.lock()``, ``store.log()``...): composition would either re-export every
method by hand or make each call site name the concern.

Open with :meth:`Store.open` (``sqlite:///path`` or ``postgresql+psycopg://...``); a store is safe to share
between the threads of one process.
"""

from __future__ import annotations

from leadsync.store.conflicts import ConflictStore
from leadsync.store.dashboard_queries import DashboardQueryStore
from leadsync.store.journal import ActivityRecord, CycleRecord, JournalStore
from leadsync.store.locks import LockStore
from leadsync.store.pairs import CompletedCreate, PairStore
from leadsync.store.queue import QueueStats, QueueStore
from leadsync.store.rates import RateStore
from leadsync.store.remembered import RememberedIdStore
from leadsync.store.schema import DEFAULT_FLOW
from leadsync.store.sync_state import SyncState, SyncStateChanges, SyncStateStore
from leadsync.store.targets import PendingTargets, TargetStore

__all__ = [
    "DEFAULT_FLOW",
    "ActivityRecord",
    "CompletedCreate",
    "CycleRecord",
    "PendingTargets",
    "QueueStats",
    "Store",
    "SyncState",
    "SyncStateChanges",
]


class Store(
    PairStore,
    ConflictStore,
    SyncStateStore,
    JournalStore,
    RateStore,
    LockStore,
    RememberedIdStore,
    DashboardQueryStore,
    TargetStore,
    QueueStore,
):
    """The state store. Open with :meth:`open`; safe to share between threads of one process."""
