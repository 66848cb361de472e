"""What every benchmark needs: a sandbox host process, leadsync's engine pointed at it, and a measured cycle.

A cycle is measured from both ends: leadsync's own counts (``CycleResult.api_calls``) and the sandbox's
request log (what actually arrived, 429s included), wall time (``time.monotonic``) and this process's
CPU time (``time.process_time``: the sandbox runs in another process, so this is leadsync's CPU alone).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy import create_engine, insert

from leadsync.engine import CycleResult, Engine
from leadsync.settings import load_settings
from leadsync.store import Store
from leadsync.store.schema import pairs

AIRTABLE_PER_SECOND = 5.0  # per base (Airtable's documented limit)
TRELLO_PER_SECOND = 100.0 / 10.0  # per token (Trello's documented limit: 100 per 10 s)


class SandboxHost:
    """``bench.sandbox_host`` in a subprocess (started and stopped by its own pid)."""

    def __init__(self, *, rate_scale: float, latency_ms: float) -> None:
        self.rate_scale = rate_scale
        self.latency_ms = latency_ms
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.sandbox_host",
             "--rate-scale", str(rate_scale), "--latency-ms", str(latency_ms)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        stdout: IO[str] | None = self._proc.stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            raise RuntimeError("the sandbox host did not start")
        self.settings: dict[str, str] = json.loads(line)
        self.url = self.settings["AIRTABLE_API_URL"]
        self.client = httpx.Client(base_url=self.url, timeout=600)

    def close(self) -> None:
        self.client.close()
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> SandboxHost:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def cpu_seconds(self) -> float:
        """CPU time the sandbox process has used so far (Linux ``/proc``; 0.0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self._proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def call(self, method: str, path: str, body: Any = None) -> Any:
        response = self.client.request(method, path, json=body)
        response.raise_for_status()
        return response.json()

    def seed_leads(self, n: int) -> int:
        return int(self.call("POST", "/_bench/leads", {"n": n})["leads"])

    def seed_cards(self) -> list[list[Any]]:
        pairs: list[list[Any]] = self.call("POST", "/_bench/cards", {})["pairs"]
        return pairs

    def drift(self, k: int) -> int:
        return int(self.call("POST", "/_bench/drift", {"k": k})["changed"])

    def configure(self, **values: float) -> None:
        self.call("POST", "/_sandbox/config", values)

    @contextmanager
    def no_latency(self) -> Iterator[None]:
        """Setup steps (a person's edits) need not wait out the added latency."""
        self.configure(latency_ms=0)
        try:
            yield
        finally:
            self.configure(latency_ms=self.latency_ms)

    def last_seq(self) -> int:
        log = self.call("GET", f"/_sandbox/requests?since={self._seen}")["requests"]
        if log:
            self._seen = int(log[-1]["seq"])
        return self._seen

    _seen = 0

    def requests_since(self, seq: int) -> list[dict[str, Any]]:
        log: list[dict[str, Any]] = self.call("GET", f"/_sandbox/requests?since={seq}")["requests"]
        if log:
            self._seen = max(self._seen, int(log[-1]["seq"]))
        return log


def seed_store(db: Path, rows: list[list[Any]]) -> None:
    """Write linked pairs straight into a new store (one transaction), as leadsync would have stored
    them after creating those cards: ``[lead, card, status, name, email, source]`` each."""
    store = Store.open(f"sqlite:///{db}")
    store.close()
    engine = create_engine(f"sqlite:///{db}")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(pairs),
            [
                {"lead_id": lead, "card_id": card, "status": status, "name": name, "email": email,
                 "source": source, "card_closed": False, "lead_deleted": False, "card_deleted": False,
                 "updated_at": now}
                for lead, card, status, name, email, source in rows
            ],
        )  # fmt: skip
    engine.dispose()


def leadsync_settings(host: SandboxHost, db: Path, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {k: v for k, v in host.settings.items() if not k.startswith("PERSON_")}
    values["LEADSYNC_DATABASE_URL"] = f"sqlite:///{db}"
    values.update(extra)
    return values


def make_engine(host: SandboxHost, db: Path, **extra: Any) -> Engine:
    return Engine(load_settings(env_file=None, **leadsync_settings(host, db, **extra)))


def is_read(entry: dict[str, Any]) -> bool:
    return entry["method"] == "GET" or str(entry["path"]).endswith("/listRecords")


@dataclass
class Measured:
    """One measured cycle."""

    label: str
    wall: float
    cpu: float
    requests: dict[str, dict[str, int]]  # as the sandbox logged them: api -> read/write
    rate_limited: dict[str, int]  # 429s the sandbox answered leadsync
    result: CycleResult | None = None
    by_route: dict[str, int] = field(default_factory=dict)
    rate_scale: float = 1.0
    sandbox_cpu: float = 0.0

    @property
    def total_429(self) -> int:
        return sum(self.rate_limited.values())

    def count(self, api: str, kind: str | None = None) -> int:
        kinds = self.requests.get(api, {})
        return sum(kinds.values()) if kind is None else kinds.get(kind, 0)

    @property
    def lower_bound(self) -> float:
        """Seconds the requests made need at the (scaled) documented limits: each API on its own."""
        airtable = self.count("airtable") / (AIRTABLE_PER_SECOND * self.rate_scale)
        trello = self.count("trello") / (TRELLO_PER_SECOND * self.rate_scale)
        return max(airtable, trello)


def _route(entry: dict[str, Any]) -> str:
    path = str(entry["path"])
    method = str(entry["method"])
    if entry["api"] == "airtable":
        if path.endswith("/listRecords"):
            return "airtable listRecords"
        return f"airtable {method} records"
    parts = [p for p in path.split("/") if p]
    if parts[1:2] == ["boards"] and len(parts) > 3:
        return f"trello {method} boards/{{id}}/{parts[3]}"
    if parts[1:2] == ["cards"]:
        return f"trello {method} cards" + ("/{id}" if len(parts) > 2 else "")
    return f"trello {method} {'/'.join(parts[1:2])}"


def measure(host: SandboxHost, engine: Engine, label: str, **cycle: Any) -> Measured:
    """Run one cycle and measure it."""
    start_seq = host.last_seq()
    wall0, cpu0, sandbox0 = time.monotonic(), time.process_time(), host.cpu_seconds()
    result = engine.run_cycle(**cycle)
    wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
    sandbox_cpu = host.cpu_seconds() - sandbox0
    requests: dict[str, dict[str, int]] = {
        "airtable": {"read": 0, "write": 0},
        "trello": {"read": 0, "write": 0},
    }
    limited: dict[str, int] = {}
    by_route: dict[str, int] = {}
    for entry in host.requests_since(start_seq):
        if entry["who"] != "leadsync":
            continue
        api = str(entry["api"])
        if entry["status"] == 429:
            limited[api] = limited.get(api, 0) + 1
        requests[api]["read" if is_read(entry) else "write"] += 1
        route = _route(entry)
        by_route[route] = by_route.get(route, 0) + 1
    return Measured(label, wall, cpu, requests, limited, result, by_route, host.rate_scale, sandbox_cpu)
