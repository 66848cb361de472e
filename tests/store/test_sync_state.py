"""The typed sync state of a flow, the Airtable MAC secret beside it, and upgrading an old store."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, Text, create_engine, insert, inspect

from leadsync.core import LeadId
from leadsync.store import Store, SyncState, SyncStateChanges
from tests.store.records import T0

FULL_STATE = SyncState(
    airtable_watermark=T0,
    trello_last_action="65f0b0000000000000000009",
    last_full_scan=T0 - timedelta(hours=1),
    trello_conflict_since=T0 - timedelta(minutes=5),
    trello_member_id="5f00000000000000000000aa",
    airtable_user_id="usrLeadsync0000001",
    airtable_webhook_id="achAAAAAAAAAAAAAA",
    airtable_webhook_cursor=42,
    airtable_webhook_expires=T0 + timedelta(days=7),
    airtable_table_id="tblLeads000000001",
    trello_webhook_id="65f0c0000000000000000001",
    trello_webhook_callback="https://sync.example.com/webhook/trello",
)


def test_a_new_store_has_an_empty_sync_state(store: Store) -> None:
    assert store.sync_state() == SyncState()
    assert store.airtable_mac_secret() is None


def test_sync_state_fields_are_set_overwritten_and_cleared(store: Store) -> None:
    store.update_sync_state(trello_last_action="a1", airtable_webhook_cursor=1)
    store.update_sync_state(trello_last_action="a2")
    state = store.sync_state()
    assert (state.trello_last_action, state.airtable_webhook_cursor) == ("a2", 1)
    store.update_sync_state(trello_last_action=None)
    assert store.sync_state() == SyncState(airtable_webhook_cursor=1)


def test_every_field_reads_back_typed_after_reopening(store: Store, db_url: str) -> None:
    changes: SyncStateChanges = {
        "airtable_watermark": FULL_STATE.airtable_watermark,
        "trello_last_action": FULL_STATE.trello_last_action,
        "last_full_scan": FULL_STATE.last_full_scan,
        "trello_conflict_since": FULL_STATE.trello_conflict_since,
        "trello_member_id": FULL_STATE.trello_member_id,
        "airtable_user_id": FULL_STATE.airtable_user_id,
        "airtable_webhook_id": FULL_STATE.airtable_webhook_id,
        "airtable_webhook_cursor": FULL_STATE.airtable_webhook_cursor,
        "airtable_webhook_expires": FULL_STATE.airtable_webhook_expires,
        "airtable_table_id": FULL_STATE.airtable_table_id,
        "trello_webhook_id": FULL_STATE.trello_webhook_id,
        "trello_webhook_callback": FULL_STATE.trello_webhook_callback,
    }
    store.update_sync_state(**changes)
    with Store.open(db_url) as reopened:
        state = reopened.sync_state()
    assert state == FULL_STATE
    assert state.airtable_watermark is not None
    assert state.airtable_watermark.tzinfo == UTC


def test_times_come_back_as_the_same_instant_in_utc(store: Store) -> None:
    at = datetime(2025, 6, 1, 14, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    store.update_sync_state(airtable_watermark=at)
    got = store.sync_state().airtable_watermark
    assert got == at
    assert got is not None
    assert got.utcoffset() == timedelta(0)


def test_flows_keep_separate_states(store: Store) -> None:
    store.update_sync_state(trello_last_action="default-action")
    store.update_sync_state("other", trello_last_action="other-action")
    assert store.sync_state().trello_last_action == "default-action"
    assert store.sync_state("other") == SyncState(trello_last_action="other-action")


def test_a_field_that_is_not_in_the_state_is_refused(store: Store) -> None:
    loose: dict[str, object] = {"trello_since": "x"}
    with pytest.raises(TypeError, match="trello_since"):
        store.update_sync_state(**loose)  # type: ignore[arg-type]
    assert store.sync_state() == SyncState()


def test_the_mac_secret_is_kept_apart_from_the_sync_state(store: Store, db_url: str) -> None:
    store.set_airtable_mac_secret("c2VjcmV0LTE=")
    store.set_airtable_mac_secret("c2VjcmV0LTI=")
    store.update_sync_state(airtable_webhook_id="achAAAAAAAAAAAAAA")
    assert store.airtable_mac_secret() == "c2VjcmV0LTI="
    assert "c2VjcmV0" not in repr(store.sync_state())
    with Store.open(db_url) as reopened:
        assert reopened.airtable_mac_secret() == "c2VjcmV0LTI="
    engine = create_engine(db_url)
    try:
        columns = {c["name"] for c in inspect(engine).get_columns("sync_state")}
    finally:
        engine.dispose()
    assert not any("secret" in name for name in columns)
    store.set_airtable_mac_secret(None)
    assert store.airtable_mac_secret() is None
    assert store.sync_state().airtable_webhook_id == "achAAAAAAAAAAAAAA"


# ---------------------------------------------------------------------------- a store of the earlier layout

OLD_CURSORS = {
    "airtable.watermark": "2025-03-01T12:00:00+00:00",
    "trello.last_action": "65f0b0000000000000000009",
    "last_full_scan": "2025-03-01T11:00:00+00:00",
    "trello.conflict_since": "2025-03-01T11:55:00+00:00",
    "trello.member_id": "5f00000000000000000000aa",
    "airtable.user_id": "usrLeadsync0000001",
    "airtable.webhook.id": "achAAAAAAAAAAAAAA",
    "airtable.webhook.secret": "bWFjLXNlY3JldA==",
    "airtable.webhook.cursor": "42",
    "airtable.webhook.expires": "2025-03-08T12:00:00.000Z",
    "airtable.table_id": "tblLeads000000001",
    "trello.webhook.id": "65f0c0000000000000000001",
    "trello.webhook.callback": "https://sync.example.com/webhook/trello",
    "pause:airtable": "",  # replaced below by a pause that is still running
    "something.unknown": "dropped",
}


def write_old_store(db_url: str, cursors: dict[str, str]) -> None:
    """The earlier layout's ``cursors`` and ``locks`` tables, filled as that version left them."""
    old = MetaData()
    cursors_table = Table(
        "cursors",
        old,
        Column("name", String(128), primary_key=True),
        Column("value", Text, nullable=False),
        Column("updated_at", Text, nullable=False),
    )
    Table("locks", old, Column("name", String(128), primary_key=True), Column("holder", String(200)))
    if db_url.startswith("sqlite:///"):
        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            old.create_all(conn)
            conn.execute(
                insert(cursors_table),
                [{"name": k, "value": v, "updated_at": "2025-03-01 12:00:00"} for k, v in cursors.items()],
            )
    finally:
        engine.dispose()


