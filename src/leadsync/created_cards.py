"""Stores the cards the executor created, in batches, on one writer thread.

A create's pair may be stored only after its card exists, and storing each on its own costs a
transaction per card: the writer gathers finished creates and stores them with
:meth:`~leadsync.store.Store.complete_creates`, every ``batch_size`` of them or every ``interval``
seconds, whichever comes first, and the rest when it is closed. A crash before a batch is stored
loses nothing: those leads' intents are still recorded, and the next full read adopts their cards
through their ``Lead ID:`` line.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Self

from leadsync.errors import LeadsyncError
from leadsync.store import CompletedCreate, Store

__all__ = ["BATCH_SIZE", "FLUSH_INTERVAL", "CreatedCardWriter", "StoredCallback"]

BATCH_SIZE = 50
FLUSH_INTERVAL = 0.5  # seconds a finished create may wait for its batch

StoredCallback = Callable[[CompletedCreate, str | None], None]
"""Told of each create once its batch was written: ``None`` when stored, else why it was refused."""


class CreatedCardWriter:
    """A context manager gathering finished creates (:meth:`add`, from any thread) and storing them in
    batches on its own writer thread; leaving the context stores the rest and waits for it."""

    def __init__(
        self,
        store: Store,
        on_stored: StoredCallback,
        *,
        batch_size: int = BATCH_SIZE,
        interval: float = FLUSH_INTERVAL,
    ) -> None:
        """``on_stored`` is called on the writer thread for every create, stored or refused."""
        self.store = store
        self.on_stored = on_stored
        self.batch_size = batch_size
        self.interval = interval
        self._pending: list[CompletedCreate] = []
        self._closed = False
        self._changed = threading.Condition()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="leadsync-store-creates")
        self._drained: Future[None] | None = None

    def __enter__(self) -> Self:
        self._drained = self._pool.submit(self._drain)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        try:
            if self._drained is not None:
                self._drained.result()
        finally:
            self._pool.shutdown()

    def add(self, created: CompletedCreate) -> None:
        """Queue one finished create for the next batch."""
        with self._changed:
            self._pending.append(created)
            if len(self._pending) >= self.batch_size:
                self._changed.notify_all()

    def _drain(self) -> None:
        while True:
            with self._changed:
                deadline = time.monotonic() + self.interval
                while not self._closed and len(self._pending) < self.batch_size:
                    left = deadline - time.monotonic()
                    if left <= 0 and self._pending:
                        break
                    self._changed.wait(left if left > 0 else self.interval)
                batch, self._pending = self._pending, []
                last = self._closed and not batch
            if last:
                return
            if batch:
                self._store(batch)

    def _store(self, batch: list[CompletedCreate]) -> None:
        try:
            refused = self.store.complete_creates(batch)
        except LeadsyncError as exc:
            refused = {item.base.lead_id: str(exc) for item in batch}
        for item in batch:
            self.on_stored(item, refused.get(item.base.lead_id))
