"""Run one function over many operations with a number in flight that follows a moving target.

An API's useful concurrency is its rate limit times its latency (Little's law), and the latency moves
as the API comes under load: :func:`run_adaptive` re-reads the target (``in_flight()``) each time it is
about to start an operation, so the number of operations in flight grows as the API slows down and
shrinks back as it speeds up. The threads are a standard :class:`~concurrent.futures.ThreadPoolExecutor`;
a small limiter (a condition around a count) gates the submissions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

__all__ = ["MOST_IN_FLIGHT", "InFlightLimiter", "run_adaptive"]

MOST_IN_FLIGHT = 64  # as many as the HTTP client keeps connections for

_T = TypeVar("_T")


class InFlightLimiter:
    """A count of operations in flight, held under a target that may change between acquisitions."""

    def __init__(self, target: Callable[[], int]) -> None:
        """``target``: how many operations may be in flight now (read again at each acquisition)."""
        self._target = target
        self._count = 0
        self._stopped = False
        self._changed = threading.Condition()

    def acquire(self) -> bool:
        """Wait for a free place and take it; False (taking nothing) once :meth:`stop` was called."""
        with self._changed:
            while not self._stopped and self._count >= max(1, self._target()):
                self._changed.wait()
            if self._stopped:
                return False
            self._count += 1
            return True

    def release(self) -> None:
        """Give a place back."""
        with self._changed:
            self._count -= 1
            self._changed.notify_all()

    def stop(self) -> None:
        """Refuse every later acquisition (and wake the waiting one)."""
        with self._changed:
            self._stopped = True
            self._changed.notify_all()


def run_adaptive(
    ops: Sequence[_T],
    fn: Callable[[_T], object],
    in_flight: Callable[[], int],
    *,
    workers: int | None = None,
    thread_name_prefix: str = "leadsync-write",
) -> None:
    """Call ``fn`` once on each of ``ops``, with at most ``in_flight()`` calls running at once.

    ``workers`` fixes the number instead (1 runs every call inline, in order). The first exception a
    call raises stops the submissions and is re-raised once the calls already running have finished:
    ``fn`` is expected to report the errors it anticipates itself, so an exception here is a bug.
    """
    if not ops:
        return
    if len(ops) == 1 or workers == 1:
        for op in ops:
            fn(op)
        return
    cap = min(len(ops), workers or MOST_IN_FLIGHT)
    limiter = InFlightLimiter(lambda: min(cap, workers or in_flight()))
    failures: list[BaseException] = []
    failures_lock = threading.Lock()

    def finished(future: Future[object]) -> None:
        exc = future.exception()
        if exc is not None:
            with failures_lock:
                failures.append(exc)
            limiter.stop()
        limiter.release()

    with ThreadPoolExecutor(max_workers=cap, thread_name_prefix=thread_name_prefix) as pool:
        for op in ops:
            if not limiter.acquire():
                break
            pool.submit(fn, op).add_done_callback(finished)
    if failures:
        raise failures[0]
