"""Fixtures shared by the sandbox contract tests (on top of ``tests/fixtures_sandbox.py``'s ``sandbox``)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from leadsync.sandbox import start
from tests.fixtures_sandbox import RunningSandbox
from tests.sandbox.helpers import airtable_client, trello_client

# ---- one sandbox per module, for tests that need neither the clock, fresh limits nor pings -------------


@pytest.fixture(scope="module")
def shared(request: pytest.FixtureRequest) -> Iterator[RunningSandbox]:
    """One sandbox (limits off) for the requesting module, seeded with the module's ``SHARED_SEED``;
    tests reset it (``/_sandbox/reset``) before use, as ``client`` does."""
    seed: int = request.module.SHARED_SEED
    server, state = start(seed=seed, rate_scale=0)
    try:
        yield RunningSandbox(server, state)
    finally:
        server.stop()


@pytest.fixture
def client(shared: RunningSandbox) -> Iterator[httpx.Client]:
    """An Airtable client as leadsync on the module's ``shared`` sandbox, reset first (the provisioned
    base, no records, no webhooks, fresh offsets)."""
    shared.control("POST", "/reset")
    with airtable_client(shared) as c:
        yield c


# ---- Trello, on each test's own sandbox ------------------------------------------------------------------


@pytest.fixture
def api(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    """Trello as leadsync: key and token in the query."""
    with trello_client(sandbox) as c:
        yield c


@pytest.fixture
def board(sandbox: RunningSandbox) -> str:
    """The provisioned Trello board's id."""
    return sandbox.settings["TRELLO_BOARD_ID"]


@pytest.fixture
def lists(sandbox: RunningSandbox) -> dict[str, str]:
    """The provisioned Trello lists' ids, by status."""
    ids: dict[str, str] = json.loads(sandbox.settings["TRELLO_LIST_IDS"])
    return ids
