"""End-to-end: the ``leadsync`` CLI as a subprocess against a sandbox on loopback, a person editing both
sides with the sandbox's second identity. One test per promise the sync makes: new leads get cards, a
change on either side reaches the other, nothing is duplicated or deleted, conflicts follow the policy,
failures and bad settings stop cleanly, and no secret is ever shown."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from leadsync.sandbox.person import Person
from tests.fixtures_sandbox import Leadsync, RunningSandbox


def status_of(person: Person, lead_id: str) -> str | None:
    lead = next(r for r in person.leads() if r["id"] == lead_id)
    value = lead["fields"].get("Status")
    return str(value) if value else None


def list_of(person: Person, lead_id: str) -> str | None:
    return person.status_of_list(person.card_for(lead_id)["idList"])


def writes(summary: dict[str, object]) -> int:
    calls = summary["api_calls"]
    assert isinstance(calls, dict)
    return int(calls["airtable"]["write"]) + int(calls["trello"]["write"])


# ---- the seed's demo story ---------------------------------------------------------------------------


def test_a_new_lead_gets_a_card_in_its_status_list(leadsync: Leadsync, person: Person) -> None:
    lead = person.add_lead("Ada Lovelace", "ada@example.com", "CONTACTED", "Referral")
    summary = leadsync.sync()
    assert summary["created"] == 1
    card = person.card_for(lead)
    assert card["name"] == "Follow up: Ada Lovelace"
    assert person.status_of_list(card["idList"]) == "CONTACTED"
    assert "Lead Name: Ada Lovelace" in card["desc"]
    assert "Email: ada@example.com" in card["desc"]
    assert f"Lead ID: {lead}" in card["desc"]


def test_a_status_change_in_airtable_moves_the_card(leadsync: Leadsync, person: Person) -> None:
    lead = person.add_lead("Ada", status="NEW")
    leadsync.sync()
    person.edit_lead(lead, Status="QUALIFIED")
    summary = leadsync.sync()
    assert summary["moved"] == 1
    assert list_of(person, lead) == "QUALIFIED"


def test_moving_a_card_changes_the_lead_status(leadsync: Leadsync, person: Person) -> None:
    lead = person.add_lead("Ada", status="NEW")
    leadsync.sync()
    person.move_card(person.card_for(lead)["id"], "CONTACTED")
    summary = leadsync.sync()
    assert summary["updated"] == 1
    assert status_of(person, lead) == "CONTACTED"


def test_a_rerun_creates_no_duplicate_and_writes_nothing(
    leadsync: Leadsync, person: Person, sandbox: RunningSandbox
) -> None:
    for i in range(12):
        person.add_lead(f"Lead {i}", f"l{i}@example.com", ["NEW", "CONTACTED", "QUALIFIED"][i % 3])
    first = leadsync.sync()
    assert first["created"] == 12
    seen = len(sandbox.requests())
    again = leadsync.sync()
    assert writes(again) == 0
    assert again["created"] == again["moved"] == again["updated"] == 0
    assert len(person.cards()) == 12
    leadsync_writes = [r for r in sandbox.requests(since=seen) if r["who"] == "leadsync" and r["method"] != "GET"
                       and not r["path"].endswith("/listRecords")]  # fmt: skip
    assert leadsync_writes == []


def test_the_seed_entry_point_still_runs_a_full_sync(leadsync: Leadsync, person: Person) -> None:
    import subprocess
    import sys

    person.add_lead("Seed", status="NEW")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, str(root / "sync.py"), "--full"], cwd=leadsync.workdir,
                          env=leadsync.env(), capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(person.cards()) == 1


# ---- new leads --------------------------------------------------------------------------------------


def test_lost_leads_get_no_new_card(leadsync: Leadsync, person: Person) -> None:
    person.add_lead("Gone", status="LOST")
    summary = leadsync.sync()
    assert summary["created"] == 0
    assert person.cards() == []


def test_a_lead_without_status_gets_no_card_until_it_has_one(leadsync: Leadsync, person: Person) -> None:
    lead = person.add_lead("Blank", status=None)
    summary = leadsync.sync()
    assert summary["created"] == 0
    assert summary["skipped"] == 1
    person.edit_lead(lead, Status="NEW")
    assert leadsync.sync()["created"] == 1
    assert list_of(person, lead) == "NEW"


# ---- Airtable -> Trello text fields -------------------------------------------------------------------


def test_a_name_change_updates_title_and_block_and_keeps_the_persons_notes(
    leadsync: Leadsync, person: Person
) -> None:
    lead = person.add_lead("Ada", "ada@example.com", "NEW")
    leadsync.sync()
    card = person.card_for(lead)
    person.update_card(card["id"], desc="Call on Tuesday.\n\n" + card["desc"] + "\n\nPS: likes tea")
    person.edit_lead(lead, Name="Ada King", Email="ada@king.example")
    summary = leadsync.sync()
    assert summary["updated"] == 1
    card = person.card_for(lead)
    assert card["name"] == "Follow up: Ada King"
    assert card["desc"].startswith("Call on Tuesday.\n\n")
    assert card["desc"].endswith("\n\nPS: likes tea")
    assert "Lead Name: Ada King" in card["desc"]
    assert "Email: ada@king.example" in card["desc"]


def test_a_persons_card_title_survives_until_the_lead_changes(leadsync: Leadsync, person: Person) -> None:
    lead = person.add_lead("Ada", status="NEW")
    leadsync.sync()
    card = person.card_for(lead)
    person.update_card(card["id"], name="Ada - call back Friday")
    assert writes(leadsync.sync()) == 0
    assert person.card_for(lead)["name"] == "Ada - call back Friday"
    person.edit_lead(lead, Name="Ada Lovelace")
    leadsync.sync()
    assert person.card_for(lead)["name"] == "Follow up: Ada Lovelace"


# ---- deletes and archives -----------------------------------------------------------------------------


def test_a_deleted_lead_archives_its_card_never_deletes_it(leadsync: Leadsync, person: Person) -> None:
    lead = person.add_lead("Ada", status="NEW")
    leadsync.sync()
    card_id = person.card_for(lead)["id"]
    person.delete_lead(lead)
    summary = leadsync.sync("--full")
    assert summary["archived"] == 1
    card = next(c for c in person.cards("all") if c["id"] == card_id)
    assert card["closed"] is True
    assert writes(leadsync.sync("--full")) == 0


def test_an_archived_card_is_not_recreated_and_its_lead_is_left_alone(
    leadsync: Leadsync, person: Person
) -> None:
    lead = person.add_lead("Ada", status="NEW")
    leadsync.sync()
    card_id = person.card_for(lead)["id"]
    person.update_card(card_id, closed=True)
    summary = leadsync.sync()
    assert summary["created"] == 0
    assert len(person.cards("all")) == 1
    assert status_of(person, lead) == "NEW"
    person.edit_lead(lead, Status="CONTACTED")
    assert leadsync.sync()["moved"] == 0  # archived: not moved, not un-archived
    person.update_card(card_id, closed=False)
    summary = leadsync.sync()
    assert summary["moved"] == 1  # un-archived: resumes, catching up on the lead's change
    assert list_of(person, lead) == "CONTACTED"


def test_a_deleted_card_is_not_recreated_until_restored(leadsync: Leadsync, person: Person) -> None:
    lead = person.add_lead("Ada", status="NEW")
    leadsync.sync()
    person.delete_card(person.card_for(lead)["id"])
    assert leadsync.sync()["created"] == 0
    assert leadsync.sync()["created"] == 0
    assert person.cards("all") == []
    assert status_of(person, lead) == "NEW"
    restored = leadsync.run("restore", lead)
    assert restored.code == 0, restored.stderr
    assert leadsync.sync()["created"] == 1
    assert list_of(person, lead) == "NEW"


# ---- adoption and duplicates --------------------------------------------------------------------------


def test_existing_cards_with_a_lead_id_are_adopted_not_duplicated(leadsync: Leadsync, person: Person) -> None:
    lead = person.add_lead("Ada", "ada@example.com", "CONTACTED")
    seed_card = person.add_card("CONTACTED", "Follow up: Ada",
                                f"Lead Name: Ada\nEmail: ada@example.com\nLead ID: {lead}")  # fmt: skip
    summary = leadsync.sync()
    assert summary["created"] == 0
    assert [c["id"] for c in person.cards("all")] == [seed_card["id"]]
    assert writes(leadsync.sync()) == 0


def test_two_cards_claiming_one_lead_keep_the_oldest_linked_and_report_the_rest(
    leadsync: Leadsync, person: Person
) -> None:
    lead = person.add_lead("Ada", status="NEW")
    oldest = person.add_card("NEW", "Follow up: Ada", f"Lead ID: {lead}")
    time.sleep(1.05)  # card ids carry their creation second
    newer = person.add_card("NEW", "Follow up: Ada (copy)", f"Lead ID: {lead}")
    summary = leadsync.sync()
    assert summary["created"] == 0
    duplicates = [r for r in summary["reports"] if r["kind"] == "duplicate"]
    assert [d["card_id"] for d in duplicates] == [newer["id"]]
    person.edit_lead(lead, Status="CONTACTED")
    leadsync.sync()
    cards = {c["id"]: c for c in person.cards("all")}
    assert person.status_of_list(cards[oldest["id"]]["idList"]) == "CONTACTED"
    assert person.status_of_list(cards[newer["id"]]["idList"]) == "NEW"


def test_a_card_cannot_steal_another_leads_link_by_editing_its_description(
    leadsync: Leadsync, person: Person
) -> None:
    ada = person.add_lead("Ada", status="NEW")
    bob = person.add_lead("Bob", status="NEW")
    leadsync.sync()
    bobs_card = person.card_for(bob)
    person.update_card(bobs_card["id"], desc=f"Lead ID: {ada}")
    leadsync.sync()
    person.edit_lead(ada, Status="QUALIFIED")
    leadsync.sync()
    cards = {c["id"]: c for c in person.cards("all")}
    assert person.status_of_list(cards[bobs_card["id"]]["idList"]) == "NEW"  # Bob's card did not follow Ada
    adas = [c for c in cards.values() if c["id"] != bobs_card["id"]]
    assert len(adas) == 1
    assert person.status_of_list(adas[0]["idList"]) == "QUALIFIED"


# ---- unmapped lists and statuses ----------------------------------------------------------------------


def test_a_card_in_an_unmapped_list_is_reported_and_skipped(
    leadsync: Leadsync, person: Person, sandbox: RunningSandbox
) -> None:
    lead = person.add_lead("Ada", status="NEW")
    leadsync.sync()
    s = sandbox.settings
    backlog = httpx.post(f"{s['TRELLO_API_URL']}/1/lists", params={"key": s["PERSON_TRELLO_API_KEY"],
                         "token": s["PERSON_TRELLO_TOKEN"], "name": "Backlog", "idBoard": s["TRELLO_BOARD_ID"]})  # fmt: skip
    backlog.raise_for_status()
    person.update_card(person.card_for(lead)["id"], idList=backlog.json()["id"])
    summary = leadsync.sync()
    assert summary["skipped"] == 1
    assert writes(summary) == 0
    assert any("no status" in r["reason"] for r in summary["reports"])
    assert status_of(person, lead) == "NEW"


def test_a_status_with_no_list_is_reported_and_skipped(leadsync: Leadsync, person: Person) -> None:
    lead = person.add_lead("Ada", status="NEW")
    leadsync.sync()
    person.edit_lead(lead, Status="NURTURE")  # typecast adds the choice, as a person would in the UI
    summary = leadsync.sync()
    assert summary["skipped"] == 1
    assert writes(summary) == 0
    assert list_of(person, lead) == "NEW"


# ---- conflicts ------------------------------------------------------------------------------------------


def _conflict(leadsync: Leadsync, person: Person, trello_last: bool) -> str:
    lead = person.add_lead("Ada", status="NEW")
    leadsync.sync()
    card_id = person.card_for(lead)["id"]
    if trello_last:
        person.edit_lead(lead, Status="QUALIFIED")
        time.sleep(1.1)
        person.move_card(card_id, "CONTACTED")
    else:
        person.move_card(card_id, "CONTACTED")
        time.sleep(1.1)
        person.edit_lead(lead, Status="QUALIFIED")
    return lead


def test_policy_latest_keeps_the_later_change_trello(leadsync: Leadsync, person: Person) -> None:
    lead = _conflict(leadsync, person, trello_last=True)
    summary = leadsync.sync()
    assert summary["conflicts"] == 1
    assert status_of(person, lead) == list_of(person, lead) == "CONTACTED"


def test_policy_latest_keeps_the_later_change_airtable(leadsync: Leadsync, person: Person) -> None:
    lead = _conflict(leadsync, person, trello_last=False)
    summary = leadsync.sync()
    assert summary["conflicts"] == 1
    assert status_of(person, lead) == list_of(person, lead) == "QUALIFIED"


def test_policy_airtable_keeps_airtable(leadsync: Leadsync, person: Person) -> None:
    lead = _conflict(leadsync, person, trello_last=True)
    assert leadsync.sync(LEADSYNC_CONFLICT_POLICY="airtable")["conflicts"] == 1
    assert status_of(person, lead) == list_of(person, lead) == "QUALIFIED"


def test_policy_trello_keeps_trello(leadsync: Leadsync, person: Person) -> None:
    lead = _conflict(leadsync, person, trello_last=False)
    assert leadsync.sync(LEADSYNC_CONFLICT_POLICY="trello")["conflicts"] == 1
    assert status_of(person, lead) == list_of(person, lead) == "CONTACTED"


def test_policy_manual_changes_neither_side_until_a_person_resolves(
    leadsync: Leadsync, person: Person
) -> None:
    lead = _conflict(leadsync, person, trello_last=True)
    env = leadsync.env(LEADSYNC_CONFLICT_POLICY="manual")
    summary = leadsync.sync(LEADSYNC_CONFLICT_POLICY="manual")
    assert summary["conflicts"] == 1
    assert writes(summary) == 0
    assert status_of(person, lead) == "QUALIFIED"
    assert list_of(person, lead) == "CONTACTED"
    assert writes(leadsync.sync(LEADSYNC_CONFLICT_POLICY="manual")) == 0
    listed = leadsync.run("conflicts", env=env)
    assert lead in listed.stdout
    assert "open" in listed.stdout
    resolved = leadsync.run("conflicts", "resolve", lead, "--keep", "airtable", env=env)
    assert resolved.code == 0, resolved.stderr
    leadsync.sync(LEADSYNC_CONFLICT_POLICY="manual")
    assert status_of(person, lead) == list_of(person, lead) == "QUALIFIED"
    assert "No open conflicts" in leadsync.run("conflicts", env=env).stdout


def test_the_same_change_on_both_sides_is_no_conflict_and_no_write(
    leadsync: Leadsync, person: Person
) -> None:
    lead = person.add_lead("Ada", status="NEW")
    leadsync.sync()
    person.edit_lead(lead, Status="CONTACTED")
    person.move_card(person.card_for(lead)["id"], "CONTACTED")
    summary = leadsync.sync()
    assert summary["conflicts"] == 0
    assert writes(summary) == 0


# ---- failures ------------------------------------------------------------------------------------------


def test_a_failed_read_exits_3_and_writes_nothing(
    leadsync: Leadsync, person: Person, sandbox: RunningSandbox
) -> None:
    person.add_lead("Ada", status="NEW")
    sandbox.fault("/1/boards/", method="GET", status=500, count=100)
    seen = len(sandbox.requests())
    run = leadsync.run("sync", "--json", env=leadsync.env(LEADSYNC_MAX_RETRY_SECONDS="1"))
    assert run.code == 3, run.stderr
    assert "Nothing was written" in run.stderr
    assert not [r for r in sandbox.requests(since=seen) if r["method"] in ("POST", "PUT", "PATCH", "DELETE")
                and not r["path"].endswith("/listRecords")]  # fmt: skip
    sandbox.control("DELETE", "/faults")
    assert person.cards() == []


def test_one_records_failure_does_not_stop_the_others_and_is_retried_next_cycle(
    leadsync: Leadsync, person: Person, sandbox: RunningSandbox
) -> None:
    for name in ("A", "B", "C"):
        person.add_lead(name, status="NEW")
    sandbox.fault("/1/cards", method="POST", status=400, count=1, body="invalid value for idList")
    first = leadsync.sync(expect=1)
    assert first["created"] == 2
    assert first["errors"] == 1
    second = leadsync.sync()
    assert second["created"] == 1
    assert len(person.cards()) == 3


def test_a_create_whose_response_was_lost_is_adopted_not_duplicated(
    leadsync: Leadsync, person: Person, sandbox: RunningSandbox
) -> None:
    lead = person.add_lead("Ada", status="NEW")
    sandbox.fault("/1/cards", method="POST", action="lost_response", count=1)
    first = leadsync.sync(expect=1)
    assert first["errors"] == 1
    assert len(person.cards()) == 1  # the server made the card; leadsync did not hear back
    second = leadsync.sync()
    assert second["created"] == 0
    assert len(person.cards()) == 1
    person.edit_lead(lead, Status="CONTACTED")
    leadsync.sync()
    assert list_of(person, lead) == "CONTACTED"


def test_transient_server_errors_are_retried(
    leadsync: Leadsync, person: Person, sandbox: RunningSandbox
) -> None:
    person.add_lead("Ada", status="NEW")
    sandbox.fault("/v0/", status=503, count=2, headers={"Retry-After": "0"})
    summary = leadsync.sync()
    assert summary["created"] == 1


def test_dry_run_prints_the_plan_and_writes_nothing(leadsync: Leadsync, person: Person) -> None:
    person.add_lead("Ada", status="NEW")
    run = leadsync.run("sync", "--dry-run")
    assert run.code == 0, run.stderr
    assert "would create card 'Ada' in 'NEW'" in run.stdout
    assert person.cards() == []


# ---- settings and secrets ------------------------------------------------------------------------------


def test_a_missing_setting_exits_2_naming_the_variable_and_the_fix(leadsync: Leadsync) -> None:
    env = leadsync.env()
    del env["TRELLO_TOKEN"]
    run = leadsync.run("sync", env=env)
    assert run.code == 2
    assert "TRELLO_TOKEN" in run.stderr
    assert "is not set" in run.stderr
    assert "authorize" in run.stderr


def test_a_malformed_setting_exits_2_before_any_request(leadsync: Leadsync, sandbox: RunningSandbox) -> None:
    seen = len(sandbox.requests())
    run = leadsync.run("sync", env=leadsync.env(TRELLO_LIST_IDS="{not json"))
    assert run.code == 2
    assert "TRELLO_LIST_IDS" in run.stderr
    assert "not valid JSON" in run.stderr
    run = leadsync.run("sync", env=leadsync.env(AIRTABLE_BASE_ID="base123"))
    assert run.code == 2
    assert "AIRTABLE_BASE_ID" in run.stderr
    assert len(sandbox.requests()) == seen


def test_no_secret_appears_in_any_output(leadsync: Leadsync, person: Person, sandbox: RunningSandbox) -> None:
    person.add_lead("Ada", status="NEW")
    sandbox.fault("/1/cards", method="POST", status=400, count=1, body="invalid value for idList")
    runs = [leadsync.run("-vv", "sync"), leadsync.run("-vv", "sync", "--json"), leadsync.run("status"),
            leadsync.run("-vv", "sync", env=leadsync.env(LEADSYNC_CONFLICT_POLICY="bogus"))]  # fmt: skip
    s = sandbox.settings
    secrets = [s["AIRTABLE_API_KEY"], s["TRELLO_API_KEY"], s["TRELLO_TOKEN"], s["TRELLO_API_SECRET"]]
    for run in runs:
        for secret in secrets:
            assert secret not in run.stdout
            assert secret not in run.stderr
    assert runs[3].code == 2


def test_status_shows_pairs_conflicts_and_the_last_cycle(leadsync: Leadsync, person: Person) -> None:
    person.add_lead("Ada", status="NEW")
    leadsync.sync()
    run = leadsync.run("status", "--json")
    assert run.code == 0, run.stderr
    info = run.summary
    assert info["linked_pairs"] == 1
    assert info["open_conflicts"] == 0
    assert info["last_cycle"]["ok"] is True


def test_after_a_first_full_cycle_on_an_empty_board_the_next_is_incremental(
    leadsync: Leadsync, person: Person
) -> None:
    assert leadsync.sync()["mode"] == "full"
    person.add_lead("Ada", status="NEW")
    second = leadsync.sync()
    assert second["mode"] == "incremental"
    assert second["created"] == 1


def test_poll_syncs_until_interrupted_then_exits_cleanly(leadsync: Leadsync, person: Person) -> None:
    import signal
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, str(root / "sync.py"), "--poll", "--interval", "1"],
                            cwd=leadsync.workdir, env=leadsync.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        lead = person.add_lead("Ada", status="NEW")
        deadline = time.monotonic() + 30
        while not [c for c in person.cards() if f"Lead ID: {lead}" in c["desc"]]:
            assert time.monotonic() < deadline, "poll did not sync the new lead"
            time.sleep(0.1)
        person.edit_lead(lead, Status="QUALIFIED")
        while list_of(person, lead) != "QUALIFIED":
            assert time.monotonic() < deadline, "poll did not move the card"
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped" in err
    assert "Traceback" not in err


def test_poll_stops_with_exit_2_on_a_list_mapping_the_board_lacks(leadsync: Leadsync, person: Person) -> None:
    person.add_lead("Ada", status="NEW")
    names = json.dumps({"NEW": "NEW", "CONTACTED": "Contacted", "QUALIFIED": "Won", "LOST": "LOST"})
    env = leadsync.env(LEADSYNC_STATUS_LIST_NAMES=names)
    del env["TRELLO_LIST_IDS"]
    run = leadsync.run("poll", "--interval", "1", env=env, timeout=60)
    assert run.code == 2, run.stderr
    assert "Configuration error" in run.stderr
    assert "'Won'" in run.stderr
    assert "Traceback" not in run.stderr
    assert person.cards("all") == []
