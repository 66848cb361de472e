"""Change-to-other-side latency through webhooks: how long an edit on one side takes to show on the other.

Starts ``leadsync sandbox`` (documented rate limits on) and ``leadsync serve`` as separate processes,
registers both webhooks, then a person makes N edits each way, one at a time: a lead's Status in
Airtable (until the card has moved) and a card's list in Trello (until the lead's Status follows).
Latency is from the moment the person's edit returned to the moment the other side shows it, polled
every 10 ms with the person's credentials (which the sandbox does not rate-limit: a person in the UI).

    .venv/bin/python -m bench.latency [--edits 100] [--latency-ms 0]
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from dotenv import dotenv_values

from leadsync.sandbox.person import Person

STATUSES = ["NEW", "CONTACTED", "QUALIFIED"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait(condition: object, timeout: float, interval: float = 0.01) -> float:
    assert callable(condition)
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"not seen within {timeout} s")
        time.sleep(interval)
    return time.monotonic() - started


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(edits: int, latency_ms: float) -> dict[str, float | int]:
    work = Path(tempfile.mkdtemp(prefix="leadsync-latency-"))
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "leadsync", "sandbox", "--port", "0", "--seed", "11", "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    settings: dict[str, str] = {}
    assert sandbox.stdout is not None
    while "PERSON_TRELLO_TOKEN" not in settings:
        line = sandbox.stdout.readline()
        if not line:
            raise RuntimeError("sandbox exited")
        settings.update({k: v for k, v in dotenv_values(stream=io.StringIO(line)).items() if v is not None})
    port = _free_port()
    public = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRTABLE_", "TRELLO_", "LEADSYNC_"))}
    env.update({k: v for k, v in settings.items() if not k.startswith("PERSON_")})
    env.update(LEADSYNC_DATABASE_URL=f"sqlite:///{work / 'state.db'}", LEADSYNC_PUBLIC_URL=public)
    serve = subprocess.Popen([sys.executable, "-m", "leadsync", "serve", "--port", str(port)], env=env, cwd=work,
                             stdout=subprocess.DEVNULL, stderr=(work / "serve.log").open("w"))  # fmt: skip
    person = Person(settings)
    try:
        _wait(lambda: _up(public), 30)
        # One process at a time against the base's limit: let the start-up sweep finish first.
        _wait(lambda: httpx.get(f"{public}/health").json()["worker"]["last_sweep_at"] is not None, 60)
        reg = subprocess.run([sys.executable, "-m", "leadsync", "webhooks", "register"], env=env, cwd=work,
                             capture_output=True, text=True, timeout=120)  # fmt: skip
        if reg.returncode:
            raise RuntimeError(reg.stderr)
        lead = person.add_lead("Latency Probe", "probe@example.com", "NEW")
        _wait(lambda: _card_status(person, lead) == "NEW", 30)
        card_id = person.card_for(lead)["id"]
        to_trello: list[float] = []
        to_airtable: list[float] = []
        for i in range(edits):
            target = STATUSES[(i + 1) % len(STATUSES)]
            person.edit_lead(lead, Status=target)
            to_trello.append(_wait(lambda t=target: _card_status(person, lead) == t, 90))
            target = STATUSES[(i + 2) % len(STATUSES)]
            person.move_card(card_id, target)
            to_airtable.append(_wait(lambda t=target: _lead_status(person, lead) == t, 90))
        requests = httpx.get(f"{settings['AIRTABLE_API_URL']}/_sandbox/requests").json()["requests"]
        limited = sum(1 for r in requests if r["status"] == 429)
    finally:
        person.close()
        serve.terminate()
        serve.wait(15)
        sandbox.terminate()
        sandbox.wait(15)
    return {
        "edits": edits,
        "latency_ms": latency_ms,
        "a2t_p50": statistics.median(to_trello),
        "a2t_p95": _percentile(to_trello, 0.95),
        "t2a_p50": statistics.median(to_airtable),
        "t2a_p95": _percentile(to_airtable, 0.95),
        "rate_limited": limited,
    }


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _card_status(person: Person, lead: str) -> str | None:
    cards = [c for c in person.cards("open") if f"Lead ID: {lead}" in c["desc"]]
    return person.status_of_list(cards[0]["idList"]) if len(cards) == 1 else None


def _lead_status(person: Person, lead: str) -> str | None:
    url = f"{person.table}/{lead}"
    record = person.client.get(
        url, headers={"Authorization": f"Bearer {person.s['PERSON_AIRTABLE_API_KEY']}"}
    )
    value = record.json().get("fields", {}).get("Status")
    return str(value) if value else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, nargs="*", default=[0.0, 150.0])
    args = parser.parse_args()
    rows = [run(args.edits, latency) for latency in args.latency_ms]
    print(
        "| added latency | edits each way | Airtable->Trello p50 / p95 | Trello->Airtable p50 / p95 | 429s |"
    )
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['latency_ms']:.0f} ms | {r['edits']} | {r['a2t_p50']:.3f} s / {r['a2t_p95']:.3f} s "
              f"| {r['t2a_p50']:.3f} s / {r['t2a_p95']:.3f} s | {r['rate_limited']} |")  # fmt: skip
    print("goal: p95 under 1 s with no added latency; rate limits on (sandbox --rate-scale 1)")


if __name__ == "__main__":
    main()
