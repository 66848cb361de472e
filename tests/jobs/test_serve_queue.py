"""``leadsync serve`` on PostgreSQL: per-flow webhook routes verified with each flow's secrets, deliveries
deferred as jobs that workers run; ``/metrics`` and ``/health`` report the flows and the queue."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures_sandbox import RunningSandbox
from tests.fixtures_server import free_port, wait_until
from tests.jobs.world import FlowWorld, provision

pytestmark = pytest.mark.postgres


@pytest.fixture
def world(sandbox: RunningSandbox, tmp_path: Path, pg_url: str) -> Iterator[FlowWorld]:
    sandbox.control("POST", "/config", json={"rate_scale": 0})
    made = provision(sandbox, tmp_path, pg_url, ["east", "west"])
    try:
        yield made
    finally:
        made.close()


def test_serve_defers_each_flows_deliveries_and_workers_apply_them(world: FlowWorld) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    world.extra_env["LEADSYNC_PUBLIC_URL"] = url
    log_path = world.workdir / "serve.log"
    with log_path.open("w") as log:
        serve = subprocess.Popen(
            [sys.executable, "-m", "leadsync", "-v", "serve", "--queue", "--port", str(port)],
            cwd=world.workdir, env=world.env(), stdout=log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    try:

        def up() -> bool:
            assert serve.poll() is None, log_path.read_text()
            try:
                return httpx.get(f"{url}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, timeout=30)
        east, west = world.people["east"], world.people["west"]
        lead = east.add_lead("Served", "s@example.com")
        west.add_lead("Other", "o@example.com")
        world.start_worker("w1", "--concurrency", "2")
        world.defer("east", full=True)
        world.defer("west", full=True)
        wait_until(lambda: len(east.cards("open")) == 1 and len(west.cards("open")) == 1, timeout=60)
        for flow in ("east", "west"):
            run = world.run("webhooks", "register", "--flow", flow)
            assert run.returncode == 0, run.stderr
        card = east.card_for(lead)
        east.move_card(card["id"], "QUALIFIED")  # Trello delivers to /webhook/trello/east

        def qualified() -> bool:
            return any(r["id"] == lead and r["fields"].get("Status") == "QUALIFIED" for r in east.leads())

        wait_until(qualified, timeout=60)
        health = httpx.get(f"{url}/health", timeout=10).json()
        assert health["mode"] == "queue"
        assert set(health["flows"]) == {"east", "west"}
        assert "queue" in health
        page = httpx.get(f"{url}/metrics", timeout=10).text
        assert "leadsync_jobs{" in page
        assert 'leadsync_webhooks_total{api="trello"}' in page
        assert httpx.post(f"{url}/webhook/trello/north", content=b"{}", timeout=10).status_code == 404
        forged = httpx.post(f"{url}/webhook/trello/west", content=b"{}", timeout=10,
                            headers={"X-Trello-Webhook": "AAAA"})  # fmt: skip
        assert forged.status_code == 401
    finally:
        serve.terminate()
        serve.wait(timeout=30)
