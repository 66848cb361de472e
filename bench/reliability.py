"""The long profile of the model-based test, with its figures.

``python -m bench.reliability --examples 10000 --jobs 2`` runs :class:`tests.reliability.machine.SyncMachine`
for that many generated sequences, split across ``--jobs`` processes, each in runs of 100 with fresh
Hypothesis seeds (``--minutes M`` stops starting new runs after M minutes). It then prints what they
exercised: steps, cycles of each kind, crashes, faults injected and those that hit a request, edits
(those made during a cycle, and those a cycle overwrote because it wrote the same field from its earlier
read), conflicts, lost stores, webhook events, and the time taken. It exits 1, printing the failing
sequence, if any sequence breaks an invariant.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback
from collections import Counter
from typing import Any


def worker(examples: int, steps: int, deadline: float) -> dict[str, Any]:
    """Run the machine in this process, in runs of at most ``CHUNK`` sequences until ``examples`` ran or
    the ``deadline`` (a ``time.time()``) passed; return its figures (and the failure, if one)."""
    import stamina
    from hypothesis.stateful import run_state_machine_as_test
    from tests.reliability.machine import SyncMachine, profile
    from tests.reliability.world import STATS

    started = time.monotonic()
    failure = None
    with stamina.set_testing(True, attempts=6, cap=True):
        while STATS["sequences"] < examples and time.time() < deadline and failure is None:
            chunk = min(CHUNK, examples - STATS["sequences"])
            os.environ.update(LEADSYNC_LONG="1", LEADSYNC_EXAMPLES=str(chunk), LEADSYNC_STEPS=str(steps))
            before = STATS["sequences"]
            try:
                run_state_machine_as_test(SyncMachine, settings=profile())
            except Exception as exc:  # the failing sequences, with their steps, are in the traceback
                failure = "".join(traceback.format_exception(exc))
            if STATS["sequences"] == before and failure is None:
                break  # nothing ran: don't spin
            done, seconds = STATS["sequences"], time.monotonic() - started
            print(
                f"progress: pid {os.getpid()}: {done} sequences in {seconds:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    return {"stats": dict(STATS), "seconds": time.monotonic() - started, "failure": failure}


CHUNK = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--examples", type=int, default=10_000, help="sequences to generate in all")
    parser.add_argument("--steps", type=int, default=30, help="most steps per sequence")
    parser.add_argument("--jobs", type=int, default=2, help="processes to split the sequences across")
    parser.add_argument("--minutes", type=float, default=0, help="stop starting new runs after this long")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    deadline = time.time() + args.minutes * 60 if args.minutes else float("inf")
    if args.worker:
        print(json.dumps(worker(args.examples, args.steps, deadline)))
        return
    started = time.monotonic()
    share = [args.examples // args.jobs + (i < args.examples % args.jobs) for i in range(args.jobs)]
    command = [sys.executable, "-m", "bench.reliability", "--worker", "--steps", str(args.steps),
               "--minutes", str(args.minutes)]  # fmt: skip
    procs = [
        subprocess.Popen([*command, "--examples", str(n)], stdout=subprocess.PIPE, text=True)
        for n in share
        if n
    ]
    results: list[dict[str, Any]] = []
    for proc in procs:
        out, _ = proc.communicate()
        lines = out.strip().splitlines()
        if lines[:-1]:
            print("\n".join(lines[:-1]), file=sys.stderr)
        results.append(
            json.loads(lines[-1]) if lines else {"stats": {}, "seconds": 0, "failure": "no output"}
        )
    totals: Counter[str] = Counter()
    for result in results:
        totals.update(result["stats"])
    failures = [r["failure"] for r in results if r["failure"]]
    report = {
        "sequences_requested": args.examples,
        "sequences_completed": totals.get("sequences", 0),
        "max_steps_per_sequence": args.steps,
        "jobs": len(procs),
        "wall_seconds": round(time.monotonic() - started, 1),
        "failures": len(failures),
        "figures": dict(sorted(totals.items())),
    }
    print(json.dumps(report, indent=2))
    for failure in failures:
        print(failure, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
