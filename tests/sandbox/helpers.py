"""Plain helpers shared by the sandbox contract tests: HTTP clients on the sandbox and small writes."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from leadsync.sandbox import BackgroundServer
from tests.fixtures_sandbox import RunningSandbox

# The sandbox is plain http on loopback: one shared TLS context spares each client ~30 ms of CA loading.
LOOPBACK = ssl.create_default_context()

GENERIC_422 = {
    "error": {
        "type": "INVALID_REQUEST_UNKNOWN",
        "message": "Invalid request: parameter validation failed. Check your request data.",
    }
}


@contextmanager
def trello_client(sandbox: RunningSandbox, *, person: bool = False) -> Iterator[httpx.Client]:
    """A client on Trello's ``/1`` with leadsync's key and token in the query (the person's if asked)."""
    prefix = "PERSON_" if person else ""
    s = sandbox.settings
    params = {"key": s[f"{prefix}TRELLO_API_KEY"], "token": s[f"{prefix}TRELLO_TOKEN"]}
    with httpx.Client(base_url=f"{sandbox.url}/1", params=params, timeout=10, verify=LOOPBACK) as client:
        yield client


def new_card(api: httpx.Client, list_id: str, **fields: Any) -> dict[str, Any]:
    """Create a card on ``list_id`` and return it, asserting Trello answered 200."""
    response = api.post("/cards", json={"idList": list_id, **fields})
    assert response.status_code == 200, response.text
    card: dict[str, Any] = response.json()
    return card


@contextmanager
def airtable_client(
    sandbox: RunningSandbox, *, person: bool = False, timeout: float = 10
) -> Iterator[httpx.Client]:
    """A client on the sandbox, authenticated to Airtable as leadsync (or as the person, if asked)."""
    key = sandbox.settings["PERSON_AIRTABLE_API_KEY" if person else "AIRTABLE_API_KEY"]
    with httpx.Client(
        base_url=sandbox.url, headers={"Authorization": f"Bearer {key}"}, timeout=timeout
    ) as client:
        yield client


def leads_path(sandbox: RunningSandbox) -> str:
    """The records path of the provisioned Leads table, by name."""
    return f"/v0/{sandbox.settings['AIRTABLE_BASE_ID']}/Leads"


class PingReceiver:
    """An Airtable notification endpoint on loopback (``/hook``): records every POST's headers and body and
    answers with the scripted ``statuses`` in turn, then with ``ok``."""

    def __init__(self, ok: int = 200) -> None:
        self.ok = ok
        self.pings: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        self.server = BackgroundServer(Starlette(routes=[Route("/hook", self._handle, methods=["POST"])]))

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.pings.append((dict(request.headers), body))
            status = self.statuses.pop(0) if self.statuses else self.ok
        return Response(status_code=status)

    @property
    def url(self) -> str:
        return f"{self.server.url}/hook"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[dict[str, str], bytes]]:
        """The pings so far, once there are at least ``count`` of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.pings) >= count:
                    return list(self.pings)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} pings, got {len(self.pings)}")

    def first(self, timeout: float = 5.0) -> tuple[dict[str, str], bytes]:
        """The first ping, once it has arrived."""
        return self.wait_for(1, timeout)[0]
