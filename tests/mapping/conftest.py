"""Fixtures of the mapping tests: the team's world in a sandbox, and the CLI run in its directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures_sandbox import Leadsync, RunningSandbox
from tests.mapping.world import TeamWorld


@pytest.fixture
def team(sandbox: RunningSandbox, tmp_path: Path) -> Iterator[TeamWorld]:
    """The team's table and board, and its leadsync.toml in ``tmp_path``."""
    sandbox.control("POST", "/config", json={"rate_scale": 0})
    world = TeamWorld(sandbox, tmp_path)
    try:
        yield world
    finally:
        world.close()


@pytest.fixture
def cli(sandbox: RunningSandbox, tmp_path: Path, team: TeamWorld) -> Leadsync:
    """``leadsync`` in the team's directory (its leadsync.toml), on a SQLite store."""
    return Leadsync(sandbox, tmp_path, {"LEADSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}"})
