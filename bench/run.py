"""The benchmark suite: leadsync's initial, idle and incremental cycles against the sandbox at the APIs'
documented rate limits, and a 100,000-lead probe of memory and planning CPU.

    .venv/bin/python -m bench.run            # N = 100, 1,000, 10,000, then the 100,000-lead probe
    .venv/bin/python -m bench.run --quick    # N = 100 and 1,000 only

For each N, a fresh sandbox (in its own process, so its CPU is not leadsync's) with the documented
limits scaled by a rate scale (``--rate-scale N=S``; leadsync's pacer gets the same scale through
``LEADSYNC_RATE_LIMIT_SCALE``) and 150 ms added to every response. The N leads are seeded directly
into the sandbox's in-process state (no API requests; created and last modified an hour before, as a
table that existed before the first sync), and the board starts empty. Then, measured cycle by cycle:

- initial sync: ``run_cycle(full=True)`` on the empty board;
- the first incremental cycle after it (reads back leadsync's own writes; shown, no goal);
- idle: an incremental cycle with nothing changed;
- 1% changed on each side: a person (the sandbox's second identity, not rate-limited: a UI user) moves
  the Status of N/100 leads in Airtable and the cards of N/100 other leads in Trello, then one cycle;
- the next cycle (within the 60 s watermark overlap, so it reads the leads it just wrote; shown).

Then a probe process reads 100,000 leads and their 100,000 cards (seeded directly, with the store's
pairs, and 1% drifted on each side) in one full dry-run cycle, for peak memory and planning CPU.

Requests are counted from the sandbox's request log (leadsync's identity only), 429s included. CPU is
leadsync's process time. The rate-limit lower bound of a cycle is the time its requests need at the
scaled limits, each API on its own: max(Airtable / (5 S per s), Trello / (10 S per s)).
The table is printed and written to ``bench/results/latest.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import Measured, SandboxHost, leadsync_settings, make_engine, measure, seed_store
from leadsync.sandbox.person import Person

SIZES = (100, 1_000, 10_000)
QUICK_SIZES = (100, 1_000)
SCALES = {100: 1.0, 1_000: 5.0, 10_000: 10.0}
LATENCY_MS = 150.0
PROBE_N = 100_000
PROBE_SCALE = 100.0
STATUSES = ("NEW", "CONTACTED", "QUALIFIED")
RESULTS = Path(__file__).parent / "results" / "latest.md"


@dataclass
class Row:
    n: str
    scenario: str
    measured: Measured | None
    goal: str
    result: str
    ok: bool | None  # None: no goal

    def cells(self) -> list[str]:
        m = self.measured
        if m is None:
            return [self.n, self.scenario, "", "", "", "", "", self.goal, self.result]
        requests = f"{m.count('airtable', 'read')} / {m.count('airtable', 'write')}"
        trello = f"{m.count('trello', 'read')} / {m.count('trello', 'write')}"
        return [
            self.n, self.scenario, requests, trello, str(m.total_429), f"{m.wall:.2f}", f"{m.cpu:.2f}",
            self.goal, self.result,
        ]  # fmt: skip


HEADER = [
    "N", "scenario", "Airtable reads / writes", "Trello reads / writes", "429s", "wall s", "CPU s",
    "goal", "result",
]  # fmt: skip


def mark(ok: bool | None) -> str:
    return "" if ok is None else ("met" if ok else "**missed**")


# ---- the person's edits ---------------------------------------------------------------------------


def next_status(status: str | None) -> str:
    return STATUSES[(STATUSES.index(status) + 1) % len(STATUSES)] if status in STATUSES else STATUSES[0]


def change_one_percent(host: SandboxHost, k: int) -> tuple[dict[str, str], dict[str, str]]:
    """A person changes ``k`` leads' Status in Airtable and moves ``k`` other leads' cards; returns the
    expected Status of each changed lead, per side of the change."""
    person = Person(host.settings)
    try:
        leads = person.leads()
        cards = {c["desc"].rsplit("Lead ID: ", 1)[-1]: c for c in person.cards()}
        statuses = {r["id"]: r["fields"].get("Status") for r in leads}
        ids = [r["id"] for r in leads if r["id"] in cards]
        in_airtable = {lid: next_status(statuses[lid]) for lid in ids[:k]}
        in_trello = {lid: next_status(statuses[lid]) for lid in ids[k : 2 * k]}
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda item: person.edit_lead(item[0], Status=item[1]), in_airtable.items()))
            list(pool.map(lambda item: person.move_card(cards[item[0]]["id"], item[1]), in_trello.items()))
        return in_airtable, in_trello
    finally:
        person.close()


def both_sides_agree(host: SandboxHost, expected: dict[str, str]) -> int:
    """How many of the changed leads show the expected Status in Airtable and on their card."""
    person = Person(host.settings)
    try:
        statuses = {r["id"]: r["fields"].get("Status") for r in person.leads()}
        lists = {c["desc"].rsplit("Lead ID: ", 1)[-1]: c["idList"] for c in person.cards()}
        return sum(
            statuses.get(lid) == status and person.status_of_list(lists.get(lid, "")) == status
            for lid, status in expected.items()
        )
    finally:
        person.close()


# ---- one size -------------------------------------------------------------------------------------


def run_size(n: int, scale: float, latency_ms: float) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    notes: list[str] = []
    label = f"{n:,}"
    with SandboxHost(rate_scale=scale, latency_ms=latency_ms) as host, tempfile.TemporaryDirectory() as tmp:
        host.seed_leads(n)
        engine = make_engine(host, Path(tmp) / "state.db")
        try:
            initial = measure(host, engine, "initial", full=True)
            settle = measure(host, engine, "first incremental")
            idle = measure(host, engine, "idle")
            k = max(1, n // 100)
            with host.no_latency():
                in_airtable, in_trello = change_one_percent(host, k)
            changed = measure(host, engine, "1% changed")
            after = measure(host, engine, "next")
            with host.no_latency():
                agree = both_sides_agree(host, {**in_airtable, **in_trello})
        finally:
            engine.close()

    bound = initial.lower_bound
    ok = initial.wall <= 1.15 * bound and initial.total_429 == 0
    rows.append(
        Row(label, f"initial sync (empty board), scale {scale:g}", initial,
            f"wall <= 1.15 x {bound:.2f} s = {1.15 * bound:.2f} s; 0 x 429",
            f"{initial.wall / bound:.2f} x bound; {mark(ok)}", ok)
    )  # fmt: skip
    rows.append(Row(label, "first incremental cycle after it", settle, "", "reads back its own writes", None))
    idle_reads = idle.count("airtable", "read") + idle.count("trello", "read")
    idle_writes = idle.count("airtable", "write") + idle.count("trello", "write")
    ok = idle_reads <= 3 and idle_writes == 0 and idle.total_429 == 0
    rows.append(
        Row(
            label,
            "idle cycle",
            idle,
            "<= 3 reads, 0 writes",
            f"{idle_reads} reads, {idle_writes} writes; {mark(ok)}",
            ok,
        )
    )
    want_airtable, want_trello = math.ceil(k / 10), k
    got_airtable, got_trello = changed.count("airtable", "write"), changed.count("trello", "write")
    ok = (
        got_airtable == want_airtable
        and got_trello == want_trello
        and changed.total_429 == 0
        and agree == 2 * k
    )
    rows.append(
        Row(label, f"{k} + {k} changed (1% each side)", changed,
            f"writes = Trello {want_trello}, Airtable {want_airtable}; reads constant",
            f"{changed.count('airtable', 'read') + changed.count('trello', 'read')} reads; "
            f"{agree}/{2 * k} leads agree; {mark(ok)}", ok)
    )  # fmt: skip
    rows.append(Row(label, "next cycle (60 s overlap)", after, "", "re-reads the leads it wrote", None))
    for m in (initial, settle, idle, changed, after):
        errors = m.result.outcome.errors if m.result else 0
        routes = ", ".join(f"{route} {count}" for route, count in sorted(m.by_route.items()))
        notes.append(
            f"N={label} {m.label}: {routes or 'no requests'}; sandbox CPU {m.sandbox_cpu:.2f} s; "
            f"lower bound {m.lower_bound:.2f} s" + (f"; {errors} errors" if errors else "")
        )
    return rows, notes


# ---- 100,000 leads --------------------------------------------------------------------------------


def run_probe(n: int) -> tuple[list[Row], list[str]]:
    with SandboxHost(rate_scale=PROBE_SCALE, latency_ms=0) as host, tempfile.TemporaryDirectory() as tmp:
        host.seed_leads(n)
        seed_store(Path(tmp) / "state.db", host.seed_cards())
        host.drift(n // 100)
        settings = Path(tmp) / "settings.json"
        settings.write_text(json.dumps(leadsync_settings(host, Path(tmp) / "state.db")))
        done = subprocess.run(
            [sys.executable, "-m", "bench.probe", str(settings)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"probe failed:\n{done.stderr}")
        probe: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    label = f"{n:,}"
    planning = probe["plan_steady_cpu"]
    rows = [
        Row(label, "planning only (full scan, 1% changed each side)", None, "< 2 s CPU",
            f"{planning:.2f} s; {mark(planning < 2)}", planning < 2),
        Row(label, "planning only (first sync: no pairs, empty board)", None, "< 2 s CPU",
            f"{probe['plan_initial_cpu']:.2f} s; {mark(probe['plan_initial_cpu'] < 2)}", probe["plan_initial_cpu"] < 2),
        Row(label, "planning only (first run: every card adopted)", None, "< 2 s CPU",
            f"{probe['plan_adopt_cpu']:.2f} s; {mark(probe['plan_adopt_cpu'] < 2)}", probe["plan_adopt_cpu"] < 2),
        Row(label, "peak memory (full read of both sides + plan)", None, "< 300 MB",
            f"{probe['peak_mb']:.0f} MB; {mark(probe['peak_mb'] < 300)}", probe["peak_mb"] < 300),
    ]  # fmt: skip
    calls = probe["api_calls"]
    notes = [
        f"N={label} probe: full dry-run cycle read {probe['leads']:,} leads and {probe['cards']:,} cards with "
        f"Airtable {calls['airtable']['read']} reads, Trello {calls['trello']['read']} reads "
        f"({sum(probe['rate_limited'].values()) if probe['rate_limited'] else 0} x 429) in "
        f"{probe['cycle_wall']:.1f} s wall / {probe['cycle_cpu']:.1f} s CPU (sandbox: rate scale "
        f"{PROBE_SCALE:g}, no added latency); it planned {probe['planned_writes']} writes; "
        f"RSS {probe['rss_before_mb']:.0f} MB after imports; loading {probe['pairs']:,} pairs from the "
        f"store took {probe['load_pairs_cpu']:.2f} s CPU; peak after the planning runs "
        f"{probe['peak_after_planning_mb']:.0f} MB."
    ]
    return rows, notes


# ---- output ---------------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem = next(
            int(line.split()[1]) // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem = 0
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{model}, {os.cpu_count()} logical CPUs, {mem:,} MB RAM; {platform.platform()}; "
        f"Python {platform.python_version()}; load average at start {load}"
    )


def table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="leadsync's benchmark suite: sync cycles against the sandbox at the documented rate limits"
    )
    parser.add_argument("--quick", action="store_true", help="N = 100 and 1,000 only (no 10,000, no probe)")
    parser.add_argument(
        "--rate-scale", action="append", default=[], metavar="N=S",
        help="rate scale for size N (defaults: 100=1, 1000=5, 10000=10)",
    )  # fmt: skip
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS)
    parser.add_argument("--sizes", help="comma-separated sizes instead of the defaults")
    parser.add_argument("--no-probe", action="store_true", help="skip the 100,000-lead probe")
    args = parser.parse_args(argv)
    scales = dict(SCALES)
    for item in args.rate_scale:
        size, _, scale = item.partition("=")
        scales[int(size)] = float(scale)
    sizes = (
        [int(s) for s in args.sizes.split(",")] if args.sizes else list(QUICK_SIZES if args.quick else SIZES)
    )

    started = time.monotonic()
    header = f"Machine: {machine()}"
    print(header, flush=True)
    rows: list[Row] = []
    notes: list[str] = []
    for n in sizes:
        scale = scales.get(n, max(1.0, n / 1000))
        print(f"N = {n:,} at rate scale {scale:g}, {args.latency_ms:g} ms added latency ...", flush=True)
        size_rows, size_notes = run_size(n, scale, args.latency_ms)
        rows += size_rows
        notes += size_notes
        print(table(size_rows), flush=True)
    if not (args.quick or args.no_probe):
        print(f"probe: {PROBE_N:,} leads ...", flush=True)
        probe_rows, probe_notes = run_probe(PROBE_N)
        rows += probe_rows
        notes += probe_notes
    elapsed = time.monotonic() - started
    report = "\n".join(
        [
            "# leadsync benchmark",
            "",
            header,
            "",
            f"Sandbox: documented limits x rate scale, {args.latency_ms:g} ms added latency per response; "
            "leads seeded directly into the sandbox's state. Requests from the sandbox's log "
            "(leadsync only); CPU = leadsync's process time. Suite took "
            f"{elapsed / 60:.1f} min.",
            "",
            table(rows),
            "",
            "Requests by route, per cycle:",
            "",
            *[f"- {note}" for note in notes],
            "",
        ]
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report)
    print()
    print(report)
    print(f"written to {RESULTS}")
    return 0 if all(row.ok is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
