"""Flows on one Airtable base share its rate budget across worker processes: the store's pacer keys it by
base (``airtable:<base>``) and by Trello token (``trello:<hash>``), not by flow."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadsync.config import load_flows, one_flow
from leadsync.engine import Engine
from leadsync.settings import load_settings
from leadsync.store import Store
from tests.fixtures_sandbox import RunningSandbox
from tests.fixtures_server import wait_until
from tests.jobs.world import provision

pytestmark = pytest.mark.postgres


def test_two_flows_on_one_base_share_its_budget_across_two_workers(
    sandbox: RunningSandbox, tmp_path: Path, pg_url: str
) -> None:
    # A fifth of the documented limits, on the sandbox and in leadsync: one Airtable request a second
    # for the base. Two flows read and write it at once from two processes: only a budget the two
    # share keeps them under it.
    sandbox.control("POST", "/config", json={"rate_scale": 0})  # while the tables and boards are made
    world = provision(sandbox, tmp_path, pg_url, ["east", "west"])
    world.extra_env["LEADSYNC_RATE_LIMIT_SCALE"] = "0.2"
    try:
        people = world.people
        for flow in ("east", "west"):
            for i in range(3):
                people[flow].add_lead(f"{flow} {i}", f"{flow}{i}@example.com")
        sandbox.control("POST", "/config", json={"rate_scale": 0.2})
        since = len(sandbox.requests())
        world.start_worker("w1")
        world.start_worker("w2")
        world.defer("east", full=True)
        world.defer("west", full=True)
        wait_until(lambda: all(len(people[f].cards("open")) == 3 for f in ("east", "west")), timeout=120)
        leadsync_calls = [r for r in sandbox.requests(since) if r["who"] == "leadsync"]
        airtable = [r for r in leadsync_calls if r["api"] == "airtable"]
        assert len(airtable) >= 4  # both flows read the base (its schema and its leads, at least)
        assert [r for r in leadsync_calls if r["status"] == 429] == []
        own = ("AIRTABLE_", "TRELLO_", "LEADSYNC_")
        settings = load_settings(None, **{k: v for k, v in world.env().items() if k.startswith(own)})
        with Store.open(pg_url) as store:
            keys = set()
            for name in ("east", "west"):
                engine = Engine(settings, flow=one_flow(load_flows(settings), name), store=store)
                keys.add((engine.airtable_pacer.key, engine.trello_pacer.key))
                engine.http.close()
        assert len(keys) == 1  # one base, one token: one budget each
    finally:
        world.close()
