"""With a mapping file, a wrong base or board found by a read names the file's key, not the environment's
variable that the person never set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures_sandbox import Leadsync, RunningSandbox
from tests.mapping.world import TeamWorld, mapping_toml


@pytest.fixture
def team(sandbox: RunningSandbox, tmp_path: Path) -> Iterator[TeamWorld]:
    sandbox.control("POST", "/config", json={"rate_scale": 0})
    world = TeamWorld(sandbox, tmp_path)
    try:
        yield world
    finally:
        world.close()


@pytest.mark.parametrize(
    ("wrong", "key"),
    [
        ({"base": "appAAAAAAAAAAAAAA"}, "airtable.base"),
        ({"board": "0123456789abcdef01234567"}, "trello.board"),
    ],
)
def test_a_wrong_base_or_board_in_the_file_names_its_key(
    team: TeamWorld, cli: Leadsync, wrong: dict[str, str], key: str
) -> None:
    where = {"base": team.base, "board": team.board} | wrong
    team.config.write_text(mapping_toml(where["base"], where["board"]))
    run = cli.run("sync")
    assert run.code == 2, run.stdout + run.stderr
    told = " ".join(run.stderr.split())
    assert f"[flow 'sales'] {key}" in told
    assert "leadsync.toml" in told
    assert "AIRTABLE_BASE_ID:" not in told
    assert "TRELLO_BOARD_ID:" not in told
