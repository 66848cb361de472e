"""Renaming a mapped field, the table, a list or a label changes nothing: no error, no lost edit, no
duplicate; between cycles (each ``sync`` a new process, the file still naming the old names) and during
a running ``poll``."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.fixtures_sandbox import Leadsync
from tests.mapping.world import TeamWorld


def test_everything_renamed_between_runs_changes_nothing(cli: Leadsync, team: TeamWorld) -> None:
    lead = team.add_lead("Ada", "New", **{"Follow-up date": "2026-12-10"}, Tags=["Hot"], Company="A")
    cli.sync()
    card = team.card_for(lead)
    hot = next(lid for lid, name in team.board_labels().items() if name == "Hot")
    for name in ("Full Name", "Work Email", "Lead Status", "Origin", "Follow-up date", "Tags", "Company"):
        team.rename_field(name, f"{name} (renamed)")
    team.rename_table("Prospects 2027")
    team.rename_list("Contacted", "Called back")
    team.rename_label(hot, "Very hot")

    team.edit_lead(lead, **{"Lead Status (renamed)": "Contacted", "Company (renamed)": "B"})
    team.update_card(card["id"], due="2026-12-14T12:00:00.000Z")
    summary = cli.sync()
    assert summary["errors"] == 0, summary
    after = team.card_for(lead)
    assert team.list_option(after["idList"]) == "Contacted"
    assert "Company: B" in after["desc"]
    assert team.cell(lead, "Follow-up date") == "2026-12-14"
    assert team.label_names(after) == {"Very hot"}  # the renamed label still stands for the option
    assert team.cell(lead, "Tags") == ["Hot"]
    second = cli.sync()
    assert second["errors"] == 0
    assert len(team.cards()) == 1


def test_renames_while_poll_runs_change_nothing(cli: Leadsync, team: TeamWorld) -> None:
    lead = team.add_lead("Ada", "New", **{"Follow-up date": "2026-12-10"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "leadsync", "poll", "--interval", "1"],
        cwd=cli.workdir, env=cli.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not [c for c in team.cards() if lead in c["desc"]]:
            assert proc.poll() is None, "poll stopped"
            assert time.monotonic() < deadline, "poll made no card"
            time.sleep(0.2)
        card = team.card_for(lead)
        team.rename_field("Lead Status", "Stage")
        team.rename_field("Follow-up date", "Next call")
        team.rename_table("Pipeline")
        team.rename_list("Qualified", "Closed won")
        team.move_card(card["id"], "Qualified")
        team.edit_lead(lead, **{"Next call": "2026-12-24"})
        deadline = time.monotonic() + 30
        while not (
            team.cell(lead, "Lead Status") == "Qualified"
            and team.card_for(lead)["due"].startswith("2026-12-24")
        ):
            assert time.monotonic() < deadline, "the edits made after the renames did not sync"
            time.sleep(0.2)
        assert proc.poll() is None, "poll stopped"
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    assert "Traceback" not in err
    assert len(team.cards()) == 1
