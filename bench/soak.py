"""The soak: real processes on one store, a person editing at a steady rate, faults, and SIGKILLs.

``python -m bench.soak --seconds 120 [--store sqlite|postgresql]`` starts, all on loopback:

- the sandbox (``python -m leadsync sandbox``), delivering webhooks duplicated and reordered;
- ``leadsync serve`` (webhooks registered with ``leadsync webhooks register``) and ``leadsync poll``, both
  on one store (with ``--workers N``: ``serve --queue`` and N ``leadsync worker`` processes instead, the
  workers running every cycle as jobs and SIGKILLed like the rest): a PostgreSQL database of their own (created here, dropped at the end), or with
  ``--store sqlite`` one SQLite file in the workdir (whose cycle lock is a file lock the kernel releases
  when a SIGKILLed holder dies);
- a person editing both trackers for ``--seconds`` at ``--rate`` edits a second: new leads, status
  changes, renames, new emails, card moves, archives and un-archives, notes on cards, deleted leads;
- faults in the sandbox now and then (429, 5xx, hangs, dropped connections, writes applied whose response
  is lost), and SIGKILL of ``serve`` or ``poll`` at random moments, each restarted a moment later.

Then the edits and faults stop and the processes keep running until both sides agree (or ``--settle``
seconds pass). It prints what was done and what came of it: edits, faults injected (and how many hit a
request), crashes, duplicates (a lead with more than one card), lost updates (a pair that does not end
with the person's last status edit, on either side, although no conflict was recorded after it), and the
time from the last edit to agreement. Exit code 0 when every lead has at most one card, every active
pair agrees, and nothing was lost; 1 otherwise. It only talks to 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import httpx
from dotenv import dotenv_values
from sqlalchemy import create_engine, text

from bench.soak_verdict import OPEN_STATUSES, STATUSES, History, cut_cycles, judge, trail
from leadsync.core import parse_lead_id
from leadsync.sandbox.person import Person

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# ---- processes --------------------------------------------------------------------------------------------


@dataclass
class Proc:
    """A leadsync (or sandbox) process of this soak, started and stopped by its own pid."""

    name: str
    args: list[str]
    env: dict[str, str]
    workdir: Path
    process: subprocess.Popen[str] | None = None
    starts: int = 0
    log_file: IO[str] | None = None

    def start(self) -> None:
        self.starts += 1
        self.log_file = (self.workdir / f"{self.name}.log").open("a")
        self.log_file.write(f"\n---- start {self.starts} at {datetime.now():%H:%M:%S}\n")
        self.log_file.flush()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "leadsync", *self.args], env=self.env, cwd=self.workdir,
            stdout=self.log_file, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind, as a crash or an OOM kill."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> int | None:
        """SIGTERM, then wait; SIGKILL only if it does not exit."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.log_file is not None:
            self.log_file.close()
        return self.process.returncode

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def start_sandbox(
    workdir: Path, seed: int, rate_scale: float
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """``leadsync sandbox`` on a free port; its KEY=VALUE settings read from its stdout."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "leadsync", "sandbox", "--port", str(port), "--seed", str(seed),
         "--rate-scale", str(rate_scale)],
        cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    settings: dict[str, str] = {}
    assert proc.stdout is not None
    while "PERSON_TRELLO_TOKEN" not in settings:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the sandbox exited before printing its settings")
        settings.update({k: v for k, v in dotenv_values(stream=io.StringIO(line)).items() if v is not None})
    url = settings["AIRTABLE_API_URL"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_sandbox/config", timeout=2).raise_for_status()
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return proc, settings


# ---- the person -------------------------------------------------------------------------------------------


class Editor:
    """The person, editing at a steady rate; faults hit the person's requests too, so each is retried."""

    def __init__(self, settings: dict[str, str], rng: random.Random) -> None:
        self.person = Person(settings, client=httpx.Client(timeout=15))
        self.rng = rng
        self.history = History()
        self.leads: list[str] = []
        self.n = 0

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        failed = False
        for _ in range(20):
            try:
                return fn(*args, **kwargs)
            except (RuntimeError, httpx.HTTPError) as exc:
                if failed and ": 404 " in str(exc):
                    return None
                failed = True
                time.sleep(0.2)
        raise RuntimeError("the person's request kept failing")

    def cards_by_lead(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for card in self.call(self.person.cards, "all"):
            lead = parse_lead_id(card["desc"])
            if lead and not card["closed"]:
                out[lead] = card
        return out

    def step(self) -> None:
        self.n += 1
        live = [lead for lead in self.leads if lead not in self.history.deleted]
        roll = self.rng.random()
        if roll < 0.15 or len(live) < 5:
            status = self.rng.choice(OPEN_STATUSES)
            lead = self.call(
                self.person.add_lead, f"Lead {self.n}", f"lead{self.n}@example.com", status, "Soak"
            )
            self.leads.append(lead)
            self.history.status(lead, status, "new lead")
            self.history.edits["new lead"] += 1
            return
        lead = self.rng.choice(live)
        if roll < 0.40:
            status = self.rng.choice(STATUSES)
            now = next(
                (r["fields"].get("Status") for r in self.call(self.person.leads) if r["id"] == lead), None
            )
            self.call(self.person.edit_lead, lead, Status=status)
            if status != now:
                self.history.status(lead, status, "Airtable")
            self.history.edits["lead status"] += 1
        elif roll < 0.50:
            self.call(self.person.edit_lead, lead, Name=f"Lead {lead[-4:]} renamed {self.n}")
            self.history.edits["lead rename"] += 1
        elif roll < 0.55:
            self.call(self.person.edit_lead, lead, Email=f"new{self.n}@example.com")
            self.history.edits["lead email"] += 1
        elif roll < 0.57:
            self.call(self.person.delete_lead, lead)
            self.history.deleted.add(lead)
            self.history.edits["lead deleted"] += 1
        else:
            card = self.cards_by_lead().get(lead)
            if card is None:
                return
            if roll < 0.85:
                status = self.rng.choice(STATUSES)
                self.call(self.person.move_card, card["id"], status)
                if self.person.status_of_list(card["idList"]) != status:
                    self.history.status(lead, status, "Trello")
                self.history.edits["card move"] += 1
            elif roll < 0.93:
                self.call(self.person.update_card, card["id"], desc=f"Note {self.n}.\n{card['desc']}")
                self.history.edits["card note"] += 1
            else:
                self.call(self.person.update_card, card["id"], closed=True)
                self.history.edits["card archived"] += 1
                if self.rng.random() < 0.7:
                    self.call(self.person.update_card, card["id"], closed=False)
                    self.history.edits["card un-archived"] += 1


# ---- the soak -----------------------------------------------------------------------------------------------


def create_database(store: str, workdir: Path) -> str:
    """A new, empty store's URL: a SQLite file in ``workdir``, or a new PostgreSQL database."""
    if store == "sqlite":
        return f"sqlite:///{workdir / 'leadsync.db'}"
    name = f"leadsync_soak_{uuid.uuid4().hex[:12]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str) -> None:
    """Drop the soak's PostgreSQL database (a SQLite store stays in the workdir, with the logs)."""
    if not url.startswith("postgresql"):
        return
    name = url.rsplit("/", 1)[1]
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


FAULTS: list[dict[str, Any]] = [
    {"action": "status", "status": 429, "headers": {"Retry-After": "1"}},
    {"action": "status", "status": 500},
    {"action": "status", "status": 503},
    {"action": "hang", "hang_seconds": 2},
    {"action": "drop"},
    {"action": "lost_response"},
]
FAULT_PATHS = [("GET", "/1/"), ("PUT", "/1/cards"), ("POST", "/1/cards"), ("*", "/v0/"), ("PATCH", "/v0/"),
               ("GET", "/1/batch")]  # fmt: skip


def run(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="leadsync-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db_url = create_database(args.store, workdir)
    sandbox_proc, settings = start_sandbox(workdir, args.seed, args.rate_scale)
    url = settings["AIRTABLE_API_URL"]
    control = httpx.Client(base_url=f"{url}/_sandbox", timeout=10)
    procs: list[Proc] = []
    editor: Editor | None = None
    try:
        control.post("/config", json={"webhook_duplicate_probability": 0.3, "webhook_reorder_max_ms": 500,
                                      "trello_retry_delays": [1, 2, 4, 8], "airtable_ping_retry_delays": [1, 2, 4, 8]})  # fmt: skip
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRTABLE_", "TRELLO_", "LEADSYNC_"))}
        env.update({k: v for k, v in settings.items() if not k.startswith("PERSON_")})
        env.update(LEADSYNC_DATABASE_URL=db_url, LEADSYNC_PUBLIC_URL=f"http://127.0.0.1:{port}",
                   LEADSYNC_SWEEP_INTERVAL="10", LEADSYNC_MAX_RETRY_SECONDS="20", LEADSYNC_FULL_SCAN_EVERY="60")  # fmt: skip
        if args.workers:  # serve only queues jobs; the workers run them (PostgreSQL)
            serve = Proc("serve", ["serve", "--queue", "--port", str(port)], env, workdir)
            others = [Proc(f"worker{i + 1}", ["worker", "--stalled-after", "5", "--name", f"worker{i + 1}"], env,
                           workdir) for i in range(args.workers)]  # fmt: skip
        else:
            serve = Proc("serve", ["serve", "--port", str(port)], env, workdir)
            others = [Proc("poll", ["poll", "--interval", "2"], env, workdir)]
        procs = [serve, *others]
        serve.start()
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or not serve.alive():
                raise RuntimeError(f"leadsync serve did not start; see {workdir / 'serve.log'}")
            time.sleep(0.2)
        registered = subprocess.run([sys.executable, "-m", "leadsync", "webhooks", "register"], env=env,
                                    cwd=workdir, capture_output=True, text=True, timeout=60)  # fmt: skip
        if registered.returncode != 0:
            raise RuntimeError(f"webhooks register failed: {registered.stderr}")
        for other in others:
            other.start()
        editor = Editor(settings, rng)
        crashes: Counter[str] = Counter()
        faults_armed = 0
        started = time.monotonic()
        next_kill = started + rng.uniform(3, args.kill_every * 2)
        next_fault = started + rng.uniform(1, args.fault_every * 2)
        down: list[tuple[float, Proc]] = []
        log(f"soak: {args.seconds:g} s of edits at {args.rate:g}/s on {args.store}; workdir {workdir}")
        while (now := time.monotonic()) - started < args.seconds:
            editor.step()
            if now >= next_kill:
                victim = rng.choice([p for p in procs if p.alive()] or procs)
                victim.kill()
                crashes[victim.name] += 1
                down.append((now + rng.uniform(0.5, 3), victim))
                next_kill = now + rng.uniform(1, args.kill_every * 2)
            for due, proc in list(down):
                if now >= due:
                    proc.start()
                    down.remove((due, proc))
            if now >= next_fault:
                method, prefix = rng.choice(FAULT_PATHS)
                count = rng.randint(1, 3)
                control.post("/faults", json={"method": method, "path_prefix": prefix, "count": count,
                                              **rng.choice(FAULTS)})  # fmt: skip
                faults_armed += count
                next_fault = now + rng.uniform(0.5, args.fault_every * 2)
            time.sleep(max(0.0, started + editor.n / args.rate - time.monotonic()))
        for _, proc in down:
            proc.start()
        control.delete("/faults")
        edits_done = time.monotonic()
        log(f"edits stopped after {editor.n} steps; waiting for both sides to agree")
        lists = json.loads(settings["TRELLO_LIST_IDS"])
        verdict = judge(editor.person, db_url, editor.history, lists)
        while not verdict.settled and time.monotonic() - edits_done < args.settle:
            time.sleep(1)
            verdict = judge(editor.person, db_url, editor.history, lists)
        converged_after = time.monotonic() - edits_done
        for proc in procs:
            proc.stop()
        # One more cycle, with every process stopped: everything agrees, so it writes nothing.
        final = subprocess.run([sys.executable, "-m", "leadsync", "sync", "--full", "--json"], env=env,
                               cwd=workdir, capture_output=True, text=True, timeout=120)  # fmt: skip
        summary = json.loads(final.stdout.strip().splitlines()[-1]) if final.stdout.strip() else {}
        final_writes = sum(v["write"] for v in summary.get("api_calls", {}).values()) if summary else -1
        verdict = judge(editor.person, db_url, editor.history, lists)
        requests = control.get("/requests").json()["requests"]
        deliveries = control.get("/deliveries").json()["deliveries"]
        cut = cut_cycles(db_url)
        report = {
            "store": args.store,
            "seconds_of_edits": args.seconds,
            "edits": sum(editor.history.edits.values()),
            "edits_by_kind": dict(editor.history.edits),
            "faults_injected": faults_armed,
            "faults_that_hit_a_request": sum(1 for r in requests if r.get("fault")),
            "crashes": dict(crashes),
            "cycles_cut_by_a_sigkill": len(cut),
            "most_seconds_from_a_cut_cycle_to_the_next": round(max(cut, default=0.0), 1),
            "webhook_deliveries": len(deliveries),
            "leads": verdict.leads,
            "leads_with_one_card": verdict.with_one_card,
            "leads_without_card": verdict.without_card,
            "leads_missing_a_card": verdict.missing,
            "duplicates": verdict.duplicates,
            "pairs_disagreeing": verdict.disagreeing,
            "lost_updates": verdict.lost_updates,
            "converged": verdict.settled,
            "seconds_to_converge": round(converged_after, 1),
            "final_sync_exit": final.returncode,
            "final_sync_writes": final_writes,
            "requests_by_leadsync": sum(1 for r in requests if r.get("who") == "leadsync"),
        }
        print(json.dumps(report, indent=2))
        for line in verdict.details[:20]:
            log(line)
        for lead_id, card_id in verdict.lost[:5]:
            log(trail(settings, db_url, lead_id, card_id))
        ok = verdict.settled and verdict.lost_updates == 0 and final.returncode == 0 and final_writes == 0
        return 0 if ok else 1
    finally:
        for proc in procs:
            proc.stop()
        if editor is not None:
            editor.person.close()
        control.close()
        sandbox_proc.terminate()
        try:
            sandbox_proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sandbox_proc.kill()
        drop_database(db_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=120, help="how long the person edits")
    parser.add_argument("--rate", type=float, default=4.0, help="the person's edits per second")
    parser.add_argument("--kill-every", type=float, default=10.0, help="mean seconds between SIGKILLs")
    parser.add_argument("--fault-every", type=float, default=3.0, help="mean seconds between faults")
    parser.add_argument("--settle", type=float, default=180.0, help="most seconds to wait for agreement")
    parser.add_argument(
        "--rate-scale", type=float, default=1.0, help="the sandbox's rate limits (1 = documented)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0,
                        help="run N 'leadsync worker' and 'serve --queue' instead of serve and poll (PostgreSQL)")  # fmt: skip
    parser.add_argument(
        "--store",
        choices=("sqlite", "postgresql"),
        default="postgresql",
        help="the store serve and poll share: a new PostgreSQL database, or a SQLite file in the workdir",
    )
    parser.add_argument("--workdir", help="where the processes' logs go (default: a new temporary directory)")
    sys.exit(run(parser.parse_args()))


if __name__ == "__main__":
    main()
