"""Several flows in one sandbox (a table and a board each), a leadsync.toml naming them, and workers.

The sandbox's one base holds a table per flow (created through the metadata API) and its Trello account
a board per flow (created through the API, with a list per status); leadsync's own token serves every
flow, except where a flow names another variable (a revoked token, for one).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from leadsync.core.statuses import DEFAULT_STATUSES
from leadsync.jobs import build_app, defer_sync, ensure_schema
from leadsync.sandbox.person import Person
from leadsync.store import Store
from tests.fixtures_sandbox import RunningSandbox

__all__ = ["FlowWorld", "Worker", "provision"]


@dataclass
class Worker:
    """One ``leadsync worker`` process."""

    process: subprocess.Popen[str]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class FlowWorld:
    """The flows provisioned in a sandbox, their person, and how to run leadsync on them."""

    sandbox: RunningSandbox
    workdir: Path
    db_url: str
    people: dict[str, Person] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    workers: list[Worker] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """leadsync's environment: the sandbox's credentials and URLs, the store, the mapping file."""
        import os

        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRTABLE_", "TRELLO_", "LEADSYNC_"))}
        keep = ("AIRTABLE_API_URL", "AIRTABLE_API_KEY", "TRELLO_API_URL", "TRELLO_API_KEY", "TRELLO_TOKEN")
        env.update({k: v for k, v in self.sandbox.settings.items() if k in keep})
        env["TRELLO_API_SECRET"] = self.sandbox.settings["TRELLO_API_SECRET"]
        env["LEADSYNC_DATABASE_URL"] = self.db_url
        env["LEADSYNC_CONFIG"] = str(self.workdir / "leadsync.toml")
        env.update(self.extra_env)
        return env

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``leadsync ARGS`` in the world's directory."""
        return subprocess.run(
            [sys.executable, "-m", "leadsync", *args],
            cwd=self.workdir, env=self.env(), capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    def start_worker(self, name: str, *args: str) -> Worker:
        """A ``leadsync worker`` process (``--stalled-after 3`` unless ``args`` say otherwise)."""
        log_path = self.workdir / f"{name}.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "leadsync", "-v", "worker", "--name", name, "--stalled-after", "3", *args],
                cwd=self.workdir, env=self.env(), stdout=log, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
        worker = Worker(process, log_path)
        self.workers.append(worker)
        return worker

    def defer(
        self, flow: str, *, mode: str = "targeted", leads: tuple[str, ...] = (), full: bool = False
    ) -> None:
        """Queue a job of ``flow`` as ``serve`` does (targets recorded, at most one job waiting)."""

        async def go() -> None:
            app = build_app(self.db_url)
            with Store.open(self.db_url) as store:
                async with app.open_async():
                    await ensure_schema(app, self.db_url)
                    await defer_sync(app, store, flow, mode=mode, leads=leads, full=full)

        asyncio.run(go())

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        for person in self.people.values():
            person.close()


def provision(
    sandbox: RunningSandbox,
    workdir: Path,
    db_url: str,
    names: list[str],
    token_env: dict[str, str] | None = None,
) -> FlowWorld:
    """A table and a board per flow name, and ``leadsync.toml`` naming them (``token_env``: a flow's
    Trello token variable, when not ``TRELLO_TOKEN``)."""
    s = sandbox.settings
    auth = {"Authorization": f"Bearer {s['AIRTABLE_API_KEY']}"}
    trello = {"key": s["TRELLO_API_KEY"], "token": s["TRELLO_TOKEN"]}
    world = FlowWorld(sandbox, workdir, db_url)
    sections: list[str] = []
    with httpx.Client(timeout=30) as client:
        for name in names:
            table = f"Leads {name}"
            meta = f"{s['AIRTABLE_API_URL']}/v0/meta/bases/{s['AIRTABLE_BASE_ID']}/tables"
            choices = [{"name": status} for status in DEFAULT_STATUSES]
            fields = [
                {"name": "Name", "type": "singleLineText"},
                {"name": "Email", "type": "email"},
                {"name": "Status", "type": "singleSelect", "options": {"choices": choices}},
                {"name": "Source", "type": "singleLineText"},
            ]
            client.post(meta, json={"name": table, "fields": fields}, headers=auth).raise_for_status()
            board = client.post(
                f"{s['TRELLO_API_URL']}/1/boards", params={**trello, "name": name, "defaultLists": "false"}
            )
            board.raise_for_status()
            board_id = board.json()["id"]
            lists: dict[str, str] = {}
            for pos, status in enumerate(DEFAULT_STATUSES):
                made = client.post(
                    f"{s['TRELLO_API_URL']}/1/lists",
                    params={**trello, "name": status, "idBoard": board_id, "pos": str(pos + 1)},
                )
                made.raise_for_status()
                lists[status] = made.json()["id"]
            _invite_person(sandbox, board_id)
            person_settings = {**s, "AIRTABLE_LEADS_TABLE_NAME": table, "TRELLO_BOARD_ID": board_id,
                               "TRELLO_LIST_IDS": json.dumps(lists)}  # fmt: skip
            world.people[name] = Person(person_settings)
            token_line = f'token_env = "{(token_env or {}).get(name, "TRELLO_TOKEN")}"\n'
            sections.append(
                f'[[flow]]\nname = "{name}"\n\n[flow.airtable]\nbase = "{s["AIRTABLE_BASE_ID"]}"\n'
                f'table = "{table}"\n\n[flow.trello]\nboard = "{board_id}"\n{token_line}'
            )
    (workdir / "leadsync.toml").write_text("\n".join(sections))
    return world


def _invite_person(sandbox: RunningSandbox, board_id: str) -> None:
    """Make the sandbox's person a member of the board (they edit it by hand; the API has no invite)."""
    state = sandbox.state
    state.trello.boards[board_id].members.append(state.person.trello_member_id)
