"""``.env.example`` names every setting of the README's table and of the settings model, each explained by a
comment, and a copy filled with real-looking values loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dotenv import dotenv_values

from leadsync.cli_help import REQUIRED_SETTINGS
from leadsync.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / ".env.example"


def readme_variables() -> set[str]:
    text = (ROOT / "README.md").read_text()
    table = text[text.index("| variable | default | meaning |") :].split("\n\n", 1)[0]
    return {
        name for row in table.splitlines()[2:] for name in re.findall(r"`([A-Z][A-Z_]+)`", row.split("|")[1])
    }


def example_lines() -> dict[str, int]:
    """Each variable of the example (set or commented out) and its line number."""
    found: dict[str, int] = {}
    for number, line in enumerate(EXAMPLE.read_text().splitlines()):
        match = re.match(r"^#? ?([A-Z][A-Z_]+)=", line)
        if match:
            found[match.group(1)] = number
    return found


def test_every_setting_is_in_the_example_with_a_comment_above_it() -> None:
    lines = EXAMPLE.read_text().splitlines()
    found = example_lines()
    assert readme_variables() == set(Settings.model_fields)
    assert set(Settings.model_fields) <= set(found)
    variable_lines = set(found.values())
    for name, number in found.items():
        above = number - 1
        while above in variable_lines:  # one comment may explain a pair (the Trello key and token)
            above -= 1
        assert lines[above].startswith("# "), f"{name} has no comment above it"


def test_the_required_ones_are_set_and_the_optional_ones_commented_out() -> None:
    values = dotenv_values(EXAMPLE)
    required = set(REQUIRED_SETTINGS)
    assert set(values) == required


def test_the_example_filled_in_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)
    filled = (
        EXAMPLE.read_text()
        .replace("AIRTABLE_API_KEY=pat...", "AIRTABLE_API_KEY=patAbc.123")
        .replace("AIRTABLE_BASE_ID=app...", "AIRTABLE_BASE_ID=appABCDEFGHIJKLMN")
        .replace("TRELLO_BOARD_ID=...", "TRELLO_BOARD_ID=AbCdEf12")
        .replace("=...", "=abc123")
    )
    for line in filled.splitlines():  # the commented examples, uncommented, are valid too
        if re.match(r"^# [A-Z][A-Z_]+=.+", line) and "<list id>" not in line:
            filled += "\n" + line.removeprefix("# ")
    env = tmp_path / ".env"
    env.write_text(filled)
    settings = load_settings(env)
    assert settings.LEADSYNC_STATUS_LIST_NAMES == {
        "NEW": "To call",
        "CONTACTED": "Called",
        "QUALIFIED": "Qualified",
        "LOST": "Lost",
    }
    assert settings.TRELLO_BOARD_ID == "AbCdEf12"
