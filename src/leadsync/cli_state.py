"""The ``leadsync`` commands about the state store: ``conflicts`` (and ``conflicts resolve``), ``status``
and ``restore``. They register on :mod:`leadsync.cli`'s app, and use its settings, engines and consoles."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from leadsync.cli import (
    RECENT_CONFLICTS,
    FlowOption,
    FlowsOption,
    _engine,
    _engines,
    _settings,
    app,
    conflicts_app,
    err,
    exits,
    out,
)
from leadsync.core import ConflictPolicy, LeadId, Side
from leadsync.exit_codes import ExitCode
from leadsync.output import conflicts_table, status_report
from leadsync.settling import NothingToSettle, settle_conflict
from leadsync.store import Store

__all__ = ["Keep", "conflicts", "resolve", "restore", "status"]


@conflicts_app.callback()
def conflicts(
    ctx: typer.Context,
    show_all: Annotated[
        bool, typer.Option("--all", help="Every conflict recorded (the 200 newest).")
    ] = False,
    flow: FlowsOption = None,
) -> None:
    """List open conflicts first, then those a policy decided in the last 7 days (--all: every
    conflict recorded, the 200 newest), of every flow or the ``--flow`` ones."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _settings()
    with _engines(settings, flow) as engines, exits():
        for engine in engines:
            if len(engines) > 1:
                out.print(f"[bold]flow {escape(engine.flow.name)}[/]")
            _list_conflicts(engine.store, show_all)


def _list_conflicts(store: Store, show_all: bool) -> None:
    """One flow's conflicts: open ones first, then those a policy decided lately (or every one)."""
    if show_all:
        rows = store.conflicts(200)
    else:
        since = datetime.now(UTC) - RECENT_CONFLICTS
        decided = [
            c for c in store.conflicts(200)
            if c.resolved_at is not None and c.resolved_at >= since and c.policy is not ConflictPolicy.MANUAL
        ]  # fmt: skip
        rows = store.open_conflicts() + decided
    if not rows:
        out.print(
            "No conflicts recorded."
            if show_all
            else "No open conflicts, and none decided in the last 7 days."
        )
        return
    names: dict[str, str] = {lead: base.name for lead, base in store.pairs().items() if base.name}
    out.print(conflicts_table(rows, names))


class Keep(StrEnum):
    """The side whose status a person keeps when settling a conflict."""

    airtable = "airtable"
    trello = "trello"


@conflicts_app.command("resolve")
def resolve(
    lead: Annotated[str, typer.Argument(help="The lead's Airtable record id (rec...).")],
    keep: Annotated[Keep, typer.Option("--keep", help="The side whose value wins.")],
    flow: FlowOption = None,
) -> None:
    """Resolve an open conflict (of the status or the due date): the kept side's value, as it is now, is
    written to the other side on the next cycle."""
    settings = _settings()
    with _engine(settings, flow) as engine, exits():
        try:
            resolved = settle_conflict(engine, LeadId(lead), Side(keep.value))
        except NothingToSettle:
            err.print(f"No open conflict for lead {lead}. See: leadsync conflicts")
            raise typer.Exit(ExitCode.CONFIG) from None
        out.print(
            f"Resolved: lead {lead} keeps the {keep.value} {resolved.field}; run 'leadsync sync' to apply it."
        )


@app.command()
def status(
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the counts and the last cycle as JSON on stdout (no activity)."),
    ] = False,
    flow: FlowsOption = None,
) -> None:
    """Linked pairs, open conflicts, the last cycle and recent activity (of each flow), and the job queue."""
    settings = _settings()
    infos: dict[str, object] = {}
    with _engines(settings, flow) as engines, exits():
        shown = Console(file=sys.stderr) if as_json else out
        for engine in engines:
            if len(engines) > 1:
                shown.print(f"[bold]flow {engine.flow.name}[/]")
            infos[engine.flow.name] = status_report(shown, engine.store)
        queue = engines[0].store.queue_stats() if engines else None
        if queue is not None:
            shown.print(f"job queue: {queue.waiting} waiting (oldest {queue.oldest_waiting:.0f}s), "
                        f"{queue.running} running, {queue.failed} failed; {queue.workers} workers")  # fmt: skip
    if as_json:
        info = next(iter(infos.values())) if len(infos) == 1 else {"flows": infos}
        out.print(json.dumps(info), markup=False)


@app.command()
def restore(
    lead: Annotated[str, typer.Argument(help="The lead's Airtable record id (rec...).")],
    flow: FlowOption = None,
) -> None:
    """Forget the link of a lead whose card was deleted, so the next cycle gives it a new card."""
    settings = _settings()
    with _engine(settings, flow) as engine, exits():
        base = engine.store.get_pair(LeadId(lead))
        if base is None:
            err.print(f"Lead {lead} is not linked to any card.")
            raise typer.Exit(ExitCode.CONFIG)
        if not base.card_deleted:
            err.print(f"Lead {lead}'s card {base.card_id} still exists: un-archive it in Trello instead.")
            raise typer.Exit(ExitCode.CONFIG)
        engine.store.unlink(LeadId(lead), reason="restore: card was deleted in Trello")
        out.print(f"Lead {lead} will get a new card on the next cycle.")
