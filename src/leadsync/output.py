"""Human output: the cycle summary, conflicts, status, and tables of both sides (Rich)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from leadsync.core import (
    Conflict,
    CreateCard,
    LeadId,
    LinkCard,
    RecordConflict,
    UpdateBase,
    UpdateCard,
    WriteLead,
)
from leadsync.engine import CycleResult
from leadsync.executor import trello_fields
from leadsync.store import Store
from leadsync.write_lines import limited

_WRITES = (CreateCard, UpdateCard, WriteLead)


def summary_table(result: CycleResult) -> Table:
    """The cycle's counts as a table (for a dry run, the counts the plan would reach)."""
    title = "Planned (dry run, nothing written)" if result.dry_run else "Sync cycle"
    table = Table(title=title, show_header=True, header_style="bold")
    counts = result.counts()
    for col in counts:
        table.add_column(col, justify="right")
    table.add_row(*(str(c) for c in counts.values()))
    return table


def requests_line(result: CycleResult) -> str:
    """This cycle's API requests and time, in one line."""
    calls = result.api_calls
    return (
        f"API requests: Airtable {calls['airtable']['read']} read / {calls['airtable']['write']} write, "
        f"Trello {calls['trello']['read']} read / {calls['trello']['write']} write"
        + (f"; rate limited {sum(result.rate_limited.values())}x" if result.rate_limited else "")
        + f" ({result.seconds:.1f} s)"
    )


def done_lines(result: CycleResult) -> list[str]:
    """What a real cycle wrote, one line per write (the writes that failed are listed as failures)."""
    failed = {lead for line in result.writes() for lead in [line["lead"]]
              if any(f"lead {lead}" in failure for failure in result.outcome.failures)}  # fmt: skip
    done = {
        "create": "created",
        "move": "moved",
        "update": "updated",
        "archive": "archived",
        "status": "wrote",
        "lead": "wrote",
    }
    return [f"{done[w['kind']]} {w['what']}" for w in result.writes() if w["lead"] not in failed]


def print_result(console: Console, result: CycleResult, *, most: int = 10) -> None:
    """The cycle's summary, requests, what it wrote (or would write: dry run), reports and failures;
    at most ``most`` lines of writes."""
    console.print(summary_table(result))
    console.print(requests_line(result))
    if result.dry_run:
        verb = {"status": "write", "lead": "write"}
        lines = [f"would {verb.get(w['kind'], w['kind'])} {w['what']}" for w in result.writes()]
        lines += [f"would {describe_op(op)}" for op in result.plan.ops if not isinstance(op, _WRITES)]
        if len(lines) > most:
            lines = [
                *limited(lines, most)[:-1],
                f"… and {len(lines) - most + 1} more (--json lists them all)",
            ]
    else:
        lines = limited(done_lines(result), most)
    for line in lines:
        console.print(f"  {line}", markup=False)
    for report in result.outcome.reports:
        who = result.lead_names.get(report.lead_id or "", "")
        console.print(
            f"  [yellow]{report.kind}[/]: {escape(report.reason)} (lead {repr(who) + ' ' if who else ''}"
            f"{report.lead_id or '-'}, card {report.card_id or '-'})"
        )
    for failure in result.outcome.failures:
        console.print(f"  [red]error[/]: {escape(failure)}")


def cycle_line(result: CycleResult, at: datetime) -> str:
    """One line for a cycle of ``poll``: when, which mode, and what it did (or that nothing changed)."""
    counts = {name: n for name, n in result.counts().items() if n}
    did = ", ".join(f"{name} {n}" for name, n in counts.items()) or "nothing to do"
    return f"{at:%Y-%m-%d %H:%M:%S} {result.mode} cycle: {did} ({result.seconds:.1f} s)"


