"""The ``/_sandbox/`` control routes refuse bad input with 422 and the field at fault, and the sandbox keeps
working afterwards (regressions: an infinite clock step, a non-object fault spec, a non-numeric
``since`` and an infinite probability used to answer 500, the first one breaking Airtable for good)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.fixtures_sandbox import RunningSandbox
from tests.sandbox.helpers import airtable_client, leads_path, new_card, trello_client


def control(sandbox: RunningSandbox, method: str, path: str, raw: str | None = None) -> httpx.Response:
    """A control request with ``raw`` as the exact body text (so ``1e309`` reaches the server as written)."""
    headers = {"Content-Type": "application/json"} if raw is not None else {}
    return httpx.request(method, f"{sandbox.url}/_sandbox{path}", content=raw, headers=headers, timeout=10)


def refused(response: httpx.Response, field: str) -> list[dict[str, Any]]:
    """Assert a 422 naming ``field``; returns the problems listed."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid input"
    assert field in [d["field"] for d in body["detail"]], body
    assert all(d["problem"] for d in body["detail"])
    details: list[dict[str, Any]] = body["detail"]
    return details


def assert_still_works(sandbox: RunningSandbox) -> None:
    """A normal Airtable write and read, and a Trello write and read, succeed."""
    with airtable_client(sandbox) as at:
        created = at.post(leads_path(sandbox), json={"fields": {"Name": "Ada"}})
        assert created.status_code == 200, created.text
        listed = at.get(leads_path(sandbox))
        assert listed.status_code == 200, listed.text
        assert [r["fields"]["Name"] for r in listed.json()["records"]] == ["Ada"]
    list_id = json.loads(sandbox.settings["TRELLO_LIST_IDS"])["NEW"]
    with trello_client(sandbox) as api:
        card = new_card(api, list_id, name="Ada")
        fetched = api.get(f"/cards/{card['id']}")
        assert fetched.status_code == 200, fetched.text
        assert fetched.json()["name"] == "Ada"


# ---- the clock -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"seconds": 1e309}', "seconds"),
        ('{"seconds": "inf"}', "seconds"),
        ('{"seconds": "NaN"}', "seconds"),
        ('{"seconds": 1e300}', "seconds"),
        ('{"seconds": "soon"}', "seconds"),
        ("{}", "seconds"),
        ('{"seconds": 5, "minutes": 1}', "minutes"),
        ("[5]", "(body)"),
        ("not json", "(body)"),
    ],
)
def test_a_bad_clock_step_is_refused_and_changes_nothing(
    sandbox: RunningSandbox, raw: str, field: str
) -> None:
    before = sandbox.state.clock.time()
    refused(control(sandbox, "POST", "/clock/advance", raw), field)
    assert abs(sandbox.state.clock.time() - before) < 60
    assert_still_works(sandbox)


def test_steps_that_would_leave_the_representable_dates_are_refused(sandbox: RunningSandbox) -> None:
    ten_years = 10 * 365 * 86400
    refused(control(sandbox, "POST", "/clock/advance", f'{{"seconds": {-6 * ten_years}}}'), "seconds")
    assert control(sandbox, "POST", "/clock/advance", f'{{"seconds": {ten_years}}}').status_code == 200
    assert control(sandbox, "POST", "/clock/advance", f'{{"seconds": {-ten_years}}}').status_code == 200
    assert_still_works(sandbox)


def test_a_valid_clock_step_still_moves_the_clock_either_way(sandbox: RunningSandbox) -> None:
    before = sandbox.state.clock.time()
    assert control(sandbox, "POST", "/clock/advance", '{"seconds": 86400}').status_code == 200
    assert sandbox.state.clock.time() - before >= 86400
    assert control(sandbox, "POST", "/clock/advance", '{"seconds": -86400.5}').status_code == 200
    assert abs(sandbox.state.clock.time() - before) < 60


