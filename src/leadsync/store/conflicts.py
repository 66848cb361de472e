"""Conflicts (of a status or a due date): at most one open per lead and field, kept with their
resolution once closed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select, update

from leadsync.core import CardId, Conflict, ConflictPolicy, LeadId
from leadsync.errors import StoreError
from leadsync.store.connection import StoreConnection, now
from leadsync.store.schema import conflicts

__all__ = ["ConflictStore"]


def _conflict_from_row(row: Row[Any]) -> Conflict:
    return Conflict(
        lead_id=LeadId(row.lead_id),
        card_id=CardId(row.card_id),
        base_status=row.base_status,
        airtable_status=row.airtable_status,
        trello_status=row.trello_status,
        policy=ConflictPolicy(row.policy),
        detected_at=row.detected_at,
        resolved_at=row.resolved_at,
        resolution=row.resolution,
        id=row.id,
        field=row.field,
    )


class ConflictStore(StoreConnection):
    """Recording, listing and resolving conflicts."""

    def record_conflict(self, c: Conflict) -> bool:
        """Store a conflict; False (and nothing written) if the lead has an open one of that field already.

        StoreError if it has no ``detected_at``: a recorded conflict says when it was found."""
        if c.detected_at is None:
            raise StoreError(f"the conflict of lead {c.lead_id} has no detection time")
        values: dict[str, object] = {
            "flow": self.flow,
            "lead_id": c.lead_id,
            "card_id": c.card_id,
            "base_status": c.base_status,
            "airtable_status": c.airtable_status,
            "trello_status": c.trello_status,
            "policy": c.policy.value,
            "detected_at": c.detected_at,
            "resolved_at": c.resolved_at,
            "resolution": c.resolution,
            "field": c.field,
        }
        stmt = self._insert_ignoring_conflict(
            conflicts,
            values,
            index_elements=["lead_id", "field"],
            index_where=conflicts.c.resolved_at.is_(None),
        ).returning(conflicts.c.id)
        with self._tx(f"record a conflict for lead {c.lead_id}") as conn:
            return conn.execute(stmt).first() is not None

    def open_conflicts(self) -> list[Conflict]:
        """The unresolved conflicts, oldest first."""
        query = (
            select(conflicts)
            .where(conflicts.c.flow == self.flow, conflicts.c.resolved_at.is_(None))
            .order_by(conflicts.c.id)
        )
        with self._read("read the open conflicts") as conn:
            return [_conflict_from_row(row) for row in conn.execute(query)]

    def conflicts(self, limit: int = 100) -> list[Conflict]:
        """Open and resolved conflicts, newest first."""
        query = (
            select(conflicts)
            .where(conflicts.c.flow == self.flow)
            .order_by(conflicts.c.detected_at.desc(), conflicts.c.id.desc())
            .limit(limit)
        )
        with self._read("read the conflicts") as conn:
            return [_conflict_from_row(row) for row in conn.execute(query)]

    def get_open_conflict(self, lead_id: LeadId, field: str | None = None) -> Conflict | None:
        """The lead's unresolved conflict of ``field`` (any field, the oldest first, when None), or None."""
        query = select(conflicts).where(
            conflicts.c.flow == self.flow, conflicts.c.lead_id == lead_id, conflicts.c.resolved_at.is_(None)
        )
        if field is not None:
            query = query.where(conflicts.c.field == field)
        with self._read(f"read the open conflict of lead {lead_id}") as conn:
            row = conn.execute(query.order_by(conflicts.c.id)).first()
        return None if row is None else _conflict_from_row(row)

    def resolve_conflict(self, lead_id: LeadId, resolution: str, field: str = "status") -> Conflict:
        """Close the lead's open conflict of ``field``; StoreError if it has none."""
        with self._tx(f"resolve the conflict of lead {lead_id}") as conn:
            row = conn.execute(
                update(conflicts)
                .where(
                    conflicts.c.flow == self.flow,
                    conflicts.c.lead_id == lead_id,
                    conflicts.c.field == field,
                    conflicts.c.resolved_at.is_(None),
                )
                .values(resolved_at=now(), resolution=resolution)
                .returning(*conflicts.c)
            ).first()
            if row is None:
                raise StoreError(f"lead {lead_id} has no open conflict")
            return _conflict_from_row(row)
