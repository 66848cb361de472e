"""The sandbox in a process of its own, so that its CPU is not leadsync's (and not under leadsync's GIL).

``python -m bench.sandbox_host --rate-scale S --latency-ms L`` serves the sandbox on a free loopback port
and prints one JSON line: its settings (what ``leadsync sandbox`` prints as ``KEY=VALUE``). It serves
until killed. Next to the sandbox's own ``/_sandbox`` controls it answers two bench-only routes that
seed the emulator's in-process state directly (no API requests, so seeding costs the benchmark nothing):

- ``POST /_bench/leads {"n": N}``: N leads, created and last modified an hour ago (a table that existed
  before the first sync), with Name, Email, Status (NEW / CONTACTED / QUALIFIED in turn) and Source.
- ``POST /_bench/cards {}``: a card for every lead without one, as leadsync would have made it (title,
  managed block, the list of the lead's status), with no action logged; answers the pairs it made.
- ``POST /_bench/drift {"k": K}``: the first K leads get the next Status (modified now) and the cards of
  the next K leads move to the next list (no action logged: for full reads only).

Both run on the server's event loop, between requests, like every sandbox mutation.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from datetime import timedelta
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from leadsync.core import Lead, LeadId, card_title, render_block
from leadsync.sandbox import SandboxState, create_app
from leadsync.sandbox.airtable.rows import RecordRow
from leadsync.sandbox.clock import iso_ms
from leadsync.sandbox.trello.model import POS_STEP
from leadsync.sandbox.trello.rows import CardRow

STATUSES = ("NEW", "CONTACTED", "QUALIFIED")
SOURCES = ("Website", "Referral", "Conference", "Cold call")
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _fields(state: SandboxState) -> dict[str, str]:
    table = state.airtable.table(state.airtable.table_name)
    return {f.name: f.id for f in table.fields.values()}


def seed_leads(state: SandboxState, n: int) -> int:
    """Add ``n`` leads straight into the Leads table; returns the table's size."""
    table = state.airtable.table(state.airtable.table_name)
    fid = _fields(state)
    moment = state.clock.now() - timedelta(hours=1)
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    start = len(table.records)
    for i in range(start, start + n):
        record_id = state.airtable_id("rec")
        while record_id in table.records:
            record_id = state.airtable_id("rec")
        cells = {
            fid["Name"]: f"Lead {i:06d} Example",
            fid["Email"]: f"lead{i:06d}@example.com",
            fid["Status"]: STATUSES[i % len(STATUSES)],
            fid["Source"]: SOURCES[i % len(SOURCES)],
        }
        table.records[record_id] = RecordRow(record_id, moment, cells, dict.fromkeys(cells, moment))
    return len(table.records)


def _short_link(n: int) -> str:
    digits = ""
    for _ in range(7):
        n, r = divmod(n, len(_ALPHABET))
        digits = _ALPHABET[r] + digits
    return "b" + digits  # a letter first: short links are never all digits


def seed_cards(state: SandboxState) -> list[list[Any]]:
    """A card per lead that has none, in its status's list; returns ``[lead, card, status, name, email,
    source]`` for each, what the store's pairs hold once leadsync made those cards."""
    table = state.airtable.table(state.airtable.table_name)
    fid = _fields(state)
    world = state.trello
    board = world.boards[world.board_id]
    claimed = {
        line for c in world.cards.values() for line in c.desc.splitlines() if line.startswith("Lead ID:")
    }
    tops: dict[str, float] = {}
    made: list[list[Any]] = []
    for row in table.records.values():
        lead = Lead(
            LeadId(row.id),
            row.cells.get(fid["Name"], ""),
            row.cells.get(fid["Email"], ""),
            row.cells.get(fid["Status"]),
            row.cells.get(fid["Source"], ""),
        )
        if f"Lead ID: {lead.id}" in claimed or lead.status not in world.list_ids:
            continue
        list_id = world.list_ids[lead.status]
        tops[list_id] = tops.get(list_id, 0.0) + POS_STEP
        oid, date = world.new_id()
        world._card_seq += 1
        card = CardRow(
            id=oid,
            name=card_title(lead.name),
            desc=render_block(lead),
            id_list=list_id,
            id_board=board.id,
            pos=tops[list_id],
            short_link=_short_link(world._card_seq),
            id_short=board.next_id_short,
            date_last_activity=date,
            seq=world._card_seq,
        )
        board.next_id_short += 1
        world.cards[card.id] = card
        made.append([lead.id, card.id, lead.status, lead.name, lead.email, lead.source])
    board.date_last_activity = iso_ms(state.clock.now())
    return made


def drift(state: SandboxState, k: int) -> int:
    """Change ``k`` leads in Airtable and ``k`` other leads' cards in Trello; returns 2k."""
    table = state.airtable.table(state.airtable.table_name)
    fid = _fields(state)
    now = state.clock.now()
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    rows = list(table.records.values())[: 2 * k]
    for row in rows[:k]:
        status = row.cells.get(fid["Status"], STATUSES[0])
        row.cells[fid["Status"]] = STATUSES[(STATUSES.index(status) + 1) % len(STATUSES)]
        row.modified[fid["Status"]] = now
    world = state.trello
    by_lead = {c.desc.rsplit("Lead ID: ", 1)[-1]: c for c in world.cards.values()}
    status_of = {list_id: status for status, list_id in world.list_ids.items()}
    for row in rows[k:]:
        card = by_lead[row.id]
        status = status_of[card.id_list]
        card.id_list = world.list_ids[STATUSES[(STATUSES.index(status) + 1) % len(STATUSES)]]
    return 2 * k


class BenchRoutes:
    """``/_bench/*`` in front of the sandbox app."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/_bench/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        spec = await request.json() if (await request.body()).strip() else {}
        if scope["path"] == "/_bench/leads":
            body: dict[str, Any] = {"leads": seed_leads(self.state, int(spec["n"]))}
        elif scope["path"] == "/_bench/cards":
            body = {"pairs": seed_cards(self.state)}
        elif scope["path"] == "/_bench/drift":
            body = {"changed": drift(self.state, int(spec["k"]))}
        else:
            body = {"error": "unknown bench route"}
        await JSONResponse(body)(scope, receive, send)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate-scale", type=float, default=1.0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    state = SandboxState(seed=args.seed, rate_scale=args.rate_scale, latency_ms=args.latency_ms)
    # IPPROTO_TCP so that asyncio sets TCP_NODELAY (see leadsync.sandbox.server).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)  # before the settings line: a client may connect at once (uvicorn accepts later)
    host, port = sock.getsockname()[:2]
    state.base_url = f"http://{host}:{port}"
    print(json.dumps(state.settings()), flush=True)
    app = BenchRoutes(create_app(state), state)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", backlog=4096)
    uvicorn.Server(config).run(sockets=[sock])
    sys.exit(0)


if __name__ == "__main__":
    main()
