"""Client-side pacing under each API's documented limit, so a 429 is an exception, not the pacing."""

from __future__ import annotations

import threading
import time
from collections import deque

__all__ = ["Pacer"]


class Pacer:
    """At most ``limit`` request starts in any ``window`` seconds, shared by every thread.

    A sliding window, as both APIs count: a burst of ``limit`` may start at once, and the next request
    waits for the oldest start to leave the window. Each caller reserves its start time under the lock
    and sleeps until then, so waiting threads leave in order, one per freed slot, instead of all waking
    for every slot. ``window`` carries a small margin over the server's window, because the server
    counts arrivals and network jitter can bring two sends closer together than they left.
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit = max(1, limit)
        self.window = window
        self._starts: deque[float] = deque()  # start times, past and reserved, in order
        self._lock = threading.Lock()
        self._paused_until = 0.0

    @property
    def rate(self) -> float:
        """Requests per second in the long run."""
        return self.limit / self.window

    def _trim(self, now: float) -> None:
        while self._starts and self._starts[0] <= now - self.window:
            self._starts.popleft()

    def acquire(self) -> float:
        """Block until a request may start; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                self._trim(now)
                reserved = self._paused_until <= now
                if reserved:
                    at = now
                    if len(self._starts) >= self.limit:
                        at = max(at, self._starts[-self.limit] + self.window)
                    self._starts.append(at)
                else:
                    at = self._paused_until
            if at > now:
                time.sleep(at - now)
                waited += at - now
            if reserved and self._paused_until <= at:
                return waited
            # Paused, or a penalty began while this caller slept (its reservation stays spent): again.

    def pause(self, seconds: float) -> None:
        """The server reports that no request remains in its window of ``seconds``.

        When this pacer's own starts fill its window they explain the report, and :meth:`acquire`
        already waits for the oldest of them to age out: nothing more to do. Otherwise someone else
        spends the same quota (another process with the same token), and every request waits the
        server's whole window out.
        """
        with self._lock:
            now = time.monotonic()
            self._trim(now)
            started = sum(1 for at in self._starts if at <= now)
            if started >= self.limit:
                return
            self._paused_until = max(self._paused_until, now + seconds)

    def penalize(self, seconds: float) -> None:
        """Hold every request back for ``seconds`` (after a 429: the server refuses until then)."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
