"""Read-only queries for the dashboard: flows, a page of activity, recent cycles and conflicts, lead search.

Every query is bounded (a ``LIMIT``, or a time window over an indexed column), so a page stays fast
with hundreds of thousands of activity rows. Two indexes serve them: ``activity (action, id)`` for the
kind filter, and ``cycles (started_at)`` for the 24-hour chart. A new store gets them with its tables;
a store made by an earlier version gets them when it is opened (each created if missing, in one
transaction after the schema's).

Activity and cycles carry no flow yet: while their tables have no ``flow`` column every row belongs to
the default flow, and a filter on any other flow matches nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Index, Row, Table, false, func, or_, select, true

from leadsync.core import Conflict, LeadId, MergeBase

# The row readers of the stores that own these tables: one reading of a row, whatever columns they gain.
from leadsync.store.conflicts import _conflict_from_row
from leadsync.store.connection import StoreConnection
from leadsync.store.journal import ActivityRecord, CycleRecord
from leadsync.store.pairs import _base_from_row
from leadsync.store.schema import DEFAULT_FLOW, activity, conflicts, cycles, pairs, sync_state

__all__ = [
    "DASHBOARD_INDEXES",
    "ActivityLine",
    "DashboardQueryStore",
    "PairMatch",
    "RecentConflict",
]

DASHBOARD_INDEXES = (
    Index("ix_activity_action_id", activity.c.action, activity.c.id),
    Index("ix_cycles_started_at", cycles.c.started_at),
)
"""The indexes the dashboard's queries need (created with the tables, or on open for older stores)."""


@dataclass(frozen=True, slots=True)
class ActivityLine:
    """One activity row with the name of its lead, when the store knows the pair."""

    record: ActivityRecord
    lead_name: str | None


@dataclass(frozen=True, slots=True)
class RecentConflict:
    """A conflict with its lead's name and when the pair's base last changed (before either edit)."""

    conflict: Conflict
    lead_name: str | None
    base_at: datetime | None


@dataclass(frozen=True, slots=True)
class PairMatch:
    """A linked pair found by a search, with the time its base last changed."""

    base: MergeBase
    updated_at: datetime


def _flow_clause(table: Table, flow: str | None) -> ColumnElement[bool]:
    if flow is None:
        return true()
    if "flow" in table.c:  # once the journal records flows, filter on them
        return table.c.flow == flow
    return true() if flow == DEFAULT_FLOW else false()


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _cycle_from_row(row: Row[Any]) -> CycleRecord:
    try:
        summary = json.loads(row.summary) if row.summary else {}
    except ValueError:
        summary = {"error": "unreadable summary"}
    return CycleRecord(
        id=row.id,
        mode=row.mode,
        started_at=row.started_at,
        finished_at=row.finished_at,
        ok=None if row.ok is None else bool(row.ok),
        summary=summary if isinstance(summary, dict) else {},
    )


def _activity_from_row(row: Any) -> ActivityLine:
    record = ActivityRecord(
        id=row.id,
        at=row.at,
        action=row.action,
        lead_id=row.lead_id,
        card_id=row.card_id,
        detail=row.detail,
    )
    return ActivityLine(record, row.lead_name)


