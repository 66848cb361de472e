"""``leadsync sandbox --flows N``: a base and a board per flow, tokens shared by pairs of flows, and a
``leadsync.toml`` with the variables it names that a plain ``leadsync sync`` runs as is."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from leadsync.sandbox.flows import provision_flows
from tests.fixtures_sandbox import RunningSandbox


def test_the_sandbox_provisions_flows_that_leadsync_syncs_apart(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sandbox.control("POST", "/config", json={"rate_scale": 0})
    made = provision_flows(sandbox.state, 3)
    assert len({f.base_id for f in made.flows}) == 3
    assert len({f.board_id for f in made.flows}) == 3
    assert [f.group for f in made.flows] == [1, 1, 2]  # two flows a Trello token
    (tmp_path / "leadsync.toml").write_text(made.toml)
    person = sandbox.settings
    with httpx.Client(timeout=30) as client:
        for flow in made.flows:  # a lead in each base, added by the person
            client.post(
                f"{sandbox.url}/v0/{flow.base_id}/Leads",
                json={"fields": {"Name": flow.name, "Status": "NEW"}},
                headers={"Authorization": f"Bearer {person['PERSON_AIRTABLE_API_KEY']}"},
            ).raise_for_status()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRTABLE_", "TRELLO_", "LEADSYNC_"))}
    env.update({k: v for k, v in sandbox.settings.items() if k.endswith("_URL")})
    env.update(made.variables)
    env["LEADSYNC_DATABASE_URL"] = f"sqlite:///{tmp_path / 'state.db'}"
    run = subprocess.run([sys.executable, "-m", "leadsync", "sync", "--json"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=180)  # fmt: skip
    assert run.returncode == 0, run.stderr
    created = {json.loads(line)["flow"]: json.loads(line)["created"] for line in run.stdout.splitlines()}
    assert created == {"flow-01": 1, "flow-02": 1, "flow-03": 1}
    for flow in made.flows:
        cards = sandbox.state.trello.cards_of_board(flow.board_id)
        assert [c.name for c in cards] == [f"Follow up: {flow.name}"]


def test_leadsync_sandbox_flows_writes_the_file_and_prints_its_variables(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "leadsync", "sandbox", "--port", "0", "--flows", "4", "--seed", "3"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        stdout = proc.stdout
        assert stdout is not None
        lines: list[str] = []
        while "TRELLO_TOKEN_2" not in "".join(lines) and proc.poll() is None:
            lines.append(stdout.readline())
        printed = dict(line.strip().split("=", 1) for line in lines if "=" in line)
        toml = (tmp_path / "leadsync.toml").read_text()
        for variable in set(re.findall(r'_env = "([A-Z0-9_]+)"', toml)):
            assert variable in printed
        assert toml.count("[[flow]]") == 4
    finally:
        proc.terminate()
        proc.wait(timeout=30)
