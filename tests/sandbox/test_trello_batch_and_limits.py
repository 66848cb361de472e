"""Contract: members and tokens, ``/1/batch`` (reference §4) and the rate-limit windows (reference §5)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures_sandbox import RunningSandbox

RATE_HEADERS = (
    "x-rate-limit-api-token-interval-ms",
    "x-rate-limit-api-token-max",
    "x-rate-limit-api-token-remaining",
    "x-rate-limit-api-key-interval-ms",
    "x-rate-limit-api-key-max",
    "x-rate-limit-api-key-remaining",
)

# ---- members and tokens ------------------------------------------------------------------------------


def test_members_me_and_the_tokens_member_name_the_same_member(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    me = api.get("/members/me").json()
    assert (me["username"], me["fullName"]) == ("leadsync", "leadsync bot")
    assert len(me["id"]) == 24
    token = sandbox.settings["TRELLO_TOKEN"]
    assert api.get(f"/tokens/{token}/member").json()["id"] == me["id"]
    assert api.get("/members/me", params={"fields": "username"}).json() == {
        "id": me["id"],
        "username": "leadsync",
    }
    response = api.get(f"/tokens/{sandbox.settings['PERSON_TRELLO_TOKEN']}/member")  # not the caller's token
    assert (response.status_code, response.text) == (401, "unauthorized token")


# ---- batch -------------------------------------------------------------------------------------------


def test_batch_answers_each_route_in_order_keyed_by_status(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    card = api.post("/cards", json={"idList": lists["NEW"], "name": "Ada"}).json()
    urls = ",".join(
        [
            f"/boards/{board}?fields=name",
            f"/cards/{card['id']}?fields=name%2CidList",  # a route's own comma travels encoded
            "/cards/000000000000000000000000",
            "/cards/nope",
            f"/boards/{board}/lists?fields=name",
        ]
    )
    response = api.get("/batch", params={"urls": urls})
    assert response.status_code == 200
    assert response.json() == [
        {"200": {"id": board, "name": "Lead Tasks"}},
        {"200": {"id": card["id"], "name": "Ada", "idList": lists["NEW"]}},
        {"404": "The requested resource was not found."},
        {"400": "invalid id"},
        {"200": [{"id": lists[s], "name": s} for s in ("NEW", "CONTACTED", "QUALIFIED", "LOST")]},
    ]


def test_batch_takes_at_most_ten_routes(api: httpx.Client) -> None:
    assert len(api.get("/batch", params={"urls": ",".join(["/members/me"] * 10)}).json()) == 10
    refused = api.get("/batch", params={"urls": ",".join(["/members/me"] * 11)})
    assert refused.status_code == 400
    assert api.get("/batch").status_code == 400


def test_batch_ignores_nested_batch_routes(api: httpx.Client) -> None:
    answers = api.get("/batch", params={"urls": "/batch?urls=/members/me,/members/me"}).json()
    assert [next(iter(a)) for a in answers] == ["200"]
    assert answers[0]["200"]["username"] == "leadsync"


def test_batch_only_runs_get_routes(api: httpx.Client, lists: dict[str, str]) -> None:
    # POST /cards exists, but not as a GET: in a batch it is a route that does not exist.
    [answer] = api.get("/batch", params={"urls": "/cards"}).json()
    assert answer == {"404": "Cannot GET /1/cards"}
    assert api.get(f"/lists/{lists['NEW']}/cards").json() == []


# ---- rate limits -------------------------------------------------------------------------------------


def test_every_response_carries_the_rate_limit_headers(api: httpx.Client, board: str) -> None:
    ok = api.get(f"/boards/{board}")
    missing = api.get("/cards/000000000000000000000000")
    for response in (ok, missing):
        assert all(name in response.headers for name in RATE_HEADERS), response.headers
    assert ok.headers["x-rate-limit-api-token-max"] == "100"
    assert ok.headers["x-rate-limit-api-key-max"] == "300"
    assert ok.headers["x-rate-limit-api-token-interval-ms"] == "10000"
    assert int(missing.headers["x-rate-limit-api-token-remaining"]) == 98


def test_the_101st_request_in_ten_seconds_is_429_until_the_window_moves_on(
    sandbox: RunningSandbox, api: httpx.Client, board: str
) -> None:
    statuses = [api.get(f"/boards/{board}", params={"fields": "name"}).status_code for _ in range(100)]
    assert set(statuses) == {200}
    limited = api.get(f"/boards/{board}")
    assert limited.status_code == 429
    assert limited.json() == {"error": "API_TOKEN_LIMIT_EXCEEDED", "message": "Rate limit exceeded"}
    assert limited.headers["x-rate-limit-api-token-remaining"] == "0"

    sandbox.control("POST", "/clock/advance", json={"seconds": 10})
    again = api.get(f"/boards/{board}")
    assert again.status_code == 200
    assert again.headers["x-rate-limit-api-token-remaining"] == "99"


def test_members_routes_have_their_own_900_second_window(sandbox: RunningSandbox, api: httpx.Client) -> None:
    sandbox.control("POST", "/config", json={"rate_scale": 0.1})  # 10 per token, 10 per 900 s on /members
    assert {api.get("/members/me").status_code for _ in range(10)} == {200}
    sandbox.control("POST", "/clock/advance", json={"seconds": 10})  # the token window is clear again
    limited = api.get("/members/me")
    assert (limited.status_code, limited.json()["error"]) == (429, "MEMBER_LIMIT_EXCEEDED")
    assert api.get("/members/me/boards").status_code == 200  # nested member routes do not count


def test_rate_scale_zero_turns_the_limits_off(sandbox: RunningSandbox, api: httpx.Client, board: str) -> None:
    sandbox.control("POST", "/config", json={"rate_scale": 0})
    answers: list[Any] = [api.get(f"/boards/{board}", params={"fields": "name"}) for _ in range(150)]
    assert {r.status_code for r in answers} == {200}