def test_a_store_of_the_earlier_layout_opens_with_its_cursors_typed(db_url: str) -> None:
    paused_until = time.time() + 30
    write_old_store(db_url, {**OLD_CURSORS, "pause:airtable": repr(paused_until)})
    with Store.open(db_url) as store:
        state = store.sync_state()
        assert state == SyncState(
            airtable_watermark=T0,
            trello_last_action="65f0b0000000000000000009",
            last_full_scan=T0 - timedelta(hours=1),
            trello_conflict_since=T0 - timedelta(minutes=5),
            trello_member_id="5f00000000000000000000aa",
            airtable_user_id="usrLeadsync0000001",
            airtable_webhook_id="achAAAAAAAAAAAAAA",
            airtable_webhook_cursor=42,
            airtable_webhook_expires=T0 + timedelta(days=7),
            airtable_table_id="tblLeads000000001",
            trello_webhook_id="65f0c0000000000000000001",
            trello_webhook_callback="https://sync.example.com/webhook/trello",
        )
        assert store.airtable_mac_secret() == "bWFjLXNlY3JldA=="
        wait = store.take_rate_slot("airtable", limit=5, window=1.0)
        assert 25 < wait <= 30  # the pause of the earlier version still holds requests back
        store.record_intent(LeadId("recAAAAAAAAAAAAAA"))
    engine = create_engine(db_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert "cursors" not in tables
    assert "locks" not in tables
    with Store.open(db_url) as reopened:  # a second open finds nothing left to migrate
        assert reopened.sync_state() == state
        assert reopened.intents() == {LeadId("recAAAAAAAAAAAAAA")}


def test_an_earlier_store_with_an_unreadable_cursor_still_opens(db_url: str) -> None:
    write_old_store(db_url, {"airtable.webhook.cursor": "not a number", "trello.last_action": "a1"})
    with Store.open(db_url) as store:
        assert store.sync_state() == SyncState(trello_last_action="a1")
