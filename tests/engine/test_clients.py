"""The API clients against the sandbox: every HTTP failure comes out as one of leadsync's errors, only
transient failures are retried, and a create whose outcome is unknown is never retried blindly."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from leadsync.clients.airtable import AirtableClient
from leadsync.clients.http import ApiHttp, RequestCounter, RetryRules
from leadsync.clients.pacing import Pacer
from leadsync.clients.trello import TrelloClient
from leadsync.core import LeadId
from leadsync.errors import (
    ApiError,
    BadRequest,
    NotFound,
    OutcomeUnknown,
    ServerError,
    TransportFailed,
    Unauthorized,
    Unreachable,
)
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


def closed_port_url() -> str:
    """A loopback URL where nothing listens: the port was bound, never listened on, and released."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_no_httpx_exception_leaks_when_nothing_answers(http: httpx.Client, sandbox: RunningSandbox) -> None:
    dead = closed_port_url()
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


def test_a_refused_connection_gives_up_within_seconds_and_says_why_once(
    http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    dead = closed_port_url()
    counter = RequestCounter()
    api = ApiHttp("trello", http, dead, pacers=[Pacer(1000, 1.0)], rules=RetryRules(rate_limit_wait=1.0),
                  counter=counter, headers={"Authorization": "OAuth oauth_token=\"tok-secret-123\""})  # fmt: skip
    started = time.monotonic()
    for _ in range(2):  # a second request in the same outage adds no second warning
        with pytest.raises(Unreachable):
            api.request("GET", "/1/boards/b0ard/cards", params={"token": "tok-secret-123"})
    took = time.monotonic() - started
    assert took < 5.0, f"two requests to a closed port took {took:.1f} s"
    assert counter.summary()["trello"]["read"] == 6  # each request: one attempt and two quick retries
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    said = warnings[0].getMessage()
    assert said.startswith("retrying trello GET /1/boards/b0ard/cards: ConnectError")
    assert "refused" in said.lower()
    assert "tok-secret-123" not in caplog.text
    assert "stamina.retry_scheduled" not in caplog.text


def test_a_transient_5xx_is_one_warning_then_quiet_retries_and_recovery(
    sandbox: RunningSandbox, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox.control("POST", "/config", json={"rate_scale": 0})
    sandbox.fault("/v0/", status=503, count=3)
    assert airtable(sandbox, http, RequestCounter()).all_leads() == {}
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert warnings[0].getMessage().startswith("retrying airtable POST /v0/")
    assert "503" in warnings[0].getMessage()
    infos = [
        r.getMessage() for r in caplog.records if r.name == "leadsync.http" and r.levelno == logging.INFO
    ]
    assert [m for m in infos if m.startswith("airtable: retry")] != []
    assert infos[-1] == "airtable answers again"
    assert "stamina.retry_scheduled" not in caplog.text


def test_a_timeout_is_retried_longer_than_a_refused_connection(http: httpx.Client) -> None:
    rules = RetryRules(rate_limit_wait=1.0, attempts=6, wait_initial=0.01, wait_max=0.01)
    api = ApiHttp("airtable", http, closed_port_url(), pacers=[], rules=rules, counter=RequestCounter())
    refused_hook = api._retry_hook(idempotent=True)
    timeout_hook = api._retry_hook(idempotent=True)
    refused = Unreachable("airtable", "GET", "/v0/x", message="ConnectError: refused")
    timed_out = TransportFailed("airtable", "GET", "/v0/x", message="ReadTimeout: timed out")
    assert [bool(refused_hook(refused)) for _ in range(4)] == [True, True, False, False]
    assert all(timeout_hook(timed_out) is True for _ in range(5))
    assert timeout_hook(ServerError("airtable", "GET", "/v0/x", 501)) is False


def test_one_deleted_lead_in_a_status_batch_holds_back_no_other(
    sandbox: RunningSandbox, http: httpx.Client
) -> None:
    sandbox.control("POST", "/config", json={"rate_scale": 0})
    client = airtable(sandbox, http, RequestCounter())
    leads = [client.create_lead({"Name": name, "Status": "NEW"}) for name in ("Ann", "Bob", "Cy")]
    gone = leads[1].id
    client.http.request("DELETE", f"/v0/{sandbox.settings['AIRTABLE_BASE_ID']}/Leads/{gone}")
    results = client.update_leads([(lead.id, {"Status": "CONTACTED"}) for lead in leads])
    failed = {lid for ids, error in results if error is not None for lid in ids}
    assert failed == {gone}
    assert {lead.status for lead in client.get_leads([leads[0].id, leads[2].id]).values()} == {"CONTACTED"}
