"""Upgrading a store written by an earlier leadsync: its string-keyed ``cursors`` table.

Earlier versions kept every position and webhook detail as a text value under a string key in one
``cursors`` table, the Airtable MAC secret and the rate-limit pauses among them, and SQLite locks as rows
of a ``locks`` table. On open, the known keys move into their typed homes (``sync_state`` of the
default flow, ``webhook_secrets``, ``rate_pauses``) and both old tables are dropped, in the same
transaction as the schema's creation: a crash leaves either the old layout or the new one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Column, Connection, MetaData, String, Table, Text, insert, inspect, select

from leadsync.store.schema import DEFAULT_FLOW, rate_pauses, sync_state, webhook_secrets

__all__ = ["LEGACY_CURSOR_COLUMNS", "migrate_legacy_cursors", "parse_time"]

log = logging.getLogger(__name__)

_LEGACY_SECRET_KEY = "airtable.webhook.secret"  # noqa: S105 - the name of a row, not a secret
_LEGACY_PAUSE_PREFIX = "pause:"

_legacy = MetaData()
_legacy_cursors = Table(
    "cursors",
    _legacy,
    Column("name", String(128), primary_key=True),
    Column("value", Text, nullable=False),
)
_legacy_locks = Table("locks", _legacy, Column("name", String(128), primary_key=True))


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 time as the APIs and earlier versions wrote it (``Z`` or an offset; naive is UTC)."""
    if not text:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _text(value: str) -> str | None:
    return value or None


def _number(value: str) -> int | None:
    return int(value) if value else None


LEGACY_CURSOR_COLUMNS: dict[str, tuple[str, Callable[[str], object]]] = {
    "airtable.watermark": ("airtable_watermark", parse_time),
    "trello.last_action": ("trello_last_action", _text),
    "last_full_scan": ("last_full_scan", parse_time),
    "trello.conflict_since": ("trello_conflict_since", parse_time),
    "trello.member_id": ("trello_member_id", _text),
    "airtable.user_id": ("airtable_user_id", _text),
    "airtable.webhook.id": ("airtable_webhook_id", _text),
    "airtable.webhook.cursor": ("airtable_webhook_cursor", _number),
    "airtable.webhook.expires": ("airtable_webhook_expires", parse_time),
    "airtable.table_id": ("airtable_table_id", _text),
    "trello.webhook.id": ("trello_webhook_id", _text),
    "trello.webhook.callback": ("trello_webhook_callback", _text),
}
"""Each earlier cursor key, with the ``sync_state`` column it moves to and how its text is read."""


def migrate_legacy_cursors(conn: Connection) -> None:
    """Move an earlier version's ``cursors`` rows into the typed tables and drop ``cursors`` and ``locks``."""
    tables = set(inspect(conn).get_table_names())
    if _legacy_locks.name in tables:
        _legacy_locks.drop(conn)  # SQLite locks are file locks now; PostgreSQL never used the table
    if _legacy_cursors.name not in tables:
        return
    state: dict[str, object] = {}
    for name, value in conn.execute(select(_legacy_cursors.c.name, _legacy_cursors.c.value)).all():
        try:
            _migrate_one(conn, name, value, state)
        except ValueError:
            log.warning("dropping the unreadable cursor %r of an earlier leadsync version", name)
    migrated_at = datetime.now(UTC)
    if state:
        conn.execute(insert(sync_state).values(flow=DEFAULT_FLOW, updated_at=migrated_at, **state))
    _legacy_cursors.drop(conn)
    log.info("moved %d cursors of an earlier leadsync version into the sync state", len(state))


def _migrate_one(conn: Connection, name: str, value: str, state: dict[str, object]) -> None:
    if name in LEGACY_CURSOR_COLUMNS:
        column, read = LEGACY_CURSOR_COLUMNS[name]
        state[column] = read(value)
    elif name == _LEGACY_SECRET_KEY:
        conn.execute(
            insert(webhook_secrets).values(
                flow=DEFAULT_FLOW, airtable_mac_secret=value, updated_at=datetime.now(UTC)
            )
        )
    elif name.startswith(_LEGACY_PAUSE_PREFIX):
        conn.execute(
            insert(rate_pauses).values(key=name.removeprefix(_LEGACY_PAUSE_PREFIX), until=float(value))
        )
    else:
        log.warning("dropping the unknown cursor %r of an earlier leadsync version", name)
