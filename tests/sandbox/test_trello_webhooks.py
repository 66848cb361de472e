"""Contract: Trello webhooks (reference §7): HEAD-checked creation, token-scoped CRUD, and signed
deliveries with retries, received by a real server on loopback and verified independently here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from leadsync.sandbox import BackgroundServer
from tests.fixtures_sandbox import RunningSandbox
from tests.sandbox.helpers import LOOPBACK, trello_client


@dataclass
class Delivery:
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.body)
        return payload


@dataclass
class Receiver:
    """Webhook callbacks at ``/hooks/<name>``: HEAD answers 200, POST is recorded and answered with the
    next status queued for that name (200 when none). ``/post-only`` refuses HEAD with 405."""

    url: str = ""
    heads: list[str] = field(default_factory=list)
    posts: dict[str, list[Delivery]] = field(default_factory=dict)
    answers: dict[str, list[int]] = field(default_factory=dict)

    def hook(self, name: str) -> str:
        return f"{self.url}/hooks/{name}"

    def app(self) -> Starlette:
        async def hooks(request: Request) -> Response:
            name = request.path_params["name"]
            if request.method == "HEAD":
                self.heads.append(name)
                return Response(status_code=200)
            body = await request.body()
            self.posts.setdefault(name, []).append(Delivery(body, dict(request.headers)))
            queued = self.answers.get(name) or [200]
            return Response(status_code=queued.pop(0) if len(queued) > 1 else queued[0])

        async def post_only(_: Request) -> Response:
            return Response(status_code=200)

        return Starlette(
            routes=[
                Route("/hooks/{name}", hooks, methods=["HEAD", "POST"]),
                Route("/post-only", post_only, methods=["POST"]),
            ]
        )

    def wait(self, name: str, count: int, timeout: float = 5.0) -> list[Delivery]:
        eventually(lambda: len(self.posts.get(name, [])) >= count, timeout)
        return self.posts[name]


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[Receiver]:
    rec = Receiver()
    with BackgroundServer(rec.app()) as server:
        rec.url = server.url
        yield rec


@pytest.fixture
def receiver(receiver_server: Receiver) -> Receiver:
    """The module's receiver, emptied for this test (each test's sandbox is gone before the next starts)."""
    receiver_server.heads, receiver_server.posts, receiver_server.answers = [], {}, {}
    return receiver_server


@pytest.fixture
def person(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    """The person's Trello client (here ``person`` is this, not the shared ``Person`` fixture)."""
    with trello_client(sandbox, person=True) as client:
        yield client


def _hook(api: httpx.Client, url: str, model: str, **extra: Any) -> dict[str, Any]:
    response = api.post("/webhooks", json={"callbackURL": url, "idModel": model, **extra})
    assert response.status_code == 200, response.text
    hook: dict[str, Any] = response.json()
    return hook


def _settled(sandbox: RunningSandbox) -> None:
    """Every delivery the sandbox started has finished (its last attempt answered and accounted for)."""
    eventually(lambda: sandbox.control("GET", "/deliveries")["pending"] == 0)


# ---- creation ----------------------------------------------------------------------------------------


def test_a_webhook_is_created_after_its_callback_answers_head_with_200(
    api: httpx.Client, receiver: Receiver, board: str
) -> None:
    hook = _hook(api, receiver.hook("board"), board, description="lead tasks")
    assert receiver.heads == ["board"]
    assert len(hook["id"]) == 24
    assert {k: v for k, v in hook.items() if k != "id"} == {
        "description": "lead tasks",
        "idModel": board,
        "callbackURL": receiver.hook("board"),
        "active": True,
        "consecutiveFailures": 0,
        "firstConsecutiveFailDate": None,
    }


def test_a_callback_that_does_not_answer_head_with_200_is_refused(
    api: httpx.Client, receiver: Receiver, board: str
) -> None:
    url = f"{receiver.url}/post-only"
    response = api.post("/webhooks", json={"callbackURL": url, "idModel": board})
    assert response.status_code == 400
    assert response.json() == {
        "message": f"URL ({url}) did not return 200 status code, got 405",
        "error": "ERROR",
    }
    assert api.get(f"/tokens/{api.params['token']}/webhooks").json() == []


def test_the_same_callback_model_and_token_cannot_be_registered_twice(
    api: httpx.Client, person: httpx.Client, receiver: Receiver, board: str, lists: dict[str, str]
) -> None:
    _hook(api, receiver.hook("a"), board)
    again = api.post("/webhooks", json={"callbackURL": receiver.hook("a"), "idModel": board})
    assert (again.status_code, again.text) == (
        400,
        "A webhook with that callback, model, and token already exists",
    )
    _hook(api, receiver.hook("a"), lists["NEW"])  # another model
    _hook(person, receiver.hook("a"), board)  # another token