def describe_op(op: object) -> str:
    """One line saying what an operation does."""
    if isinstance(op, CreateCard):
        return f"create card {op.name!r} for lead {op.lead_id}"
    if isinstance(op, UpdateCard):
        return (
            f"update card {op.card_id} ({', '.join(sorted(trello_fields(op.changes)))}) for lead {op.lead_id}: "
            f"{op.reason}"
        )
    if isinstance(op, WriteLead):
        return f"set {', '.join(op.changes.names())} of lead {op.lead_id}: {op.reason}"
    if isinstance(op, LinkCard):
        return f"link card {op.base.card_id} to lead {op.base.lead_id}: {op.reason}"
    if isinstance(op, RecordConflict):
        conflict = op.conflict
        kept = conflict.winner.value if conflict.winner else "neither (left for a person)"
        return (
            f"record conflict on lead {op.lead_id}: Airtable {conflict.airtable_status!r} vs "
            f"Trello {conflict.trello_status!r}, keep {kept}"
        )
    if isinstance(op, UpdateBase):
        return f"record in the store for lead {op.lead_id}: {op.reason}"
    return repr(op)


def when(moment: datetime | None) -> str:
    """A date and time as people read it, in UTC."""
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def conflicts_table(conflicts: list[Conflict], names: Mapping[str, str] | None = None) -> Table:
    """Conflicts as a table with the leads' names, open ones marked."""
    names = names or {}
    table = Table(title="Conflicts", header_style="bold")
    for col in (
        "lead",
        "field",
        "base",
        "Airtable",
        "Trello",
        "policy",
        "detected",
        "resolution",
        "record id",
    ):
        table.add_column(col)
    for c in conflicts:
        table.add_row(
            names.get(c.lead_id) or c.lead_id,
            c.field,
            str(c.base_status),
            str(c.airtable_status),
            str(c.trello_status),
            c.policy.value,
            when(c.detected_at),
            c.resolution or "[bold red]open[/]",
            c.lead_id,
        )
    return table


def status_report(console: Console, store: Store) -> dict[str, Any]:
    """Prints the store's pairs, conflicts, last cycle and recent activity; returns the counts."""
    pairs = store.pairs()
    open_conflicts = store.open_conflicts()
    last = store.last_cycle()
    info: dict[str, Any] = {
        "linked_pairs": len(pairs),
        "archived_cards": sum(b.card_closed for b in pairs.values()),
        "deleted_leads": sum(b.lead_deleted for b in pairs.values()),
        "deleted_cards": sum(b.card_deleted for b in pairs.values()),
        "open_conflicts": len(open_conflicts),
        "last_cycle": None if last is None else {
            "mode": last.mode, "started_at": last.started_at.isoformat(),
            "finished_at": last.finished_at.isoformat() if last.finished_at else None,
            "ok": last.ok, "summary": last.summary,
        },
    }  # fmt: skip
    table = Table(title="leadsync status", show_header=False)
    table.add_column("what")
    table.add_column("value")
    for key in ("linked_pairs", "archived_cards", "deleted_leads", "deleted_cards", "open_conflicts"):
        table.add_row(key.replace("_", " "), str(info[key]))
    if last is not None:
        state = "running" if last.ok is None else "ok" if last.ok else "with errors"
        table.add_row("last cycle", f"{when(last.started_at)}, {last.mode}, {state}")
    else:
        table.add_row("last cycle", "never")
    console.print(table)
    activity = Table(title="Recent activity", header_style="bold")
    for col in ("when", "action", "lead", "detail"):
        activity.add_column(col)
    for row in store.recent_activity(10):
        base = pairs.get(LeadId(row.lead_id)) if row.lead_id else None
        lead = (base.name if base and base.name else row.lead_id) or ""
        activity.add_row(when(row.at), row.action, lead, row.detail)
    console.print(activity)
    return info


__all__ = [
    "conflicts_table",
    "cycle_line",
    "describe_op",
    "done_lines",
    "print_result",
    "requests_line",
    "status_report",
    "summary_table",
    "when",
]
