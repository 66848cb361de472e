"""Promises of the state store, on SQLite and on PostgreSQL (see tests/fixtures_db.py)."""

from __future__ import annotations

import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from leadsync.core import CardId, LeadId
from leadsync.core import MergeBase as Base
from leadsync.errors import LockBusy, StoreError
from leadsync.store import ConflictRecord, Store

LEAD_A = LeadId("recAAAAAAAAAAAAAA")
LEAD_B = LeadId("recBBBBBBBBBBBBBB")
CARD_1 = CardId("65f0a0000000000000000001")
CARD_2 = CardId("65f0a0000000000000000002")
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def base(lead: LeadId = LEAD_A, card: CardId = CARD_1, status: str | None = "NEW", **kw: object) -> Base:
    return Base(lead_id=lead, card_id=card, status=status, **kw)  # type: ignore[arg-type]


def conflict(lead: LeadId = LEAD_A, at: datetime = T0, **kw: object) -> ConflictRecord:
    fields: dict[str, object] = {
        "lead_id": lead,
        "card_id": CARD_1,
        "base_status": "NEW",
        "airtable_status": "WON",
        "trello_status": "LOST",
        "policy": "manual",
        "detected_at": at,
        **kw,
    }
    return ConflictRecord(**fields)  # type: ignore[arg-type]


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
        first.set_cursor("airtable", "c1")
    with Store.open(db_url) as second:
        assert second.pairs() == {LEAD_A: base()}
        assert second.get_cursor("airtable") == "c1"


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


# ---------------------------------------------------------------------------- cursors


def test_cursors_are_set_overwritten_and_removed(store: Store) -> None:
    assert store.get_cursor("trello_since") is None
    store.set_cursor("trello_since", "2025-03-01T12:00:00Z")
    store.set_cursor("trello_since", "2025-03-01T12:05:00Z")
    store.set_cursor("other", "x")
    assert store.get_cursor("trello_since") == "2025-03-01T12:05:00Z"
    store.set_cursor("trello_since", None)
    assert store.get_cursor("trello_since") is None
    assert store.get_cursor("other") == "x"


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


# ---------------------------------------------------------------------------- the lock

CHILD = """
import sys
from leadsync.errors import LockBusy
from leadsync.store import Store

url, action, ttl, wait = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
store = Store.open(url, lock_ttl=ttl)
try:
    if action == "hold":
        with store.lock("cycle"):
            print("held", flush=True)
            sys.stdin.readline()  # until the parent writes a line or closes stdin
    else:
        try:
            with store.lock("cycle", wait=wait):
                print("acquired", flush=True)
        except LockBusy:
            print("busy", flush=True)
finally:
    store.close()
"""
TIMEOUT = 30.0


def run_child(db_url: str, action: str, *, ttl: float = 600.0, wait: float = 0.0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url, action, str(ttl), str(wait)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_line(proc: subprocess.Popen[str], timeout: float = TIMEOUT) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        proc.kill()
        raise AssertionError(f"child said nothing within {timeout}s")
    line = proc.stdout.readline().strip()
    if not line:
        proc.wait(TIMEOUT)
        assert proc.stderr is not None
        raise AssertionError(f"child exited {proc.returncode}: {proc.stderr.read()}")
    return line


def finish(proc: subprocess.Popen[str]) -> str:
    """Let a child go (close its stdin) and return the rest of its output."""
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 0, err
    return out


@contextmanager
def held_by_another_process(db_url: str, *, ttl: float = 600.0) -> Iterator[subprocess.Popen[str]]:
    proc = run_child(db_url, "hold", ttl=ttl)
    try:
        assert read_line(proc) == "held"
        yield proc
    finally:
        if proc.poll() is None:
            finish(proc)


def test_lock_excludes_a_second_process(store: Store, db_url: str) -> None:
    with held_by_another_process(db_url):
        started = time.monotonic()
        with pytest.raises(LockBusy), store.lock(wait=0.3):
            pytest.fail("got a lock another process holds")
        assert time.monotonic() - started >= 0.3
    with store.lock(wait=10):
        pass


def test_a_second_process_cannot_take_the_lock_we_hold(store: Store, db_url: str) -> None:
    with store.lock():
        assert finish(run_child(db_url, "try", wait=0.2)).strip() == "busy"
    assert finish(run_child(db_url, "try")).strip() == "acquired"


def test_a_waiting_process_gets_the_lock_once_it_is_released(store: Store, db_url: str) -> None:
    with held_by_another_process(db_url) as holder:
        assert holder.stdin is not None
        release = threading.Timer(0.5, holder.stdin.close)
        release.start()
        try:
            with store.lock(wait=TIMEOUT):
                assert holder.wait(TIMEOUT) == 0
        finally:
            release.cancel()


def test_a_killed_holder_does_not_block_the_next_cycle_forever(store: Store, db_url: str) -> None:
    with held_by_another_process(db_url, ttl=1.0) as holder:
        holder.kill()
        holder.communicate(timeout=TIMEOUT)
        with store.lock(wait=TIMEOUT):
            pass


def test_a_live_holder_keeps_its_lock_past_the_ttl(store: Store, db_url: str) -> None:
    with held_by_another_process(db_url, ttl=0.6):
        time.sleep(1.5)  # two and a half TTLs: only the holder's heartbeat keeps the lock
        with pytest.raises(LockBusy), store.lock():
            pytest.fail("took over a lock whose holder is alive")


def fail_while_holding(store: Store, other: Store) -> None:
    with store.lock():
        with pytest.raises(LockBusy), other.lock():
            pass
        raise RuntimeError("cycle failed")


def test_the_lock_is_released_when_the_block_raises(store: Store, db_url: str) -> None:
    with Store.open(db_url) as other:
        with pytest.raises(RuntimeError, match="cycle failed"):
            fail_while_holding(store, other)
        with other.lock():
            pass


def test_locks_with_different_names_are_independent(store: Store, db_url: str) -> None:
    with Store.open(db_url) as other, store.lock("cycle"):
        with other.lock("backfill"):
            pass
        with pytest.raises(LockBusy), other.lock("cycle"):
            pass