def test_the_model_must_be_an_object_id_the_token_can_see(
    sandbox: RunningSandbox, api: httpx.Client, person: httpx.Client, receiver: Receiver
) -> None:
    for model in ("nope", "000000000000000000000000"):
        response = api.post("/webhooks", json={"callbackURL": receiver.hook("x"), "idModel": model})
        assert (response.status_code, response.text) == (400, "invalid value for idModel")
    private = sandbox.state.trello.add_board("Private", [sandbox.state.person])
    refused = api.post("/webhooks", json={"callbackURL": receiver.hook("x"), "idModel": private.id})
    assert (refused.status_code, refused.text) == (401, "unauthorized permission requested")
    assert person.post(
        "/webhooks", json={"callbackURL": receiver.hook("x"), "idModel": private.id}
    ).is_success


# ---- the token's webhooks ----------------------------------------------------------------------------


def test_a_tokens_webhooks_can_be_created_listed_updated_and_deleted(
    sandbox: RunningSandbox, receiver: Receiver, board: str
) -> None:
    s = sandbox.settings
    token = s["TRELLO_TOKEN"]
    with httpx.Client(base_url=f"{sandbox.url}/1", timeout=10, verify=LOOPBACK) as bare:
        # py-trello's create_hook: the key in the query, the token only in the path, a form body.
        created = bare.post(
            f"/tokens/{token}/webhooks/",
            params={"key": s["TRELLO_API_KEY"]},
            data={"callbackURL": receiver.hook("t"), "idModel": board, "description": "py-trello"},
        )
    assert created.status_code == 200, created.text
    hook = created.json()
    auth = {"key": s["TRELLO_API_KEY"], "token": token}
    with httpx.Client(base_url=f"{sandbox.url}/1", params=auth, timeout=10, verify=LOOPBACK) as api:
        assert api.get(f"/tokens/{token}/webhooks").json() == [hook]
        assert api.get(f"/webhooks/{hook['id']}").json() == hook
        updated = api.put(f"/webhooks/{hook['id']}", json={"active": False, "description": "paused"}).json()
        assert (updated["active"], updated["description"]) == (False, "paused")
        assert api.get(f"/webhooks/{hook['id']}").json()["active"] is False
        deleted = api.delete(f"/tokens/{token}/webhooks/{hook['id']}")
        assert (deleted.status_code, deleted.json()) == (200, {"_value": None})
        assert api.get(f"/tokens/{token}/webhooks").json() == []
        assert api.get(f"/webhooks/{hook['id']}").status_code == 404
        second = _hook(api, receiver.hook("u"), board)
        assert api.delete(f"/webhooks/{second['id']}").json() == {"_value": None}


def test_a_webhook_belongs_to_the_token_that_made_it(
    sandbox: RunningSandbox, api: httpx.Client, person: httpx.Client, receiver: Receiver, board: str
) -> None:
    hook = _hook(api, receiver.hook("mine"), board)
    for response in (person.get(f"/webhooks/{hook['id']}"), person.delete(f"/webhooks/{hook['id']}")):
        assert (response.status_code, response.text) == (401, "webhook does not belong to token")
    assert person.get(f"/tokens/{sandbox.settings['PERSON_TRELLO_TOKEN']}/webhooks").json() == []
    listed = person.get(f"/tokens/{sandbox.settings['TRELLO_TOKEN']}/webhooks")
    assert (listed.status_code, listed.text) == (401, "unauthorized token")


def test_a_malformed_webhook_id_is_400_invalid_value_for_id_webhook(api: httpx.Client) -> None:
    for response in (api.get("/webhooks/123"), api.put("/webhooks/123", json={"active": False})):
        assert (response.status_code, response.text) == (400, "invalid value for idWebhook")
    assert api.delete("/webhooks/zzz").text == "invalid value for idWebhook"


# ---- deliveries --------------------------------------------------------------------------------------


def test_a_delivery_is_signed_over_its_exact_body_and_the_callback_url(
    sandbox: RunningSandbox, api: httpx.Client, receiver: Receiver, board: str, lists: dict[str, str]
) -> None:
    hook = _hook(api, receiver.hook("signed"), board)
    card = api.post("/cards", json={"idList": lists["NEW"], "name": "Follow up: Zoë Ångström 🚀"}).json()
    [delivery] = receiver.wait("signed", 1)

    secret = sandbox.settings["TRELLO_API_SECRET"].encode("utf-8")
    signed = delivery.body + receiver.hook("signed").encode("utf-8")
    expected = base64.b64encode(hmac.new(secret, signed, hashlib.sha1).digest()).decode("ascii")
    assert hmac.compare_digest(delivery.headers["x-trello-webhook"], expected)
    assert "Zoë".encode() in delivery.body  # raw UTF-8, not \u escapes: the signature covers those bytes
    assert delivery.headers["content-type"] == "application/json"

    payload = delivery.json
    assert set(payload) == {"action", "model", "webhook"}
    assert payload["action"]["type"] == "createCard"
    assert payload["action"]["data"]["card"]["id"] == card["id"]
    assert payload["action"] == api.get(f"/boards/{board}/actions").json()[0]
    assert payload["model"]["id"] == board
    assert payload["model"]["name"] == "Lead Tasks"
    assert payload["webhook"] == hook


