"""The API clients against the sandbox: every HTTP failure comes out as one of leadsync's errors, only
transient failures are retried, and a create whose outcome is unknown is never retried blindly."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from leadsync.clients.airtable import AirtableClient
from leadsync.clients.http import ApiHttp, RequestCounter, RetryRules
from leadsync.clients.pacing import Pacer
from leadsync.clients.trello import TrelloClient
from leadsync.core import LeadId
from leadsync.errors import ApiError, BadRequest, NotFound, OutcomeUnknown, TransportFailed, Unauthorized
from tests.fixtures_sandbox import RunningSandbox

FAST = RetryRules(rate_limit_wait=0.05, attempts=4, timeout=10.0, wait_initial=0.01, wait_max=0.05)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client


def airtable(
    sandbox: RunningSandbox, http: httpx.Client, counter: RequestCounter, token: str | None = None
) -> AirtableClient:
    s = sandbox.settings
    api = ApiHttp("airtable", http, s["AIRTABLE_API_URL"], pacers=[Pacer(1000, 1.0)], rules=FAST, counter=counter,
                  headers={"Authorization": f"Bearer {token or s['AIRTABLE_API_KEY']}"})  # fmt: skip
    return AirtableClient(api, s["AIRTABLE_BASE_ID"], s["AIRTABLE_LEADS_TABLE_NAME"])


def trello(
    sandbox: RunningSandbox, http: httpx.Client, counter: RequestCounter, base_url: str | None = None
) -> TrelloClient:
    s = sandbox.settings
    auth = f'OAuth oauth_consumer_key="{s["TRELLO_API_KEY"]}", oauth_token="{s["TRELLO_TOKEN"]}"'
    api = ApiHttp("trello", http, base_url or s["TRELLO_API_URL"], pacers=[Pacer(1000, 1.0)], rules=FAST,
                  counter=counter, headers={"Authorization": auth})  # fmt: skip
    return TrelloClient(api, s["TRELLO_BOARD_ID"])


def test_a_429_is_retried_after_the_wait_and_counted(sandbox: RunningSandbox, http: httpx.Client) -> None:
    sandbox.control("POST", "/config", json={"rate_scale": 0})
    counter = RequestCounter()
    sandbox.fault("/v0/", status=429, count=1)
    assert airtable(sandbox, http, counter).all_leads() == {}
    assert counter.rate_limited == {"airtable": 1}
    assert counter.summary()["airtable"]["read"] == 2


def test_http_errors_are_wrapped_into_leadsyncs_own_tree(sandbox: RunningSandbox, http: httpx.Client) -> None:
    counter = RequestCounter()
    with pytest.raises(Unauthorized) as denied:
        airtable(sandbox, http, counter, token="patWrongWrongWrong.0000").all_leads()
    assert denied.value.status == 401
    assert "AUTHENTICATION_REQUIRED" in denied.value.body
    with pytest.raises(BadRequest) as bad:
        list(airtable(sandbox, http, counter).iter_pages("NOT_A_FUNCTION(1)"))
    assert "INVALID_FILTER_BY_FORMULA" in bad.value.body
    with pytest.raises(NotFound):
        trello(sandbox, http, counter).update_card("f" * 24, {"name": "x"})
    with pytest.raises(NotFound):  # Trello's 400 "invalid id" means the same to a sync client
        trello(sandbox, http, counter).update_card("not-an-id", {"name": "x"})


def test_no_httpx_exception_leaks_when_nothing_answers(http: httpx.Client, sandbox: RunningSandbox) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"  # bound, never listening: connection refused
    with pytest.raises(TransportFailed) as failed:
        trello(sandbox, http, RequestCounter(), base_url=dead).cards()
    assert isinstance(failed.value, ApiError)
    assert not isinstance(failed.value, httpx.HTTPError)


def test_a_create_whose_response_is_lost_is_not_retried(sandbox: RunningSandbox, http: httpx.Client) -> None:
    sandbox.fault("/1/cards", method="POST", action="lost_response", count=1)
    client = trello(sandbox, http, RequestCounter())
    seen = len(sandbox.requests())
    with pytest.raises(OutcomeUnknown):
        client.create_card(
            sandbox.state.trello.list_ids["NEW"], "Follow up: Ada", "Lead ID: recAAAAAAAAAAAAAA"
        )
    posts = [r for r in sandbox.requests(seen) if r["method"] == "POST"]
    assert len(posts) == 1  # sent once; the card exists on the server, and leadsync knows it may
    assert len(client.cards()) == 1


def test_an_idempotent_write_is_retried_through_a_dropped_connection(
    sandbox: RunningSandbox, http: httpx.Client
) -> None:
    client = trello(sandbox, http, RequestCounter())
    card = client.create_card(sandbox.state.trello.list_ids["NEW"], "Follow up: Ada", "")
    sandbox.fault(f"/1/cards/{card.id}", method="PUT", action="drop", count=1)
    moved = client.update_card(card.id, {"idList": sandbox.state.trello.list_ids["CONTACTED"]})
    assert moved.list_id == sandbox.state.trello.list_ids["CONTACTED"]


def test_an_expired_airtable_iterator_restarts_from_the_first_page(
    sandbox: RunningSandbox, http: httpx.Client
) -> None:
    sandbox.control("POST", "/config", json={"rate_scale": 0})
    client = airtable(sandbox, http, RequestCounter())
    s = sandbox.settings
    for start in range(0, 150, 10):
        records = [{"fields": {"Name": f"Lead {i}", "Status": "NEW"}} for i in range(start, start + 10)]
        http.post(f"{s['AIRTABLE_API_URL']}/v0/{s['AIRTABLE_BASE_ID']}/Leads", json={"records": records},
                  headers={"Authorization": f"Bearer {s['AIRTABLE_API_KEY']}"}).raise_for_status()  # fmt: skip
    pages = client.iter_pages()
    first = next(pages)
    assert len(first) == 100
    sandbox.control("POST", "/clock/advance", json={"seconds": 600})  # the offset expires meanwhile
    rest = [lead for page in pages for lead in page]
    seen: set[LeadId] = {lead.id for lead in first} | {lead.id for lead in rest}
    assert len(seen) == 150
