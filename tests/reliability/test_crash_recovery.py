"""Crash windows of the executor, one at a time, each followed by a restarted process on the same store:
nothing duplicated, nothing lost, and the store left as a later cycle can trust (no stale create intents,
so change detection goes back to incremental reads)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from leadsync.core import parse_lead_id
from leadsync.sandbox import BackgroundServer, FaultRule, SandboxState
from leadsync.sandbox.person import Person
from leadsync.settings import Settings
from tests.reliability.engines import Crash, crash_after, engine_settings, new_engine, run, sandbox


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[SandboxState, Settings, Person]]:
    server: BackgroundServer
    server, state = sandbox(seed=11)
    person = Person(state.settings())
    try:
        yield state, engine_settings(state, tmp_path / "state.db", LEADSYNC_MAX_RETRY_SECONDS=2), person
    finally:
        person.close()
        server.stop()


def cards_claiming(person: Person, lead_id: str) -> list[str]:
    return [c["id"] for c in person.cards("all") if parse_lead_id(c["desc"]) == lead_id]


def test_a_crash_between_create_and_record_adopts_the_card_and_clears_the_intent(
    world: tuple[SandboxState, Settings, Person],
) -> None:
    _, settings, person = world
    lead = person.add_lead("Ada", status="NEW")
    engine = new_engine(settings)
    with pytest.raises(Crash):
        run(engine, progress=crash_after(1))
    engine.close()

    restarted = new_engine(settings)
    try:
        assert restarted.store.intents() == {lead}  # the crash left the intent behind, as it should
        adopted = run(restarted)
        assert adopted.outcome.created == 0
        assert len(cards_claiming(person, lead)) == 1
        assert restarted.store.intents() == set()  # resolved by the adoption
        assert run(restarted).mode == "incremental"  # not a full scan for ever after
    finally:
        restarted.close()


def test_a_create_whose_response_was_lost_leaves_no_intent_once_adopted(
    world: tuple[SandboxState, Settings, Person],
) -> None:
    state, settings, person = world
    lead = person.add_lead("Ada", status="NEW")
    state.faults.append(FaultRule("POST", "/1/cards", action="lost_response"))
    engine = new_engine(settings)
    try:
        assert run(engine).outcome.errors == 1
        assert run(engine).outcome.created == 0
        assert len(cards_claiming(person, lead)) == 1
        assert engine.store.intents() == set()
        modes = [run(engine).mode for _ in range(2)]
        assert modes == ["incremental", "incremental"]
    finally:
        engine.close()


@pytest.mark.parametrize("then", ["deleted", "LOST", "no status"])
def test_an_intent_whose_lead_no_longer_wants_a_card_is_cleared_by_the_next_full_read(
    world: tuple[SandboxState, Settings, Person], then: str
) -> None:
    state, settings, person = world
    lead = person.add_lead("Ada", status="NEW")
    state.faults.append(FaultRule("POST", "/1/cards", action="status", status=500))  # the create fails
    engine = new_engine(settings)
    try:
        assert run(engine).outcome.errors == 1
        assert engine.store.intents() == {lead}  # not known whether the card was made: checked next time
        if then == "deleted":
            person.delete_lead(lead)
        else:
            person.edit_lead(lead, Status=None if then == "no status" else then)
        assert run(engine).mode == "full"
        assert engine.store.intents() == set()
        assert person.cards("all") == []
        assert run(engine).mode == "incremental"
    finally:
        engine.close()


def test_a_webhook_cycle_on_an_empty_store_adopts_existing_cards_before_creating_any(
    world: tuple[SandboxState, Settings, Person],
) -> None:
    """I11: a store that is new or was lost re-links by the ``Lead ID`` markers before anything is created,
    whichever kind of cycle comes first (here: a webhook naming only the lead)."""
    _, settings, person = world
    lead = person.add_lead("Ada", status="NEW")
    person.add_card("NEW", "Follow up: Ada", f"Lead Name: Ada\nEmail: \nLead ID: {lead}")
    engine = new_engine(settings)
    try:
        result = run(engine, targets=({lead}, set()))
        assert result.outcome.created == 0
        assert len(cards_claiming(person, lead)) == 1
        assert set(engine.store.pairs()) == {lead}
    finally:
        engine.close()
