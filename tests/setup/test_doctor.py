"""``leadsync doctor`` through the CLI: a good setup passes every check (exit 0); a setup broken in each
way a new user breaks one is named, with its fix, and exits 2; no secret is ever shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from leadsync.store import Store
from tests.setup.conftest import Run, Setup


def test_doctor_passes_a_good_setup(ready: Setup) -> None:
    run = ready.run("doctor")
    assert run.code == 0, run.output
    assert "FAIL" not in run.stdout
    for name in (
        "Airtable token",
        "Airtable table and fields",
        "Status options",
        "Trello lists",
        "state store",
    ):
        assert f"ok   {name}" in run.stdout
    assert "all " in run.stdout


def test_doctor_json_lists_every_check(ready: Setup) -> None:
    run = ready.run("doctor", "--json")
    assert run.code == 0, run.output
    body = json.loads(run.stdout)
    assert body["ok"] is True
    names = {c["name"] for c in body["checks"]}
    assert {"Airtable scopes", "Trello key and token", "Trello board", "webhooks", "clock vs Trello"} <= names
    assert all(c["status"] in ("pass", "warn") for c in body["checks"])


# ---- one way of breaking a setup each -------------------------------------------------------------------


def _rename_field(ready: Setup, old: str, new: str) -> None:
    table = ready.state.airtable.tables[ready.state.airtable.table_id]
    next(f for f in table.fields.values() if f.name == old).name = new


def _retype_status(ready: Setup) -> None:
    # A person turned the Status field into long text in Airtable's UI (the API can't change a type).
    table = ready.state.airtable.tables[ready.state.airtable.table_id]
    status = next(f for f in table.fields.values() if f.name == "Status")
    status.type, status.options = "multilineText", None


def _rename_list(ready: Setup) -> None:
    person = ready.person()
    try:
        person.rename_list("QUALIFIED", "Qualified leads")
    finally:
        person.close()


def _add_an_option(ready: Setup) -> None:
    person = ready.person()
    try:
        lead = person.add_lead("Grace")
        person.edit_lead(lead, Status="WON")  # typecast: Airtable adds the option WON
    finally:
        person.close()


def _forget_a_webhook(ready: Setup) -> None:
    with Store.open(f"sqlite:///{ready.workdir / 'state.db'}") as store:
        store.update_sync_state(trello_webhook_id="5f0000000000000000000001")


def _drop_write_scope(ready: Setup) -> None:
    ready.state.airtable.scopes["leadsync"].discard("data.records:write")


def _drop_schema_scope(ready: Setup) -> None:
    ready.state.airtable.scopes["leadsync"].discard("schema.bases:read")


def _unwritable_store(ready: Setup) -> None:
    (ready.workdir / "not-a-directory").write_text("a file where the store's directory should be\n")
    ready.extra["LEADSYNC_DATABASE_URL"] = f"sqlite:///{ready.workdir / 'not-a-directory' / 'state.db'}"


BREAKAGES: dict[str, tuple[Callable[[Setup], None], dict[str, str], list[str]]] = {
    "wrong Airtable token": (lambda r: None, {"AIRTABLE_API_KEY": "patWRONGWRONGWRON.0123456789"}, ["Airtable token", "AIRTABLE_API_KEY", "airtable.com/create/tokens"]),
    "wrong Trello token": (lambda r: None, {"TRELLO_TOKEN": "f" * 64}, ["Trello key and token", "TRELLO_TOKEN", "fix:"]),
    "missing field": (lambda r: _rename_field(r, "Email", "E-mail"), {}, ["has no field 'Email'", "leadsync init"]),
    "wrong type": (_retype_status, {}, ["fields.status", "multilineText", "singleLineText or singleSelect"]),
    "missing list": (_rename_list, {}, ["no list 'QUALIFIED'", "leadsync init"]),
    "unknown option": (_add_an_option, {}, ["'WON'", "maps to no list", "[flow.statuses]"]),
    "missing scope": (_drop_write_scope, {}, ["data.records:write", "airtable.com/create/tokens"]),
    "missing schema scope": (_drop_schema_scope, {}, ["lacks the scope schema.bases:read", "airtable.com/create/tokens"]),
    "store unwritable": (_unwritable_store, {}, ["state store", "LEADSYNC_DATABASE_URL", "sqlite:///"]),
    "webhook missing": (_forget_a_webhook, {}, ["Trello webhook 5f0000000000000000000001", "leadsync webhooks register"]),
}  # fmt: skip


def _doctor(ready: Setup, env: dict[str, str]) -> Run:
    return ready.run("doctor", overrides=env)


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_doctor_names_each_broken_setup_with_its_fix_and_exits_2(ready: Setup, breakage: str) -> None:
    breaker, env, words = BREAKAGES[breakage]
    breaker(ready)
    run = _doctor(ready, env)
    assert run.code == 2, run.output
    failed = [line for line in run.stdout.splitlines() if line.startswith("FAIL")]
    assert failed, run.stdout
    for word in words:
        assert word in run.stdout, f"{word!r} not in:\n{run.stdout}"
    assert "fix:" in run.stdout
    for secret in [*ready.secrets(), *env.values()]:
        if len(secret) >= 6 and not secret.startswith("sqlite"):
            assert secret not in run.output


def test_doctor_json_of_a_broken_setup_says_what_failed(ready: Setup) -> None:
    _rename_list(ready)
    run = ready.run("doctor", "--json")
    assert run.code == 2
    body = json.loads(run.stdout)
    assert body["ok"] is False
    failed = [c for c in body["checks"] if c["status"] == "fail"]
    assert [c["name"] for c in failed] == ["Trello lists"]
    assert "leadsync init" in failed[0]["fix"]


def test_doctor_without_settings_names_the_variable(tmp_path: Path, empty: Setup) -> None:
    run = empty.run("doctor")
    assert run.code == 2
    assert "AIRTABLE_" in run.stdout or "TRELLO_" in run.stdout


def test_doctor_names_a_list_ids_key_that_is_no_status(provisioned: Setup) -> None:
    ids = json.loads(provisioned.settings["TRELLO_LIST_IDS"])
    ids["New"] = ids.pop("NEW")
    run = provisioned.run("doctor", with_settings=True, TRELLO_LIST_IDS=json.dumps(ids))
    assert run.code == 2, run.output
    assert "TRELLO_LIST_IDS key 'New' is no status" in run.stdout
    assert "status 'NEW' has no list id" in run.stdout


def test_doctor_checks_the_public_url_answers_health(ready: Setup) -> None:
    run = ready.run("doctor", LEADSYNC_PUBLIC_URL="http://127.0.0.1:9")
    assert run.code == 2, run.output
    assert "LEADSYNC_PUBLIC_URL: http://127.0.0.1:9/health can't be reached" in run.stdout
    assert "LEADSYNC_PUBLIC_URL is set but no webhook is registered" in run.stdout
    assert "leadsync serve" in run.stdout
