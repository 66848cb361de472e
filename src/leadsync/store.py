"""The state store: merge bases of linked pairs, create intents, conflicts, cursors, activity, cycles.

One store URL serves SQLite (``sqlite:///path/to/file.db``) or PostgreSQL
(``postgresql+psycopg://user@host:5432/db``). Every method runs in its own short transaction, and every
database failure surfaces as :class:`~leadsync.errors.StoreError` (never a raw SQLAlchemy exception).

Crash safety (invariants I4, I6): before an API create call the engine records an *intent* for the lead;
:meth:`Store.complete_create` then inserts the pair, deletes the intent and logs the activity in one
transaction. An intent left behind by a crash tells the next cycle to look for an adoptable card
(one carrying ``Lead ID:``) before creating anything.

SQLite runs in WAL mode with a busy timeout; SQLAlchemy emits the BEGIN itself (the sqlite3 module's
legacy transaction control is switched off) and write transactions use ``BEGIN IMMEDIATE`` so that two
processes never deadlock upgrading a read lock.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, create_engine, delete, event, func, insert, select, update
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from leadsync.core import CardId, LeadId
from leadsync.core import MergeBase as Base
from leadsync.errors import LockBusy, StoreError
from leadsync.store_schema import (
    activity,
    conflicts,
    cursors,
    cycles,
    intents,
    locks,
    metadata,
    pairs,
    rate_slots,
)

__all__ = ["ActivityRecord", "ConflictRecord", "CycleRecord", "Store"]

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
DEFAULT_LOCK_TTL = 600.0
"""Seconds after which a SQLite lock row whose holder stopped refreshing it may be taken over."""
_LOCK_POLL = 0.05


@dataclass(frozen=True, slots=True)
class ConflictRecord:
    lead_id: LeadId
    card_id: CardId
    base_status: str | None
    airtable_status: str | None
    trello_status: str | None
    policy: str
    detected_at: datetime
    resolved_at: datetime | None = None
    resolution: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    id: int
    at: datetime
    action: str
    lead_id: str | None
    card_id: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class CycleRecord:
    id: int
    mode: str
    started_at: datetime
    finished_at: datetime | None
    ok: bool | None
    summary: dict[str, object] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(UTC)


def _lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock`` (Python's ``hash`` is salted per process)."""
    digest = hashlib.blake2b(f"leadsync:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _describe(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else str(exc)
    return f"{type(exc).__name__}: {text.strip().splitlines()[0] if text.strip() else ''}"


def _normalise_url(raw: str) -> URL:
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {raw!r} ({exc})") from exc
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def _base_from_row(row: Row[Any]) -> Base:
    return Base(
        lead_id=LeadId(row.lead_id),
        card_id=CardId(row.card_id),
        status=row.status,
        name=row.name,
        email=row.email,
        source=row.source,
        card_closed=bool(row.card_closed),
        lead_deleted=bool(row.lead_deleted),
        card_deleted=bool(row.card_deleted),
    )


def _base_values(base: Base) -> dict[str, object]:
    return {
        "card_id": base.card_id,
        "status": base.status,
        "name": base.name,
        "email": base.email,
        "source": base.source,
        "card_closed": base.card_closed,
        "lead_deleted": base.lead_deleted,
        "card_deleted": base.card_deleted,
        "updated_at": _now(),
    }


def _conflict_from_row(row: Row[Any]) -> ConflictRecord:
    return ConflictRecord(
        lead_id=LeadId(row.lead_id),
        card_id=CardId(row.card_id),
        base_status=row.base_status,
        airtable_status=row.airtable_status,
        trello_status=row.trello_status,
        policy=row.policy,
        detected_at=row.detected_at,
        resolved_at=row.resolved_at,
        resolution=row.resolution,
        id=row.id,
    )


def _activity_values(action: str, lead_id: str | None, card_id: str | None, detail: str) -> dict[str, object]:
    return {"at": _now(), "action": action, "lead_id": lead_id, "card_id": card_id, "detail": detail}


class Store:
    """The state store. Open with :meth:`open`; safe to share between threads of one process."""

    def __init__(self, engine: Engine, *, lock_ttl: float = DEFAULT_LOCK_TTL) -> None:
        self._engine = engine
        self._writer = engine.execution_options(leadsync_write=True)
        self._is_sqlite = engine.dialect.name == "sqlite"
        self.lock_ttl = lock_ttl

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, url: str, *, lock_ttl: float = DEFAULT_LOCK_TTL) -> Store:
        """Connect, creating the SQLite file's directory and any missing tables."""
        parsed = _normalise_url(url)
        backend = parsed.get_backend_name()
        if backend == "sqlite":
            engine = cls._sqlite_engine(parsed)
        elif backend == "postgresql":
            engine = create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})
        else:
            raise StoreError(f"unsupported database {backend!r}: use sqlite:///path or postgresql+psycopg://")
        store = cls(engine, lock_ttl=lock_ttl)
        try:
            store._create_schema()
        except BaseException:
            engine.dispose()
            raise
        return store

    @staticmethod
    def _sqlite_engine(url: URL) -> Engine:
        database = url.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            raise StoreError(
                "an in-memory SQLite database can't be shared between connections or processes; "
                "use a file, e.g. sqlite:///leadsync.db"
            )
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see "begin")
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA foreign_keys = ON")
                cursor.execute("PRAGMA synchronous = NORMAL")
            finally:
                cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("leadsync_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def _create_schema(self) -> None:
        with self._tx("create the schema") as conn:
            if not self._is_sqlite:  # serialise concurrent first starts; SQLite's BEGIN IMMEDIATE does
                conn.execute(select(func.pg_advisory_xact_lock(_lock_key("schema"))))
            metadata.create_all(conn)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The database URL without its password (safe to print)."""
        return self._engine.url.render_as_string(hide_password=True)

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def _tx(self, what: str, *, write: bool = True) -> Iterator[Connection]:
        """One transaction; commits on success, rolls back on error, turns DB errors into StoreError."""
        try:
            with (self._writer if write else self._engine).begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"store could not {what}: {_describe(exc)}") from exc

    def _read(self, what: str) -> AbstractContextManager[Connection]:
        return self._tx(what, write=False)

    def _insert_ignoring_conflict(self, table: Any, values: dict[str, object], **target: Any) -> Any:
        """``INSERT ... ON CONFLICT DO NOTHING RETURNING 1`` for either dialect."""
        if self._is_sqlite:
            return sqlite_dialect.insert(table).values(values).on_conflict_do_nothing(**target)
        return pg.insert(table).values(values).on_conflict_do_nothing(**target)

    # ------------------------------------------------------------------ linked pairs

    def pairs(self) -> dict[LeadId, Base]:
        with self._read("read the linked pairs") as conn:
            rows = conn.execute(select(pairs).order_by(pairs.c.lead_id)).all()
        return {LeadId(row.lead_id): _base_from_row(row) for row in rows}

    def get_pair(self, lead_id: LeadId) -> Base | None:
        with self._read(f"read the pair of lead {lead_id}") as conn:
            row = conn.execute(select(pairs).where(pairs.c.lead_id == lead_id)).first()
        return None if row is None else _base_from_row(row)

    def pair_by_card(self, card_id: CardId) -> Base | None:
        with self._read(f"read the pair of card {card_id}") as conn:
            row = conn.execute(select(pairs).where(pairs.c.card_id == card_id)).first()
        return None if row is None else _base_from_row(row)

    def _insert_pair(self, conn: Connection, base: Base) -> None:
        """Insert a pair, refusing (StoreError) if the lead or the card is linked already."""
        lead_row = conn.execute(select(pairs.c.card_id).where(pairs.c.lead_id == base.lead_id)).first()
        if lead_row is not None:
            raise StoreError(f"lead {base.lead_id} is already linked to card {lead_row.card_id}")
        card_row = conn.execute(select(pairs.c.lead_id).where(pairs.c.card_id == base.card_id)).first()
        if card_row is not None:
            raise StoreError(f"card {base.card_id} is already linked to lead {card_row.lead_id}")
        # A concurrent writer can still win the race on PostgreSQL: the constraints then refuse the
        # row and _tx turns the IntegrityError into a StoreError.
        conn.execute(insert(pairs).values(lead_id=base.lead_id, **_base_values(base)))

    def link(self, base: Base, *, reason: str) -> None:
        """Record a new pair (adoption of an existing card, or a recovered create), and clear the lead's
        create intent with it: a linked lead has its card, so no create is pending any more."""
        with self._tx(f"link lead {base.lead_id} to card {base.card_id}") as conn:
            self._insert_pair(conn, base)
            conn.execute(delete(intents).where(intents.c.lead_id == base.lead_id))
            conn.execute(
                insert(activity).values(_activity_values("linked", base.lead_id, base.card_id, reason))
            )

    def set_base(self, base: Base, *, action: str | None = None, detail: str = "") -> None:
        """Advance the merge base of an existing pair; its card must stay the same."""
        with self._tx(f"update the base of lead {base.lead_id}") as conn:
            result = conn.execute(
                update(pairs)
                .where(pairs.c.lead_id == base.lead_id, pairs.c.card_id == base.card_id)
                .values(_base_values(base))
            )
            if result.rowcount != 1:
                stored = conn.execute(select(pairs.c.card_id).where(pairs.c.lead_id == base.lead_id)).first()
                if stored is None:
                    raise StoreError(f"lead {base.lead_id} is not linked; link it before setting its base")
                raise StoreError(
                    f"lead {base.lead_id} is linked to card {stored.card_id}, not {base.card_id}; "
                    "unlink it first to change its card"
                )
            if action is not None:
                conn.execute(
                    insert(activity).values(_activity_values(action, base.lead_id, base.card_id, detail))
                )

    def unlink(self, lead_id: LeadId, *, reason: str) -> None:
        with self._tx(f"unlink lead {lead_id}") as conn:
            row = conn.execute(
                delete(pairs).where(pairs.c.lead_id == lead_id).returning(pairs.c.card_id)
            ).first()
            if row is None:
                raise StoreError(f"lead {lead_id} is not linked")
            conn.execute(insert(activity).values(_activity_values("unlinked", lead_id, row.card_id, reason)))

    # ------------------------------------------------------------------ create intents

    def record_intent(self, lead_id: LeadId) -> None:
        """Note that a card is about to be created for ``lead_id`` (idempotent)."""
        with self._tx(f"record a create intent for lead {lead_id}") as conn:
            conn.execute(
                self._insert_ignoring_conflict(
                    intents, {"lead_id": lead_id, "recorded_at": _now()}, index_elements=["lead_id"]
                )
            )

    def intents(self) -> set[LeadId]:
        with self._read("read the create intents") as conn:
            return {LeadId(v) for v in conn.execute(select(intents.c.lead_id)).scalars()}

    def clear_intent(self, lead_id: LeadId) -> None:
        with self._tx(f"clear the create intent of lead {lead_id}") as conn:
            conn.execute(delete(intents).where(intents.c.lead_id == lead_id))

    def complete_create(self, base: Base, *, detail: str = "") -> None:
        """In ONE transaction: insert the new pair, delete its intent, log ``created``."""
        with self._tx(f"record the card {base.card_id} created for lead {base.lead_id}") as conn:
            self._insert_pair(conn, base)
            conn.execute(delete(intents).where(intents.c.lead_id == base.lead_id))
            conn.execute(
                insert(activity).values(_activity_values("created", base.lead_id, base.card_id, detail))
            )

    # ------------------------------------------------------------------ conflicts

    def record_conflict(self, c: ConflictRecord) -> bool:
        """Store a conflict; False (and nothing written) if the lead has an open one already."""
        values: dict[str, object] = {
            "lead_id": c.lead_id,
            "card_id": c.card_id,
            "base_status": c.base_status,
            "airtable_status": c.airtable_status,
            "trello_status": c.trello_status,
            "policy": c.policy,
            "detected_at": c.detected_at,
            "resolved_at": c.resolved_at,
            "resolution": c.resolution,
        }
        stmt = self._insert_ignoring_conflict(
            conflicts, values, index_elements=["lead_id"], index_where=conflicts.c.resolved_at.is_(None)
        ).returning(conflicts.c.id)
        with self._tx(f"record a conflict for lead {c.lead_id}") as conn:
            return conn.execute(stmt).first() is not None

    def open_conflicts(self) -> list[ConflictRecord]:
        query = select(conflicts).where(conflicts.c.resolved_at.is_(None)).order_by(conflicts.c.id)
        with self._read("read the open conflicts") as conn:
            return [_conflict_from_row(row) for row in conn.execute(query)]

    def conflicts(self, limit: int = 100) -> list[ConflictRecord]:
        """Open and resolved conflicts, newest first."""
        query = select(conflicts).order_by(conflicts.c.detected_at.desc(), conflicts.c.id.desc()).limit(limit)
        with self._read("read the conflicts") as conn:
            return [_conflict_from_row(row) for row in conn.execute(query)]

    def get_open_conflict(self, lead_id: LeadId) -> ConflictRecord | None:
        query = select(conflicts).where(conflicts.c.lead_id == lead_id, conflicts.c.resolved_at.is_(None))
        with self._read(f"read the open conflict of lead {lead_id}") as conn:
            row = conn.execute(query).first()
        return None if row is None else _conflict_from_row(row)

    def resolve_conflict(self, lead_id: LeadId, resolution: str) -> ConflictRecord:
        """Close the lead's open conflict; StoreError if it has none."""
        with self._tx(f"resolve the conflict of lead {lead_id}") as conn:
            row = conn.execute(
                update(conflicts)
                .where(conflicts.c.lead_id == lead_id, conflicts.c.resolved_at.is_(None))
                .values(resolved_at=_now(), resolution=resolution)
                .returning(*conflicts.c)
            ).first()
            if row is None:
                raise StoreError(f"lead {lead_id} has no open conflict")
            return _conflict_from_row(row)

    # ------------------------------------------------------------------ cursors

    def get_cursor(self, name: str) -> str | None:
        with self._read(f"read cursor {name}") as conn:
            value: str | None = conn.execute(select(cursors.c.value).where(cursors.c.name == name)).scalar()
        return value

    def set_cursor(self, name: str, value: str | None) -> None:
        """Set a cursor; None removes it."""
        with self._tx(f"set cursor {name}") as conn:
            if value is None:
                conn.execute(delete(cursors).where(cursors.c.name == name))
                return
            values = {"name": name, "value": value, "updated_at": _now()}
            changes = {"value": value, "updated_at": values["updated_at"]}
            if self._is_sqlite:
                stmt: Any = sqlite_dialect.insert(cursors).values(values)
            else:
                stmt = pg.insert(cursors).values(values)
            conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=changes))

    # ------------------------------------------------------------------ shared rate limits

    def take_rate_slot(self, key: str, limit: int, window: float) -> float:
        """Claim one request slot in the sliding window ``key``, shared by every process on this store.

        Returns 0.0 when a slot was claimed, else the seconds until one frees up (nothing claimed).
        """
        with self._tx(f"take a rate slot for {key}") as conn:
            if not self._is_sqlite:  # SQLite's BEGIN IMMEDIATE already serialises writers
                conn.execute(select(func.pg_advisory_xact_lock(_lock_key(f"rate:{key}"))))
            now = time.time()
            paused = conn.execute(select(cursors.c.value).where(cursors.c.name == f"pause:{key}")).scalar()
            if paused is not None and float(paused) > now:
                return float(paused) - now
            conn.execute(delete(rate_slots).where(rate_slots.c.key == key, rate_slots.c.at <= now - window))
            count, oldest = conn.execute(
                select(func.count(), func.min(rate_slots.c.at)).where(rate_slots.c.key == key)
            ).one()
            if count < limit:
                conn.execute(insert(rate_slots).values(key=key, at=now))
                return 0.0
            return max(0.001, float(oldest) + window - now)

    def rate_slots_in_use(self, key: str, window: float) -> int:
        with self._read(f"count rate slots for {key}") as conn:
            count: int = conn.execute(
                select(func.count()).where(rate_slots.c.key == key, rate_slots.c.at > time.time() - window)
            ).scalar_one()
        return count

    def pause_rate(self, key: str, seconds: float) -> None:
        """Hold every process's requests for ``key`` back for ``seconds`` (after a 429)."""
        until = time.time() + seconds
        current = self.get_cursor(f"pause:{key}")
        if current is None or float(current) < until:
            self.set_cursor(f"pause:{key}", repr(until))

    # ------------------------------------------------------------------ activity

    def log(
        self, action: str, *, lead_id: str | None = None, card_id: str | None = None, detail: str = ""
    ) -> None:
        with self._tx(f"log {action}") as conn:
            conn.execute(insert(activity).values(_activity_values(action, lead_id, card_id, detail)))

    def recent_activity(self, limit: int = 20) -> list[ActivityRecord]:
        """The latest activity rows, newest first."""
        with self._read("read the activity log") as conn:
            rows = conn.execute(select(activity).order_by(activity.c.id.desc()).limit(limit)).all()
        return [
            ActivityRecord(
                id=row.id,
                at=row.at,
                action=row.action,
                lead_id=row.lead_id,
                card_id=row.card_id,
                detail=row.detail,
            )
            for row in rows
        ]

    # ------------------------------------------------------------------ cycles

    def start_cycle(self, mode: str) -> int:
        with self._tx(f"start a {mode} cycle") as conn:
            cycle_id: int = conn.execute(
                insert(cycles).values(mode=mode, started_at=_now()).returning(cycles.c.id)
            ).scalar_one()
        return cycle_id

    def finish_cycle(self, cycle_id: int, summary: dict[str, object], ok: bool) -> None:
        """Close a cycle; ``summary`` is stored as JSON (values that JSON can't hold become strings)."""
        text = json.dumps(summary, default=str, sort_keys=True)
        with self._tx(f"finish cycle {cycle_id}") as conn:
            result = conn.execute(
                update(cycles)
                .where(cycles.c.id == cycle_id, cycles.c.finished_at.is_(None))
                .values(finished_at=_now(), ok=ok, summary=text)
            )
            if result.rowcount != 1:
                raise StoreError(f"cycle {cycle_id} does not exist or is finished already")

    def last_cycle(self) -> CycleRecord | None:
        """The most recently started cycle (finished or not)."""
        with self._read("read the last cycle") as conn:
            row = conn.execute(select(cycles).order_by(cycles.c.id.desc()).limit(1)).first()
        if row is None:
            return None
        summary = json.loads(row.summary) if row.summary else {}
        return CycleRecord(
            id=row.id,
            mode=row.mode,
            started_at=row.started_at,
            finished_at=row.finished_at,
            ok=None if row.ok is None else bool(row.ok),
            summary=summary,
        )

    # ------------------------------------------------------------------ cross-process lock

    def lock(self, name: str = "cycle", *, wait: float = 0.0) -> AbstractContextManager[None]:
        """Hold the named lock for the ``with`` block; LockBusy if still taken after ``wait`` seconds.

        PostgreSQL: a session advisory lock on a dedicated connection (released by the server if the
        process dies). SQLite: a row in ``locks``, refreshed by a heartbeat thread while held; a row
        whose holder died is taken over once it is ``lock_ttl`` seconds stale.
        """
        return self._sqlite_lock(name, wait) if self._is_sqlite else self._pg_lock(name, wait)

    @contextmanager
    def _pg_lock(self, name: str, wait: float) -> Iterator[None]:
        key = _lock_key(f"lock:{name}")
        deadline = time.monotonic() + wait
        try:
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except SQLAlchemyError as exc:
            raise StoreError(f"store could not take lock {name!r}: {_describe(exc)}") from exc
        try:
            while True:
                try:
                    got = conn.execute(select(func.pg_try_advisory_lock(key))).scalar_one()
                except SQLAlchemyError as exc:
                    raise StoreError(f"store could not take lock {name!r}: {_describe(exc)}") from exc
                if got:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LockBusy(f"lock {name!r} is held by another process (waited {wait:g}s)")
                time.sleep(min(_LOCK_POLL, remaining))
            try:
                yield
            finally:
                try:
                    conn.execute(select(func.pg_advisory_unlock(key)))
                except SQLAlchemyError:
                    log.warning("could not release lock %r; dropping its connection", name, exc_info=True)
                    conn.invalidate()  # ends the session, which releases the lock
        finally:
            conn.close()

    @contextmanager
    def _sqlite_lock(self, name: str, wait: float) -> Iterator[None]:
        holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        deadline = time.monotonic() + wait
        while not self._claim(name, holder):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockBusy(f"lock {name!r} is held by another process (waited {wait:g}s)")
            time.sleep(min(_LOCK_POLL, remaining))
        stop = threading.Event()
        heartbeat = threading.Thread(
            target=self._heartbeat, args=(name, holder, stop), name=f"leadsync-lock-{name}", daemon=True
        )
        heartbeat.start()
        try:
            yield
        finally:
            stop.set()
            heartbeat.join()
            with self._tx(f"release lock {name!r}") as conn:
                conn.execute(delete(locks).where(locks.c.name == name, locks.c.holder == holder))

    def _claim(self, name: str, holder: str) -> bool:
        """Take the lock row if it is free or stale (BEGIN IMMEDIATE makes this check-and-set atomic)."""
        with self._tx(f"take lock {name!r}") as conn:
            now = _now()
            expires = now + timedelta(seconds=self.lock_ttl)
            row = conn.execute(select(locks).where(locks.c.name == name)).first()
            if row is None:
                conn.execute(insert(locks).values(name=name, holder=holder, expires_at=expires))
                return True
            if row.expires_at <= now:
                log.warning("taking over lock %r from %s, stale since %s", name, row.holder, row.expires_at)
                conn.execute(
                    update(locks).where(locks.c.name == name).values(holder=holder, expires_at=expires)
                )
                return True
            return False

    def _heartbeat(self, name: str, holder: str, stop: threading.Event) -> None:
        """Push the lock's expiry forward every third of its TTL until ``stop`` is set."""
        while not stop.wait(self.lock_ttl / 3):
            try:
                with self._tx(f"refresh lock {name!r}") as conn:
                    expires = _now() + timedelta(seconds=self.lock_ttl)
                    result = conn.execute(
                        update(locks)
                        .where(locks.c.name == name, locks.c.holder == holder)
                        .values(expires_at=expires)
                    )
                if result.rowcount != 1:
                    log.error("lock %r was taken over by another process while held", name)
                    return
            except StoreError:
                log.warning("could not refresh lock %r; retrying", name, exc_info=True)
