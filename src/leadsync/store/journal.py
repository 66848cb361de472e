"""The journal: the activity log (what leadsync did, and why) and the cycles it ran."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select, update

from leadsync.errors import StoreError
from leadsync.store.connection import StoreConnection, now
from leadsync.store.schema import activity, cycles

__all__ = ["ActivityRecord", "CycleRecord", "JournalStore", "activity_values"]


def activity_values(
    flow: str, action: str, lead_id: str | None, card_id: str | None, detail: str
) -> dict[str, object]:
    """The columns of one ``activity`` row of ``flow``, stamped now."""
    return {
        "flow": flow,
        "at": now(),
        "action": action,
        "lead_id": lead_id,
        "card_id": card_id,
        "detail": detail,
    }


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    """One line of the activity log."""

    id: int
    at: datetime
    action: str
    lead_id: str | None
    card_id: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class CycleRecord:
    """One sync cycle: when it ran, in which mode, and its outcome once finished."""

    id: int
    mode: str
    started_at: datetime
    finished_at: datetime | None
    ok: bool | None
    summary: dict[str, object] = field(default_factory=dict)


class JournalStore(StoreConnection):
    """Writing and reading the activity log and the cycle log."""

    def log(
        self, action: str, *, lead_id: str | None = None, card_id: str | None = None, detail: str = ""
    ) -> None:
        """Append one activity line."""
        with self._tx(f"log {action}") as conn:
            conn.execute(
                insert(activity).values(activity_values(self.flow, action, lead_id, card_id, detail))
            )

    def recent_activity(self, limit: int = 20) -> list[ActivityRecord]:
        """The latest activity rows, newest first."""
        with self._read("read the activity log") as conn:
            rows = conn.execute(
                select(activity)
                .where(activity.c.flow == self.flow)
                .order_by(activity.c.id.desc())
                .limit(limit)
            ).all()
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

    def start_cycle(self, mode: str) -> int:
        """Record that a cycle of ``mode`` starts now; returns its id for :meth:`finish_cycle`."""
        with self._tx(f"start a {mode} cycle") as conn:
            cycle_id: int = conn.execute(
                insert(cycles).values(flow=self.flow, mode=mode, started_at=now()).returning(cycles.c.id)
            ).scalar_one()
        return cycle_id

    def finish_cycle(self, cycle_id: int, summary: dict[str, object], ok: bool) -> None:
        """Close a cycle; ``summary`` is stored as JSON (values that JSON can't hold become strings)."""
        text = json.dumps(summary, default=str, sort_keys=True)
        with self._tx(f"finish cycle {cycle_id}") as conn:
            result = conn.execute(
                update(cycles)
                .where(cycles.c.id == cycle_id, cycles.c.flow == self.flow, cycles.c.finished_at.is_(None))
                .values(finished_at=now(), ok=ok, summary=text)
            )
            if result.rowcount != 1:
                raise StoreError(f"cycle {cycle_id} does not exist or is finished already")

    def last_cycle(self) -> CycleRecord | None:
        """The most recently started cycle (finished or not)."""
        with self._read("read the last cycle") as conn:
            row = conn.execute(
                select(cycles).where(cycles.c.flow == self.flow).order_by(cycles.c.id.desc()).limit(1)
            ).first()
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
