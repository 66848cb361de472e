"""Contract: every write leaves an action with the data shapes of reference §3, queryable as documented."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.fixtures_sandbox import RunningSandbox
from tests.sandbox.helpers import new_card, trello_client


@pytest.fixture
def person(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    """The person's Trello client (here ``person`` is this, not the shared ``Person`` fixture)."""
    with trello_client(sandbox, person=True) as client:
        yield client


def _actions(api: httpx.Client, board: str, **params: Any) -> list[dict[str, Any]]:
    response = api.get(f"/boards/{board}/actions", params=params)
    assert response.status_code == 200, response.text
    actions: list[dict[str, Any]] = response.json()
    return actions


def _board_ref(api: httpx.Client, board: str) -> dict[str, Any]:
    shown: dict[str, Any] = api.get(f"/boards/{board}", params={"fields": "name,shortLink"}).json()
    return shown


def test_creating_a_card_logs_create_card_with_card_list_and_board(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["NEW"], name="Follow up: Ada")
    [action] = _actions(api, board)
    me = api.get("/members/me").json()
    assert action["type"] == "createCard"
    assert action["data"] == {
        "card": {"id": card["id"], "name": "Follow up: Ada", "idShort": 1, "shortLink": card["shortLink"]},
        "list": {"id": lists["NEW"], "name": "NEW"},
        "board": _board_ref(api, board),
    }
    assert action["idMemberCreator"] == me["id"]
    creator = action["memberCreator"]
    assert (creator["id"], creator["username"], creator["fullName"]) == (
        me["id"],
        me["username"],
        me["fullName"],
    )


