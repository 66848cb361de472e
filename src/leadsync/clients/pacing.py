"""Client-side pacing under each API's documented limit, so a 429 is an exception, not the pacing."""

from __future__ import annotations

import threading
import time
from collections import deque


class Pacer:
    """At most ``limit`` request starts in any ``window`` seconds, shared by every thread.

    ``window`` carries a small margin over the server's window, because the server counts arrivals
    and network jitter can bring two sends closer together than they left.
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit = max(1, limit)
        self.window = window
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()
        self._paused_until = 0.0

    def acquire(self) -> float:
        """Block until a request may start; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                while self._starts and self._starts[0] <= now - self.window:
                    self._starts.popleft()
                delay = max(0.0, self._paused_until - now)
                if not delay and len(self._starts) < self.limit:
                    self._starts.append(now)
                    return waited
                if not delay:
                    delay = self._starts[0] + self.window - now
            time.sleep(delay)
            waited += delay

    def pause(self, seconds: float) -> None:
        """Hold every request back for ``seconds`` (after a 429, or when the server says none remain)."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
