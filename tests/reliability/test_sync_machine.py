"""The model-based randomized test (the Trinity analogue): :class:`SyncMachine` over the real engine and the
in-process sandbox. The CI profile runs by default; the long profile with
``.venv/bin/pytest tests/reliability -m slow`` (or ``python -m bench.reliability``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stamina
from hypothesis.stateful import run_state_machine_as_test

from tests.reliability.machine import SyncMachine, profile


@pytest.fixture(autouse=True)
def no_backoff() -> Iterator[None]:
    """Retries keep their predicates and attempts, without the waits (stamina's test mode)."""
    with stamina.set_testing(True, attempts=6, cap=True):
        yield


def test_sync_machine_ci_profile() -> None:
    run_state_machine_as_test(SyncMachine, settings=profile())


@pytest.mark.slow
@pytest.mark.timeout(0)
def test_sync_machine_long_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deselected by default (pytest runs ``-m "not slow"``): ``.venv/bin/pytest tests/reliability -m slow``."""
    monkeypatch.setenv("LEADSYNC_LONG", "1")
    run_state_machine_as_test(SyncMachine, settings=profile())
