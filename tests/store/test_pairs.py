"""The store's linked pairs and create intents (single and batch), and opening a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from leadsync.core import CardId, LeadId
from leadsync.errors import StoreError
from leadsync.store import CompletedCreate, Store
from tests.store.records import CARD_1, CARD_2, LEAD_A, LEAD_B, T0, base

# ---------------------------------------------------------------------------- opening


def test_open_creates_the_sqlite_directory_and_keeps_data_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "state.db"
    with Store.open(f"sqlite:///{path}") as first:
        first.link(base(), reason="adopted")
    assert path.exists()
    with Store.open(f"sqlite:///{path}") as second:
        assert second.get_pair(LEAD_A) == base()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    Store.open(f"sqlite:///{path}").close()
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


def test_reopening_an_existing_database_keeps_its_data(db_url: str) -> None:
    with Store.open(db_url) as first:
        first.link(base(), reason="adopted")
        first.update_sync_state(trello_last_action="c1")
    with Store.open(db_url) as second:
        assert second.pairs() == {LEAD_A: base()}
        assert second.sync_state().trello_last_action == "c1"


def test_an_in_memory_sqlite_url_is_refused_with_advice() -> None:
    with pytest.raises(StoreError, match="use a file"):
        Store.open("sqlite://")


def test_an_unsupported_database_is_refused() -> None:
    with pytest.raises(StoreError, match="unsupported database"):
        Store.open("mysql://root@localhost/leadsync")


def test_an_unreachable_server_raises_store_error_not_a_driver_error() -> None:
    with pytest.raises(StoreError, match="create the schema"):
        Store.open("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")


# ---------------------------------------------------------------------------- pairs


def test_a_linked_pair_reads_back_by_lead_and_by_card(store: Store) -> None:
    full = base(status=None, name="Ada", email="ada@example.com", source="Web", card_closed=True)
    store.link(full, reason="adopted")
    assert store.get_pair(LEAD_A) == full
    assert store.pair_by_card(CARD_1) == full
    assert store.pairs() == {LEAD_A: full}
    assert store.get_pair(LEAD_B) is None
    assert store.pair_by_card(CARD_2) is None


def test_a_card_cannot_be_linked_to_two_leads(store: Store) -> None:
    store.link(base(LEAD_A, CARD_1), reason="adopted")
    with pytest.raises(StoreError, match=f"card {CARD_1} is already linked to lead {LEAD_A}"):
        store.link(base(LEAD_B, CARD_1), reason="adopted")
    assert store.pairs() == {LEAD_A: base(LEAD_A, CARD_1)}


def test_a_lead_cannot_be_linked_to_two_cards(store: Store) -> None:
    store.link(base(LEAD_A, CARD_1), reason="adopted")
    with pytest.raises(StoreError, match=f"lead {LEAD_A} is already linked to card {CARD_1}"):
        store.link(base(LEAD_A, CARD_2), reason="adopted")
    assert store.pairs() == {LEAD_A: base(LEAD_A, CARD_1)}


def test_the_schema_itself_refuses_a_second_pair_for_a_card(store: Store, db_url: str) -> None:
    store.link(base(LEAD_A, CARD_1), reason="adopted")
    engine = create_engine(db_url)
    try:
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO pairs (lead_id, card_id, name, email, source, card_closed, lead_deleted,"
                    " card_deleted, updated_at) VALUES (:l, :c, '', '', '', false, false, false, :t)"
                ),
                {"l": LEAD_B, "c": CARD_1, "t": T0},
            )
    finally:
        engine.dispose()


def test_a_refused_link_writes_no_activity(store: Store) -> None:
    store.link(base(LEAD_A, CARD_1), reason="adopted")
    with pytest.raises(StoreError):
        store.link(base(LEAD_B, CARD_1), reason="second claim")
    assert [a.detail for a in store.recent_activity()] == ["adopted"]


def test_link_logs_why(store: Store) -> None:
    store.link(base(), reason="adopted card carrying Lead ID")
    [entry] = store.recent_activity()
    assert (entry.action, entry.lead_id, entry.card_id, entry.detail) == (
        "linked",
        LEAD_A,
        CARD_1,
        "adopted card carrying Lead ID",
    )
    assert entry.at.tzinfo == UTC
    assert abs(datetime.now(UTC) - entry.at) < timedelta(minutes=1)


def test_set_base_advances_the_base_and_logs_in_the_same_step(store: Store) -> None:
    store.link(base(status="NEW"), reason="adopted")
    moved = base(status="WON", name="Ada L.", lead_deleted=True, card_deleted=True)
    store.set_base(moved, action="status_to_trello", detail="NEW -> WON")
    assert store.get_pair(LEAD_A) == moved
    assert store.recent_activity(1)[0].action == "status_to_trello"


def test_set_base_without_action_writes_no_activity(store: Store) -> None:
    store.link(base(status="NEW"), reason="adopted")
    store.set_base(base(status="WON"))
    assert store.get_pair(LEAD_A) == base(status="WON")
    assert [a.action for a in store.recent_activity()] == ["linked"]


def test_set_base_refuses_to_change_the_card_of_a_pair(store: Store) -> None:
    store.link(base(LEAD_A, CARD_1), reason="adopted")
    with pytest.raises(StoreError, match="unlink it first"):
        store.set_base(base(LEAD_A, CARD_2, status="WON"), action="x")
    assert store.get_pair(LEAD_A) == base(LEAD_A, CARD_1)
    assert [a.action for a in store.recent_activity()] == ["linked"]


def test_set_base_refuses_an_unlinked_lead(store: Store) -> None:
    with pytest.raises(StoreError, match="not linked"):
        store.set_base(base())
    assert store.pairs() == {}


def test_unlink_frees_the_card_for_another_lead(store: Store) -> None:
    store.link(base(LEAD_A, CARD_1), reason="adopted")
    store.unlink(LEAD_A, reason="duplicate claim")
    assert store.get_pair(LEAD_A) is None
    store.link(base(LEAD_B, CARD_1), reason="re-adopted")
    assert store.pair_by_card(CARD_1) == base(LEAD_B, CARD_1)
    unlinked = store.recent_activity()[1]
    assert (unlinked.action, unlinked.lead_id, unlinked.card_id, unlinked.detail) == (
        "unlinked",
        LEAD_A,
        CARD_1,
        "duplicate claim",
    )


def test_unlinking_an_unlinked_lead_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="not linked"):
        store.unlink(LEAD_A, reason="?")
    assert store.recent_activity() == []


# ---------------------------------------------------------------------------- create intents


def test_recording_an_intent_twice_keeps_one(store: Store) -> None:
    store.record_intent(LEAD_A)
    store.record_intent(LEAD_A)
    store.record_intent(LEAD_B)
    assert store.intents() == {LEAD_A, LEAD_B}
    store.clear_intent(LEAD_A)
    store.clear_intent(LEAD_A)
    assert store.intents() == {LEAD_B}


def test_complete_create_links_clears_the_intent_and_logs_created(store: Store) -> None:
    store.record_intent(LEAD_A)
    store.complete_create(base(), detail="card in list New")
    assert store.get_pair(LEAD_A) == base()
    assert store.intents() == set()
    entry = store.recent_activity(1)[0]
    assert (entry.action, entry.lead_id, entry.card_id, entry.detail) == (
        "created",
        LEAD_A,
        CARD_1,
        "card in list New",
    )


def test_complete_create_is_atomic_when_the_card_is_already_linked(store: Store) -> None:
    store.link(base(LEAD_A, CARD_1), reason="adopted")
    store.record_intent(LEAD_B)
    with pytest.raises(StoreError, match="already linked"):
        store.complete_create(base(LEAD_B, CARD_1))
    # nothing of the three happened: the intent survives for the next cycle to recover from
    assert store.intents() == {LEAD_B}
    assert store.get_pair(LEAD_B) is None
    assert [a.action for a in store.recent_activity()] == ["linked"]


def test_record_intents_records_many_in_one_call_and_stays_idempotent(store: Store) -> None:
    store.record_intent(LEAD_A)
    store.record_intents([LEAD_A, LEAD_B, LEAD_B])
    assert store.intents() == {LEAD_A, LEAD_B}
    store.record_intents([])
    assert store.intents() == {LEAD_A, LEAD_B}


def test_complete_creates_links_each_clears_its_intent_and_logs_created(store: Store) -> None:
    store.record_intents([LEAD_A, LEAD_B])
    refused = store.complete_creates(
        [
            CompletedCreate(base(LEAD_A, CARD_1), "card in New"),
            CompletedCreate(base(LEAD_B, CARD_2), "in Won"),
        ]
    )
    assert refused == {}
    assert store.pairs() == {LEAD_A: base(LEAD_A, CARD_1), LEAD_B: base(LEAD_B, CARD_2)}
    assert store.intents() == set()
    logged = [(a.action, a.lead_id, a.card_id, a.detail) for a in store.recent_activity()]
    assert logged == [("created", LEAD_B, CARD_2, "in Won"), ("created", LEAD_A, CARD_1, "card in New")]


def test_complete_creates_refuses_a_double_link_alone_and_keeps_the_others(store: Store) -> None:
    lead_c, lead_d, card_3 = (
        LeadId("recCCCCCCCCCCCCCC"),
        LeadId("recDDDDDDDDDDDDDD"),
        CardId("65f0a" + "0" * 18 + "3"),
    )
    store.link(base(LEAD_A, CARD_1), reason="adopted")
    store.record_intents([LEAD_B, lead_c, lead_d])
    refused = store.complete_creates(
        [
            CompletedCreate(base(LEAD_B, CARD_1)),  # the card is linked to LEAD_A already
            CompletedCreate(base(lead_c, card_3)),
            CompletedCreate(base(LEAD_A, CARD_2)),  # the lead is linked already
            CompletedCreate(base(lead_d, card_3)),  # the card was linked two rows up, in this batch
        ]
    )
    assert refused == {
        LEAD_B: f"card {CARD_1} is already linked to lead {LEAD_A}",
        LEAD_A: f"lead {LEAD_A} is already linked to card {CARD_1}",
        lead_d: f"card {card_3} is already linked to lead {lead_c}",
    }
    assert store.pairs() == {LEAD_A: base(LEAD_A, CARD_1), lead_c: base(lead_c, card_3)}
    assert store.intents() == {LEAD_B, lead_d}  # a refused create keeps its intent for the next cycle
    assert [(a.action, a.lead_id) for a in store.recent_activity()] == [
        ("created", lead_c),
        ("linked", LEAD_A),
    ]


def test_complete_creates_of_nothing_writes_nothing(store: Store) -> None:
    assert store.complete_creates([]) == {}
    assert store.recent_activity() == []
