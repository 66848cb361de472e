"""What leadsync prints is about people's things: leads and lists by name, with date and time; a real
``sync`` lists what it wrote, a dry run what it would write (and writes no file), ``-v`` logs each write,
``poll`` prints a line per cycle, and ``conflicts`` shows what a policy decided lately."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

from leadsync.sandbox.person import Person
from tests.fixtures_sandbox import Leadsync

DATE_TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d"


def test_a_real_sync_lists_what_it_created_by_name_and_counts_the_rest(cli: Leadsync, person: Person) -> None:
    for n in range(12):
        person.add_lead(f"Lead {n:02}", status="NEW")
    run = cli.run("sync")
    assert run.code == 0, run.stderr
    created = [line for line in run.stdout.splitlines() if line.strip().startswith("created card")]
    assert len(created) == 9
    assert "created card 'Lead" in created[0]
    assert "in 'NEW'" in created[0]
    assert "… and 3 more" in run.stdout


def test_a_dry_run_json_carries_its_planned_writes_and_counts_and_creates_no_file(
    cli: Leadsync, person: Person
) -> None:
    ada = person.add_lead("Ada Lovelace", status="NEW")
    person.add_lead("Bob", status="CONTACTED")
    summary = cli.sync("--dry-run")
    assert summary["dry_run"] is True
    assert summary["created"] == 2
    planned = {w["lead"]: w for w in summary["planned"]}
    assert planned[ada] == {
        "kind": "create",
        "lead": ada,
        "card": None,
        "what": "card 'Ada Lovelace' in 'NEW'",
    }
    assert not (cli.workdir / "state.db").exists()
    assert not list(cli.workdir.iterdir())  # no store, no lock file, nothing
    assert person.cards() == []


def test_verbose_logs_each_write(cli: Leadsync, person: Person) -> None:
    ada = person.add_lead("Ada Lovelace", status="NEW")
    cli.sync()
    person.edit_lead(ada, Status="CONTACTED")
    run = cli.run("-v", "sync")
    assert run.code == 0, run.stderr
    assert "card 'Ada Lovelace': moved to 'CONTACTED'" in run.stderr
    assert "moved card 'Ada Lovelace': moved to 'CONTACTED'" in run.stdout


def test_status_shows_names_of_leads_and_lists_with_date_and_time(cli: Leadsync, person: Person) -> None:
    ada = person.add_lead("Ada Lovelace", status="NEW")
    cli.sync()
    person.move_card(person.card_for(ada)["id"], "QUALIFIED")
    cli.sync()
    run = cli.run("status")
    assert run.code == 0, run.stderr
    activity = run.stdout[run.stdout.index("Recent activity") :]
    assert "Ada Lovelace" in activity
    assert "card created in list 'NEW'" in activity
    assert "Status -> QUALIFIED" in activity
    assert re.search(DATE_TIME + " UTC", activity)
    assert not re.search(r"\b[0-9a-f]{24}\b", activity)  # no card or list id
    assert "idList" not in activity


def test_conflicts_shows_what_a_policy_decided_lately_beside_open_ones(cli: Leadsync, person: Person) -> None:
    ada = person.add_lead("Ada Lovelace", status="NEW")
    bob = person.add_lead("Bob Open", status="NEW")
    cli.sync()
    person.edit_lead(ada, Status="LOST")
    person.move_card(person.card_for(ada)["id"], "CONTACTED")
    cli.sync()  # latest: decided
    person.edit_lead(bob, Status="QUALIFIED")
    person.move_card(person.card_for(bob)["id"], "CONTACTED")
    cli.sync(LEADSYNC_CONFLICT_POLICY="manual")  # left open
    run = cli.run("conflicts")
    assert run.code == 0, run.stderr
    assert "Ada Lovelace" in run.stdout
    assert "Bob Open" in run.stdout
    assert run.stdout.index("Bob Open") < run.stdout.index("Ada Lovelace")  # open first
    assert "open" in run.stdout
    assert "latest: kept" in run.stdout
    assert re.search(DATE_TIME, run.stdout)


def test_poll_prints_a_line_per_cycle_with_the_time_and_the_table_only_on_change(
    cli: Leadsync, person: Person
) -> None:
    person.add_lead("Ada Lovelace", status="NEW")
    proc = subprocess.Popen(
        [sys.executable, "-m", "leadsync", "poll", "--interval", "1"],
        cwd=cli.workdir, env=cli.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not person.cards() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3)  # a few idle cycles
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    cycles = [line for line in out.splitlines() if re.match(DATE_TIME + r":\d\d \w+ cycle: ", line)]
    assert len(cycles) >= 3, out
    assert "created 1" in cycles[0]
    assert all(line.endswith(")") and "nothing to do" in line for line in cycles[1:]), out
    assert out.count("Sync cycle") == 1  # the table of the cycle that changed something, only
