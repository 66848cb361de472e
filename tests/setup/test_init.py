"""``leadsync init --yes`` through the CLI against the sandbox: from an empty base and board to a working
setup, idempotent, unattended, and silent about secrets."""

from __future__ import annotations

import json
import stat
import tomllib

from leadsync.sandbox.person import Person
from tests.setup.conftest import Setup


def _status_of(person: Person, lead_id: str) -> str | None:
    lead = next(r for r in person.leads() if r["id"] == lead_id)
    value = lead["fields"].get("Status")
    return str(value) if value else None


def test_init_yes_on_an_empty_base_and_board_gives_a_setup_whose_first_sync_tells_the_story(
    empty: Setup,
) -> None:
    run = empty.run("init", "--yes", with_settings=True)
    assert run.code == 0, run.output
    assert "created Airtable table 'Leads'" in run.stdout
    for name in ("NEW", "CONTACTED", "QUALIFIED", "LOST"):
        assert f"created list '{name}'" in run.stdout
    env_file = empty.workdir / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    mapping = tomllib.loads((empty.workdir / "leadsync.toml").read_text())
    flow = mapping["flow"][0]
    assert flow["airtable"] == {
        "base": empty.settings["AIRTABLE_BASE_ID"],
        "table": "Leads",
        "token_env": "AIRTABLE_API_KEY",
    }
    assert flow["trello"]["board"] == empty.settings["TRELLO_BOARD_ID"]
    for secret in empty.secrets():
        assert secret not in (empty.workdir / "leadsync.toml").read_text()
        assert secret in env_file.read_text()

    # From here on, only .env and leadsync.toml hold the setup: the environment has the URLs alone.
    person = empty.person()
    try:
        lead = person.add_lead("Ada Lovelace", "ada@example.com", "NEW", "Referral")
        first = empty.run("sync", "--json")
        assert first.code == 0, first.output
        assert json.loads(first.stdout.splitlines()[-1])["created"] == 1
        card = person.card_for(lead)
        assert card["name"] == "Follow up: Ada Lovelace"
        assert person.status_of_list(card["idList"]) == "NEW"

        person.edit_lead(lead, Status="QUALIFIED")
        assert empty.run("sync").code == 0
        assert person.status_of_list(person.card_for(lead)["idList"]) == "QUALIFIED"

        person.move_card(card["id"], "CONTACTED")
        assert empty.run("sync").code == 0
        assert _status_of(person, lead) == "CONTACTED"

        again = empty.run("sync", "--json")
        calls = json.loads(again.stdout.splitlines()[-1])["api_calls"]
        assert calls["airtable"]["write"] + calls["trello"]["write"] == 0
    finally:
        person.close()


def test_init_again_changes_nothing(empty: Setup) -> None:
    assert empty.run("init", "--yes", with_settings=True).code == 0
    files = {name: (empty.workdir / name).read_bytes() for name in (".env", "leadsync.toml")}
    before = empty.last_seq()
    again = empty.run("init", "--yes")  # now from .env and leadsync.toml alone
    assert again.code == 0, again.output
    assert empty.writes_since(before) == []
    assert "Nothing to do" in again.stdout
    assert {name: (empty.workdir / name).read_bytes() for name in files} == files


def test_init_adds_the_missing_status_options_and_fields_of_an_existing_table(provisioned: Setup) -> None:
    table = provisioned.state.airtable.tables[provisioned.state.airtable.table_id]
    status = next(f for f in table.fields.values() if f.name == "Status")
    status.options = {"choices": [c for c in status.choices if c["name"] != "LOST"]}
    source = next(f for f in table.fields.values() if f.name == "Source")
    del table.fields[source.id]
    run = provisioned.run("init", "--yes", with_settings=True)
    assert run.code == 0, run.output
    assert "created options LOST of 'Status'" in run.stdout
    assert "created field 'Source' (singleLineText)" in run.stdout
    assert [c["name"] for c in status.choices] == ["NEW", "CONTACTED", "QUALIFIED", "LOST"]
    assert table.records == {}  # the placeholder record that brought the option in is gone
    assert provisioned.run("doctor").code == 0


def test_init_creates_a_board_when_none_is_named(empty: Setup) -> None:
    run = empty.run(
        "init", "--yes", "--board-name", "Sales follow-ups", with_settings=True, TRELLO_BOARD_ID=""
    )
    assert run.code == 0, run.output
    assert "created Trello board 'Sales follow-ups'" in run.stdout
    board = next(b for b in empty.state.trello.boards.values() if b.name == "Sales follow-ups")
    names = [row.name for row in empty.state.trello.lists_of(board.id)]
    assert names == ["NEW", "CONTACTED", "QUALIFIED", "LOST"]  # no default lists unless asked
    assert (
        tomllib.loads((empty.workdir / "leadsync.toml").read_text())["flow"][0]["trello"]["board"] == board.id
    )


