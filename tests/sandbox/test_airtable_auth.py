"""Airtable: authentication, addressing, URL length and rate limits, over HTTP against the sandbox."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures_sandbox import RunningSandbox
from tests.sandbox.helpers import airtable_client, leads_path

RATE_LIMITED = {
    "error": {"type": "RATE_LIMIT_REACHED", "message": "Rate limit exceeded. Please try again later"}
}
AUTH_REQUIRED = {"error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}}
SHARED_SEED = 29  # of this module's ``shared`` sandbox (tests/sandbox/conftest.py)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer patNOTAREALTOKEN.0000"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["missing", "unknown", "not-bearer"],
)
def test_a_request_without_a_valid_bearer_token_is_401(
    shared: RunningSandbox, headers: dict[str, str]
) -> None:
    response = httpx.get(f"{shared.url}{leads_path(shared)}", headers=headers)
    assert response.status_code == 401
    assert response.json() == AUTH_REQUIRED


def test_the_legacy_api_key_parameter_is_not_accepted(shared: RunningSandbox) -> None:
    response = httpx.get(
        f"{shared.url}{leads_path(shared)}", params={"api_key": shared.settings["AIRTABLE_API_KEY"]}
    )
    assert response.status_code == 401


def test_an_unknown_base_is_403_with_the_documented_message(client: httpx.Client) -> None:
    for path in ("/v0/appUNKNOWN000000/Leads", "/v0/meta/bases/appUNKNOWN000000/tables"):
        response = client.get(path)
        assert response.status_code == 403
        assert response.json() == {
            "error": {
                "type": "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
                "message": "Invalid permissions, or the requested model was not found. Check that both your "
                "user and your token have the required permissions, and that the model names and/or ids are "
                "correct.",
            }
        }


def test_a_table_is_addressable_by_id_or_by_url_encoded_name(
    shared: RunningSandbox, client: httpx.Client
) -> None:
    base = shared.settings["AIRTABLE_BASE_ID"]
    created = client.post(f"/v0/{base}/Leads", json={"fields": {"Name": "Ada"}}).json()
    for table in (shared.state.airtable.table_id, "%4Ceads"):
        response = client.get(f"/v0/{base}/{table}")
        assert response.status_code == 200
        assert [r["id"] for r in response.json()["records"]] == [created["id"]]


def test_an_unknown_table_is_404_table_not_found(shared: RunningSandbox, client: httpx.Client) -> None:
    response = client.get(f"/v0/{shared.settings['AIRTABLE_BASE_ID']}/Leadz")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "TABLE_NOT_FOUND"


def test_an_unknown_route_is_404_not_found(shared: RunningSandbox, client: httpx.Client) -> None:
    base = shared.settings["AIRTABLE_BASE_ID"]
    for method, path in [("GET", f"/v0/{base}/Leads/recX/extra/parts"), ("POST", f"/v0/{base}/Leads/recX")]:
        response = client.request(method, path)
        assert response.status_code == 404
        assert response.json() == {"error": "NOT_FOUND"}


def test_a_url_over_16000_characters_is_rejected_and_one_under_is_served(
    shared: RunningSandbox, client: httpx.Client
) -> None:
    def url_of_length(length: int) -> str:
        prefix = f"{shared.url}{leads_path(shared)}?filterByFormula=%7BName%7D%3D%27"
        return prefix + "a" * (length - len(prefix) - 3) + "%27"

    under, over = url_of_length(16_000), url_of_length(16_001)
    assert (len(under), len(over)) == (16_000, 16_001)
    assert client.get(under).status_code == 200
    rejected = client.get(over)
    assert rejected.status_code == 414  # the sandbox's choice: the status is UNVERIFIED in the reference
    assert rejected.json()["error"]["type"] == "URL_TOO_LONG"


def test_the_sixth_request_in_a_second_is_429_until_the_30_second_penalty_ends(
    sandbox: RunningSandbox,
) -> None:
    with airtable_client(sandbox) as client:
        path = leads_path(sandbox)
        assert [client.get(path).status_code for _ in range(5)] == [200] * 5
        sixth = client.get(path)
        assert sixth.status_code == 429
        assert sixth.json() == RATE_LIMITED
        sandbox.control("POST", "/clock/advance", json={"seconds": 29})
        assert client.get(path).json() == RATE_LIMITED
        sandbox.control("POST", "/clock/advance", json={"seconds": 2})
        assert client.get(path).status_code == 200


def test_meta_and_webhook_requests_count_against_the_same_base_limit(sandbox: RunningSandbox) -> None:
    with airtable_client(sandbox) as client:
        base = sandbox.settings["AIRTABLE_BASE_ID"]
        paths = [f"/v0/{base}/Leads", f"/v0/meta/bases/{base}/tables", f"/v0/bases/{base}/webhooks"] * 2
        responses = [client.get(path) for path in paths]
        assert [r.status_code for r in responses] == [200] * 5 + [429]
        assert responses[-1].json() == RATE_LIMITED


def test_rate_scale_zero_turns_the_limits_off(sandbox: RunningSandbox) -> None:
    with airtable_client(sandbox) as client:
        assert [client.get(leads_path(sandbox)).status_code for _ in range(6)][-1] == 429
        sandbox.control("POST", "/config", json={"rate_scale": 0})
        assert {client.get(leads_path(sandbox)).status_code for _ in range(20)} == {200}


def test_the_request_log_names_the_identity_that_called(shared: RunningSandbox, client: httpx.Client) -> None:
    person = {"Authorization": f"Bearer {shared.settings['PERSON_AIRTABLE_API_KEY']}"}
    client.get(leads_path(shared))
    client.get(leads_path(shared), headers=person)
    httpx.get(f"{shared.url}{leads_path(shared)}")
    log = [(r["who"], r["status"]) for r in shared.requests() if r["api"] == "airtable"]
    assert log == [("leadsync", 200), ("person", 200), (None, 401)]


def test_whoami_names_the_user_behind_each_token(shared: RunningSandbox, client: httpx.Client) -> None:
    person = {"Authorization": f"Bearer {shared.settings['PERSON_AIRTABLE_API_KEY']}"}
    mine, theirs = client.get("/v0/meta/whoami").json(), client.get("/v0/meta/whoami", headers=person).json()
    assert (mine["id"], mine["email"]) == (
        shared.state.leadsync.airtable_user_id,
        shared.state.leadsync.email,
    )
    assert theirs["id"] == shared.state.person.airtable_user_id
    assert "scopes" not in mine  # personal access tokens: whoami never lists the scopes
