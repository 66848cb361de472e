"""Peak memory and planning CPU at 100,000 leads, in a process of its own (so that its peak RSS is leadsync's).

``python -m bench.probe SETTINGS_JSON`` reads leadsync's settings from a JSON file (a sandbox already
seeded with the leads, their cards, the store's pairs and a drift of 1% on each side), then:

1. runs one full cycle as ``leadsync sync --full --dry-run`` would: both sides read in full (every lead,
   every card), the base read from the store, planned, nothing written; its peak RSS is the figure;
2. reads both sides again and times the planning alone (what the engine runs: ``plan`` then ``settle``,
   here with no timestamps fetched), for this steady state, for a first sync (no pairs, empty board) and for a first run on
   a board whose cards all carry ``Lead ID`` lines (every card adopted).

Prints one JSON object.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from leadsync.core import Snapshot, plan, settle
from leadsync.engine import Engine
from leadsync.settings import load_settings


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _rss_mb() -> float:
    return _status_mb("VmRSS")


def _peak_mb() -> float:
    """This process's peak RSS. ``VmHWM``, not ``ru_maxrss``: Linux carries ``ru_maxrss`` over ``exec``
    from the forking parent, so a child of a big process would report the parent's size."""
    return _status_mb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _planning(engine: Engine, snapshot: Snapshot, pairs: Any) -> float:
    mapping = engine.mapping()
    policy = engine.settings.LEADSYNC_CONFLICT_POLICY
    started = time.process_time()
    settle(plan(snapshot, pairs, mapping, policy), {}, mapping)
    return time.process_time() - started


def main() -> None:
    values = json.loads(Path(sys.argv[1]).read_text())
    engine = Engine(load_settings(env_file=None, **values))
    engine.mapping()
    out: dict[str, Any] = {"rss_before_mb": _rss_mb()}

    wall, cpu = time.monotonic(), time.process_time()
    result = engine.run_cycle(full=True, dry_run=True)
    out["cycle_wall"] = time.monotonic() - wall
    out["cycle_cpu"] = time.process_time() - cpu
    out["peak_mb"] = _peak_mb()
    out["api_calls"] = result.api_calls
    out["rate_limited"] = result.rate_limited
    out["planned_writes"] = len(result.plan.writes)

    snapshot = engine.read()
    started = time.process_time()
    pairs = engine.store.pairs()
    out["leads"], out["cards"], out["pairs"] = len(snapshot.leads), len(snapshot.cards), len(pairs)
    out["load_pairs_cpu"] = time.process_time() - started
    out["plan_steady_cpu"] = _planning(engine, snapshot, pairs)
    out["plan_initial_cpu"] = _planning(engine, Snapshot(snapshot.leads, {}), {})
    out["plan_adopt_cpu"] = _planning(engine, snapshot, {})
    out["peak_after_planning_mb"] = _peak_mb()
    engine.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
