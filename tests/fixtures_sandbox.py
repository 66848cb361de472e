"""Sandbox fixtures: a fresh emulator served on loopback for each test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from leadsync.sandbox import BackgroundServer, SandboxState, start


@dataclass
class RunningSandbox:
    """A sandbox served on a free loopback port, with its state and printed settings."""

    server: BackgroundServer
    state: SandboxState

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def settings(self) -> dict[str, str]:
        return self.state.settings()

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call a ``/_sandbox`` control endpoint and return its JSON."""
        response = httpx.request(method, f"{self.url}/_sandbox{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The request log: method, path, status, api and which identity made each request."""
        result: list[dict[str, Any]] = self.control("GET", f"/requests?since={since}")["requests"]
        return result

    def fault(
        self,
        path_prefix: str,
        *,
        method: str = "*",
        action: str = "status",
        count: int = 1,
        status: int = 503,
        **extra: Any,
    ) -> None:
        self.control(
            "POST",
            "/faults",
            json={
                "path_prefix": path_prefix,
                "method": method,
                "action": action,
                "count": count,
                "status": status,
                **extra,
            },
        )


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    """A fresh sandbox with the documented rate limits on."""
    server, state = start(seed=7)
    try:
        yield RunningSandbox(server, state)
    finally:
        server.stop()


# ---- leadsync's CLI as a subprocess, pointed at a sandbox ---------------------------------------------

import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from leadsync.sandbox.person import Person  # noqa: E402

_OWN_VARS = ("AIRTABLE_", "TRELLO_", "LEADSYNC_", "WEBHOOK_SECRET", "PERSON_")


@dataclass
class CliRun:
    code: int
    stdout: str
    stderr: str

    @property
    def summary(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.stdout.strip().splitlines()[-1])
        return result


@dataclass
class Leadsync:
    """Runs ``leadsync`` (the installed console script's module) in a subprocess, in its own directory."""

    sandbox: RunningSandbox
    workdir: Path
    extra_env: dict[str, str]

    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_VARS)}
        env.update({k: v for k, v in self.sandbox.settings.items() if not k.startswith("PERSON_")})
        env["LEADSYNC_DATABASE_URL"] = f"sqlite:///{self.workdir / 'state.db'}"
        env.update(self.extra_env)
        env.update(overrides)
        return env

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> CliRun:
        proc = subprocess.run(
            [sys.executable, "-m", "leadsync", *args],
            cwd=self.workdir, env=env or self.env(), capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        return CliRun(proc.returncode, proc.stdout, proc.stderr)

    def sync(self, *args: str, expect: int = 0, **env: str) -> dict[str, Any]:
        """``leadsync sync --json``; asserts the exit code and returns the summary."""
        run = self.run("sync", "--json", *args, env=self.env(**env) if env else None)
        assert run.code == expect, f"exit {run.code}\nstdout:\n{run.stdout}\nstderr:\n{run.stderr}"
        return run.summary


@pytest.fixture
def leadsync(sandbox: RunningSandbox, tmp_path: Path, db_url: str) -> Leadsync:
    """The CLI against the sandbox, on each store (SQLite, PostgreSQL), with the sandbox's rate limits off
    (tests that need them turn them on)."""
    sandbox.control("POST", "/config", json={"rate_scale": 0})
    return Leadsync(sandbox, tmp_path, {"LEADSYNC_DATABASE_URL": db_url})


@pytest.fixture
def person(sandbox: RunningSandbox) -> Iterator[Person]:
    """A person editing both trackers by hand, with the sandbox's second identity."""
    p = Person(sandbox.settings)
    try:
        yield p
    finally:
        p.close()
