"""Where the dashboard's flows live: what it reads, which engine settles a conflict, how a cycle is asked for.

``serve`` runs in one of three shapes, and the dashboard is the same page in each:

- one flow from the environment, one :class:`~leadsync.server.SyncWorker` thread (:class:`OneWorker`);
- several flows on SQLite, a worker thread per flow; or flows on PostgreSQL whose cycles are jobs of
  ``leadsync worker`` processes (both :class:`FlowHub`, over :class:`~leadsync.flow_server.Hub`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

from leadsync.config import FlowConfig
from leadsync.core import CardId, LeadId
from leadsync.engine import Engine
from leadsync.store import Store

if TYPE_CHECKING:  # the servers import the dashboard, not the other way round
    from leadsync.flow_server import Hub

__all__ = ["Backend", "FlowHub", "OneWorker", "Worker"]


class Worker(Protocol):
    """The part of the server's :class:`~leadsync.server.SyncWorker` the dashboard uses."""

    engine: Engine

    @property
    def status(self) -> str:
        """``ok``, or what keeps the worker from syncing."""

    def notify(
        self,
        *,
        leads: Iterable[LeadId] = (),
        cards: Iterable[CardId] = (),
        airtable_ping: bool = False,
        full: bool = False,
    ) -> None:
        """Queue a cycle."""


class Backend(Protocol):
    """What the dashboard needs of the server it is mounted in."""

    def store(self) -> Store:
        """The state store every flow of this server syncs with."""

    def flow(self, name: str | None = None) -> FlowConfig:
        """The flow named ``name`` (the first one when None); KeyError when there is none such."""

    def worker_status(self, flow: str) -> str | None:
        """The flow's worker thread's status in this process, or None when none runs here (jobs)."""

    def engine(self, flow: str) -> Engine:
        """An engine of ``flow`` (to settle a conflict: it reads both sides)."""

    async def queue(self, flow: str, leads: list[LeadId] | None = None) -> bool:
        """Ask for a cycle of ``flow``: of ``leads``, or a full one. False when the flow is unknown."""


class OneWorker:
    """The environment's one flow, synced by this process's worker thread."""

    def __init__(self, worker: Callable[[], Worker]) -> None:
        """``worker`` gives the running worker (it exists once the app has started)."""
        self._worker = worker

    def store(self) -> Store:
        """The worker's store."""
        return self._worker().engine.store

    def flow(self, name: str | None = None) -> FlowConfig:
        """The one flow."""
        flow = self._worker().engine.flow
        if name not in (None, flow.name):
            raise KeyError(name)
        return flow

    def worker_status(self, flow: str) -> str | None:
        """The worker's status, for its flow."""
        worker = self._worker()
        return worker.status if flow == worker.engine.flow.name else None

    def engine(self, flow: str) -> Engine:
        """The worker's engine."""
        return self._worker().engine

    async def queue(self, flow: str, leads: list[LeadId] | None = None) -> bool:
        """Hand the worker a targeted or a full cycle."""
        worker = self._worker()
        if flow != worker.engine.flow.name:
            return False
        if leads:
            worker.notify(leads=leads)
        else:
            worker.notify(full=True)
        return True


class FlowHub:
    """The flows of :func:`~leadsync.flow_server.create_flows_server`: worker threads, or jobs."""

    def __init__(self, hub: Callable[[], Hub]) -> None:
        """``hub`` gives the running server's hub."""
        self._hub = hub
        self._engines: dict[str, Engine] = {}

    def store(self) -> Store:
        """The store every flow shares."""
        return self._hub().store

    def flow(self, name: str | None = None) -> FlowConfig:
        """A flow of the server (the first when None)."""
        flows = self._hub().flows
        return flows[name] if name is not None else next(iter(flows.values()))

    def worker_status(self, flow: str) -> str | None:
        """The flow's worker thread's status, when one runs here."""
        worker = self._hub().workers.get(flow)
        return None if worker is None else worker.status

    def engine(self, flow: str) -> Engine:
        """The flow's worker thread's engine, or one made (once) for the dashboard when jobs run the cycles."""
        hub = self._hub()
        if flow in hub.workers:
            return hub.workers[flow].engine
        if flow not in self._engines:
            self._engines[flow] = Engine(hub.settings, flow=hub.flows[flow], store=hub.store)
        return self._engines[flow]

    async def queue(self, flow: str, leads: list[LeadId] | None = None) -> bool:
        """The flow's cycle, queued as a webhook's would be (a thread's or a job)."""
        hub = self._hub()
        if flow not in hub.flows:
            return False
        await hub.notify(flow, leads=leads or (), full=not leads)
        return True
