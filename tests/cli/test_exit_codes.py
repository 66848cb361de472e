"""One error-to-exit-code table for every command: 2 for configuration (an unusable store included),
3 for a side that could not be read, 1 for a busy lock and other failures."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadsync.cli import app
from leadsync.errors import ApiError, ConfigError, LockBusy, ReadFailed, StoreError
from leadsync.exit_codes import ExitCode, StoreUnusable, error_exit

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens on it here


@pytest.fixture(autouse=True)
def _keep_logging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command sets up its own logging (to a stream the runner closes), and reads ``.env``."""
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def settings_env(tmp_path: Path, **changes: str | None) -> dict[str, str | None]:
    env: dict[str, str | None] = {
        "AIRTABLE_API_KEY": "key",
        "AIRTABLE_BASE_ID": "appABCDEFGHIJKLMN",
        "AIRTABLE_API_URL": UNREACHABLE,
        "TRELLO_API_KEY": "key",
        "TRELLO_TOKEN": "token",
        "TRELLO_BOARD_ID": "0123456789abcdef01234567",
        "TRELLO_API_URL": UNREACHABLE,
        "TRELLO_LIST_IDS": json.dumps({"NEW": "l1", "CONTACTED": "l2", "QUALIFIED": "l3", "WON": "l4"}),
        "LEADSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
        "LEADSYNC_MAX_RETRY_SECONDS": "0.5",
    }
    env.update(changes)
    return env


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (ConfigError("AIRTABLE_BASE_ID", "missing", "Set it"), ExitCode.CONFIG, "Configuration error"),
        (StoreUnusable("no such file"), ExitCode.CONFIG, "state store can't be opened (no such file)"),
        (StoreError("disk full"), ExitCode.CONFIG, "State store error"),
        (
            ReadFailed("Trello", ApiError("trello", "GET", "/1/boards")),
            ExitCode.READ_FAILED,
            "Nothing was written",
        ),
        (LockBusy("cycle"), ExitCode.RECORD_ERRORS, "Another leadsync process"),
        (ApiError("trello", "POST", "/1/webhooks", 400), ExitCode.RECORD_ERRORS, "Failed"),
    ],
)
def test_each_error_maps_to_its_exit_code_and_message(error: Exception, code: ExitCode, words: str) -> None:
    assert isinstance(error, ConfigError | StoreError | ReadFailed | ApiError)
    got_code, message = error_exit(error)
    assert got_code == code
    assert words in message


def test_missing_settings_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sync"], env=settings_env(tmp_path, AIRTABLE_BASE_ID=None))
    assert result.exit_code == 2
    assert "Configuration error" in result.output
    assert "AIRTABLE_BASE_ID" in result.output


def test_an_unusable_store_exits_2(tmp_path: Path) -> None:
    env = settings_env(tmp_path, LEADSYNC_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:9/none")
    for command in (["sync"], ["status"], ["conflicts"]):
        result = CliRunner().invoke(app, command, env=env)
        assert result.exit_code == 2, (command, result.output)
        assert "the state store can't be opened" in result.output


def test_an_unreadable_side_exits_3_and_says_so_in_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sync", "--json"], env=settings_env(tmp_path))
    assert result.exit_code == 3, result.output
    first = json.loads(result.stdout.splitlines()[0])
    assert first["error"] == "read_failed"
    assert first["side"] == "Airtable schema"  # the first read of a cycle: the table's fields
    assert "Nothing was written" in first["message"]
