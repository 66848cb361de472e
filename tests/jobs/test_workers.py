"""``leadsync worker`` on PostgreSQL: flows stay apart, bursts merge, dead workers' jobs are taken over,
and a flow that fails does so alone."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from leadsync.store import Store
from tests.fixtures_sandbox import RunningSandbox
from tests.fixtures_server import free_port, wait_until
from tests.jobs.world import FlowWorld, provision

pytestmark = pytest.mark.postgres


@pytest.fixture
def world(sandbox: RunningSandbox, tmp_path: Path, pg_url: str) -> Iterator[FlowWorld]:
    """Two flows, east and west, with rate limits off (tests about budgets turn them on)."""
    sandbox.control("POST", "/config", json={"rate_scale": 0})
    made = provision(sandbox, tmp_path, pg_url, ["east", "west"])
    try:
        yield made
    finally:
        made.close()


def _cards(world: FlowWorld, flow: str) -> list[str]:
    return sorted(c["name"] for c in world.people[flow].cards("open"))


def test_two_flows_synced_by_two_workers_stay_apart(world: FlowWorld, pg_url: str) -> None:
    east, west = world.people["east"], world.people["west"]
    east_ids = [east.add_lead(f"East {i}", f"e{i}@example.com") for i in range(3)]
    west_ids = [west.add_lead(f"West {i}", f"w{i}@example.com") for i in range(2)]
    port = free_port()
    world.start_worker("w1", "--metrics-port", str(port))
    world.start_worker("w2")
    world.defer("east", full=True)
    world.defer("west", full=True)
    wait_until(lambda: len(_cards(world, "east")) == 3 and len(_cards(world, "west")) == 2, timeout=60)
    metrics_url = f"http://127.0.0.1:{port}/metrics"
    # Both workers are registered once each has started (one may have synced both flows before).
    wait_until(lambda: "leadsync_workers 2.0" in httpx.get(metrics_url, timeout=10).text, timeout=30)
    page = httpx.get(metrics_url, timeout=10).text
    assert "leadsync_conflicts_open" in page
    assert _cards(world, "east") == ["Follow up: East 0", "Follow up: East 1", "Follow up: East 2"]
    assert _cards(world, "west") == ["Follow up: West 0", "Follow up: West 1"]
    with Store.open(pg_url) as store:
        assert sorted(store.for_flow("east").pairs()) == sorted(east_ids)
        assert sorted(store.for_flow("west").pairs()) == sorted(west_ids)
        assert store.pairs() == {}
    status = world.run("status")
    assert status.returncode == 0, status.stderr
    assert "flow east" in status.stdout
    assert "flow west" in status.stdout
    assert "job queue:" in status.stdout
    assert "2 workers" in status.stdout  # both registered (waited for above)


def test_a_webhook_burst_on_one_flow_runs_one_cycle(world: FlowWorld, pg_url: str) -> None:
    east = world.people["east"]
    lead = east.add_lead("Burst", "b@example.com")
    world.defer("east", full=True)
    worker = world.start_worker("w1")
    wait_until(lambda: len(_cards(world, "east")) == 1, timeout=60)
    worker.stop()  # the burst arrives while no worker runs: every event waits in the queue
    with Store.open(pg_url) as store:
        before = _cycle_count(store, "east")
    for status in ("CONTACTED", "QUALIFIED", "CONTACTED", "QUALIFIED"):
        east.edit_lead(lead, Status=status)
        world.defer("east", leads=(lead,))
    world.start_worker("w2")
    wait_until(lambda: east.card_for(lead)["idList"] == east.lists["QUALIFIED"], timeout=60)
    with Store.open(pg_url) as store:
        wait_until(lambda: not store.for_flow("east").pending_targets(), timeout=30)
        assert _cycle_count(store, "east") == before + 1


def test_a_worker_killed_mid_cycle_loses_and_duplicates_nothing(world: FlowWorld, pg_url: str) -> None:
    east = world.people["east"]
    leads = [east.add_lead(f"Lead {i}", f"l{i}@example.com") for i in range(40)]
    world.sandbox.control("POST", "/config", json={"latency_ms": 150})  # a cycle long enough to kill
    victim = world.start_worker("victim")
    world.defer("east", full=True)
    with Store.open(pg_url) as store:
        wait_until(lambda: len(store.for_flow("east").pairs()) >= 3, timeout=60)
    os.kill(victim.process.pid, signal.SIGKILL)
    victim.process.wait()
    world.sandbox.control("POST", "/config", json={"latency_ms": 0})
    world.start_worker("heir")
    wait_until(lambda: len(_cards(world, "east")) == 40, timeout=60)
    with Store.open(pg_url) as store:
        wait_until(lambda: not store.for_flow("east").pending_targets(), timeout=30)
        assert sorted(store.for_flow("east").pairs()) == sorted(leads)
    names = [c["name"] for c in east.cards("all")]
    assert len(names) == len(set(names)) == 40  # no lead got two cards


def test_a_flow_whose_token_is_revoked_fails_alone_with_its_reason(
    sandbox: RunningSandbox, tmp_path: Path, pg_url: str
) -> None:
    sandbox.control("POST", "/config", json={"rate_scale": 0})
    world = provision(sandbox, tmp_path, pg_url, ["east", "west"], token_env={"west": "WEST_TRELLO_TOKEN"})
    world.extra_env["WEST_TRELLO_TOKEN"] = "0" * 64  # a token Trello no longer knows
    try:
        world.people["east"].add_lead("East", "e@example.com")
        world.people["west"].add_lead("West", "w@example.com")
        world.start_worker("w1")
        world.defer("west", full=True)
        world.defer("east", full=True)
        wait_until(lambda: len(_cards(world, "east")) == 1, timeout=60)
        with Store.open(pg_url) as store:
            west = store.for_flow("west")
            wait_until(lambda: any(a.action == "cycle failed" for a in west.recent_activity()), timeout=60)
            failed = next(a for a in west.recent_activity() if a.action == "cycle failed")
            assert "Trello" in failed.detail
            assert west.pairs() == {}
        assert _cards(world, "west") == []
    finally:
        world.close()


def _cycle_count(store: Store, flow: str) -> int:
    from sqlalchemy import func, select

    from leadsync.store.schema import cycles

    with store._engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(cycles.c.flow == flow)).scalar_one())
