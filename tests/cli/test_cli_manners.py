"""The command line's manners: --version, completion, help that shows flags as flags, names .env, the
required settings and the exit codes, a help text for every option; and the seed's scripts explain what
to install when leadsync is missing instead of dying with a traceback."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from leadsync.cli import app
from leadsync.exit_codes import EXIT_CODE_MEANINGS

ROOT = Path(__file__).resolve().parents[2]


def commands() -> list[list[str]]:
    """Every command path: [], ["sync"], ["conflicts", "resolve"]..."""
    found: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        found.append(path)
        for name, sub in getattr(command, "commands", {}).items():  # a group (Typer's own Click's Group)
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


def test_version_prints_the_installed_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("leadsync ")
    assert result.stdout.split()[1][0].isdigit()


def test_the_top_help_names_env_the_required_settings_and_the_exit_codes() -> None:
    text = CliRunner().invoke(app, ["--help"]).stdout
    assert ".env" in text
    for name in ("AIRTABLE_API_KEY", "AIRTABLE_BASE_ID", "TRELLO_API_KEY", "TRELLO_TOKEN", "TRELLO_BOARD_ID"):
        assert name in text
    for code, meaning in EXIT_CODE_MEANINGS.items():
        assert f"{int(code)}  {meaning}" in " ".join(text.split()).replace(
            f" {int(code)} ", f" {int(code)}  "
        )
    assert "--install-completion" in text  # shell completion is on
    assert "--version" in text


@pytest.mark.parametrize("path", commands(), ids=lambda p: " ".join(p) or "leadsync")
def test_help_shows_flags_as_flags_and_explains_every_option(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.stdout  # a flag takes no value
    assert "--verbose <int>" not in result.stdout  # -v is counted: -v, -vv
    command: Any = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    assert command.help or command.short_help, f"{path} has no help text"
    for param in command.params:
        assert getattr(param, "help", None), f"{' '.join(path)} {param.name} has no help text"


def test_verbose_shows_as_a_counted_flag() -> None:
    text = CliRunner().invoke(app, ["--help"]).stdout
    assert "-v, --verbose" in text
    assert "-vv" in text


@pytest.mark.parametrize("script", ["sync.py", "webhook_server.py"])
def test_the_seed_scripts_say_what_to_install_when_leadsync_is_missing(script: str, tmp_path: Path) -> None:
    bare = [sys.executable, "-S", "-I"]  # no site-packages: leadsync and its dependencies are absent
    probe = subprocess.run([*bare, "-c", "import leadsync"], cwd=tmp_path, capture_output=True, text=True)
    assert probe.returncode != 0, (
        "leadsync is importable without site-packages: this test would prove nothing"
    )
    run = subprocess.run([*bare, str(ROOT / script), "--full"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "leadsync is not installed for this Python" in run.stderr
    assert "pip install ." in run.stderr


def test_the_seed_sync_script_runs_leadsync_when_installed(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "sync.py"), "--help"], cwd=tmp_path, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert "Run one two-way sync cycle" in run.stdout


def test_scripts_demo_says_what_it_installs_and_skips_the_install_when_nothing_changed() -> None:
    first = subprocess.run([str(ROOT / "scripts" / "demo")], capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    second = subprocess.run([str(ROOT / "scripts" / "demo")], capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert "skipping the install" in second.stderr
    assert "Installing" not in second.stderr
    assert "Demo finished: every step behaved as promised" in second.stdout
    stamp = ROOT / ".venv" / ".leadsync-installed-pyproject.sha256"
    assert stamp.read_text().strip() == hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