def test_an_action_date_is_its_ids_second_with_milliseconds(
    sandbox: RunningSandbox, api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    for _ in range(3):
        new_card(api, lists["NEW"])
        sandbox.control("POST", "/clock/advance", json={"seconds": 1.37})
    for action in _actions(api, board):
        second = datetime.fromtimestamp(int(action["id"][:8], 16), tz=UTC)
        assert re.fullmatch(r"[0-9a-f]{24}", action["id"])
        assert action["date"][:19] == second.strftime("%Y-%m-%dT%H:%M:%S")
        assert re.fullmatch(r"\.\d{3}Z", action["date"][19:])


def test_moving_a_card_logs_list_before_list_after_and_old_id_list(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["NEW"], name="Ada")
    api.put(f"/cards/{card['id']}", json={"idList": lists["QUALIFIED"]})
    move = _actions(api, board)[0]
    assert move["type"] == "updateCard"
    assert move["data"] == {
        "card": {
            "id": card["id"],
            "name": "Ada",
            "idShort": card["idShort"],
            "shortLink": card["shortLink"],
            "idList": lists["QUALIFIED"],
        },
        "old": {"idList": lists["NEW"]},
        "board": _board_ref(api, board),
        "listBefore": {"id": lists["NEW"], "name": "NEW"},
        "listAfter": {"id": lists["QUALIFIED"], "name": "QUALIFIED"},
    }


EDITS = {"name": "Ada Lovelace", "desc": "Lead ID: rec1", "closed": True, "pos": 1.5}


def test_an_edit_logs_the_new_value_in_card_and_the_old_one_in_old(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    """Rename, description, archive and reorder: the changed key in ``card``, its old value in ``old``."""
    for field, value in EDITS.items():
        card = new_card(api, lists["CONTACTED"], name="Ada")
        api.put(f"/cards/{card['id']}", json={field: value})
        edit = _actions(api, board)[0]
        assert edit["type"] == "updateCard", field
        data = edit["data"]
        assert set(data) == {"card", "old", "board", "list"}, field
        assert data["card"] == {
            "id": card["id"],
            "name": "Ada Lovelace" if field == "name" else "Ada",
            "idShort": card["idShort"],
            "shortLink": card["shortLink"],
            field: value,
        }
        assert data["old"] == {field: card[field]}
        assert data["list"] == {"id": lists["CONTACTED"], "name": "CONTACTED"}


def test_deleting_a_card_logs_delete_card_without_its_name(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["LOST"], name="secret name")
    api.delete(f"/cards/{card['id']}")
    action = _actions(api, board)[0]
    assert action["type"] == "deleteCard"
    assert action["data"] == {
        "card": {"id": card["id"], "idShort": card["idShort"]},
        "list": {"id": lists["LOST"], "name": "LOST"},
        "board": _board_ref(api, board),
    }
    assert "secret name" not in json.dumps(action)


def test_creating_a_list_logs_create_list(api: httpx.Client, board: str) -> None:
    created = api.post("/lists", json={"name": "ON HOLD", "idBoard": board}).json()
    [action] = _actions(api, board)
    assert action["type"] == "createList"
    assert action["data"] == {
        "list": {"id": created["id"], "name": "ON HOLD"},
        "board": _board_ref(api, board),
    }


def test_actions_name_the_member_who_acted_newest_first(
    api: httpx.Client, person: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["NEW"], name="Ada")
    person.put(f"/cards/{card['id']}", json={"idList": lists["CONTACTED"]})
    api.put(f"/cards/{card['id']}", json={"desc": "managed"})
    me, them = api.get("/members/me").json()["id"], person.get("/members/me").json()["id"]
    actions = _actions(api, board)
    assert [(a["type"], a["idMemberCreator"]) for a in actions] == [
        ("updateCard", me),
        ("updateCard", them),
        ("createCard", me),
    ]
    assert [a["id"] for a in actions] == sorted((a["id"] for a in actions), reverse=True)


def test_the_filter_takes_types_and_update_card_sub_filters(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["NEW"], name="Ada")
    for change in ({"idList": lists["LOST"]}, {"name": "Ada L."}, {"desc": "d"}, {"closed": True}):
        api.put(f"/cards/{card['id']}", json=change)
    other = new_card(api, lists["NEW"], name="Bob")
    api.delete(f"/cards/{other['id']}")

    def kinds(spec: str) -> list[str]:
        return [
            next(iter(a["data"].get("old", {"-": 0}))) + ":" + a["type"]
            for a in _actions(api, board, filter=spec)
        ]

    assert kinds("updateCard:idList") == ["idList:updateCard"]
    assert kinds("updateCard:closed") == ["closed:updateCard"]
    assert kinds("updateCard:name") == ["name:updateCard"]
    assert kinds("updateCard:desc") == ["desc:updateCard"]
    assert kinds("createCard,deleteCard") == ["-:deleteCard", "-:createCard", "-:createCard"]
    assert kinds("updateCard:idList,updateCard:closed") == ["closed:updateCard", "idList:updateCard"]
    assert len(kinds("updateCard")) == 4
    assert len(kinds("all")) == len(_actions(api, board)) == 7
    assert kinds("commentCard") == []
    bad = api.get(f"/boards/{board}/actions", params={"filter": "update card"})
    assert (bad.status_code, bad.text) == (400, "invalid value for filter")


def test_since_and_before_take_an_action_id(api: httpx.Client, board: str, lists: dict[str, str]) -> None:
    for i in range(5):
        new_card(api, lists["NEW"], name=str(i))
    newest_first = [a["id"] for a in _actions(api, board)]
    cursor = newest_first[2]
    assert [a["id"] for a in _actions(api, board, since=cursor)] == newest_first[:2]
    assert [a["id"] for a in _actions(api, board, before=cursor)] == newest_first[3:]
    assert _actions(api, board, since=newest_first[0]) == []


def test_since_and_before_take_a_date(
    sandbox: RunningSandbox, api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    new_card(api, lists["NEW"], name="old")
    sandbox.control("POST", "/clock/advance", json={"seconds": 60})
    boundary = datetime.fromtimestamp(sandbox.state.clock.time() - 30, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    new_card(api, lists["NEW"], name="new")
    names = {"since": ["new"], "before": ["old"]}
    for param, expected in names.items():
        got = [a["data"]["card"]["name"] for a in _actions(api, board, **{param: boundary})]
        assert got == expected, param
    assert (
        api.get(f"/boards/{board}/actions", params={"since": "yesterday"}).text == "invalid value for since"
    )


def test_limit_defaults_to_50_and_stops_at_1000(api: httpx.Client, board: str, lists: dict[str, str]) -> None:
    for i in range(55):
        new_card(api, lists["NEW"], name=str(i))
    assert len(_actions(api, board)) == 50
    assert len(_actions(api, board, limit=1000)) == 55
    assert len(_actions(api, board, limit=0)) == 0
    too_many = api.get(f"/boards/{board}/actions", params={"limit": 1001})
    assert (too_many.status_code, too_many.text) == (400, "invalid value for limit")


def test_pages_split_the_newest_first_list_while_page_times_limit_is_under_1000(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    for i in range(5):
        new_card(api, lists["NEW"], name=str(i))
    everything = [a["id"] for a in _actions(api, board)]
    assert [a["id"] for a in _actions(api, board, limit=2, page=1)] == everything[2:4]
    assert [a["id"] for a in _actions(api, board, limit=2, page=2)] == everything[4:]
    assert api.get(f"/boards/{board}/actions", params={"limit": 50, "page": 19}).status_code == 200
    refused = api.get(f"/boards/{board}/actions", params={"limit": 50, "page": 20})
    assert (refused.status_code, refused.text) == (400, "invalid value for page")


def test_fields_and_member_creator_narrow_actions(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    new_card(api, lists["NEW"])
    [action] = _actions(api, board, fields="type,date", memberCreator="false")
    assert set(action) == {"id", "type", "date"}


def test_a_cards_actions_default_to_moves_and_comments(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["NEW"], name="Ada")
    other = new_card(api, lists["NEW"], name="Bob")
    api.put(f"/cards/{card['id']}", json={"idList": lists["LOST"], "name": "Ada L."})
    api.put(f"/cards/{other['id']}", json={"idList": lists["LOST"]})
    moves = api.get(f"/cards/{card['id']}/actions").json()
    assert [a["data"]["old"] for a in moves] == [{"idList": lists["NEW"]}]
    everything = api.get(f"/cards/{card['shortLink']}/actions", params={"filter": "all"}).json()
    assert [a["type"] for a in everything] == ["updateCard", "updateCard", "createCard"]
    assert {a["data"]["card"]["id"] for a in everything} == {card["id"]}
