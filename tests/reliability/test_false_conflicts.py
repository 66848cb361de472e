"""I7, false conflicts are harmless: when both sides changed a lead's status to the same value since the last
sync, that is agreement. The cycle records no conflict, writes nothing to either API and moves the base to
the agreed value, whatever the conflict policy. Under ``manual``, an open conflict that the person settles by
hand on both sides closes itself on the next cycle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from leadsync.desc import parse_lead_id
from leadsync.engine import CycleResult
from leadsync.models import LeadId
from leadsync.sandbox import BackgroundServer, SandboxState
from leadsync.sandbox.person import Person
from leadsync.settings import ConflictPolicy
from tests.reliability.engines import engine_settings, new_engine, sandbox

POLICIES = [p.value for p in ConflictPolicy]


@pytest.fixture
def sides() -> Iterator[tuple[SandboxState, Person]]:
    server: BackgroundServer
    state: SandboxState
    server, state = sandbox(seed=7)
    person = Person(state.settings())
    try:
        yield state, person
    finally:
        person.close()
        server.stop()


def writes(result: CycleResult) -> int:
    return sum(kinds["write"] for kinds in result.api_calls.values())


def card_id_of(person: Person, lead: str) -> str:
    (card,) = [c for c in person.cards("all") if parse_lead_id(str(c["desc"])) == lead]
    return str(card["id"])


def leadsync_writes_since(state: SandboxState, start: int) -> list[tuple[str, str]]:
    """The non-read requests leadsync sent since entry ``start`` of the sandbox's request log."""
    return [
        (e.method, e.path)
        for e in state.log[start:]
        if e.who == "leadsync" and e.method != "GET" and not e.path.endswith("/listRecords")
    ]


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
        person.move_card(card_id_of(person, lead), "QUALIFIED")
        start = len(state.log)
        result = engine.run_cycle(full=full)
        assert result.outcome.conflicts == 0
        assert result.outcome.errors == 0
        assert writes(result) == 0
        assert leadsync_writes_since(state, start) == []
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
        card = card_id_of(person, lead)
        person.edit_lead(lead, Status="QUALIFIED")
        person.move_card(card, "LOST")
        assert engine.run_cycle().outcome.conflicts == 1
        assert [c.lead_id for c in engine.store.open_conflicts()] == [lead]
        person.move_card(card, "QUALIFIED")  # the person settles it by hand, in Trello
        start = len(state.log)
        result = engine.run_cycle()
        assert result.outcome.conflicts == 0
        assert writes(result) == 0
        assert leadsync_writes_since(state, start) == []
        assert engine.store.open_conflicts() == []
        assert engine.store.pairs()[LeadId(lead)].status == "QUALIFIED"
    finally:
        engine.close()
