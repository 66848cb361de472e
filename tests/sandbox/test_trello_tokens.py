"""Contract: ``GET /1/tokens/{token}`` (who holds it, when it expires, its permissions),
``GET /1/tokens/{token}/{field}`` and ``GET /1/tokens/{token}/member``, equal to ``GET /1/members/me``."""

from __future__ import annotations

import re

import httpx

from tests.fixtures_sandbox import RunningSandbox


def test_a_token_shows_its_member_dates_and_permissions(api: httpx.Client, sandbox: RunningSandbox) -> None:
    me = sandbox.state.leadsync
    token = api.get(f"/tokens/{me.trello_token}").json()
    assert set(token) == {"id", "identifier", "idMember", "dateCreated", "dateExpires", "permissions"}
    assert re.fullmatch(r"[0-9a-f]{24}", token["id"])
    assert token["idMember"] == me.trello_member_id
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", token["dateCreated"])
    assert token["dateExpires"] is None  # a token that never expires
    for permission in token["permissions"]:
        assert set(permission) == {"idModel", "modelType", "read", "write"}
    boards = [p for p in token["permissions"] if p["modelType"].lower() == "board"]
    assert boards == [{"idModel": "*", "modelType": "board", "read": True, "write": True}]


def test_token_fields_and_webhooks_can_be_asked_for(api: httpx.Client, sandbox: RunningSandbox) -> None:
    me = sandbox.state.leadsync
    shown = api.get(f"/tokens/{me.trello_token}", params={"fields": "idMember", "webhooks": "true"}).json()
    assert shown == {"id": shown["id"], "idMember": me.trello_member_id, "webhooks": []}
    assert api.get(f"/tokens/{me.trello_token}/idMember").json() == {"_value": me.trello_member_id}
    assert api.get(f"/tokens/{me.trello_token}/nonsense").status_code == 404


def test_the_token_member_is_the_same_as_members_me(api: httpx.Client, sandbox: RunningSandbox) -> None:
    token = sandbox.state.leadsync.trello_token
    assert api.get(f"/tokens/{token}/member").json() == api.get("/members/me").json()


def test_another_callers_token_is_401_and_an_unknown_one_invalid(
    api: httpx.Client, sandbox: RunningSandbox
) -> None:
    other = api.get(f"/tokens/{sandbox.state.person.trello_token}")
    assert (other.status_code, other.text) == (401, "unauthorized token")
    unknown = api.get(f"/tokens/{'0' * 64}")
    assert (unknown.status_code, unknown.text) == (401, "invalid token")