# ---- faults ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("[1]", "(body)"),
        ("1", "(body)"),
        ("{}", "path_prefix"),
        ('{"path_prefix": "/v0/", "action": "explode"}', "action"),
        ('{"path_prefix": "/v0/", "status": 42}', "status"),
        ('{"path_prefix": "/v0/", "status": "many"}', "status"),
        ('{"path_prefix": "/v0/", "count": -1}', "count"),
        ('{"path_prefix": "/v0/", "hang_seconds": 1e309}', "hang_seconds"),
        ('{"path_prefix": "/v0/", "headers": {"Retry-After": [1]}}', "headers.Retry-After"),
        ('{"path_prefix": "/v0/", "colour": "red"}', "colour"),
    ],
)
def test_a_bad_fault_spec_is_refused_and_adds_no_fault(sandbox: RunningSandbox, raw: str, field: str) -> None:
    refused(control(sandbox, "POST", "/faults", raw), field)
    assert sandbox.state.faults == []
    assert_still_works(sandbox)


def test_a_valid_fault_spec_is_still_accepted(sandbox: RunningSandbox) -> None:
    raw = (
        '{"path_prefix": "/v0/", "method": "get", "status": 503, "count": 2, "headers": {"Retry-After": "0"}}'
    )
    response = control(sandbox, "POST", "/faults", raw)
    assert response.status_code == 200, response.text
    [rule] = response.json()["faults"]
    assert (rule["method"], rule["count"], rule["headers"]) == ("GET", 2, {"Retry-After": "0"})


# ---- the request log -------------------------------------------------------------------------------------


@pytest.mark.parametrize("since", ["abc", "-1", "1.5", ""])
def test_a_bad_since_is_refused(sandbox: RunningSandbox, since: str) -> None:
    refused(control(sandbox, "GET", f"/requests?since={since}"), "since")
    assert_still_works(sandbox)
    assert control(sandbox, "GET", "/requests?since=0").status_code == 200


# ---- config ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"webhook_duplicate_probability": "inf"}', "webhook_duplicate_probability"),
        ('{"webhook_duplicate_probability": 1.5}', "webhook_duplicate_probability"),
        ('{"webhook_duplicate_probability": -0.1}', "webhook_duplicate_probability"),
        ('{"rate_scale": -1}', "rate_scale"),
        ('{"rate_scale": 1e309}', "rate_scale"),
        ('{"latency_ms": "NaN"}', "latency_ms"),
        ('{"latency_ms": 1e12}', "latency_ms"),
        ('{"webhook_reorder_max_ms": -5}', "webhook_reorder_max_ms"),
        ('{"airtable_ping_retry_delays": [1, 1e309]}', "airtable_ping_retry_delays.1"),
        ('{"trello_retry_delays": 5}', "trello_retry_delays"),
        ('{"trello_retry_delays": [-1]}', "trello_retry_delays.0"),
        ('{"person_rate_limited": "perhaps"}', "person_rate_limited"),
        ('{"rate_scael": 2}', "rate_scael"),
        ("[]", "(body)"),
    ],
)
def test_a_bad_config_is_refused_and_changes_nothing(sandbox: RunningSandbox, raw: str, field: str) -> None:
    before = control(sandbox, "GET", "/config").json()
    # A valid setting next to the bad one is not applied either: the request is all or nothing.
    body = json.loads(raw) if raw.startswith("{") and "1e309" not in raw else None
    if body is not None and "latency_ms" not in body:
        raw = json.dumps({**body, "latency_ms": 5})
    refused(control(sandbox, "POST", "/config", raw), field)
    assert control(sandbox, "GET", "/config").json() == before
    assert_still_works(sandbox)


def test_a_valid_config_is_still_applied(sandbox: RunningSandbox) -> None:
    raw = json.dumps(
        {"webhook_duplicate_probability": 1, "trello_retry_delays": [0.5, 1], "person_rate_limited": True}
    )
    response = control(sandbox, "POST", "/config", raw)
    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["webhook_duplicate_probability"] == 1
    assert shown["trello_retry_delays"] == [0.5, 1]
    assert shown["person_rate_limited"] is True
    assert sandbox.state.dispatcher.duplicate_probability == 1
