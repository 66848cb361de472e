"""``leadsync demo``: the whole story against an in-process sandbox, in readable tables."""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from leadsync.config import load_flows, one_flow
from leadsync.engine import CycleResult, Engine
from leadsync.output import print_result, when
from leadsync.sandbox import start
from leadsync.sandbox.person import Person
from leadsync.settings import load_settings


def _tables(console: Console, person: Person) -> None:
    leads = Table(title="Airtable: Leads", header_style="bold")
    for col in ("Name", "Email", "Status"):
        leads.add_column(col)
    for rec in sorted(person.leads(), key=lambda r: r["createdTime"]):
        f = rec["fields"]
        leads.add_row(f.get("Name", ""), f.get("Email", ""), f.get("Status", "") or "[dim](empty)[/]")
    board = Table(title="Trello: Lead Tasks", header_style="bold")
    for status in person.lists:
        board.add_column(status)
    columns: dict[str, list[str]] = {s: [] for s in person.lists}
    for card in person.cards("open"):
        column = person.status_of_list(card["idList"])
        if column:
            columns[column].append(card["name"])
    for i in range(max((len(c) for c in columns.values()), default=0)):
        board.add_row(*(col[i] if i < len(col) else "" for col in columns.values()))
    console.print(leads)
    console.print(board)


def run_demo(console: Console) -> int:
    """Returns the exit code: 0 when every step showed what it should."""
    started = time.monotonic()
    server, state = start(seed=2024)
    workdir = Path(tempfile.mkdtemp(prefix="leadsync-demo-"))
    settings = load_settings(
        env_file=None,
        **{k: v for k, v in state.settings().items() if not k.startswith("PERSON_")},
        LEADSYNC_DATABASE_URL=f"sqlite:///{workdir / 'state.db'}",
        LEADSYNC_CONFLICT_POLICY="latest",
    )
    person = Person(state.settings())
    # One mapped extra field: the base gains a date field, which the flow maps both ways to the card's
    # due date (what a leadsync.toml's `due = "Follow-up date"` does).
    person.add_field("Follow-up date", "date", {"dateFormat": {"name": "iso"}})
    flow = one_flow(load_flows(settings, env_file=None), None)
    engine = Engine(
        settings, flow=replace(flow, fields=flow.fields.model_copy(update={"due": "Follow-up date"}))
    )
    failures: list[str] = []

    def step(title: str, text: str) -> None:
        console.rule(f"[bold]{title}")
        console.print(text)

    def cycle() -> CycleResult:
        result = engine.run_cycle()
        print_result(console, result)
        return result

    def check(ok: bool, what: str) -> None:
        console.print(("[green]✓[/] " if ok else "[red]✗[/] ") + what)
        if not ok:
            failures.append(what)

    try:
        console.print(
            Panel.fit(
                f"leadsync demo: a local sandbox of Airtable and Trello is serving on {server.url}.\n"
                "A person edits both sides; leadsync keeps them in sync."
            )
        )
        step(
            "1. New leads get cards", "The person adds three leads in Airtable: two active, one already LOST."
        )
        ada = person.add_lead("Ada Lovelace", "ada@example.com", "NEW", "Referral")
        person.add_lead("Grace Hopper", "grace@example.com", "CONTACTED")
        person.add_lead("Charles Babbage", "charles@example.com", "LOST")
        r = cycle()
        _tables(console, person)
        check(r.outcome.created == 2, "two cards created (a LOST lead gets no new card)")

        step(
            "2. A status change in Airtable moves the card",
            "The person sets Ada's Status to CONTACTED in Airtable.",
        )
        person.edit_lead(ada, Status="CONTACTED")
        r = cycle()
        _tables(console, person)
        card = person.card_for(ada)
        check(person.status_of_list(card["idList"]) == "CONTACTED", "Ada's card moved to CONTACTED")

        step(
            "3. A card moved in Trello changes the lead",
            "The person drags Ada's card to QUALIFIED in Trello.",
        )
        person.move_card(card["id"], "QUALIFIED")
        r = cycle()
        _tables(console, person)
        lead = next(x for x in person.leads() if x["id"] == ada)
        check(lead["fields"].get("Status") == "QUALIFIED", "Ada's lead is now QUALIFIED")

        step("4. Running again changes nothing", "Nothing was edited since: the cycle must write nothing.")
        before = engine.counter.writes()
        r = cycle()
        check(engine.counter.writes() == before and r.outcome.created == 0, "zero writes, no duplicate card")
        check(len(person.cards()) == 2, "still exactly one card per active lead")

        step(
            "5. A conflict, resolved by policy 'latest'",
            "The person sets Ada to LOST in Airtable, then, a moment later, drags her card back to CONTACTED.",
        )
        person.edit_lead(ada, Status="LOST")
        time.sleep(1.1)  # the two APIs' timestamps have one-second resolution in places: keep the order clear
        person.move_card(card["id"], "CONTACTED")
        r = cycle()
        _tables(console, person)
        lead = next(x for x in person.leads() if x["id"] == ada)
        check(
            r.outcome.conflicts == 1 and lead["fields"].get("Status") == "CONTACTED",
            "conflict reported; the later change (Trello's CONTACTED) won on both sides",
        )
        pairs = engine.store.pairs()
        for c in engine.store.conflicts(5):
            base = pairs.get(c.lead_id)
            console.print(
                f"  {when(c.detected_at)}: conflict on {base.name if base else c.lead_id!r}: "
                f"Airtable {c.airtable_status} vs Trello {c.trello_status} -> {c.resolution}",
                markup=False,
            )
        step(
            "6. A mapped extra field: a due date moved in Trello reaches Airtable",
            "The base's 'Follow-up date' field is mapped to the card's due date. The person sets Grace's\n"
            "follow-up in Airtable, then moves the card's due date in Trello a day later.",
        )
        grace = next(x["id"] for x in person.leads() if x["fields"].get("Name") == "Grace Hopper")
        person.edit_lead(grace, **{"Follow-up date": "2026-12-14"})
        cycle()
        grace_card = person.card_for(grace)
        check(str(grace_card.get("due") or "").startswith("2026-12-14"), "the card's due date is Dec 14")
        person.set_due(grace_card["id"], "2026-12-15T12:00:00.000Z")
        cycle()
        lead = next(x for x in person.leads() if x["id"] == grace)
        check(
            lead["fields"].get("Follow-up date") == "2026-12-15",
            "Grace's follow-up date in Airtable is Dec 15",
        )
    finally:
        person.close()
        engine.close()
        server.stop()
    elapsed = time.monotonic() - started
    if failures:
        console.print(
            f"[bold red]Demo finished with {len(failures)} unexpected result(s) in {elapsed:.1f} s."
        )
        return 1
    console.print(f"[bold green]Demo finished: every step behaved as promised ({elapsed:.1f} s).")
    return 0


__all__ = ["run_demo"]
