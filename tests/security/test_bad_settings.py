"""Malformed settings stop every command before any request, with exit code 2 and a message that names the
variable, says what is wrong and how to get a right value, and never echoes a secret (not even one pasted
into the wrong variable, or with the stray space or line break a copy-paste leaves)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from leadsync.config import load_flows
from leadsync.errors import ConfigError
from leadsync.settings import load_settings
from tests.fixtures_sandbox import RunningSandbox

GOOD: dict[str, str] = {
    "AIRTABLE_API_KEY": "patAbCdEfGhIjKlMn.0123456789abcdef",
    "AIRTABLE_BASE_ID": "appAAAAAAAAAAAAAA",
    "TRELLO_API_KEY": "0123456789abcdef0123456789abcdef",
    "TRELLO_TOKEN": "fedcba9876543210" * 4,
    "TRELLO_BOARD_ID": "AbCd1234",
}


def load(**values: Any) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, **{**GOOD, **values})
    return caught.value


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("AIRTABLE_BASE_ID", "base123", "is not a base id"),
        ("TRELLO_BOARD_ID", "not a board!", "neither a 24-hex board id nor an 8-character short link"),
        ("AIRTABLE_API_URL", "api.airtable.com", "is not an http(s) URL"),
        ("TRELLO_API_URL", "https://api.trello.com/1", "must not end with the API version"),
        ("TRELLO_LIST_IDS", "{not json", "is not valid JSON"),
        ("TRELLO_LIST_IDS", '["NEW"]', "must be a JSON object of non-empty strings"),
        ("TRELLO_LIST_IDS", '{"NEW": ""}', "must be a JSON object of non-empty strings"),
        ("TRELLO_LIST_IDS", "{}", "must not be empty"),
        ("LEADSYNC_STATUS_LIST_NAMES", "NEW=New", "is not valid JSON"),
        ("LEADSYNC_CONFLICT_POLICY", "newest", "'latest', 'airtable', 'trello' or 'manual'"),
        ("LEADSYNC_DATABASE_URL", "mysql://db/leads", "is not supported"),
        ("LEADSYNC_MAX_RETRY_SECONDS", "-1", "greater than or equal to 0"),
        ("LEADSYNC_MAX_RETRY_SECONDS", "soon", "valid number"),
        ("LEADSYNC_RATE_LIMIT_SCALE", "0", "greater than 0"),
        ("LEADSYNC_FULL_SCAN_EVERY", "hourly", "valid integer"),
        ("LEADSYNC_PUBLIC_URL", "leadsync.example.com", "is not an http(s) URL"),
    ],
)
def test_a_malformed_setting_names_the_variable_the_problem_and_the_fix(
    variable: str, value: str, problem: str
) -> None:
    error = load(**{variable: value})
    assert error.variable == variable
    assert problem in error.problem
    assert error.fix
    assert error.fix != "See the README's settings table"
    assert str(error).startswith(f"{variable}: ")


@pytest.mark.parametrize("variable", ["AIRTABLE_API_KEY", "TRELLO_API_KEY", "TRELLO_TOKEN"])
def test_a_missing_or_empty_credential_is_not_set(variable: str) -> None:
    values = {k: v for k, v in GOOD.items() if k != variable}
    with pytest.raises(ConfigError) as missing:
        # Checked when the flow is built: a mapping file may name other variables for the credentials.
        load_flows(load_settings(None, **values), env_file=None)
    assert missing.value.variable == variable
    assert missing.value.problem == "is not set"
    for empty in ("", "   "):
        error = load(**{variable: empty})
        assert error.variable == variable
        assert "empty" in error.problem


@pytest.mark.parametrize(
    "variable", ["AIRTABLE_API_KEY", "TRELLO_API_KEY", "TRELLO_TOKEN", "TRELLO_API_SECRET"]
)
def test_a_credential_pasted_with_surrounding_whitespace_is_trimmed(variable: str) -> None:
    secret = GOOD.get(variable, "0a1b2c3d4e5f" * 4)
    settings = load_settings(None, **{**GOOD, variable: f"  {secret}\n"})
    value = getattr(settings, variable)
    assert value is not None
    assert value.get_secret_value() == secret


@pytest.mark.parametrize("variable", ["AIRTABLE_API_KEY", "TRELLO_TOKEN", "WEBHOOK_SECRET"])
def test_a_credential_with_a_line_break_inside_is_refused_without_echoing_it(variable: str) -> None:
    secret = "abcdef0123456789\nabcdef0123456789"
    error = load(**{variable: secret})
    assert error.variable == variable
    assert "control character" in error.problem or "space" in error.problem
    for part in secret.split("\n"):
        assert part not in str(error)


def test_a_secret_pasted_into_the_wrong_variable_is_not_echoed() -> None:
    error = load(TRELLO_API_URL=GOOD["TRELLO_TOKEN"])
    assert error.variable == "TRELLO_API_URL"
    assert GOOD["TRELLO_TOKEN"] not in str(error)
    assert "is not an http(s) URL" in error.problem


def test_settings_come_from_a_dotenv_file_and_its_errors_are_as_clear(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in {**GOOD, "TRELLO_LIST_IDS": "{oops"}.items()))
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file)
    assert caught.value.variable == "TRELLO_LIST_IDS"
    assert "is not valid JSON" in caught.value.problem


def _cli(sandbox: RunningSandbox, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    own = ("AIRTABLE_", "TRELLO_", "LEADSYNC_", "WEBHOOK_SECRET", "PERSON_")
    base = {k: v for k, v in os.environ.items() if not k.startswith(own)}
    base.update({k: v for k, v in sandbox.settings.items() if not k.startswith("PERSON_")})
    base["LEADSYNC_DATABASE_URL"] = f"sqlite:///{tmp_path / 'state.db'}"
    base.update(env)
    return subprocess.run([sys.executable, "-m", "leadsync", "-vv", "sync"], cwd=tmp_path, env=base,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_the_cli_stops_with_exit_2_before_any_request_and_echoes_no_secret(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    s = sandbox.settings
    secrets = [s["AIRTABLE_API_KEY"], s["TRELLO_API_KEY"], s["TRELLO_TOKEN"], s["TRELLO_API_SECRET"]]
    seen = len(sandbox.requests())
    runs = [
        _cli(sandbox, tmp_path, AIRTABLE_BASE_ID="nope"),
        _cli(sandbox, tmp_path, LEADSYNC_CONFLICT_POLICY=s["TRELLO_TOKEN"]),
        _cli(sandbox, tmp_path, TRELLO_LIST_IDS=s["AIRTABLE_API_KEY"]),
        _cli(sandbox, tmp_path, TRELLO_API_URL=s["TRELLO_API_SECRET"]),
        _cli(sandbox, tmp_path, AIRTABLE_API_KEY=s["AIRTABLE_API_KEY"] + "\nX"),
        _cli(sandbox, tmp_path, TRELLO_TOKEN=""),
    ]
    for run in runs:
        assert run.returncode == 2, run.stderr
        assert "Configuration error" in run.stderr
        for secret in secrets:
            assert secret not in run.stdout + run.stderr
    assert len(sandbox.requests()) == seen  # not one request was sent


def test_a_token_pasted_with_a_trailing_line_break_still_syncs(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    s = sandbox.settings
    run = _cli(
        sandbox,
        tmp_path,
        AIRTABLE_API_KEY=s["AIRTABLE_API_KEY"] + "\n",
        TRELLO_TOKEN=f" {s['TRELLO_TOKEN']} ",
    )
    assert run.returncode == 0, run.stderr
    assert s["AIRTABLE_API_KEY"] not in run.stderr


def test_a_store_path_under_a_file_is_a_configuration_error_naming_the_variable(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    (tmp_path / "not-a-dir").write_text("a file where a directory should be")
    seen = len(sandbox.requests())
    run = _cli(sandbox, tmp_path, LEADSYNC_DATABASE_URL=f"sqlite:///{tmp_path / 'not-a-dir' / 'state.db'}")
    assert run.returncode == 2, run.stderr
    assert "LEADSYNC_DATABASE_URL" in run.stderr
    assert "Traceback" not in run.stderr
    assert len(sandbox.requests()) == seen