def test_init_yes_without_a_token_names_the_variable_and_writes_nothing(empty: Setup) -> None:
    run = empty.run("init", "--yes")
    assert run.code == 2
    assert "AIRTABLE_API_KEY" in run.stderr
    assert "Configuration error" in run.stderr
    assert not (empty.workdir / ".env").exists()
    assert not (empty.workdir / "leadsync.toml").exists()


def test_init_with_a_wrong_token_exits_2_without_showing_it(empty: Setup) -> None:
    wrong = "patWRONGWRONGWRON.0123456789abcdef"
    run = empty.run("init", "--yes", with_settings=True, AIRTABLE_API_KEY=wrong)
    assert run.code == 2
    assert "AIRTABLE_API_KEY" in run.stderr
    assert wrong not in run.output
    assert not (empty.workdir / ".env").exists()


def test_init_without_a_terminal_and_without_yes_says_to_pass_yes(empty: Setup) -> None:
    run = empty.run("init", with_settings=True)
    assert run.code == 2
    assert "--yes" in run.stderr


def test_init_prints_no_secret(empty: Setup) -> None:
    run = empty.run("init", "--yes", with_settings=True)
    assert run.code == 0
    for secret in empty.secrets():
        assert secret not in run.output


def test_init_names_a_field_whose_type_leadsync_cannot_use_and_exits_2(provisioned: Setup) -> None:
    table = provisioned.state.airtable.tables[provisioned.state.airtable.table_id]
    status = next(f for f in table.fields.values() if f.name == "Status")
    status.type, status.options = "checkbox", {"color": "greenBright", "icon": "check"}
    run = provisioned.run("init", "--yes", with_settings=True)
    assert run.code == 2
    assert "Airtable field 'Status': maps status to 'Status', a checkbox field" in run.stderr
    assert "singleLineText or singleSelect" in run.stderr
    assert "Change the field's type in Airtable" in run.stderr


def test_init_creates_the_due_and_labels_fields_a_mapping_names(empty: Setup) -> None:
    s = empty.settings
    (empty.workdir / "leadsync.toml").write_text(
        f"""[[flow]]
name = "default"

[flow.airtable]
base = "{s["AIRTABLE_BASE_ID"]}"
table = "Prospects"

[flow.trello]
board = "{s["TRELLO_BOARD_ID"]}"

[flow.fields]
name = "Full Name"
status = "Stage"
due = "Follow-up date"
labels = "Tags"

[flow.statuses]
"New" = "To call"
"Won" = "Won"
"""
    )
    run = empty.run("init", "--yes", with_settings=True)
    assert run.code == 0, run.output
    table = next(t for t in empty.state.airtable.tables.values() if t.name == "Prospects")
    fields = {f.name: f.type for f in table.fields.values()}
    assert fields == {
        "Full Name": "singleLineText",
        "Email": "email",
        "Stage": "singleSelect",
        "Source": "singleLineText",
        "Follow-up date": "date",
        "Tags": "multipleSelects",
    }
    assert next(iter(table.fields.values())).id == table.primary_field_id  # the name field is the primary one
    lists = [row.name for row in empty.state.trello.lists_of(empty.state.trello.board_id)]
    assert lists == ["To call", "Won"]
    doctor = empty.run("doctor")
    assert doctor.code == 0, doctor.output
    assert "ok   Trello labels" in doctor.stdout


def test_init_with_an_api_url_where_nothing_answers_names_the_variable(empty: Setup) -> None:
    run = empty.run("init", "--yes", with_settings=True, AIRTABLE_API_URL="http://127.0.0.1:9")
    assert run.code == 2, run.output
    assert "AIRTABLE_API_URL: nothing answers at http://127.0.0.1:9" in run.stderr
    assert not (empty.workdir / ".env").exists()


def test_init_refuses_a_token_pasted_with_a_line_break(empty: Setup) -> None:
    token = empty.settings["TRELLO_TOKEN"]
    run = empty.run("init", "--yes", "--trello-token", token[:20] + "\n" + token[20:], with_settings=True)
    assert run.code == 2, run.output
    assert "TRELLO_TOKEN: holds a line break" in run.stderr
    assert empty.settings["TRELLO_TOKEN"][:20] not in run.output


def test_init_writes_the_mapping_file_leadsync_config_names(empty: Setup) -> None:
    run = empty.run("init", "--yes", with_settings=True, LEADSYNC_CONFIG="conf/sales.toml")
    assert run.code == 0, run.output
    assert (empty.workdir / "conf" / "sales.toml").is_file()
    assert not (empty.workdir / "leadsync.toml").exists()
