"""Contract: a board webhook receives label and due-date events as ``{"action", "model", "webhook"}``:
``addLabelToCard``/``removeLabelFromCard``/``createLabel``/``updateLabel``/``deleteLabel``, ``updateList``
renames, and ``updateCard`` with ``old.due``, ``old.dueComplete`` or ``old.start``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from leadsync.sandbox import BackgroundServer
from tests.fixtures_sandbox import RunningSandbox
from tests.sandbox.helpers import new_card


class Callback:
    """A webhook callback on loopback: HEAD answers 200, every POST body is kept."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.url = ""

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            if request.method == "POST":
                self.bodies.append(json.loads(await request.body()))
            return Response(status_code=200)

        return Starlette(routes=[Route("/hook", hook, methods=["HEAD", "POST"])])

    def types(self, count: int, timeout: float = 5.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.bodies) < count:
            assert time.monotonic() < deadline, f"expected {count} deliveries, got {len(self.bodies)}"
            time.sleep(0.01)
        return [b["action"]["type"] for b in self.bodies]


@pytest.fixture
def callback(api: httpx.Client, board: str) -> Iterator[Callback]:
    """A callback with a webhook on the provisioned board."""
    cb = Callback()
    with BackgroundServer(cb.app()) as server:
        cb.url = f"{server.url}/hook"
        assert api.post("/webhooks", json={"callbackURL": cb.url, "idModel": board}).status_code == 200
        yield cb


def test_label_events_reach_a_board_webhook_with_the_board_as_model(
    api: httpx.Client, board: str, lists: dict[str, str], callback: Callback, sandbox: RunningSandbox
) -> None:
    label = api.post("/labels", json={"name": "", "color": "orange", "idBoard": board}).json()
    card = new_card(api, lists["NEW"], name="posts-per-page")
    api.post(f"/cards/{card['id']}/idLabels", params={"value": label["id"]})
    api.put(f"/labels/{label['id']}", json={"name": "Hot"})
    api.delete(f"/cards/{card['id']}/idLabels/{label['id']}")
    api.delete(f"/labels/{label['id']}")
    expected = [
        "createLabel",
        "createCard",
        "addLabelToCard",
        "updateLabel",
        "removeLabelFromCard",
        "deleteLabel",
    ]
    assert callback.types(6) == expected
    added = callback.bodies[2]
    assert set(added) == {"action", "model", "webhook"}
    assert (added["model"]["id"], added["webhook"]["idModel"]) == (board, board)
    action = added["action"]
    assert action["idMemberCreator"] == sandbox.state.leadsync.trello_member_id
    assert action["memberCreator"]["id"] == sandbox.state.leadsync.trello_member_id
    assert action["data"]["label"] == {"id": label["id"], "name": "", "color": "orange"}
    assert (action["data"]["text"], action["data"]["value"]) == ("", "orange")
    assert "list" not in action["data"]


def test_due_events_reach_a_board_webhook_as_update_card_with_old_values(
    api: httpx.Client, lists: dict[str, str], callback: Callback
) -> None:
    card = new_card(api, lists["NEW"])
    api.put(f"/cards/{card['id']}", json={"due": "2015-06-10T15:00:00.000Z"})
    api.put(f"/cards/{card['id']}", json={"dueComplete": True})
    api.put(f"/cards/{card['id']}/start", json={"value": "2015-06-01T00:00:00.000Z"})
    assert callback.types(4) == ["createCard", "updateCard", "updateCard", "updateCard"]
    olds = [b["action"]["data"]["old"] for b in callback.bodies[1:]]
    assert olds == [{"due": None}, {"dueComplete": False}, {"start": None}]
    assert callback.bodies[1]["action"]["data"]["card"]["due"] == "2015-06-10T15:00:00.000Z"
    assert callback.bodies[1]["model"]["id"] == card["idBoard"]


def test_a_list_rename_reaches_a_board_webhook_with_old_name(
    api: httpx.Client, lists: dict[str, str], callback: Callback
) -> None:
    api.put(f"/lists/{lists['NEW']}", json={"name": "FRESH"})
    assert callback.types(1) == ["updateList"]
    data = callback.bodies[0]["action"]["data"]
    assert (data["list"], data["old"]) == ({"id": lists["NEW"], "name": "FRESH"}, {"name": "NEW"})


def test_a_card_webhook_hears_its_labels(
    api: httpx.Client, board: str, lists: dict[str, str], sandbox: RunningSandbox
) -> None:
    card = new_card(api, lists["NEW"])
    label = api.post("/labels", json={"name": "x", "color": None, "idBoard": board}).json()
    cb = Callback()
    with BackgroundServer(cb.app()) as server:
        cb.url = f"{server.url}/hook"
        assert api.post("/webhooks", json={"callbackURL": cb.url, "idModel": card["id"]}).status_code == 200
        api.post(f"/cards/{card['id']}/idLabels", params={"value": label["id"]})
        assert cb.types(1) == ["addLabelToCard"]
        assert cb.bodies[0]["model"]["id"] == card["id"]
        assert cb.bodies[0]["model"]["idLabels"] == [label["id"]]
