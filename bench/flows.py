"""Many flows on procrastinate workers: initial sync and a steady state, with 1, 2 and 4 worker processes.

``python -m bench.flows [--flows 40] [--leads 250] [--scale 10] [--workers 1,2,4] [--concurrency 2]
[--rounds 10]`` runs, for each worker count, on a fresh PostgreSQL database (``LEADSYNC_BENCH_POSTGRES_URL``,
default the test server's) and a fresh sandbox (``bench.flows_host``, its own process):

1. **initial**: every flow's base holds ``--leads`` leads and its board nothing; a full job is deferred
   per flow; the wall time runs until every lead has its pair (card) in the store;
2. **steady**: ``--rounds`` rounds, 2 s apart: in each, a person changes one lead's Status in every
   flow, and its job is deferred as ``serve`` defers it for a webhook (the lead as target); the latency
   of an edit is the time until the bench sees its card in the new status's list (polled every 50 ms).

Limits: the sandbox's documented ones times ``--scale`` (5 requests/s per base, 100 per 10 s per Trello
token, 300 per 10 s per key), and leadsync's pacers at the same scale. Two flows share a Trello token.
The *bound* is the time the busiest budget alone needs for the requests that were sent (its requests over
its rate: a base's, a token's, a key's); ``sum`` is the total of the per-base and per-token bounds, the
time a single sequential process would need at best. Printed: a table (one row per worker count).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy import create_engine, func, select, text

from leadsync.jobs import build_app, defer_sync, ensure_schema
from leadsync.store import Store
from leadsync.store.schema import pairs

__all__ = ["main", "run_one"]

DEFAULT_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
NEXT = {"NEW": "CONTACTED", "CONTACTED": "QUALIFIED", "QUALIFIED": "NEW"}


def _admin(sql: str) -> None:
    engine = create_engine(
        os.environ.get("LEADSYNC_BENCH_POSTGRES_URL", DEFAULT_ADMIN), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _bounds(log: list[dict[str, Any]], flows: list[dict[str, Any]], scale: float) -> tuple[float, float]:
    """(busiest budget's time, sum of per-base and per-token times) for the requests in ``log``."""
    by_base: Counter[str] = Counter()
    by_token: Counter[str] = Counter()
    for entry in log:
        if entry["who"] == "person":
            continue
        if entry["api"] == "airtable":
            by_base[_base_of(entry["path"])] += 1
        elif entry["api"] == "trello":
            by_token[entry["who"] or "?"] += 1
    base_rate, token_rate = 5 * scale, 10 * scale
    times = [n / base_rate for n in by_base.values()] + [n / token_rate for n in by_token.values()]
    return (max(times, default=0.0), sum(times))


def _base_of(path: str) -> str:
    parts = path.split("/")[2:]  # after "/v0"
    if parts[:2] == ["meta", "bases"] and len(parts) > 2:
        return parts[2]
    if parts[:1] == ["bases"] and len(parts) > 1:
        return parts[1]
    return parts[0] if parts else ""


def run_one(workers: int, args: argparse.Namespace) -> dict[str, Any]:
    """One worker count: fresh sandbox and database, initial sync, steady state; the row's numbers."""
    host = subprocess.Popen(
        [sys.executable, "-m", "bench.flows_host", "--flows", str(args.flows), "--leads", str(args.leads),
         "--rate-scale", str(args.scale)], stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    out: IO[str] | None = host.stdout
    assert out is not None
    world = json.loads(out.readline())
    database = f"leadsync_bench_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{database}"')
    admin = os.environ.get("LEADSYNC_BENCH_POSTGRES_URL", DEFAULT_ADMIN)
    url = admin.rsplit("/", 1)[0] + f"/{database}"
    workdir = Path(tempfile.mkdtemp(prefix="leadsync-flows-"))
    (workdir / "leadsync.toml").write_text(world["toml"])
    s = world["settings"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRTABLE_", "TRELLO_", "LEADSYNC_"))}
    env.update({"AIRTABLE_API_URL": s["AIRTABLE_API_URL"], "TRELLO_API_URL": s["TRELLO_API_URL"],
                "LEADSYNC_DATABASE_URL": url, "LEADSYNC_RATE_LIMIT_SCALE": str(args.scale),
                "LEADSYNC_FULL_SCAN_EVERY": "0", **world["variables"]})  # fmt: skip
    procs: list[subprocess.Popen[bytes]] = []
    try:
        store = Store.open(url)
        result = asyncio.run(_drive(workers, args, world, url, env, workdir, store, procs))
        cpu = [_cpu(p.pid) for p in procs]
        result["cpu_per_worker"] = round(statistics.mean(cpu), 1) if cpu else 0.0
        store.close()
        return result
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)
        host.terminate()
        host.wait(timeout=30)
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def _drive(workers: int, args: argparse.Namespace, world: dict[str, Any], url: str, env: dict[str, str],
                 workdir: Path, store: Store, procs: list[subprocess.Popen[bytes]]) -> dict[str, Any]:  # fmt: skip
    app = build_app(url)
    flows = world["flows"]
    sandbox = httpx.AsyncClient(base_url=world["settings"]["AIRTABLE_API_URL"], timeout=120)
    async with app.open_async():
        await ensure_schema(app, url)
        for i in range(workers):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "leadsync", "worker", "--concurrency", str(args.concurrency),
                 "--name", f"w{i}"], cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))  # fmt: skip
        total = args.flows * args.leads
        while (stats := store.queue_stats()) is None or stats.workers < workers:  # timed once all are up
            await asyncio.sleep(0.2)
        started = time.monotonic()
        for flow in flows:
            await defer_sync(app, store, flow["name"], mode="full")
        while _pair_count(store) < total:
            await asyncio.sleep(0.5)
        initial = time.monotonic() - started
        log = (await sandbox.get("/_sandbox/requests")).json()["requests"]
        initial_seq = log[-1]["seq"] if log else 0
        latencies: dict[str, list[float]] = {f["name"]: [] for f in flows}
        steady_started = time.monotonic()
        for round_ in range(args.rounds):
            edits: dict[str, tuple[str, str, float]] = {}  # card -> (flow, wanted list, edited at)
            for flow in flows:
                lead = flow["leads"][round_ % len(flow["leads"])]
                view = store.for_flow(flow["name"])
                base = view.get_pair(lead)
                if base is None or base.status not in NEXT:
                    continue
                status = NEXT[base.status]
                await sandbox.post(
                    "/_bench/edit", json={"base": flow["base"], "record": lead, "status": status}
                )
                edits[base.card_id] = (flow["name"], flow["lists"][status], time.monotonic())
                await defer_sync(app, store, flow["name"], leads=(lead,))
            deadline = time.monotonic() + 120
            while edits and time.monotonic() < deadline:
                lists = (await sandbox.post("/_bench/lists", json={"cards": list(edits)})).json()["lists"]
                for card, current in lists.items():
                    name, wanted, at = edits[card]
                    if current == wanted:
                        latencies[name].append(time.monotonic() - at)
                        del edits[card]
                await asyncio.sleep(0.05)
            await asyncio.sleep(max(0.0, 2.0 - (time.monotonic() - steady_started - 2.0 * round_)))
        log = (await sandbox.get("/_sandbox/requests")).json()["requests"]
        await sandbox.aclose()
    initial_log = [e for e in log if e["seq"] <= initial_seq]
    bound, serial = _bounds(initial_log, flows, args.scale)
    p95s = sorted(_p95(v) for v in latencies.values() if v)
    return {
        "workers": workers,
        "initial_s": round(initial, 1),
        "bound_s": round(bound, 1),
        "sum_s": round(serial, 1),
        "requests": len([e for e in log if e["who"] != "person"]),
        "429s": sum(1 for e in log if e["status"] == 429),
        "p95_median_flow_s": round(statistics.median(p95s), 2) if p95s else None,
        "p95_worst_flow_s": round(p95s[-1], 2) if p95s else None,
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _pair_count(store: Store) -> int:
    with store._engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(pairs)).scalar_one())


def main(argv: list[str] | None = None) -> None:
    """Run every worker count and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=40)
    parser.add_argument("--leads", type=int, default=250)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    print(f"{args.flows} flows x {args.leads} leads; limits x{args.scale:g}; two flows per Trello token; "
          f"--concurrency {args.concurrency} per worker; {args.rounds} steady rounds")  # fmt: skip
    header = ("workers", "initial_s", "bound_s", "sum_s", "requests", "429s", "p95_median_flow_s",
              "p95_worst_flow_s", "cpu_per_worker")  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for workers in (int(w) for w in args.workers.split(",")):
        row = run_one(workers, args)
        print("| " + " | ".join(str(row[h]) for h in header) + " |", flush=True)


if __name__ == "__main__":
    main()
