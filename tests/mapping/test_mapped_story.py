"""The seed's story on a team's own base: every field named differently and declared in leadsync.toml;
due dates and labels both ways; what a person's edit on either side does."""

from __future__ import annotations

from tests.fixtures_sandbox import Leadsync
from tests.mapping.world import TeamWorld


def writes(summary: dict[str, object]) -> dict[str, int]:
    calls = summary["api_calls"]
    assert isinstance(calls, dict)
    return {api: int(calls[api]["write"]) for api in ("airtable", "trello")}


def test_the_seed_story_with_the_teams_own_names(cli: Leadsync, team: TeamWorld) -> None:
    lead = team.add_lead("Ada Lovelace", "New", **{"Work Email": "ada@example.com", "Company": "Analytical"})
    assert cli.sync()["created"] == 1
    card = team.card_for(lead)
    assert card["name"] == "Call Ada Lovelace"
    assert team.list_option(card["idList"]) == "New"
    assert "Lead Name: Ada Lovelace" in card["desc"]
    assert "Email: ada@example.com" in card["desc"]
    assert "Company: Analytical" in card["desc"]

    team.edit_lead(lead, **{"Lead Status": "Contacted"})
    assert cli.sync()["moved"] == 1
    assert team.list_option(team.card_for(lead)["idList"]) == "Contacted"

    team.move_card(card["id"], "Qualified")
    assert cli.sync()["updated"] == 1
    assert team.cell(lead, "Lead Status") == "Qualified"

    again = cli.sync()
    assert writes(again) == {"airtable": 0, "trello": 0}
    assert again["created"] == 0
    assert len(team.cards()) == 1


def test_a_lost_lead_gets_no_card_and_an_extra_field_reaches_the_block(
    cli: Leadsync, team: TeamWorld
) -> None:
    lost = team.add_lead("Gone Ltd", "Lost")
    kept = team.add_lead("Kept", "New", Company="Before")
    cli.sync()
    assert [c for c in team.cards() if lost in c["desc"]] == []
    team.edit_lead(kept, Company="After")
    summary = cli.sync()
    assert summary["updated"] == 1
    assert "Company: After" in team.card_for(kept)["desc"]


def test_a_due_date_syncs_both_ways_at_a_status_change_s_cost(cli: Leadsync, team: TeamWorld) -> None:
    lead = team.add_lead("Ada", "New", **{"Follow-up date": "2026-12-10"})
    cli.sync()
    card = team.card_for(lead)
    assert card["due"].startswith("2026-12-10")

    team.update_card(card["id"], due="2026-12-15T09:30:00.000Z")
    summary = cli.sync()
    assert team.cell(lead, "Follow-up date") == "2026-12-15"
    assert writes(summary) == {"airtable": 1, "trello": 0}

    team.edit_lead(lead, **{"Follow-up date": "2026-12-20"})
    summary = cli.sync()
    assert team.card_for(lead)["due"].startswith("2026-12-20")
    assert writes(summary) == {"airtable": 0, "trello": 1}

    team.update_card(card["id"], due=None)
    cli.sync()
    assert team.cell(lead, "Follow-up date") is None
    assert writes(cli.sync()) == {"airtable": 0, "trello": 0}


def test_labels_sync_both_ways_and_a_persons_own_labels_are_left_alone(
    cli: Leadsync, team: TeamWorld
) -> None:
    lead = team.add_lead("Ada", "New", Tags=["Hot"])
    cli.sync()
    card = team.card_for(lead)
    assert team.label_names(card) == {"Hot"}

    team.add_label(card["id"], "Cold")
    team.add_label(card["id"], "Misc")  # no option of Tags: the person's own
    cli.sync()
    assert set(team.cell(lead, "Tags")) == {"Hot", "Cold"}

    team.edit_lead(lead, Tags=["Cold"])
    cli.sync()
    assert team.label_names(team.card_for(lead)) == {"Cold", "Misc"}
    assert writes(cli.sync()) == {"airtable": 0, "trello": 0}
    hot = [lid for lid, name in team.board_labels().items() if name == "Hot"]
    assert len(hot) == 1  # made once, never twice


def test_an_edit_on_either_side_survives_the_others_edit_of_another_field(
    cli: Leadsync, team: TeamWorld
) -> None:
    lead = team.add_lead("Ada", "New", **{"Follow-up date": "2026-12-10"}, Tags=["Hot"])
    cli.sync()
    card = team.card_for(lead)
    team.edit_lead(lead, **{"Lead Status": "Contacted"}, Tags=["Hot", "Cold"])
    team.update_card(card["id"], due="2026-12-12T12:00:00.000Z")
    cli.sync()
    after = team.card_for(lead)
    assert team.list_option(after["idList"]) == "Contacted"
    assert team.label_names(after) == {"Hot", "Cold"}
    assert team.cell(lead, "Follow-up date") == "2026-12-12"
