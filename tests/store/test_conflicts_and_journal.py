"""The store's conflicts, activity log and cycle log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from leadsync.errors import StoreError
from leadsync.store import Store
from tests.store.records import CARD_1, LEAD_A, LEAD_B, T0, conflict

# ---------------------------------------------------------------------------- conflicts


def test_only_one_open_conflict_per_lead(store: Store) -> None:
    assert store.record_conflict(conflict(at=T0)) is True
    assert store.record_conflict(conflict(at=T0 + timedelta(minutes=5), airtable_status="QUALIFIED")) is False
    [only] = store.open_conflicts()
    assert only.airtable_status == "WON"
    assert only.detected_at == T0
    assert store.record_conflict(conflict(LEAD_B)) is True
    assert {c.lead_id for c in store.open_conflicts()} == {LEAD_A, LEAD_B}


def test_the_schema_itself_refuses_a_second_open_conflict(store: Store, db_url: str) -> None:
    store.record_conflict(conflict())
    engine = create_engine(db_url)
    try:
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO conflicts (lead_id, card_id, policy, detected_at)"
                    " VALUES (:l, :c, 'manual', :t)"
                ),
                {"l": LEAD_A, "c": CARD_1, "t": T0},
            )
    finally:
        engine.dispose()


def test_a_resolved_conflict_makes_room_for_a_new_one(store: Store) -> None:
    store.record_conflict(conflict(at=T0))
    resolved = store.resolve_conflict(LEAD_A, "kept airtable")
    assert resolved.resolution == "kept airtable"
    assert resolved.resolved_at is not None
    assert resolved.resolved_at.tzinfo == UTC
    assert resolved.id is not None
    assert store.get_open_conflict(LEAD_A) is None
    assert store.open_conflicts() == []
    assert store.record_conflict(conflict(at=T0 + timedelta(hours=1))) is True
    history = store.conflicts()
    assert [c.detected_at for c in history] == [T0 + timedelta(hours=1), T0]  # newest first
    assert history[1] == resolved


def test_resolving_without_an_open_conflict_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="no open conflict"):
        store.resolve_conflict(LEAD_A, "kept trello")
    store.record_conflict(conflict())
    store.resolve_conflict(LEAD_A, "kept trello")
    with pytest.raises(StoreError, match="no open conflict"):
        store.resolve_conflict(LEAD_A, "again")


def test_conflict_times_come_back_as_the_same_instant_in_utc(store: Store) -> None:
    paris = timezone(timedelta(hours=2))
    at = datetime(2025, 6, 1, 14, 30, 15, 123456, tzinfo=paris)
    store.record_conflict(conflict(at=at))
    got = store.get_open_conflict(LEAD_A)
    assert got is not None
    assert got.detected_at == at
    assert got.detected_at.utcoffset() == timedelta(0)
    assert got.detected_at.hour == 12


def test_a_naive_time_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="naive datetime"):
        store.record_conflict(conflict(at=datetime(2025, 6, 1, 12, 0)))
    assert store.conflicts() == []


def test_conflicts_respects_its_limit(store: Store) -> None:
    for i in range(3):
        store.record_conflict(conflict(at=T0 + timedelta(minutes=i)))
        store.resolve_conflict(LEAD_A, f"r{i}")
    assert [c.resolution for c in store.conflicts(limit=2)] == ["r2", "r1"]


# ---------------------------------------------------------------------------- activity and cycles


def test_recent_activity_is_newest_first_and_limited(store: Store) -> None:
    for i in range(5):
        store.log("note", lead_id=LEAD_A, detail=f"n{i}")
    store.log("sweep")
    recent = store.recent_activity(limit=3)
    assert [(a.action, a.detail) for a in recent] == [("sweep", ""), ("note", "n4"), ("note", "n3")]
    assert recent[0].lead_id is None
    assert recent[0].card_id is None
    assert recent[0].id > recent[1].id


def test_cycles_record_their_outcome_and_summary(store: Store) -> None:
    assert store.last_cycle() is None
    first = store.start_cycle("poll")
    store.finish_cycle(first, {"created": 2, "errors": []}, ok=True)
    second = store.start_cycle("webhook")
    running = store.last_cycle()
    assert running is not None
    assert (running.id, running.mode, running.finished_at, running.ok, running.summary) == (
        second,
        "webhook",
        None,
        None,
        {},
    )
    store.finish_cycle(second, {"failed": {"recX": "timeout"}, "at": T0}, ok=False)
    done = store.last_cycle()
    assert done is not None
    assert done.ok is False
    assert done.summary == {"failed": {"recX": "timeout"}, "at": str(T0)}
    assert done.finished_at is not None
    assert done.started_at <= done.finished_at
    assert done.started_at.tzinfo == UTC


def test_a_cycle_cannot_be_finished_twice(store: Store) -> None:
    cycle = store.start_cycle("poll")
    store.finish_cycle(cycle, {}, ok=True)
    with pytest.raises(StoreError, match="finished already"):
        store.finish_cycle(cycle, {"late": 1}, ok=False)
    last = store.last_cycle()
    assert last is not None
    assert last.ok is True
