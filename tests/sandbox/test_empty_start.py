"""An empty sandbox, as a new account is before ``leadsync init``: a base whose only table is the blank
``Table 1`` a base made in Airtable's UI starts with, and a ``Lead Tasks`` board without lists."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from leadsync.sandbox import start
from tests.fixtures_sandbox import RunningSandbox
from tests.sandbox.helpers import airtable_client, trello_client


@pytest.fixture
def empty() -> Iterator[RunningSandbox]:
    server, state = start(seed=5, rate_scale=0, empty=True)
    try:
        yield RunningSandbox(server, state)
    finally:
        server.stop()


def test_an_empty_base_has_no_leads_table(empty: RunningSandbox) -> None:
    base = empty.settings["AIRTABLE_BASE_ID"]
    with airtable_client(empty) as client:
        tables = client.get(f"/v0/meta/bases/{base}/tables").json()["tables"]
        assert [(t["name"], [f["name"] for f in t["fields"]]) for t in tables] == [
            ("Table 1", ["Name", "Notes"])
        ]
        missing = client.get(f"/v0/{base}/Leads")
        assert missing.status_code == 404
        assert missing.json()["error"]["type"] == "TABLE_NOT_FOUND"


def test_an_empty_board_has_no_lists_and_the_settings_name_none(empty: RunningSandbox) -> None:
    with trello_client(empty) as client:
        assert client.get(f"/boards/{empty.settings['TRELLO_BOARD_ID']}/lists").json() == []
    assert "TRELLO_LIST_IDS" not in empty.settings


def test_reset_returns_an_empty_sandbox_to_empty(empty: RunningSandbox) -> None:
    board = empty.settings["TRELLO_BOARD_ID"]
    with trello_client(empty) as client:
        assert client.post("/lists", params={"name": "NEW", "idBoard": board}).status_code == 200
        empty.control("POST", "/reset")
        assert client.get(f"/boards/{board}/lists").json() == []
