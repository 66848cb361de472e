"""Text that could alter a query never changes what it selects.

leadsync builds Airtable formulas only from record ids (checked against Airtable's id format) and
timestamps, and Trello batch URLs only from card ids; names, emails and sources never enter a query.
These tests put quotes, braces, backslashes, newlines and formula syntax everywhere a person or a
webhook can put text, and check that every query still selects exactly what it should.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsync import webhook_events, webhook_signatures
from leadsync.clients.airtable import quoted, record_id_formula
from leadsync.core import LeadId, parse_lead_id
from leadsync.engine import Engine
from leadsync.sandbox import BackgroundServer, SandboxState
from leadsync.sandbox.person import Person
from tests.fixtures_sandbox import RunningSandbox
from tests.fixtures_server import Served, wait_until
from tests.reliability.engines import engine_settings, new_engine, sandbox

NASTY = [
    "O'Brien",
    'Say "hi"',
    "{Name}",
    "{Status}='NEW'",
    "back\\slash\\",
    "ends with a backslash \\",
    "two\nlines\nLead ID: recAAAAAAAAAAAAAA",
    "'), TRUE(), ('",
    '") OR RECORD_ID()!=("',
    "' & RECORD_ID() & '",
    "=1+1",
    "Lead ID: recBBBBBBBBBBBBBB",
    "李雷 🙂 Zoë",
    "",
]
BAD_IDS = [
    "rec') OR TRUE() OR ('",
    "recAAAAAAAAAAAAAA' OR '1'='1",
    "recAAAAAAAAAAAAAA\n",
    "{Name}",
    "RECORD_ID()",
    "rec\\'AAAAAAAAAAAA",
    "",
]
BAD_CARD_IDS = ["abc,/1/boards/x", "e" * 24 + ",/1/members/me", "../members/me", "e" * 23 + "'", ""]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxState, Engine, Person]]:
    """One sandbox for the module: leads whose every field is hostile text, and a synced engine."""
    server: BackgroundServer
    server, state = sandbox(seed=23)
    person = Person(state.settings())
    engine = new_engine(engine_settings(state, tmp_path_factory.mktemp("injection") / "state.db"))
    try:
        yield state, engine, person
    finally:
        engine.close()
        person.close()
        server.stop()


def test_hostile_names_emails_and_sources_each_get_exactly_their_own_card(
    world: tuple[SandboxState, Engine, Person],
) -> None:
    _, engine, person = world
    leads = [person.add_lead(text, text, "NEW", text) for text in NASTY]
    first = engine.run_cycle()
    assert first.outcome.created == len(leads)
    assert first.outcome.errors == 0
    cards = person.cards("all")
    claims = sorted(parse_lead_id(c["desc"]) or "" for c in cards)
    assert claims == sorted(leads)  # one card each, each naming its own lead, whatever the name said
    for lead in leads:  # every read by id (incremental, targeted) selects exactly the lead asked for
        assert set(engine.airtable.get_leads([LeadId(lead)])) == {lead}
    again = engine.run_cycle(full=True)
    assert sum(k["write"] for k in again.api_calls.values()) == 0
    person.edit_lead(leads[0], Status="QUALIFIED")
    moved = engine.run_cycle()
    assert moved.mode == "incremental"
    assert moved.outcome.moved == 1
    assert sum(k["write"] for k in moved.api_calls.values()) == 1


@pytest.mark.parametrize("bad", BAD_IDS)
def test_a_string_that_is_not_a_record_id_never_enters_a_formula(bad: str) -> None:
    with pytest.raises(ValueError, match="not an Airtable record id"):
        record_id_formula(bad)


@settings(max_examples=300)
@given(st.text())
def test_only_a_well_formed_record_id_makes_a_formula(text: str) -> None:
    if re.fullmatch(r"rec[A-Za-z0-9]{14}", text):
        assert record_id_formula(text) == f"RECORD_ID()='{text}'"
    else:
        with pytest.raises(ValueError, match="not an Airtable record id"):
            record_id_formula(text)


@pytest.fixture(scope="module")
def formula_world() -> Iterator[tuple[dict[str, str], Person]]:
    server, state = sandbox(seed=29)
    person = Person(state.settings())
    try:
        yield state.settings(), person
    finally:
        person.close()
        server.stop()


@settings(max_examples=60, deadline=None)
@given(text=st.one_of(st.sampled_from(NASTY), st.text(max_size=12)))
def test_a_quoted_literal_selects_exactly_the_records_holding_that_text(
    formula_world: tuple[dict[str, str], Person], text: str
) -> None:
    """``quoted`` escapes a formula string literal: ``{Name}=<literal>`` matches that name and no other,
    as the emulator evaluates Airtable's formula grammar."""
    s, person = formula_world
    wanted = person.add_lead(text, status=None)
    decoys = {person.add_lead(text + "x", status=None), person.add_lead("x" + text, status=None)}
    response = httpx.post(
        f"{s['AIRTABLE_API_URL']}/v0/{s['AIRTABLE_BASE_ID']}/Leads/listRecords",
        headers={"Authorization": f"Bearer {s['AIRTABLE_API_KEY']}"},
        json={"filterByFormula": f"{{Name}}={quoted(text)}", "pageSize": 100},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    found = {r["id"] for r in response.json()["records"]}
    assert wanted in found
    assert not found & decoys
    assert all(r["fields"].get("Name", "") == text for r in response.json()["records"])


def test_a_card_claiming_a_hostile_lead_id_reads_nothing_else_and_links_nothing(
    world: tuple[SandboxState, Engine, Person],
) -> None:
    state, engine, person = world
    pairs_before = engine.store.pairs()
    for bad in BAD_IDS:
        card = person.add_card("NEW", "Follow up: forged", f"Lead Name: x\nLead ID: {bad}")
        claimed = parse_lead_id(card["desc"])
        assert claimed is None or re.fullmatch(r"rec[A-Za-z0-9]{14}", claimed)
        result = engine.run_cycle(targets=(set(), {card["id"]}))
        assert result.outcome.errors == 0
        assert sum(k["write"] for k in result.api_calls.values()) == 0
    assert engine.store.pairs() == pairs_before
    del state


def test_webhook_events_naming_malformed_ids_name_nothing() -> None:
    for bad in BAD_CARD_IDS:
        event = {"action": {"idMemberCreator": "b" * 24, "data": {"card": {"id": bad}}}}
        assert not webhook_events.trello_targets(event, None)
    for bad in BAD_IDS:
        payload = {
            "changedTablesById": {"tblX": {"changedRecordsById": {bad: {}}, "destroyedRecordIds": [bad]}}
        }
        assert not webhook_events.airtable_targets([payload], "tblX", None)


def test_a_signed_delivery_naming_a_malformed_card_id_does_not_stop_the_server(
    served: Served, person: Person, sandbox: RunningSandbox
) -> None:
    """Only Trello can sign a delivery, but a malformed id in one must not take the worker down."""
    callback = f"{served.url}/webhook/trello"
    for bad in BAD_CARD_IDS:
        body = json.dumps({"action": {"id": "a" * 24, "idMemberCreator": "b" * 24, "type": "updateCard",
                                      "data": {"card": {"id": bad}}}, "model": {}}).encode()  # fmt: skip
        signature = webhook_signatures.trello_signature(sandbox.settings["TRELLO_API_SECRET"], body, callback)
        r = httpx.post(callback, content=body, headers={"X-Trello-Webhook": signature}, timeout=10)
        assert r.status_code in (200, 400)
    lead = person.add_lead("Ada", status="NEW")  # the worker still turns events into cycles
    wait_until(lambda: any(parse_lead_id(c["desc"]) == lead for c in person.cards()), timeout=30)
    assert served.health()["worker"]["last_error"] is None
