"""The store's connection: opening a database URL, private SQLite files, and short transactions.

One store URL serves SQLite (``sqlite:///path/to/file.db``) or PostgreSQL
(``postgresql+psycopg://user@host:5432/db``). Every method of the store runs in its own short
transaction, and every database failure surfaces as :class:`~leadsync.errors.StoreError` (never a raw
SQLAlchemy exception).

SQLite runs in WAL mode with a busy timeout; SQLAlchemy emits the BEGIN itself (the sqlite3 module's
legacy transaction control is switched off) and write transactions use ``BEGIN IMMEDIATE`` so that two
processes never deadlock upgrading a read lock.

The SQLite files hold the Airtable webhook's MAC secret and every lead's name and email, so they are
private to their owner: a directory leadsync creates is 0700, the database file is created 0600 before
SQLite opens it (SQLite gives its ``-wal`` and ``-shm`` files the database file's mode), and files an
older version left readable to others are narrowed to 0600 on open.
"""

from __future__ import annotations

import copy
import hashlib
import os
import stat
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from sqlalchemy import Connection, Engine, Table, create_engine, event, func, select
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from leadsync.errors import StoreError
from leadsync.store.columns import add_missing_columns
from leadsync.store.migration import migrate_legacy_cursors
from leadsync.store.schema import DEFAULT_FLOW, metadata

__all__ = [
    "PRIVATE_DIR_MODE",
    "PRIVATE_FILE_MODE",
    "SQLITE_BUSY_TIMEOUT_MS",
    "StoreConnection",
    "advisory_key",
    "describe",
    "now",
]

SQLITE_BUSY_TIMEOUT_MS = 30_000
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
_SQLITE_COMPANIONS = ("", "-wal", "-shm")


def now() -> datetime:
    """The current time, timezone-aware in UTC (the only kind the store accepts)."""
    return datetime.now(UTC)


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock`` (Python's ``hash`` is salted per process)."""
    digest = hashlib.blake2b(f"leadsync:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def describe(exc: SQLAlchemyError) -> str:
    """A one-line account of a database error, without SQLAlchemy's long trailer."""
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


def _make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents 0700 (``Path.mkdir`` gives parents the default mode)."""
    missing: list[Path] = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            continue  # another process made it first


def _make_private_file(database: Path) -> None:
    """Create the database file 0600 if missing; narrow an existing one (and its companions) to 0600."""
    with suppress(FileExistsError):
        os.close(os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE_MODE))
    for suffix in _SQLITE_COMPANIONS:
        path = database.with_name(database.name + suffix)
        try:
            info = path.stat()
            if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
                path.chmod(PRIVATE_FILE_MODE)
        except FileNotFoundError:
            continue


class StoreConnection:
    """The engine, the transaction helpers and the schema; every concern of the store builds on it."""

    def __init__(self, engine: Engine, *, sqlite_path: Path | None = None) -> None:
        self._engine = engine
        self._writer = engine.execution_options(leadsync_write=True)
        self._is_sqlite = engine.dialect.name == "sqlite"
        self._sqlite_path = sqlite_path
        self.flow = DEFAULT_FLOW
        """The flow whose rows this store reads and writes (its locks are the flow's too)."""

    def for_flow(self, name: str) -> Self:
        """This store seen as flow ``name``: the same engine (one connection pool), that flow's rows.

        Closing either closes the shared pool's connections; the engine opens new ones when next used.
        """
        view = copy.copy(self)
        view.flow = name
        return view

    @classmethod
    def open(cls, url: str) -> Self:
        """Connect, creating the SQLite file (privately), any missing tables, and migrating old state."""
        parsed = _normalise_url(url)
        backend = parsed.get_backend_name()
        sqlite_path: Path | None = None
        if backend == "sqlite":
            sqlite_path = _sqlite_path(parsed)
            engine = _sqlite_engine(parsed)
        elif backend == "postgresql":
            engine = create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})
        else:
            raise StoreError(f"unsupported database {backend!r}: use sqlite:///path or postgresql+psycopg://")
        store = cls(engine, sqlite_path=sqlite_path)
        try:
            store._create_schema()
        except BaseException:
            engine.dispose()
            raise
        return store

    def _create_schema(self) -> None:
        with self._tx("create the schema") as conn:
            if not self._is_sqlite:  # serialise concurrent first starts; SQLite's BEGIN IMMEDIATE does
                conn.execute(select(func.pg_advisory_xact_lock(advisory_key("schema"))))
            metadata.create_all(conn)
            add_missing_columns(conn)
            migrate_legacy_cursors(conn)

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The database URL without its password (safe to print)."""
        return self._engine.url.render_as_string(hide_password=True)

    @contextmanager
    def _tx(self, what: str, *, write: bool = True) -> Iterator[Connection]:
        """One transaction; commits on success, rolls back on error, turns DB errors into StoreError."""
        try:
            with (self._writer if write else self._engine).begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"store could not {what}: {describe(exc)}") from exc

    def _read(self, what: str) -> AbstractContextManager[Connection]:
        return self._tx(what, write=False)

    def _insert_ignoring_conflict(self, table: Table, values: dict[str, object], **target: Any) -> Any:
        """``INSERT ... ON CONFLICT DO NOTHING`` for either dialect."""
        if self._is_sqlite:
            return sqlite_dialect.insert(table).values(values).on_conflict_do_nothing(**target)
        return pg.insert(table).values(values).on_conflict_do_nothing(**target)

    def _upsert(self, table: Table, key: str, values: dict[str, object]) -> Any:
        """``INSERT ... ON CONFLICT (key) DO UPDATE`` setting every other given column, for either dialect."""
        changes = {name: value for name, value in values.items() if name != key}
        if self._is_sqlite:
            stmt: Any = sqlite_dialect.insert(table).values(values)
        else:
            stmt = pg.insert(table).values(values)
        return stmt.on_conflict_do_update(index_elements=[key], set_=changes)


def _sqlite_path(url: URL) -> Path:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        raise StoreError(
            "an in-memory SQLite database can't be shared between connections or processes; "
            "use a file, e.g. sqlite:///leadsync.db"
        )
    return Path(database).expanduser()


def _sqlite_engine(url: URL) -> Engine:
    database = _sqlite_path(url)
    try:
        _make_private_dirs(database.parent)
        _make_private_file(database)
    except OSError as exc:  # a parent that is a file, no permission, a read-only disk
        raise StoreError(f"can't create the SQLite file {database}: {exc.strerror or exc}") from exc
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
