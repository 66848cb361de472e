"""The CLI against a fresh sandbox, on a SQLite store in the test's directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures_sandbox import Leadsync, RunningSandbox


@pytest.fixture
def cli(sandbox: RunningSandbox, tmp_path: Path) -> Leadsync:
    """``leadsync`` in a subprocess against the sandbox (rate limits off), its store in ``tmp_path``."""
    sandbox.control("POST", "/config", json={"rate_scale": 0})
    return Leadsync(sandbox, tmp_path, {"LEADSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}"})
