"""The dashboard of a server whose flow comes from leadsync.toml (served by the flows' server, a worker
thread per flow): the flow is on the overview under its own name, and its "Sync now" runs its cycle."""

from __future__ import annotations

import httpx

from tests.dashboard.conftest import PASSWORD, log_in
from tests.fixtures_sandbox import Leadsync
from tests.fixtures_server import start_serve, wait_until
from tests.mapping.world import TeamWorld


def test_the_flows_server_shows_its_flow_and_syncs_it_now(cli: Leadsync, team: TeamWorld) -> None:
    server = start_serve(cli, LEADSYNC_DASHBOARD_PASSWORD=PASSWORD)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert log_in(client).status_code == 303
            overview = client.get("/")
            assert overview.status_code == 200
            assert 'data-flow="sales"' in overview.text or "data-flow=sales" in overview.text
            lead = team.add_lead("Ada from the dashboard", "New")
            token = overview.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            asked = client.post("/flows/sales/sync", data={"csrf": token})
            assert asked.status_code == 303
            assert "none" not in asked.headers["location"]  # queued here, not "synced elsewhere"
            wait_until(lambda: any(lead in c["desc"] for c in team.cards()), timeout=30)
            unknown = client.post("/flows/nobody/sync", data={"csrf": token})
            assert "none" in unknown.headers["location"]  # no such flow here: nothing queued
    finally:
        server.stop()