def test_a_person_s_webhook_is_signed_with_their_application_secret(
    sandbox: RunningSandbox, person: httpx.Client, receiver: Receiver, board: str, lists: dict[str, str]
) -> None:
    _hook(person, receiver.hook("theirs"), board)
    person.post("/cards", json={"idList": lists["NEW"], "name": "by hand"})
    [delivery] = receiver.wait("theirs", 1)
    secret = sandbox.state.trello_secrets[sandbox.settings["PERSON_TRELLO_API_KEY"]].encode()
    mac = hmac.new(secret, delivery.body + receiver.hook("theirs").encode(), hashlib.sha1).digest()
    assert delivery.headers["x-trello-webhook"] == base64.b64encode(mac).decode()


def test_a_board_webhook_sees_every_card_action_and_a_card_webhook_only_its_card(
    sandbox: RunningSandbox, api: httpx.Client, receiver: Receiver, board: str, lists: dict[str, str]
) -> None:
    watched = api.post("/cards", json={"idList": lists["NEW"], "name": "watched"}).json()
    other = api.post("/cards", json={"idList": lists["NEW"], "name": "other"}).json()
    _hook(api, receiver.hook("board"), board)
    _hook(api, receiver.hook("card"), watched["id"])

    api.put(f"/cards/{other['id']}", json={"idList": lists["LOST"]})
    api.put(f"/cards/{watched['id']}", json={"idList": lists["CONTACTED"]})
    api.delete(f"/cards/{other['id']}")
    receiver.wait("board", 3)
    _settled(sandbox)

    board_seen = sorted(d.json["action"]["type"] for d in receiver.posts["board"])
    assert board_seen == ["deleteCard", "updateCard", "updateCard"]
    [card_seen] = receiver.posts["card"]
    assert card_seen.json["action"]["data"]["listAfter"]["id"] == lists["CONTACTED"]
    assert card_seen.json["model"]["id"] == watched["id"]
    assert card_seen.json["model"]["idList"] == lists["CONTACTED"]  # the model as it is now


def test_an_inactive_webhook_receives_nothing(
    sandbox: RunningSandbox, api: httpx.Client, receiver: Receiver, board: str, lists: dict[str, str]
) -> None:
    _hook(api, receiver.hook("paused"), board, active=False)
    _hook(api, receiver.hook("barrier"), board)
    api.post("/cards", json={"idList": lists["NEW"], "name": "quiet"})
    receiver.wait("barrier", 1)
    _settled(sandbox)
    assert "paused" not in receiver.posts


def test_a_failed_delivery_is_retried_with_the_same_signed_body(
    sandbox: RunningSandbox, api: httpx.Client, receiver: Receiver, board: str, lists: dict[str, str]
) -> None:
    sandbox.control("POST", "/config", json={"trello_retry_delays": [0.05, 0.05]})
    receiver.answers["flaky"] = [500, 503, 200]
    hook = _hook(api, receiver.hook("flaky"), board)
    api.post("/cards", json={"idList": lists["NEW"], "name": "retry me"})
    attempts = receiver.wait("flaky", 3)
    _settled(sandbox)
    assert len({(d.body, d.headers["x-trello-webhook"]) for d in attempts}) == 1
    shown = api.get(f"/webhooks/{hook['id']}").json()
    assert (shown["consecutiveFailures"], shown["firstConsecutiveFailDate"]) == (0, None)  # it got through


def test_failures_are_counted_on_the_webhook_after_the_last_retry(
    sandbox: RunningSandbox, api: httpx.Client, receiver: Receiver, board: str, lists: dict[str, str]
) -> None:
    sandbox.control("POST", "/config", json={"trello_retry_delays": [0.05, 0.05]})
    receiver.answers["down"] = [500]
    hook = _hook(api, receiver.hook("down"), board)
    api.post("/cards", json={"idList": lists["NEW"], "name": "nobody home"})
    receiver.wait("down", 3)
    _settled(sandbox)
    time.sleep(0.15)  # longer than a retry delay: a 4th attempt would have come by now
    assert len(receiver.posts["down"]) == 3
    shown = api.get(f"/webhooks/{hook['id']}").json()
    assert shown["consecutiveFailures"] == 3
    assert shown["firstConsecutiveFailDate"] is not None


def test_a_410_answer_deletes_the_webhook(
    sandbox: RunningSandbox, api: httpx.Client, receiver: Receiver, board: str, lists: dict[str, str]
) -> None:
    sandbox.control("POST", "/config", json={"trello_retry_delays": [0.05, 0.05]})
    receiver.answers["gone"] = [410]
    hook = _hook(api, receiver.hook("gone"), board)
    api.post("/cards", json={"idList": lists["NEW"], "name": "first"})
    receiver.wait("gone", 1)
    _settled(sandbox)
    assert api.get(f"/webhooks/{hook['id']}").status_code == 404
    assert api.get(f"/tokens/{api.params['token']}/webhooks").json() == []
    api.post("/cards", json={"idList": lists["NEW"], "name": "second"})
    time.sleep(0.15)
    assert len(receiver.posts["gone"]) == 1
