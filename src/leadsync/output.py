"""Human output: the cycle summary, conflicts, status, and tables of both sides (Rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from leadsync.core import (
    Conflict,
    CreateCard,
    LinkCard,
    RecordConflict,
    UpdateBase,
    UpdateCard,
    WriteKind,
    WriteLead,
)
from leadsync.engine import CycleResult
from leadsync.executor import trello_fields
from leadsync.store import Store


def summary_table(result: CycleResult) -> Table:
    """The cycle's counts as a table (for a dry run, the counts the plan would reach)."""
    o = result.outcome
    title = "Planned (dry run, nothing written)" if result.dry_run else "Sync cycle"
    table = Table(title=title, show_header=True, header_style="bold")
    for col in ("created", "moved", "updated", "archived", "conflicts", "skipped", "errors"):
        table.add_column(col, justify="right")
    if result.dry_run:
        ops = result.plan.ops
        counts = [
            sum(isinstance(op, CreateCard) for op in ops),
            sum(isinstance(op, UpdateCard) and WriteKind.MOVED in op.kinds for op in ops),
            sum(isinstance(op, UpdateCard) and WriteKind.UPDATED in op.kinds for op in ops)
            + sum(isinstance(op, WriteLead) for op in ops),
            sum(isinstance(op, UpdateCard) and WriteKind.ARCHIVED in op.kinds for op in ops),
            sum(isinstance(op, RecordConflict) for op in ops),
            o.skipped,
            0,
        ]
    else:
        counts = [o.created, o.moved, o.updated, o.archived, o.conflicts, o.skipped, o.errors]
    table.add_row(*(str(c) for c in counts))
    return table


def print_result(console: Console, result: CycleResult) -> None:
    """The cycle's summary, requests, planned operations (dry run), reports and failures."""
    console.print(summary_table(result))
    calls = result.api_calls
    console.print(
        f"API requests: Airtable {calls['airtable']['read']} read / {calls['airtable']['write']} write, "
        f"Trello {calls['trello']['read']} read / {calls['trello']['write']} write"
        + (f"; rate limited {sum(result.rate_limited.values())}x" if result.rate_limited else "")
        + f" ({result.seconds:.1f} s)"
    )
    if result.dry_run:
        for op in result.plan.ops:
            console.print(f"  would {describe_op(op)}")
    for report in result.outcome.reports:
        console.print(
            f"  [yellow]{report.kind}[/]: {report.reason} (lead {report.lead_id or '-'}, "
            f"card {report.card_id or '-'})"
        )
    for failure in result.outcome.failures:
        console.print(f"  [red]error[/]: {failure}")


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


def conflicts_table(conflicts: list[Conflict]) -> Table:
    """Conflicts as a table, open ones marked."""
    table = Table(title="Conflicts", header_style="bold")
    for col in ("lead", "card", "base", "Airtable", "Trello", "policy", "detected", "resolution"):
        table.add_column(col)
    for c in conflicts:
        table.add_row(
            c.lead_id,
            c.card_id,
            str(c.base_status),
            str(c.airtable_status),
            str(c.trello_status),
            c.policy.value,
            c.detected_at.strftime("%Y-%m-%d %H:%M:%S") if c.detected_at else "",
            c.resolution or "[bold red]open[/]",
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
        table.add_row("last cycle", f"{last.started_at:%Y-%m-%d %H:%M:%S} UTC, {last.mode}, {state}")
    else:
        table.add_row("last cycle", "never")
    console.print(table)
    activity = Table(title="Recent activity", header_style="bold")
    for col in ("when", "action", "lead", "card", "detail"):
        activity.add_column(col)
    for row in store.recent_activity(10):
        activity.add_row(f"{row.at:%H:%M:%S}", row.action, row.lead_id or "", row.card_id or "", row.detail)
    console.print(activity)
    return info


__all__ = ["conflicts_table", "describe_op", "print_result", "status_report", "summary_table"]
