"""``--flow`` on the commands, and ``leadsync worker`` refusing a SQLite store (no PostgreSQL needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests.fixtures_sandbox import RunningSandbox
from tests.fixtures_server import free_port, wait_until
from tests.jobs.world import provision


def test_worker_on_sqlite_exits_2_naming_the_variable(sandbox: RunningSandbox, tmp_path: Path) -> None:
    world = provision(sandbox, tmp_path, f"sqlite:///{tmp_path / 'state.db'}", ["east"])
    try:
        run = world.run("worker")
    finally:
        world.close()
    assert run.returncode == 2
    assert "LEADSYNC_DATABASE_URL" in run.stderr
    assert "PostgreSQL" in run.stderr
    assert "Traceback" not in run.stderr


def test_sync_runs_every_flow_or_the_named_one_on_sqlite(sandbox: RunningSandbox, tmp_path: Path) -> None:
    sandbox.control("POST", "/config", json={"rate_scale": 0})
    world = provision(sandbox, tmp_path, f"sqlite:///{tmp_path / 'state.db'}", ["east", "west"])
    try:
        world.people["east"].add_lead("East", "e@example.com")
        world.people["west"].add_lead("West", "w@example.com")
        only_west = world.run("sync", "--json", "--flow", "west")
        assert only_west.returncode == 0, only_west.stderr
        assert json.loads(only_west.stdout)["created"] == 1
        assert world.people["east"].cards("open") == []
        both = world.run("sync", "--json")
        assert both.returncode == 0, both.stderr
        summaries = [json.loads(line) for line in both.stdout.splitlines()]
        assert {s["flow"]: s["created"] for s in summaries} == {"east": 1, "west": 0}
        unknown = world.run("status", "--flow", "north")
        assert unknown.returncode == 2
        assert "north" in unknown.stderr
        status = world.run("status", "--json")
        assert set(json.loads(status.stdout)["flows"]) == {"east", "west"}
    finally:
        world.close()


def test_serve_on_sqlite_runs_a_worker_thread_per_flow(sandbox: RunningSandbox, tmp_path: Path) -> None:
    sandbox.control("POST", "/config", json={"rate_scale": 0})
    world = provision(sandbox, tmp_path, f"sqlite:///{tmp_path / 'state.db'}", ["east", "west"])
    port = free_port()
    log_path = tmp_path / "serve.log"
    try:
        world.people["west"].add_lead("West", "w@example.com")
        with log_path.open("w") as log:
            serve = subprocess.Popen(
                [sys.executable, "-m", "leadsync", "serve", "--port", str(port)],
                cwd=tmp_path, env=world.env(), stdout=log, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
        try:
            # Each flow's worker thread sweeps at start: the west lead gets its card without a sync.
            wait_until(lambda: len(world.people["west"].cards("open")) == 1, timeout=60)
            health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).json()
            assert health["mode"] == "embedded"
            assert {name: f["worker"] for name, f in health["flows"].items()} == {"east": "ok", "west": "ok"}
            assert httpx.head(f"http://127.0.0.1:{port}/webhook/trello/west", timeout=10).status_code == 200
            assert httpx.head(f"http://127.0.0.1:{port}/webhook/trello", timeout=10).status_code == 404
        finally:
            serve.terminate()
            serve.wait(timeout=30)
    finally:
        world.close()
