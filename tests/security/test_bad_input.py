"""Bad or unusual data on either side is handled with a clear report, never a crash: statuses that map to
no list, lists that map to no status, a list mapping that names lists the board lacks, descriptions at
Trello's 16,384-character limit, names that long, and Unicode names of every kind."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from leadsync.core import DESC_LIMIT
from leadsync.engine import CycleResult, Engine
from leadsync.errors import ConfigError
from leadsync.sandbox import SandboxState
from leadsync.sandbox.person import Person
from tests.reliability.engines import card_of, engine_settings, new_engine, sandbox_and_person, writes


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[SandboxState, Engine, Person]]:
    with sandbox_and_person(seed=31) as (state, person):
        engine = new_engine(engine_settings(state, tmp_path / "state.db"))
        try:
            yield state, engine, person
        finally:
            engine.close()


def reasons(result: CycleResult) -> list[str]:
    return [r.reason for r in result.outcome.reports]


# ---- statuses and lists that map to nothing -------------------------------------------------------------


def test_a_new_lead_with_an_unknown_status_is_reported_and_gets_no_card(
    world: tuple[SandboxState, Engine, Person],
) -> None:
    _, engine, person = world
    lead = person.add_lead("Ada", status="NEW")
    person.edit_lead(lead, Status="NURTURE")  # a choice the person added in Airtable
    result = engine.run_cycle()
    assert result.outcome.errors == 0
    assert result.outcome.created == 0
    assert "Status 'NURTURE' maps to no list" in reasons(result)
    assert person.cards("all") == []
    person.edit_lead(lead, Status="CONTACTED")  # a known status again: the card comes
    assert engine.run_cycle().outcome.created == 1


def test_a_card_in_a_list_that_maps_to_no_status_leaves_the_lead_alone_until_it_comes_back(
    world: tuple[SandboxState, Engine, Person],
) -> None:
    state, engine, person = world
    lead = person.add_lead("Ada", status="NEW")
    engine.run_cycle()
    s = state.settings()
    backlog = httpx.post(f"{s['TRELLO_API_URL']}/1/lists", params={"key": s["PERSON_TRELLO_API_KEY"],
                         "token": s["PERSON_TRELLO_TOKEN"], "name": "Backlog", "idBoard": s["TRELLO_BOARD_ID"]})  # fmt: skip
    backlog.raise_for_status()
    card = card_of(person, lead)
    person.update_card(str(card["id"]), idList=backlog.json()["id"])
    person.edit_lead(lead, Status="QUALIFIED")
    parked = engine.run_cycle()
    assert "card is in a list that maps to no status" in reasons(parked)
    assert writes(parked) == 0
    person.move_card(str(card["id"]), "CONTACTED")  # back on a mapped list: both changed, a conflict
    back = engine.run_cycle()
    assert back.outcome.errors == 0
    assert back.outcome.conflicts == 1


def test_status_list_names_that_the_board_lacks_stop_with_a_configuration_error(
    world: tuple[SandboxState, Engine, Person], tmp_path: Path
) -> None:
    state, _, person = world
    person.add_lead("Ada", status="NEW")
    names = json.dumps({"NEW": "NEW", "CONTACTED": "Contacted", "QUALIFIED": "Won", "LOST": "LOST"})
    settings = engine_settings(
        state, tmp_path / "other.db", TRELLO_LIST_IDS=None, LEADSYNC_STATUS_LIST_NAMES=names
    )
    engine = new_engine(settings)
    try:
        with pytest.raises(ConfigError) as caught:
            engine.run_cycle()
    finally:
        engine.close()
    assert caught.value.variable == "LEADSYNC_STATUS_LIST_NAMES"
    assert "'Contacted'" in caught.value.problem
    assert "'Won'" in caught.value.problem
    assert person.cards("all") == []


def test_a_list_mapping_naming_a_list_the_board_lacks_stops_before_any_write(
    world: tuple[SandboxState, Engine, Person], tmp_path: Path
) -> None:
    state, _, person = world
    lists = dict(state.trello.list_ids)
    lists["QUALIFIED"] = "0" * 24
    person.add_lead("Ada", status="NEW")
    person.add_lead("Bob", status="QUALIFIED")
    settings = engine_settings(state, tmp_path / "other.db", TRELLO_LIST_IDS=json.dumps(lists))
    engine = new_engine(settings)
    try:
        with pytest.raises(ConfigError) as caught:
            engine.run_cycle()
    finally:
        engine.close()
    assert caught.value.variable == "TRELLO_LIST_IDS"
    assert "QUALIFIED (" + "0" * 24 + ")" in caught.value.problem
    assert person.cards("all") == []


# ---- Trello's 16,384-character limit ----------------------------------------------------------------------


def test_a_description_at_the_limit_is_reported_full_and_the_persons_text_is_kept_whole(
    world: tuple[SandboxState, Engine, Person],
) -> None:
    _, engine, person = world
    lead = person.add_lead("Ada", "ada@example.com", "NEW")
    engine.run_cycle()
    card = card_of(person, lead)
    notes = "n" * (DESC_LIMIT - len(str(card["desc"])) - 1)
    full = f"{notes}\n{card['desc']}"
    assert len(full) == DESC_LIMIT
    person.update_card(str(card["id"]), desc=full)
    person.edit_lead(lead, Name="Ada King, Countess of Lovelace", Email="ada@king.example")
    result = engine.run_cycle()
    assert result.outcome.errors == 0
    assert "card description is full (16384 characters): block not updated" in reasons(result)
    assert card_of(person, lead)["desc"] == full  # nothing cut to make room
    person.update_card(str(card["id"]), desc=str(card["desc"]))  # the person makes room
    person.edit_lead(lead, Email="ada@lovelace.example")
    engine.run_cycle()
    assert "Email: ada@lovelace.example" in str(card_of(person, lead)["desc"])


def test_a_name_as_long_as_trello_allows_still_makes_a_valid_card(
    world: tuple[SandboxState, Engine, Person],
) -> None:
    _, engine, person = world
    lead = person.add_lead("N" * DESC_LIMIT, "e" * 2000 + "@example.com", "NEW", "s" * 5000)
    result = engine.run_cycle()
    assert result.outcome.errors == 0
    assert result.outcome.created == 1
    card = card_of(person, lead)
    assert len(str(card["name"])) <= DESC_LIMIT
    assert len(str(card["desc"])) <= DESC_LIMIT
    assert str(card["name"]).startswith("Follow up: NNN")
    assert writes(engine.run_cycle(full=True)) == 0


# ---- Unicode ----------------------------------------------------------------------------------------------

UNICODE_NAMES = [
    "Zoë Ångström",
    "Zoe\u0308 (combining diaeresis)",
    "李雷 韩梅梅",
    "Дмитрий Иванов",
    "مريم العربية",
    "עברית right-to-left",
    "👩‍💻 Ada 🚀",
    "zero\u200bwidth\u200djoiner",
    "ﬁne ligature",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙",
    "\U0001f1eb\U0001f1f7 flag",
]


def test_unicode_names_round_trip_exactly_and_a_rerun_writes_nothing(
    world: tuple[SandboxState, Engine, Person],
) -> None:
    _, engine, person = world
    leads = {person.add_lead(name, f"{i}@例え.jp", "NEW", name): name for i, name in enumerate(UNICODE_NAMES)}
    first = engine.run_cycle()
    assert first.outcome.created == len(leads)
    assert first.outcome.errors == 0
    for lead, name in leads.items():
        card = card_of(person, lead)
        assert card["name"] == f"Follow up: {name}"
        assert f"Lead Name: {name}\n" in str(card["desc"])
    assert writes(engine.run_cycle(full=True)) == 0
    # A name that changes only in its Unicode normal form is a change, and is carried as given.
    lead = next(iter(leads))
    nfd = unicodedata.normalize("NFD", leads[lead])
    assert nfd != leads[lead]
    person.edit_lead(lead, Name=nfd)
    updated = engine.run_cycle()
    assert updated.outcome.updated == 1
    assert card_of(person, lead)["name"] == f"Follow up: {nfd}"
    assert writes(engine.run_cycle(full=True)) == 0
