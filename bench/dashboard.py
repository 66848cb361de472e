"""How fast the dashboard's pages answer with a big store (a benchmark, not a timed test).

``python -m bench.dashboard [--rows 100000] [--pairs 20000] [--requests 40]`` fills a fresh SQLite store
with ``--rows`` activity rows (over ``--pairs`` linked leads, the kinds a real log holds), a day of cycles
and some conflicts, serves the dashboard on loopback (uvicorn, as ``leadsync serve`` does), logs in, and
requests each page ``--requests`` times. It prints the median and 95th percentile of each page's wall
time as a table; the goal is under 200 ms. No API is called: the dashboard reads only the store.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import create_engine, insert

from leadsync.core import LeadId
from leadsync.dashboard import OneWorker, mount_dashboard
from leadsync.engine import Engine
from leadsync.sandbox import BackgroundServer
from leadsync.settings import Settings
from leadsync.store import Store
from leadsync.store.schema import activity, conflicts, cycles, pairs

__all__ = ["BenchWorker", "fill", "main", "time_pages"]

PASSWORD = "bench-password"  # noqa: S105 - the throwaway store's dashboard, on loopback
GOAL_MS = 200.0
KINDS = (("status", 40), ("moved", 25), ("updated", 15), ("created", 12), ("moved+updated", 5),
         ("archived", 2), ("conflict", 1))  # fmt: skip
FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Tony")
LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton")


@dataclass
class BenchWorker:
    """What the dashboard reads of a server's worker: an engine (for its store) that never syncs."""

    engine: Engine
    status: str = "ok"

    def notify(self, **_: object) -> None:
        """Sync now does nothing here: nothing is timed after it."""


def _settings(url: str) -> Settings:
    return Settings(
        _env_file=None,
        AIRTABLE_API_KEY="patBENCH.unused",
        AIRTABLE_BASE_ID="appBENCH000000000",
        TRELLO_API_KEY="unused",
        TRELLO_TOKEN="unused",  # noqa: S106 - no API is called
        TRELLO_BOARD_ID="0123456789abcdef01234567",
        LEADSYNC_DATABASE_URL=url,
        LEADSYNC_DASHBOARD_PASSWORD=PASSWORD,
    )


def fill(store_url: str, rows: int, n_pairs: int, seed: int = 7) -> list[str]:
    """Fill the store: pairs, ``rows`` activity lines, a day of cycles, conflicts. Returns the lead ids."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    leads = [f"rec{i:014d}" for i in range(n_pairs)]
    kinds = [k for k, weight in KINDS for _ in range(weight)]
    Store.open(store_url).close()  # the schema, as leadsync creates it
    database = create_engine(store_url)
    with database.begin() as conn:
        conn.execute(insert(pairs), [
            {"lead_id": lid, "card_id": f"{i:024x}", "status": "NEW", "name": f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}",
             "email": f"lead{i}@example.com", "source": "Website", "card_closed": False, "lead_deleted": False,
             "card_deleted": False, "updated_at": now} for i, lid in enumerate(leads)
        ])  # fmt: skip
        for start in range(0, rows, 10_000):
            batch = []
            for i in range(start, min(rows, start + 10_000)):
                n = rng.randrange(n_pairs)
                at = now - timedelta(seconds=(rows - i) * 30)
                batch.append({"at": at, "action": rng.choice(kinds), "lead_id": leads[n], "card_id": f"{n:024x}",
                              "detail": "card moved in Trello: Status -> QUALIFIED"})  # fmt: skip
            conn.execute(insert(activity), batch)
        conn.execute(insert(cycles), [
            {"mode": "incremental", "started_at": now - timedelta(minutes=2 * i), "finished_at": now - timedelta(minutes=2 * i),
             "ok": True, "summary": '{"created": 1, "moved": 2, "updated": 3, "archived": 0, "errors": 0, "rate_limited": {"trello": 1}}'}
            for i in range(720)
        ])  # fmt: skip
        conn.execute(insert(conflicts), [
            {"lead_id": leads[i], "card_id": f"{i:024x}", "base_status": "NEW", "airtable_status": "QUALIFIED",
             "trello_status": "CONTACTED", "policy": "manual", "detected_at": now - timedelta(hours=i),
             "resolved_at": None if i < 20 else now, "resolution": None if i < 20 else "manual: kept trello"}
            for i in range(220)
        ])  # fmt: skip
    database.dispose()
    return leads


def time_pages(url: str, paths: list[str], n: int) -> list[tuple[str, float, float]]:
    """Each path's median and 95th percentile in ms over ``n`` requests, after logging in."""
    with httpx.Client(base_url=url, timeout=60) as client:
        form = client.get("/login").text
        token = form.split('name="login_token" value="', 1)[1].split('"', 1)[0]
        if client.post("/login", data={"login_token": token, "password": PASSWORD}).status_code != 303:
            raise SystemExit("could not log in to the dashboard")
        results = []
        for path in paths:
            client.get(path).raise_for_status()  # warm
            times = []
            for _ in range(n):
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{path} answered {response.status_code}")
            times.sort()
            results.append((path, statistics.median(times), times[max(0, round(0.95 * n) - 1)]))
    return results


def main(argv: list[str] | None = None) -> None:
    """Fill a store, serve the dashboard, time its pages, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        store_url = f"sqlite:///{Path(folder) / 'bench.db'}"
        started = time.perf_counter()
        leads = fill(store_url, args.rows, args.pairs)
        print(f"filled the store in {time.perf_counter() - started:.1f} s: {args.rows:,} activity rows")
        settings = _settings(store_url)
        engine = Engine(settings)
        app = FastAPI()
        mount_dashboard(app, settings, OneWorker(lambda: BenchWorker(engine)))
        server = BackgroundServer(app).start()
        try:
            lead = LeadId(leads[len(leads) // 2])
            paths = ["/", "/fragments/overview", "/activity", "/fragments/activity", "/activity?kind=conflict",
                     "/activity?kind=archived", f"/activity?before={args.rows // 2}", "/activity?lead=Hopper",
                     f"/activity?lead={lead}", "/conflicts", "/leads?q=turing", "/leads?q=lead123@",
                     f"/leads/{lead}"]  # fmt: skip
            results = time_pages(server.url, paths, args.requests)
        finally:
            server.stop()
            engine.close()
    print(f"\n{'page':<34} {'median ms':>10} {'p95 ms':>8}  goal {GOAL_MS:.0f} ms")
    for path, median, p95 in results:
        mark = "ok" if p95 < GOAL_MS else "SLOW"
        print(f"{path:<34} {median:>10.1f} {p95:>8.1f}  {mark}")


if __name__ == "__main__":
    main()
