"""A ``leadsync sync`` killed with SIGKILL mid-cycle does not block the next one: the store's cycle lock
dies with its holder (a file lock on SQLite, an advisory lock on PostgreSQL), so a sync started right
after the kill runs, exits 0, and leaves every lead with exactly one card."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import httpx

from leadsync.core import parse_lead_id
from leadsync.sandbox.person import Person
from tests.fixtures_sandbox import Leadsync, RunningSandbox
from tests.fixtures_server import wait_until

LEADS = 300
AIRTABLE_BATCH = 10  # the most records one Airtable create accepts
BUSY = "Another leadsync process is running a cycle"


def add_leads(person: Person, count: int) -> list[str]:
    """``count`` new leads, created ten to a request as a person importing a spreadsheet would."""
    ids: list[str] = []
    headers = {"Authorization": f"Bearer {person.s['PERSON_AIRTABLE_API_KEY']}"}
    for start in range(0, count, AIRTABLE_BATCH):
        records = [
            {"fields": {"Name": f"Lead {n}", "Email": f"lead{n}@example.com", "Status": "NEW"}}
            for n in range(start, min(start + AIRTABLE_BATCH, count))
        ]
        response = httpx.post(person.table, json={"records": records}, headers=headers, timeout=30)
        response.raise_for_status()
        ids += [record["id"] for record in response.json()["records"]]
    return ids


def first_write_by_leadsync(sandbox: RunningSandbox) -> bool:
    """Whether leadsync has made a write request yet (the cycle is past its reads, holding the lock)."""
    return any(
        entry["who"] == "leadsync" and entry["method"] in ("POST", "PUT", "PATCH", "DELETE")
        for entry in sandbox.requests()
    )


def cards_per_lead(person: Person) -> Counter[str]:
    """How many cards (open or archived) claim each lead."""
    return Counter(lead for card in person.cards("all") if (lead := parse_lead_id(card["desc"])) is not None)


def test_a_sync_right_after_a_sigkilled_sync_runs_and_leaves_no_duplicate(
    leadsync: Leadsync, sandbox: RunningSandbox, person: Person
) -> None:
    leads = add_leads(person, LEADS)
    # Slow enough that the killed cycle is caught in the middle of its writes.
    sandbox.control("POST", "/config", json={"latency_ms": 20})
    # The sandbox's rate limits are off; leadsync's own pacing at the documented limits would make each
    # cycle last half a minute.
    leadsync.extra_env["LEADSYNC_RATE_LIMIT_SCALE"] = "10"
    killed = subprocess.Popen(
        [sys.executable, "-m", "leadsync", "sync", "--json"],
        cwd=leadsync.workdir, env=leadsync.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until(lambda: first_write_by_leadsync(sandbox) or killed.poll() is not None, timeout=60)
        assert killed.poll() is None, f"the cycle ended before the kill:\n{killed.communicate()}"
        os.kill(killed.pid, signal.SIGKILL)
        assert killed.wait(timeout=10) == -signal.SIGKILL
    finally:
        if killed.poll() is None:
            killed.kill()
        killed.communicate()
    assert sum(cards_per_lead(person).values()) < LEADS, "the killed cycle had already finished its work"

    started = time.monotonic()
    run = leadsync.run("sync", "--json")
    assert BUSY not in run.stderr
    assert run.code == 0, f"exit {run.code}\nstdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    assert time.monotonic() - started < 60

    per_lead = cards_per_lead(person)
    assert {lead: n for lead, n in per_lead.items() if n > 1} == {}
    assert set(per_lead) == set(leads)