class DashboardQueryStore(StoreConnection):
    """The dashboard's read-only queries (and the indexes they need)."""

    def _create_schema(self) -> None:
        super()._create_schema()
        with self._tx("create the dashboard's indexes") as conn:
            for index in DASHBOARD_INDEXES:
                index.create(conn, checkfirst=True)

    def flow_names(self) -> list[str]:
        """Every flow with a sync state, the default flow first (listed even before its first cycle)."""
        with self._read("read the flows") as conn:
            names = set(conn.execute(select(sync_state.c.flow)).scalars())
        return [DEFAULT_FLOW, *sorted(names - {DEFAULT_FLOW})]

    def activity_page(
        self,
        *,
        flow: str | None = None,
        lead_ids: list[str] | None = None,
        kind: str | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[ActivityLine]:
        """Activity rows newest first, at most ``limit``, older than the row ``before`` (keyset paging).

        ``lead_ids`` limits the rows to those leads (an empty list matches nothing)."""
        query = (
            select(*activity.c, pairs.c.name.label("lead_name"))
            .select_from(activity.outerjoin(pairs, pairs.c.lead_id == activity.c.lead_id))
            .where(_flow_clause(activity, flow))
            .order_by(activity.c.id.desc())
            .limit(limit)
        )
        if lead_ids is not None:
            query = query.where(activity.c.lead_id.in_(lead_ids))
        if kind:
            query = query.where(activity.c.action == kind)
        if before is not None:
            query = query.where(activity.c.id < before)
        with self._read("read a page of the activity log") as conn:
            return [_activity_from_row(row) for row in conn.execute(query)]

    def activity_kinds(self) -> list[str]:
        """The distinct kinds (actions) in the activity log, sorted."""
        with self._read("read the activity kinds") as conn:
            return sorted(conn.execute(select(activity.c.action).distinct()).scalars())

    def cycles_since(self, since: datetime, flow: str | None = None) -> list[CycleRecord]:
        """The cycles started at or after ``since``, oldest first."""
        query = (
            select(cycles)
            .where(cycles.c.started_at >= since, _flow_clause(cycles, flow))
            .order_by(cycles.c.started_at, cycles.c.id)
        )
        with self._read("read the recent cycles") as conn:
            return [_cycle_from_row(row) for row in conn.execute(query)]

    def latest_cycles(self, flow: str | None = None, limit: int = 2) -> list[CycleRecord]:
        """The most recently started cycles, newest first."""
        query = select(cycles).where(_flow_clause(cycles, flow)).order_by(cycles.c.id.desc()).limit(limit)
        with self._read("read the latest cycles") as conn:
            return [_cycle_from_row(row) for row in conn.execute(query)]

    def open_conflict_count(self) -> int:
        """How many conflicts wait for a person."""
        query = select(func.count()).select_from(conflicts).where(conflicts.c.resolved_at.is_(None))
        with self._read("count the open conflicts") as conn:
            return int(conn.execute(query).scalar_one())

    def recent_conflicts(self, decided_since: datetime, limit: int = 200) -> list[RecentConflict]:
        """Open conflicts and those decided since ``decided_since``, newest first."""
        query = (
            select(*conflicts.c, pairs.c.name.label("lead_name"), pairs.c.updated_at.label("base_at"))
            .select_from(conflicts.outerjoin(pairs, pairs.c.lead_id == conflicts.c.lead_id))
            .where(or_(conflicts.c.resolved_at.is_(None), conflicts.c.resolved_at >= decided_since))
            .order_by(conflicts.c.id.desc())
            .limit(limit)
        )
        with self._read("read the recent conflicts") as conn:
            rows = conn.execute(query).all()
        return [
            RecentConflict(_conflict_from_row(cast("Row[Any]", row)), row.lead_name, row.base_at)
            for row in rows
        ]

    def search_pairs(self, text: str, limit: int = 50) -> list[PairMatch]:
        """Linked pairs whose lead name or email holds ``text`` (any case), or whose lead or card id is it."""
        pattern = _like(text.strip())
        query = (
            select(pairs)
            .where(
                or_(
                    func.lower(pairs.c.name).like(pattern, escape="\\"),
                    func.lower(pairs.c.email).like(pattern, escape="\\"),
                    pairs.c.lead_id == text.strip(),
                    pairs.c.card_id == text.strip(),
                )
            )
            .order_by(pairs.c.name, pairs.c.lead_id)
            .limit(limit)
        )
        with self._read("search the linked pairs") as conn:
            rows = conn.execute(query).all()
        return [PairMatch(_base_from_row(row), row.updated_at) for row in rows]

    def pair_match(self, lead_id: LeadId) -> PairMatch | None:
        """The lead's pair with the time its base last changed, or None if the lead is not linked."""
        with self._read(f"read the pair of lead {lead_id}") as conn:
            row = conn.execute(select(pairs).where(pairs.c.lead_id == lead_id)).first()
        return None if row is None else PairMatch(_base_from_row(row), row.updated_at)
