"""I7, false conflicts are harmless: when both sides changed a lead's status to the same value since the last
sync, that is agreement. The cycle records no conflict, writes nothing to either API and moves the base to
the agreed value, whatever the conflict policy. Under ``manual``, an open conflict that the person settles by
hand on both sides closes itself on the next cycle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from leadsync.core import ConflictPolicy, LeadId
from leadsync.sandbox import SandboxState
from leadsync.sandbox.person import Person
from tests.reliability.engines import (
    card_of,
    engine_settings,
    leadsync_writes,
    new_engine,
    sandbox_and_person,
    writes,
)

POLICIES = [p.value for p in ConflictPolicy]


@pytest.fixture
def sides() -> Iterator[tuple[SandboxState, Person]]:
    with sandbox_and_person(seed=7) as both:
        yield both


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("full", [False, True], ids=["incremental", "full"])
def test_both_sides_changed_to_the_same_status_is_no_conflict_and_no_write(
    sides: tuple[SandboxState, Person], tmp_path: Path, policy: str, full: bool
) -> None:
    state, person = sides
    settings = engine_settings(state, tmp_path / "state.db", LEADSYNC_CONFLICT_POLICY=policy)
    lead = person.add_lead("Ada", "ada@example.com", "NEW")
    other = person.add_lead("Bob", "bob@example.com", "NEW")
    engine = new_engine(settings)
    try:
        assert engine.run_cycle().outcome.created == 2
        person.edit_lead(lead, Status="QUALIFIED")
        person.move_card(str(card_of(person, lead)["id"]), "QUALIFIED")
        start = len(state.log)
        result = engine.run_cycle(full=full)
        assert result.outcome.conflicts == 0
        assert result.outcome.errors == 0
        assert writes(result) == 0
        assert leadsync_writes(state.log[start:]) == []
        assert engine.store.conflicts() == []
        pairs = engine.store.pairs()
        assert pairs[LeadId(lead)].status == "QUALIFIED"
        assert pairs[LeadId(other)].status == "NEW"
        assert writes(engine.run_cycle(full=True)) == 0
    finally:
        engine.close()


def test_an_open_manual_conflict_closes_when_the_person_makes_both_sides_agree(
    sides: tuple[SandboxState, Person], tmp_path: Path
) -> None:
    state, person = sides
    settings = engine_settings(state, tmp_path / "state.db", LEADSYNC_CONFLICT_POLICY="manual")
    lead = person.add_lead("Ada", "ada@example.com", "NEW")
    engine = new_engine(settings)
    try:
        engine.run_cycle()
        card = str(card_of(person, lead)["id"])
        person.edit_lead(lead, Status="QUALIFIED")
        person.move_card(card, "LOST")
        assert engine.run_cycle().outcome.conflicts == 1
        assert [c.lead_id for c in engine.store.open_conflicts()] == [lead]
        person.move_card(card, "QUALIFIED")  # the person settles it by hand, in Trello
        start = len(state.log)
        result = engine.run_cycle()
        assert result.outcome.conflicts == 0
        assert writes(result) == 0
        assert leadsync_writes(state.log[start:]) == []
        assert engine.store.open_conflicts() == []
        assert engine.store.pairs()[LeadId(lead)].status == "QUALIFIED"
    finally:
        engine.close()
