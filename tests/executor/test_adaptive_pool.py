"""The adaptive pool: every operation runs once, never more in flight than the target, more when the
target grows, and a raised exception comes back to the caller."""

from __future__ import annotations

import threading
import time

import pytest

from leadsync.adaptive_pool import InFlightLimiter, run_adaptive


class Gauge:
    """Counts the calls running at once, and the most seen."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.done: list[int] = []
        self.lock = threading.Lock()

    def call(self, op: int, hold: float = 0.02) -> None:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(hold)
        with self.lock:
            self.running -= 1
            self.done.append(op)


def test_every_operation_runs_exactly_once() -> None:
    gauge = Gauge()
    run_adaptive(list(range(200)), lambda op: gauge.call(op, 0.001), lambda: 8)
    assert sorted(gauge.done) == list(range(200))


def test_concurrency_never_exceeds_the_target() -> None:
    gauge = Gauge()
    run_adaptive(list(range(60)), gauge.call, lambda: 3)
    assert gauge.most == 3
    assert sorted(gauge.done) == list(range(60))


def test_concurrency_grows_when_the_target_grows() -> None:
    gauge = Gauge()
    target = [2]

    def call(op: int) -> None:
        gauge.call(op)
        if op == 10:
            target[0] = 10

    run_adaptive(list(range(120)), call, lambda: target[0])
    assert gauge.most == 10
    assert sorted(gauge.done) == list(range(120))


def test_fixed_workers_override_the_target() -> None:
    gauge = Gauge()
    run_adaptive(list(range(30)), gauge.call, lambda: 20, workers=2)
    assert gauge.most == 2


def test_one_worker_runs_inline_in_order() -> None:
    seen: list[tuple[int, str]] = []
    run_adaptive(
        [3, 1, 2], lambda op: seen.append((op, threading.current_thread().name)), lambda: 8, workers=1
    )
    assert seen == [
        (3, threading.current_thread().name),
        (1, threading.current_thread().name),
        (2, threading.current_thread().name),
    ]


def test_a_raised_exception_propagates_and_stops_the_submissions() -> None:
    ran: list[int] = []

    def call(op: int) -> None:
        ran.append(op)
        time.sleep(0.005)
        if op == 5:
            raise RuntimeError("boom on 5")

    with pytest.raises(RuntimeError, match="boom on 5"):
        run_adaptive(list(range(500)), call, lambda: 4)
    assert len(ran) < 500


def test_a_target_below_one_still_makes_progress() -> None:
    gauge = Gauge()
    run_adaptive(list(range(5)), lambda op: gauge.call(op, 0.001), lambda: 0)
    assert gauge.most == 1
    assert sorted(gauge.done) == list(range(5))


def test_a_stopped_limiter_refuses_and_wakes_a_waiter() -> None:
    limiter = InFlightLimiter(lambda: 1)
    assert limiter.acquire()
    answers: list[bool] = []
    waiter = threading.Thread(target=lambda: answers.append(limiter.acquire()))
    waiter.start()
    time.sleep(0.05)
    limiter.stop()
    waiter.join(timeout=5)
    assert answers == [False]
