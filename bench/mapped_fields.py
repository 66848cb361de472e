"""What a change to a mapped field costs, against a team's own base (every field renamed, due date and
labels mapped both ways): requests per cycle, counted by the sandbox, for an idle cycle and for 1% of the
leads changed in each two-way field on each side, beside a status change.

    .venv/bin/python -m bench.mapped_fields [--leads 1000] [--rate-scale 10]

The sandbox runs in this process with the documented rate limits times ``--rate-scale``; counts do not
depend on the scale, 429s would show it too tight.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fixtures_sandbox import RunningSandbox
from tests.mapping.world import TeamWorld

from leadsync.engine import Engine
from leadsync.sandbox import start
from leadsync.settings import load_settings

__all__ = ["main"]


def _requests(sandbox: RunningSandbox, since: int) -> dict[str, int]:
    out = {"airtable read": 0, "airtable write": 0, "trello read": 0, "trello write": 0, "429": 0}
    for entry in sandbox.requests(since):
        if entry["who"] != "leadsync":
            continue
        read = entry["method"] == "GET" or str(entry["path"]).endswith("/listRecords")
        out[f"{entry['api']} {'read' if read else 'write'}"] += 1
        out["429"] += entry["status"] == 429
    return out


def _last(sandbox: RunningSandbox) -> int:
    entries = sandbox.requests()
    return int(entries[-1]["seq"]) if entries else 0


def _seed(team: TeamWorld, n: int) -> list[str]:
    url = f"{team.s['AIRTABLE_API_URL']}/v0/{team.base}/{team.table_id}"
    ids: list[str] = []
    for start_at in range(0, n, 10):
        records = [
            {
                "fields": {
                    "Full Name": f"Lead {i}",
                    "Lead Status": "New",
                    "Follow-up date": "2026-12-10",
                    "Tags": ["Hot"],
                }
            }
            for i in range(start_at, min(n, start_at + 10))
        ]
        ids += [
            r["id"]
            for r in team._ok(team.http.post(url, json={"records": records}, headers=team._at))["records"]
        ]
    return ids


def main(argv: list[str] | None = None) -> int:
    """Run the measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--rate-scale", type=float, default=10.0)
    args = parser.parse_args(argv)
    server, state = start(seed=11)
    sandbox = RunningSandbox(server, state)
    rng = random.Random(5)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sandbox.control("POST", "/config", json={"rate_scale": 0})
            team = TeamWorld(sandbox, Path(tmp))
            # Seeded two minutes in the past by the sandbox's clock: past the incremental read's one-minute
            # overlap, so that only what changes from now on is read again.
            sandbox.control("POST", "/clock/advance", json={"seconds": -120})
            ids = _seed(team, args.leads)
            sandbox.control("POST", "/clock/advance", json={"seconds": 120})
            values: dict[str, Any] = {
                k: v for k, v in sandbox.settings.items() if not k.startswith("PERSON_")
            }
            values |= {
                "LEADSYNC_DATABASE_URL": f"sqlite:///{tmp}/state.db",
                "LEADSYNC_CONFIG": str(team.config),
            }
            values["LEADSYNC_RATE_LIMIT_SCALE"] = args.rate_scale
            engine = Engine(load_settings(env_file=None, **values))
            sandbox.control("POST", "/config", json={"rate_scale": args.rate_scale})
            rows: list[tuple[str, int, dict[str, int], float]] = []

            def cycle(label: str, changed: int, edit: Callable[[str], object] | None = None) -> None:
                picked = rng.sample(ids, changed) if changed else []
                if edit is not None:
                    sandbox.control("POST", "/config", json={"rate_scale": 0})
                    for lead_id in picked:
                        edit(lead_id)
                    sandbox.control("POST", "/config", json={"rate_scale": args.rate_scale})
                    time.sleep(1.1)  # past the pacer's window of the edits
                since = _last(sandbox)
                started = time.monotonic()
                result = engine.run_cycle()
                rows.append(
                    (
                        f"{label} ({result.mode})",
                        changed,
                        _requests(sandbox, since),
                        time.monotonic() - started,
                    )
                )

            cycle("initial sync", args.leads)
            cycle("first idle cycle", 0)
            k = max(1, args.leads // 100)
            cards = {c["desc"].rsplit("Lead ID: ", 1)[-1][:17]: c for c in team.cards()}
            cycle(
                "Status changed in Airtable",
                k,
                lambda i: team.edit_lead(i, **{"Lead Status": "Contacted"}),
            )
            cycle(
                "due date changed in Airtable",
                k,
                lambda i: team.edit_lead(i, **{"Follow-up date": "2026-12-20"}),
            )
            cycle(
                "due date changed in Trello",
                k,
                lambda i: team.update_card(cards[i]["id"], due="2026-12-24T12:00:00.000Z"),
            )
            cycle(
                "labels changed in Airtable",
                k,
                lambda i: team.edit_lead(i, Tags=["Hot", "Cold"]),
            )
            cycle("card moved in Trello", k, lambda i: team.move_card(cards[i]["id"], "Qualified"))
            time.sleep(61)
            # Still reads the cards of the leads leadsync wrote a minute before the last cycle began: the
            # incremental read looks 60 s further back than its watermark.
            cycle("idle cycle, a minute later", 0)
            cycle("idle cycle after that", 0)
            engine.close()
            team.close()
    finally:
        server.stop()
    print(
        f"\nleads: {args.leads}; sandbox at the documented limits x {args.rate_scale}; one engine, one process\n"
    )
    print(
        "| cycle | changed | Airtable reads | Airtable writes | Trello reads | Trello writes | 429s | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, changed, counts, seconds in rows:
        print(
            f"| {label} | {changed} | {counts['airtable read']} | {counts['airtable write']} | "
            f"{counts['trello read']} | {counts['trello write']} | {counts['429']} | {seconds:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
