"""Named locks across processes, released by the system when their holder dies.

PostgreSQL: a session advisory lock on a dedicated connection; the server drops it with the session.
SQLite: an exclusive ``flock`` (through ``filelock``) on a file beside the database,
``<database>.<name>.lock``, created 0600. The kernel releases it when the holding process exits, even by
SIGKILL, so a killed ``leadsync sync`` never blocks the next one. ``flock`` locks belong to an open file,
not to a process, so two :class:`~leadsync.store.Store` objects in one process exclude each other too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from leadsync.errors import LockBusy, StoreError
from leadsync.store.connection import PRIVATE_FILE_MODE, StoreConnection, advisory_key, describe
from leadsync.store.schema import DEFAULT_FLOW

__all__ = ["LockStore", "lock_file_path"]

log = logging.getLogger(__name__)

_LOCK_POLL = 0.05


def lock_file_path(database: Path, name: str) -> Path:
    """The file whose ``flock`` is the SQLite store's lock ``name``."""
    return database.with_name(f"{database.name}.{name}.lock")


class LockStore(StoreConnection):
    """The store's named cross-process locks."""

    def lock(self, name: str = "cycle", *, wait: float = 0.0) -> AbstractContextManager[None]:
        """Hold the named lock of this store's flow for the ``with`` block; LockBusy if still taken after
        ``wait`` seconds. The default flow's lock keeps its earlier name, so older processes still exclude."""
        if self.flow != DEFAULT_FLOW:
            name = f"{name}.{self.flow}"
        if self._sqlite_path is not None:
            return self._file_lock(lock_file_path(self._sqlite_path, name), name, wait)
        return self._pg_lock(name, wait)

    @contextmanager
    def _file_lock(self, path: Path, name: str, wait: float) -> Iterator[None]:
        lock = FileLock(
            path,
            mode=PRIVATE_FILE_MODE,
            thread_local=False,
            fallback_to_soft=False,  # a lock file that outlives its holder is the bug this module fixes
            poll_interval=_LOCK_POLL,
        )
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise LockBusy(f"lock {name!r} is held by another process (waited {wait:g}s)") from None
        except OSError as exc:
            raise StoreError(f"store could not take lock {name!r}: {exc}") from exc
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def _pg_lock(self, name: str, wait: float) -> Iterator[None]:
        key = advisory_key(f"lock:{name}")
        deadline = time.monotonic() + wait
        try:
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except SQLAlchemyError as exc:
            raise StoreError(f"store could not take lock {name!r}: {describe(exc)}") from exc
        try:
            while True:
                try:
                    got = conn.execute(select(func.pg_try_advisory_lock(key))).scalar_one()
                except SQLAlchemyError as exc:
                    raise StoreError(f"store could not take lock {name!r}: {describe(exc)}") from exc
                if got:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LockBusy(f"lock {name!r} is held by another process (waited {wait:g}s)")
                time.sleep(min(_LOCK_POLL, remaining))
            try:
                yield
            finally:
                try:
                    conn.execute(select(func.pg_advisory_unlock(key)))
                except SQLAlchemyError:
                    log.warning("could not release lock %r; dropping its connection", name, exc_info=True)
                    conn.invalidate()  # ends the session, which releases the lock
        finally:
            conn.close()
