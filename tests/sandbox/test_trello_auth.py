"""Contract: Trello's ways to authenticate, its 401 texts, and how it answers bad ids and unknown routes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.fixtures_sandbox import RunningSandbox
from tests.sandbox.helpers import LOOPBACK


@pytest.fixture
def bare(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    """A client with no credentials: each test says how it authenticates."""
    with httpx.Client(base_url=f"{sandbox.url}/1", timeout=10, verify=LOOPBACK) as client:
        yield client


@pytest.fixture
def creds(sandbox: RunningSandbox) -> dict[str, str]:
    s = sandbox.settings
    return {"key": s["TRELLO_API_KEY"], "token": s["TRELLO_TOKEN"]}


def _board(sandbox: RunningSandbox) -> str:
    return sandbox.settings["TRELLO_BOARD_ID"]


def _new_list(sandbox: RunningSandbox) -> str:
    list_id: str = json.loads(sandbox.settings["TRELLO_LIST_IDS"])["NEW"]
    return list_id


def test_key_and_token_in_the_query_authenticate(
    sandbox: RunningSandbox, bare: httpx.Client, creds: dict[str, str]
) -> None:
    response = bare.get(f"/boards/{_board(sandbox)}", params=creds)
    assert response.status_code == 200
    assert response.json()["name"] == "Lead Tasks"


def test_key_and_token_in_a_json_body_authenticate(
    sandbox: RunningSandbox, bare: httpx.Client, creds: dict[str, str]
) -> None:
    response = bare.post("/cards", json={**creds, "idList": _new_list(sandbox), "name": "json body"})
    assert response.status_code == 200
    assert response.json()["name"] == "json body"


def test_key_and_token_in_a_form_body_authenticate(
    sandbox: RunningSandbox, bare: httpx.Client, creds: dict[str, str]
) -> None:
    response = bare.post("/cards", data={**creds, "idList": _new_list(sandbox), "name": "form body"})
    assert response.status_code == 200
    assert response.json()["name"] == "form body"


def test_an_unsigned_oauth_header_authenticates(
    sandbox: RunningSandbox, bare: httpx.Client, creds: dict[str, str]
) -> None:
    header = f'OAuth oauth_consumer_key="{creds["key"]}", oauth_token="{creds["token"]}"'
    response = bare.get("/members/me", headers={"Authorization": header})
    assert response.status_code == 200
    assert response.json()["username"] == "leadsync"


def test_a_signed_oauth1_header_authenticates_without_checking_the_signature(
    sandbox: RunningSandbox, bare: httpx.Client, creds: dict[str, str]
) -> None:
    # What requests-oauthlib (py-trello) sends: every oauth_* parameter, percent-encoded, signed.
    header = (
        'OAuth oauth_nonce="1234567890", oauth_timestamp="1700000000", oauth_version="1.0", '
        'oauth_signature_method="HMAC-SHA1", '
        f'oauth_consumer_key="{creds["key"]}", oauth_token="{creds["token"]}", '
        'oauth_signature="k%2F0bFQ6Yz%2BnQ%3D"'
    )
    response = bare.get(f"/boards/{_board(sandbox)}", headers={"Authorization": header})
    assert response.status_code == 200


def test_the_request_log_records_which_identity_called(
    sandbox: RunningSandbox, bare: httpx.Client, creds: dict[str, str]
) -> None:
    s = sandbox.settings
    bare.get("/members/me", params=creds)
    bare.get("/members/me", params={"key": s["PERSON_TRELLO_API_KEY"], "token": s["PERSON_TRELLO_TOKEN"]})
    assert [e["who"] for e in sandbox.requests() if e["api"] == "trello"] == ["leadsync", "person"]


def test_a_missing_or_unknown_key_is_401_invalid_key(sandbox: RunningSandbox, bare: httpx.Client) -> None:
    for params in ({}, {"token": sandbox.settings["TRELLO_TOKEN"]}, {"key": "0" * 32, "token": "0" * 64}):
        response = bare.get(f"/boards/{_board(sandbox)}", params=params)
        assert (response.status_code, response.text) == (401, "invalid key"), params
        assert response.headers["content-type"].startswith("text/plain")


def test_a_wrong_or_missing_token_is_401_invalid_token(
    sandbox: RunningSandbox, bare: httpx.Client, creds: dict[str, str]
) -> None:
    person_token = sandbox.settings["PERSON_TRELLO_TOKEN"]
    for params in ({"key": creds["key"]}, {"key": creds["key"], "token": person_token}):
        response = bare.get(f"/boards/{_board(sandbox)}", params=params)
        assert (response.status_code, response.text) == (401, "invalid token")


def test_a_board_the_token_cannot_see_is_401_unauthorized_permission_requested(
    sandbox: RunningSandbox, bare: httpx.Client, creds: dict[str, str]
) -> None:
    s = sandbox.settings
    person = {"key": s["PERSON_TRELLO_API_KEY"], "token": s["PERSON_TRELLO_TOKEN"]}
    private = sandbox.state.trello.add_board("Private", [sandbox.state.person])
    lst = bare.post("/lists", params=person, json={"name": "Mine", "idBoard": private.id}).json()
    card = bare.post("/cards", params=person, json={"idList": lst["id"], "name": "secret"}).json()

    assert bare.get(f"/boards/{private.id}", params=person).status_code == 200
    board = bare.get(f"/boards/{private.short_link}", params=creds)
    assert (board.status_code, board.text) == (401, "unauthorized permission requested")
    got = bare.get(f"/cards/{card['id']}", params=creds)
    assert (got.status_code, got.text) == (401, "unauthorized card permission requested")
    moved = bare.put(f"/cards/{card['id']}", params=creds, json={"closed": True})
    assert (moved.status_code, moved.text) == (401, "unauthorized card permission requested")


def test_a_malformed_id_is_400_invalid_id(bare: httpx.Client, creds: dict[str, str]) -> None:
    for path in ("/cards/12312321", "/boards/not-an-id!", "/lists/abc"):
        response = bare.get(path, params=creds)
        assert (response.status_code, response.text) == (400, "invalid id"), path
    assert bare.put("/cards/12312321", params=creds, json={"name": "x"}).text == "invalid id"


def test_a_well_formed_id_that_does_not_exist_is_404(bare: httpx.Client, creds: dict[str, str]) -> None:
    for path in ("/cards/000000000000000000000000", "/boards/5f0c1a2b3c4d5e6f7a8b9c0d", "/cards/abcdEFGH"):
        response = bare.get(path, params=creds)
        assert (response.status_code, response.text) == (404, "The requested resource was not found."), path


def test_an_unknown_route_is_404_cannot_method_path(bare: httpx.Client, creds: dict[str, str]) -> None:
    assert (bare.get("/cards/", params=creds).status_code, bare.get("/cards/", params=creds).text) == (
        404,
        "Cannot GET /1/cards/",
    )
    assert bare.get("/nothing/here").text == "Cannot GET /1/nothing/here"
    assert bare.patch("/cards/000000000000000000000000", params=creds).text == (
        "Cannot PATCH /1/cards/000000000000000000000000"
    )


def test_a_trailing_slash_is_tolerated(
    sandbox: RunningSandbox, bare: httpx.Client, creds: dict[str, str]
) -> None:
    assert bare.get(f"/boards/{_board(sandbox)}/", params=creds).status_code == 200
