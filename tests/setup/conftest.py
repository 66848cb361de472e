"""Fixtures of the setup tests: a sandbox (provisioned, or empty as a new account is) and ``leadsync`` run
as a subprocess in its own directory, with nothing of the sandbox's settings but the API URLs unless a
test gives them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from leadsync.sandbox import BackgroundServer, SandboxState, start
from leadsync.sandbox.person import Person

_OWN_VARS = ("AIRTABLE_", "TRELLO_", "LEADSYNC_", "WEBHOOK_SECRET", "PERSON_")


@dataclass
class Run:
    """One finished ``leadsync`` process."""

    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Setup:
    """A sandbox and a working directory where ``leadsync`` runs as a new user would run it."""

    server: BackgroundServer
    state: SandboxState
    workdir: Path
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def settings(self) -> dict[str, str]:
        """What the sandbox prints: the credentials, base, board and URLs (and the person's)."""
        return self.state.settings()

    def secrets(self) -> list[str]:
        s = self.settings
        return [s["AIRTABLE_API_KEY"], s["TRELLO_API_KEY"], s["TRELLO_TOKEN"]]

    def env(self, *, with_settings: bool, **overrides: str) -> dict[str, str]:
        """The process's environment: the sandbox's settings only ``with_settings`` (else the URLs alone,
        so that .env must carry the rest)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_VARS)}
        keep = (
            self.settings
            if with_settings
            else {k: self.settings[k] for k in ("AIRTABLE_API_URL", "TRELLO_API_URL")}
        )
        env.update({k: v for k, v in keep.items() if not k.startswith(("PERSON_", "TRELLO_LIST_IDS"))})
        env["LEADSYNC_DATABASE_URL"] = f"sqlite:///{self.workdir / 'state.db'}"
        env.update(self.extra)
        env.update(overrides)
        return env

    def run(
        self, *args: str, with_settings: bool = False, overrides: dict[str, str] | None = None, **more: str
    ) -> Run:
        env = self.env(with_settings=with_settings, **(overrides or {}), **more)
        proc = subprocess.run(
            [sys.executable, "-m", "leadsync", *args], cwd=self.workdir, capture_output=True, text=True,
            env=env, stdin=subprocess.DEVNULL, timeout=120,
        )  # fmt: skip
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def writes_since(self, seq: int) -> list[tuple[str, str]]:
        """The API writes (anything but GET) the sandbox saw after request number ``seq``."""
        return [(e.method, e.path) for e in self.state.log if e.seq > seq and e.method not in ("GET", "HEAD")]

    def last_seq(self) -> int:
        return self.state.log[-1].seq if self.state.log else 0

    def person(self) -> Person:
        """A person editing both sides by hand, on the board's lists as they are now."""
        board = self.state.trello.board_id
        lists = {row.name: row.id for row in self.state.trello.lists.values() if row.id_board == board}
        settings = {**self.settings, "TRELLO_LIST_IDS": json.dumps(lists)}
        return Person(settings)


def _setup(tmp_path: Path, *, empty: bool, seed: int) -> Iterator[Setup]:
    server, state = start(seed=seed, rate_scale=0, empty=empty)
    try:
        yield Setup(server, state, tmp_path)
    finally:
        server.stop()


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[Setup]:
    """A new account: a base without the Leads table, a board without lists."""
    yield from _setup(tmp_path, empty=True, seed=11)


@pytest.fixture
def provisioned(tmp_path: Path) -> Iterator[Setup]:
    """The sandbox as it usually starts: the Leads table and the four lists already there."""
    yield from _setup(tmp_path, empty=False, seed=12)


@pytest.fixture
def ready(provisioned: Setup) -> Setup:
    """A provisioned sandbox on which ``leadsync init --yes`` ran: .env and leadsync.toml written."""
    run = provisioned.run("init", "--yes", with_settings=True)
    assert run.code == 0, run.output
    return provisioned
