"""A due date changed on both sides to different dates is a conflict of its own, under the flow's policy."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.fixtures_sandbox import Leadsync, RunningSandbox
from tests.mapping.world import TeamWorld, mapping_toml


def both_changed(cli: Leadsync, team: TeamWorld, policy: str) -> tuple[str, str]:
    team.config.write_text(mapping_toml(team.base, team.board, policy=policy))
    lead = team.add_lead("Ada", "New", **{"Follow-up date": "2026-12-10"})
    cli.sync()
    card = team.card_for(lead)["id"]
    team.edit_lead(lead, **{"Follow-up date": "2026-12-11"})
    time.sleep(0.05)  # the Trello edit is the later one, by each API's own clock
    team.update_card(card, due="2026-12-12T12:00:00.000Z")
    return lead, card


@pytest.mark.parametrize(
    ("policy", "kept"), [("airtable", "2026-12-11"), ("trello", "2026-12-12"), ("latest", "2026-12-12")]
)
def test_a_deciding_policy_keeps_one_date_on_both_sides(
    cli: Leadsync, team: TeamWorld, policy: str, kept: str
) -> None:
    lead, _ = both_changed(cli, team, policy)
    summary = cli.sync()
    assert summary["conflicts"] == 1
    assert team.cell(lead, "Follow-up date") == kept
    assert team.card_for(lead)["due"].startswith(kept)
    assert cli.sync()["conflicts"] == 0


def test_latest_keeps_airtable_when_airtable_changed_last(cli: Leadsync, team: TeamWorld) -> None:
    team.config.write_text(mapping_toml(team.base, team.board, policy="latest"))
    lead = team.add_lead("Ada", "New", **{"Follow-up date": "2026-12-10"})
    cli.sync()
    team.update_card(team.card_for(lead)["id"], due="2026-12-12T12:00:00.000Z")
    time.sleep(0.05)
    team.edit_lead(lead, **{"Follow-up date": "2026-12-11"})
    cli.sync()
    assert team.card_for(lead)["due"].startswith("2026-12-11")


def test_manual_leaves_both_dates_until_a_person_keeps_one(
    cli: Leadsync, team: TeamWorld, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    lead, _ = both_changed(cli, team, "manual")
    summary = cli.sync()
    assert summary["conflicts"] == 1
    assert team.cell(lead, "Follow-up date") == "2026-12-11"
    assert team.card_for(lead)["due"].startswith("2026-12-12")
    listed = cli.run("conflicts")
    assert lead in listed.stdout or "Ada" in listed.stdout
    resolved = cli.run("conflicts", "resolve", lead, "--keep", "trello")
    assert resolved.code == 0, resolved.stdout + resolved.stderr
    cli.sync()
    assert team.cell(lead, "Follow-up date") == "2026-12-12"


def test_an_edit_made_while_a_conflict_was_open_is_not_lost_when_a_person_settles_it(
    cli: Leadsync, team: TeamWorld
) -> None:
    lead, card = both_changed(cli, team, "manual")
    assert cli.sync()["conflicts"] == 1
    team.update_card(card, due="2026-12-20T12:00:00.000Z")  # Trello's date changes again, conflict open
    resolved = cli.run("conflicts", "resolve", lead, "--keep", "airtable")
    assert resolved.code == 0, resolved.stdout + resolved.stderr
    summary = cli.sync()
    assert summary["conflicts"] == 0  # no new conflict from the base's stale Trello value
    assert team.card_for(lead)["due"].startswith("2026-12-11")  # the kept side's date, on both sides
    assert team.cell(lead, "Follow-up date") == "2026-12-11"
