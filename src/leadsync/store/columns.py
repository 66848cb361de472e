"""Upgrading a store in place: the columns and indexes a later leadsync added to existing tables.

``create_all`` makes missing tables but leaves existing ones alone, so a store written by an earlier
version gains its new, nullable (or defaulted) columns here, by ``ALTER TABLE ... ADD COLUMN``, which
SQLite and PostgreSQL both run without rewriting the rows; the open-conflict index is rebuilt to
cover the conflict's field. It runs in the schema's transaction: a crash leaves the old layout or the new.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Index, inspect, text

from leadsync.store.schema import (
    OPEN_CONFLICT_INDEX,
    activity,
    conflicts,
    cycles,
    intents,
    open_conflict_per_lead,
    pairs,
)

__all__ = ["add_missing_columns"]

log = logging.getLogger(__name__)

_FLOW = ("flow", "VARCHAR(64) NOT NULL DEFAULT 'default'")  # rows written before flows were the default's
_ADDED: dict[str, list[tuple[str, str]]] = {
    pairs.name: [("title", "TEXT"), ("extra", "TEXT"), ("due", "VARCHAR(40)"), ("labels", "TEXT"), _FLOW],
    conflicts.name: [("field", "VARCHAR(32) NOT NULL DEFAULT 'status'"), _FLOW],
    intents.name: [_FLOW],
    activity.name: [_FLOW],
    cycles.name: [_FLOW],
}
_INDEXED = (pairs, conflicts, intents, activity, cycles)
_OLD_OPEN_CONFLICT_INDEX = "uq_conflicts_open_lead"


def add_missing_columns(conn: Connection) -> None:
    """Add each column (and per-flow index) a table lacks, and replace the open-conflict index of an
    earlier version."""
    inspector = inspect(conn)
    for table, columns in _ADDED.items():
        present = {c["name"] for c in inspector.get_columns(table)}
        for name, ddl in columns:
            if name not in present:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}"))
                log.info("store upgraded: %s.%s added", table, name)
    for indexed in _INDEXED:  # the per-flow indexes a column added above lacks
        present_ix = {ix["name"] for ix in inspector.get_indexes(indexed.name)}
        for index in indexed.indexes:
            if index.name not in present_ix and index.name != OPEN_CONFLICT_INDEX:
                index.create(conn)
    indexes = {ix["name"] for ix in inspector.get_indexes(conflicts.name)}
    if _OLD_OPEN_CONFLICT_INDEX in indexes:
        Index(_OLD_OPEN_CONFLICT_INDEX, conflicts.c.lead_id).drop(conn)
    if OPEN_CONFLICT_INDEX not in indexes:
        open_conflict_per_lead.create(conn)
