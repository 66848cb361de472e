"""A mapping the table can't honour stops before any write, with exit 2 naming the setting and the fix:
a mapped field deleted or given another type, a computed field mapped both ways, a wrong file."""

from __future__ import annotations

from leadsync.sandbox.airtable.ui_edits import change_field_type, delete_field
from tests.fixtures_sandbox import Leadsync, RunningSandbox
from tests.mapping.world import TeamWorld, mapping_toml


def written(sandbox: RunningSandbox, since: int) -> list[str]:
    """The write requests leadsync (not the person) made since log entry ``since``."""
    return [
        f"{r['method']} {r['path']}"
        for r in sandbox.requests(since)
        if r["method"] not in ("GET", "HEAD") and r["who"] == "leadsync" and "listRecords" not in r["path"]
    ]


def last_entry(sandbox: RunningSandbox) -> int:
    entries = sandbox.requests()
    return int(entries[-1]["seq"]) if entries else 0


def test_a_deleted_mapped_field_exits_2_and_writes_nothing(
    cli: Leadsync, team: TeamWorld, sandbox: RunningSandbox
) -> None:
    lead = team.add_lead("Ada", "New", **{"Follow-up date": "2026-12-10"})
    first = last_entry(sandbox)
    cli.sync()
    assert written(sandbox, first), "the request log shows leadsync's writes"
    delete_field(sandbox.state.airtable, team.table_id, team.field_ids["Follow-up date"])
    team.move_card(team.card_for(lead)["id"], "Contacted")  # a change that would otherwise be written
    since = last_entry(sandbox)
    run = cli.run("sync")
    assert run.code == 2, run.stdout + run.stderr
    assert "Follow-up date" in run.stderr + run.stdout
    assert "fields.due" in run.stderr + run.stdout
    assert written(sandbox, since) == []
    assert team.cell(lead, "Lead Status") == "New"


def test_a_mapped_field_given_another_type_exits_2_and_writes_nothing(
    cli: Leadsync, team: TeamWorld, sandbox: RunningSandbox
) -> None:
    lead = team.add_lead("Ada", "New", Tags=["Hot"])
    cli.sync()
    change_field_type(sandbox.state.airtable, team.table_id, team.field_ids["Tags"], "singleLineText")
    team.move_card(team.card_for(lead)["id"], "Contacted")
    since = last_entry(sandbox)
    run = cli.run("sync")
    assert run.code == 2, run.stdout + run.stderr
    output = run.stderr + run.stdout
    assert "Tags" in output
    assert "multipleSelects" in output
    assert written(sandbox, since) == []


def test_a_computed_field_mapped_both_ways_exits_2(
    cli: Leadsync, team: TeamWorld, sandbox: RunningSandbox
) -> None:
    sandbox.state.airtable.computed_fields_creatable = True  # a person adds it in Airtable's UI
    url = f"{team.s['AIRTABLE_API_URL']}/v0/meta/bases/{team.base}/tables/{team.table_id}/fields"
    team._ok(
        team.http.post(
            url,
            json={"name": "Next step", "type": "formula", "options": {"formula": "{Full Name}"}},
            headers=team._at,
        )
    )
    team.config.write_text(mapping_toml(team.base, team.board, status="Next step"))
    run = cli.run("sync")
    assert run.code == 2, run.stdout + run.stderr
    output = run.stderr + run.stdout
    assert "Next step" in output
    assert "computes" in output
    assert "leadsync.toml" in output


def test_a_computed_field_can_be_shown_in_the_block(
    cli: Leadsync, team: TeamWorld, sandbox: RunningSandbox
) -> None:
    sandbox.state.airtable.computed_fields_creatable = True
    url = f"{team.s['AIRTABLE_API_URL']}/v0/meta/bases/{team.base}/tables/{team.table_id}/fields"
    team._ok(
        team.http.post(
            url,
            json={
                "name": "Greeting",
                "type": "formula",
                "options": {"formula": "CONCATENATE('Hi ', {Full Name})"},
            },
            headers=team._at,
        )
    )
    text = mapping_toml(team.base, team.board).replace('"Company"]', '"Company", "Greeting"]')
    team.config.write_text(text)
    lead = team.add_lead("Ada", "New")
    assert cli.sync()["created"] == 1
    assert "Greeting: Hi Ada" in team.card_for(lead)["desc"]


def test_a_wrong_file_names_its_line_key_and_fix(cli: Leadsync, team: TeamWorld) -> None:
    text = mapping_toml(team.base, team.board).replace('status = "Lead Status"', 'stauts = "Lead Status"')
    team.config.write_text(text)
    run = cli.run("sync")
    assert run.code == 2
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if row.startswith("stauts"))
    assert f"leadsync.toml:{line}" in run.stderr + run.stdout
    assert "flow.fields.stauts" in run.stderr + run.stdout


def test_a_field_the_table_lacks_is_named_with_the_tables_fields(cli: Leadsync, team: TeamWorld) -> None:
    team.config.write_text(mapping_toml(team.base, team.board, due="Due date"))
    run = cli.run("sync")
    assert run.code == 2
    output = run.stderr + run.stdout
    assert "'Due date'" in output
    assert "'Follow-up date'" in output


def test_a_status_the_field_has_no_option_for_exits_2(cli: Leadsync, team: TeamWorld) -> None:
    text = mapping_toml(team.base, team.board).replace('"Qualified" = "Won"', '"Won" = "Won"')
    team.config.write_text(text)
    run = cli.run("sync")
    assert run.code == 2, run.stdout + run.stderr
    output = run.stderr + run.stdout
    assert "'Won'" in output
    assert "no option of 'Lead Status'" in output
