"""The sandbox's clock: real time plus an offset that tests can advance (no sleeping through windows)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

__all__ = ["Clock", "iso_ms"]


class Clock:
    """Wall and monotonic time, both shifted by the same adjustable offset."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def time(self) -> float:
        """Wall-clock seconds since the epoch, shifted."""
        return time.time() + self._offset

    def monotonic(self) -> float:
        """Monotonic seconds, shifted by the same offset."""
        return time.monotonic() + self._offset

    def now(self) -> datetime:
        """The shifted wall clock as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def advance(self, seconds: float) -> None:
        """Move both clocks by ``seconds`` (negative: back)."""
        with self._lock:
            self._offset += seconds


def iso_ms(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and ``Z``, as both APIs write timestamps."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
