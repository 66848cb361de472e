"""What an incremental or webhook (targeted) cycle learns from a partial read is acted on in full: a lead
found deleted through one of the cards that name it still gets its own card archived (I5)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from leadsync.core import parse_lead_id
from leadsync.engine import Engine
from leadsync.sandbox import BackgroundServer
from leadsync.sandbox.person import Person
from tests.reliability.engines import engine_settings, new_engine, sandbox


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Engine, Person]]:
    server: BackgroundServer
    server, state = sandbox(seed=53)
    person = Person(state.settings())
    engine = new_engine(engine_settings(state, tmp_path / "state.db"))
    try:
        yield engine, person
    finally:
        engine.close()
        person.close()
        server.stop()


@pytest.mark.parametrize("kind", ["incremental", "targeted"])
def test_a_lead_found_deleted_through_another_card_naming_it_gets_its_card_archived(
    world: tuple[Engine, Person], kind: str
) -> None:
    engine, person = world
    lead = person.add_lead("Ada", status="NEW")
    engine.run_cycle()
    (card,) = [c for c in person.cards("all") if parse_lead_id(c["desc"]) == lead]
    person.delete_lead(lead)
    copy = person.add_card("NEW", "Follow up: Ada (copy)", f"Lead ID: {lead}")  # the only change seen
    result = engine.run_cycle() if kind == "incremental" else engine.run_cycle(targets=(set(), {copy["id"]}))
    assert result.mode == kind
    assert result.outcome.archived == 1
    cards = {c["id"]: c for c in person.cards("all")}
    assert cards[card["id"]]["closed"] is True  # archived, never deleted
    assert cards[copy["id"]]["closed"] is False  # the person's copy is theirs
    assert sum(k["write"] for k in engine.run_cycle(full=True).api_calls.values()) == 0
