"""Shared rate budgets: the API request slots every process on one store draws from, and 429 pauses.

Each budget is a sliding window named by a key (one per API credential). A slot is a row stamped with
the epoch second it was taken; a pause (after a 429) holds every process back until its end.
"""

from __future__ import annotations

import time

from sqlalchemy import delete, func, insert, select

from leadsync.store.connection import StoreConnection, advisory_key
from leadsync.store.schema import rate_pauses, rate_slots

__all__ = ["RateStore"]


class RateStore(StoreConnection):
    """Claiming request slots and pausing a budget, atomically across processes."""

    def take_rate_slot(self, key: str, limit: int, window: float) -> float:
        """Claim one request slot in the sliding window ``key``, shared by every process on this store.

        Returns 0.0 when a slot was claimed, else the seconds until one frees up (nothing claimed).
        """
        with self._tx(f"take a rate slot for {key}") as conn:
            if not self._is_sqlite:  # SQLite's BEGIN IMMEDIATE already serialises writers
                conn.execute(select(func.pg_advisory_xact_lock(advisory_key(f"rate:{key}"))))
            current = time.time()
            paused: float | None = conn.execute(
                select(rate_pauses.c.until).where(rate_pauses.c.key == key)
            ).scalar()
            if paused is not None and paused > current:
                return paused - current
            conn.execute(
                delete(rate_slots).where(rate_slots.c.key == key, rate_slots.c.at <= current - window)
            )
            count, oldest = conn.execute(
                select(func.count(), func.min(rate_slots.c.at)).where(rate_slots.c.key == key)
            ).one()
            if count < limit:
                conn.execute(insert(rate_slots).values(key=key, at=current))
                return 0.0
            return max(0.001, float(oldest) + window - current)

    def rate_slots_in_use(self, key: str, window: float) -> int:
        """How many slots of ``key`` were taken in the last ``window`` seconds."""
        with self._read(f"count rate slots for {key}") as conn:
            count: int = conn.execute(
                select(func.count()).where(rate_slots.c.key == key, rate_slots.c.at > time.time() - window)
            ).scalar_one()
        return count

    def pause_rate(self, key: str, seconds: float) -> None:
        """Hold every process's requests for ``key`` back for ``seconds`` (after a 429).

        A pause only ever grows: a shorter one asked for later does not cut a longer one short.
        """
        until = time.time() + seconds
        with self._tx(f"pause the rate budget {key}") as conn:
            if not self._is_sqlite:
                conn.execute(select(func.pg_advisory_xact_lock(advisory_key(f"rate:{key}"))))
            current: float | None = conn.execute(
                select(rate_pauses.c.until).where(rate_pauses.c.key == key)
            ).scalar()
            if current is None or current < until:
                conn.execute(self._upsert(rate_pauses, "key", {"key": key, "until": until}))
