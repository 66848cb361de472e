"""What each page shows, built from the store (and, for the served flow, the worker's state).

Plain data for the templates: a flow's state and counts, activity lines with names and links, conflicts.
Nothing here reads a secret: webhook ids and expiry only, never the MAC secret or a credential.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol
from urllib.parse import quote

from leadsync.dashboard.chart import hourly_counts, svg
from leadsync.settings import Settings
from leadsync.store import CycleRecord, Store
from leadsync.store.dashboard_queries import ActivityLine

__all__ = [
    "ActivityRow",
    "FlowView",
    "Links",
    "WorkerView",
    "activity_rows",
    "direction",
    "flow_view",
]

_COUNTS = ("created", "moved", "updated", "archived", "conflicts", "errors")
_TO_TRELLO = {"created", "moved", "updated", "archived", "linked"}
_LIST_ID = re.compile(r"\b[0-9a-f]{24}\b")  # Trello's ids


class WorkerView(Protocol):
    """What the dashboard reads of the worker that runs this process's cycles."""

    @property
    def status(self) -> str:
        """``ok``, or what keeps the worker from syncing."""


@dataclass(frozen=True, slots=True)
class Links:
    """Where a lead and its card live: the Airtable record and the Trello card."""

    base_id: str
    table: str

    def airtable(self, lead_id: str | None) -> str | None:
        """The Airtable record's page."""
        return None if not lead_id else f"https://airtable.com/{self.base_id}/{quote(self.table)}/{lead_id}"

    @staticmethod
    def trello(card_id: str | None) -> str | None:
        """The Trello card's page."""
        return None if not card_id else f"https://trello.com/c/{card_id}"


@dataclass(frozen=True, slots=True)
class ActivityRow:
    """One activity line as the page shows it."""

    id: int
    at: datetime
    kind: str
    way: str
    why: str
    lead_id: str | None
    lead_name: str | None
    airtable_url: str | None
    trello_url: str | None


@dataclass
class FlowView:
    """One flow on the overview."""

    name: str
    state: str  # syncing, idle, failing
    reason: str | None
    last_cycle: CycleRecord | None
    counts: dict[str, int] = field(default_factory=dict)
    open_conflicts: int = 0
    webhooks: dict[str, str] = field(default_factory=dict)
    chart: str = ""
    served_here: bool = False


def direction(kind: str) -> str:
    """Which way a change of this kind went."""
    if kind == "status":
        return "Trello → Airtable"
    if kind in _TO_TRELLO or set(kind.split("+")) <= _TO_TRELLO:
        return "Airtable → Trello"
    if kind == "conflict resolved":
        return "a person decided"
    if kind.startswith("conflict"):
        return "both sides"
    return "leadsync"


def _named(detail: str, list_names: dict[str, str]) -> str:
    if not list_names:
        return detail
    return _LIST_ID.sub(lambda m: list_names.get(m.group(0), m.group(0)), detail)


def activity_rows(lines: list[ActivityLine], links: Links, list_names: dict[str, str]) -> list[ActivityRow]:
    """Activity lines with their direction, list names for list ids, and links to both sides."""
    return [
        ActivityRow(
            id=line.record.id,
            at=line.record.at,
            kind=line.record.action,
            way=direction(line.record.action),
            why=_named(line.record.detail, list_names),
            lead_id=line.record.lead_id,
            lead_name=line.lead_name,
            airtable_url=links.airtable(line.record.lead_id),
            trello_url=links.trello(line.record.card_id),
        )
        for line in lines
    ]


def _state(
    latest: list[CycleRecord], worker_status: str | None, now: datetime
) -> tuple[str, str | None, CycleRecord | None]:
    """The flow's state, why, and its last finished cycle."""
    finished = next((c for c in latest if c.finished_at is not None), None)
    if worker_status is not None and worker_status != "ok":
        return "failing", worker_status, finished
    if latest and latest[0].finished_at is None and now - latest[0].started_at < timedelta(hours=1):
        return "syncing", f"{latest[0].mode} cycle since {latest[0].started_at:%H:%M:%S} UTC", finished
    if finished is not None and finished.ok is False:
        failures = finished.summary.get("failures")
        reason = failures[0] if isinstance(failures, list) and failures else finished.summary.get("error")
        return "failing", str(reason or "the last cycle failed"), finished
    return "idle", None, finished


def flow_view(
    store: Store, flow: str, settings: Settings, worker_status: str | None, now: datetime | None = None
) -> FlowView:
    """One flow's state, last cycle, open conflicts, webhooks and 24-hour chart; ``worker_status`` is
    the status of the flow's worker thread in this process (None: its cycles run elsewhere, as jobs)."""
    now = now or datetime.now(UTC)
    latest = store.latest_cycles(flow, limit=2)
    state, reason, last = _state(latest, worker_status, now)
    sync = store.sync_state(flow)
    webhooks = {
        "Airtable": sync.airtable_webhook_id or "not registered",
        "Trello": sync.trello_webhook_id or "not registered",
    }
    if sync.airtable_webhook_expires is not None:
        webhooks["Airtable expires"] = f"{sync.airtable_webhook_expires:%Y-%m-%d %H:%M} UTC"
    summary = last.summary if last else {}
    counts = {k: v for k in _COUNTS if isinstance(v := summary.get(k), int) and v}
    chart = svg(hourly_counts(store.cycles_since(now - timedelta(hours=24), flow), now))
    return FlowView(
        name=flow,
        state=state,
        reason=reason,
        last_cycle=last,
        counts=counts,
        open_conflicts=store.open_conflict_count(),
        webhooks=webhooks,
        chart=chart,
        served_here=worker_status is not None,
    )
