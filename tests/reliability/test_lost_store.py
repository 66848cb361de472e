"""I11, conservative bootstrap: with the state store lost or deleted, the next cycle re-links every card by
its ``Lead ID`` marker before anything is created. It creates nothing for a lead that has a card (open or
archived), writes nothing where both sides agree, and records a conflict where they disagree."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from leadsync.core import LeadId
from leadsync.engine import Engine
from leadsync.sandbox.person import Person
from leadsync.settings import Settings
from leadsync.store.schema import metadata
from tests.reliability.engines import card_of, engine_settings, new_engine, sandbox_and_person, writes


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[tuple[Settings, Person]]:
    with sandbox_and_person(seed=41) as (state, person):
        yield engine_settings(state, tmp_path / "unused.db", LEADSYNC_DATABASE_URL=db_url,
                              LEADSYNC_CONFLICT_POLICY="airtable"), person  # fmt: skip


def lose(settings: Settings) -> None:
    """The store is gone: every table dropped (a deleted SQLite file or a dropped database look the same)."""
    db = create_engine(settings.LEADSYNC_DATABASE_URL)
    try:
        metadata.drop_all(db)
    finally:
        db.dispose()


def synced_world(settings: Settings, person: Person) -> dict[str, str]:
    leads = {
        "open": person.add_lead("Ada", "ada@example.com", "NEW", "Referral"),
        "moved": person.add_lead("Bob", "bob@example.com", "NEW"),
        "archived": person.add_lead("Cy", status="CONTACTED"),
        "noted": person.add_lead("Di", status="QUALIFIED"),
        "lost": person.add_lead("Ed", status="LOST"),
    }
    engine = new_engine(settings)
    try:
        engine.run_cycle()
        person.move_card(str(card_of(person, leads["moved"])["id"]), "CONTACTED")
        person.update_card(str(card_of(person, leads["archived"])["id"]), closed=True)
        noted = card_of(person, leads["noted"])
        person.update_card(str(noted["id"]), desc=f"Call on Tuesday.\n{noted['desc']}")
        engine.run_cycle()
        assert writes(engine.run_cycle(full=True)) == 0
    finally:
        engine.close()
    return leads


def test_a_lost_store_relinks_every_card_and_creates_nothing(
    world: tuple[Settings, Person],
) -> None:
    settings, person = world
    leads = synced_world(settings, person)
    cards_before = sorted((c["id"], c["idList"], c["closed"], c["desc"]) for c in person.cards("all"))
    lose(settings)
    engine: Engine = new_engine(settings)
    try:
        relinked = engine.run_cycle()
        assert relinked.mode == "full"
        assert relinked.outcome.created == 0
        assert relinked.outcome.conflicts == 0
        assert writes(relinked) == 0
        pairs = engine.store.pairs()
        assert set(pairs) == {leads["open"], leads["moved"], leads["archived"], leads["noted"]}
        assert pairs[LeadId(leads["archived"])].card_closed
        assert (
            sorted((c["id"], c["idList"], c["closed"], c["desc"]) for c in person.cards("all"))
            == cards_before
        )
        again = engine.run_cycle()
        assert again.mode == "incremental"
        assert writes(again) == 0
        person.edit_lead(leads["open"], Status="QUALIFIED")  # and syncing simply goes on
        assert engine.run_cycle().outcome.moved == 1
    finally:
        engine.close()


def test_sides_that_disagree_after_a_lost_store_are_a_conflict_settled_by_the_policy(
    world: tuple[Settings, Person],
) -> None:
    settings, person = world
    leads = synced_world(settings, person)
    lose(settings)
    # While no store remembers what both sides agreed on, each side changes the same lead differently.
    person.edit_lead(leads["open"], Status="QUALIFIED")
    person.move_card(str(card_of(person, leads["open"])["id"]), "LOST")
    engine = new_engine(settings)
    try:
        result = engine.run_cycle()
        assert result.outcome.created == 0
        assert result.outcome.conflicts == 1  # recorded, and settled by the policy (airtable)
        (conflict,) = engine.store.conflicts()
        assert (conflict.lead_id, conflict.airtable_status, conflict.trello_status) == (
            leads["open"],
            "QUALIFIED",
            "LOST",
        )
        assert person.status_of_list(str(card_of(person, leads["open"])["idList"])) == "QUALIFIED"
        assert writes(engine.run_cycle(full=True)) == 0
    finally:
        engine.close()
