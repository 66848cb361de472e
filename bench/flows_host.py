"""The sandbox with many flows, in a process of its own, for ``bench.flows``.

``python -m bench.flows_host --flows N --leads L --rate-scale S`` provisions N flows
(:func:`leadsync.sandbox.flows.provision_flows`: a base and a board each, two flows per Trello token),
seeds L leads straight into each base (no API requests), serves the sandbox on a free loopback port and
prints one JSON line: its settings, the variables of the flows and the ``leadsync.toml`` text. Bench-only
routes, run on the server's event loop between requests:

- ``POST /_bench/edit {"base": B, "record": R, "status": S}``: a person sets a lead's Status (now);
- ``POST /_bench/lists {"cards": [ids]}``: each card's list id (how the bench sees a change arrive).
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

from leadsync.sandbox import SandboxState, create_app
from leadsync.sandbox.airtable.model import AirtableWorld
from leadsync.sandbox.airtable.rows import RecordRow
from leadsync.sandbox.flows import provision_flows

__all__ = ["BenchRoutes", "main", "seed_base"]

STATUSES = ("NEW", "CONTACTED", "QUALIFIED")


def seed_base(state: SandboxState, world: AirtableWorld, n: int, prefix: str) -> list[str]:
    """``n`` leads straight into the base's Leads table; their record ids."""
    table = world.table(world.table_name)
    fid = {f.name: f.id for f in table.fields.values()}
    moment = state.clock.now() - timedelta(hours=1)
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    ids: list[str] = []
    for i in range(n):
        record_id = state.airtable_id("rec")
        cells = {fid["Name"]: f"{prefix} lead {i:04d}", fid["Email"]: f"{prefix}.{i}@example.com",
                 fid["Status"]: STATUSES[i % len(STATUSES)], fid["Source"]: "Website"}  # fmt: skip
        table.records[record_id] = RecordRow(record_id, moment, cells, dict.fromkeys(cells, moment))
        ids.append(record_id)
    return ids


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
        spec: dict[str, Any] = await request.json()
        if scope["path"] == "/_bench/edit":
            world = self.state.bases[spec["base"]]
            table = world.table(world.table_name)
            status_field = next(f.id for f in table.fields.values() if f.name == "Status")
            record = table.records[spec["record"]]
            record.cells[status_field] = spec["status"]
            record.modified[status_field] = self.state.clock.now()
            body: dict[str, Any] = {"ok": True}
        else:
            cards = self.state.trello.cards
            body = {"lists": {c: cards[c].id_list if c in cards else None for c in spec["cards"]}}
        await JSONResponse(body)(scope, receive, send)


def main(argv: list[str] | None = None) -> None:
    """Provision, seed, print the JSON line, serve until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=40)
    parser.add_argument("--leads", type=int, default=250)
    parser.add_argument("--rate-scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    state = SandboxState(seed=args.seed, rate_scale=args.rate_scale)
    made = provision_flows(state, args.flows)
    leads = {f.name: seed_base(state, state.bases[f.base_id], args.leads, f.name) for f in made.flows}
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)
    host, port = sock.getsockname()[:2]
    state.base_url = f"http://{host}:{port}"
    flows = [{"name": f.name, "base": f.base_id, "lists": f.list_ids, "group": f.group, "leads": leads[f.name]}
             for f in made.flows]  # fmt: skip
    print(json.dumps({"settings": state.settings(), "variables": made.variables, "toml": made.toml,
                      "flows": flows}), flush=True)  # fmt: skip
    config = uvicorn.Config(
        BenchRoutes(create_app(state), state), log_level="warning", lifespan="on", backlog=4096
    )
    uvicorn.Server(config).run(sockets=[sock])
    sys.exit(0)


if __name__ == "__main__":
    main()
