"""Contract: Trello's list writes: ``POST /1/lists`` and ``POST /1/boards/{id}/lists``, renames and
archiving through ``PUT /1/lists/{id}`` and its one-field forms, and their ``updateList`` actions."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures_sandbox import RunningSandbox
from tests.sandbox.helpers import new_card, trello_client


def _list_actions(api: httpx.Client, board: str) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = api.get(
        f"/boards/{board}/actions", params={"filter": "updateList"}
    ).json()
    return actions


def test_a_list_posted_to_a_board_lands_there(api: httpx.Client, board: str) -> None:
    response = api.post(f"/boards/{board}/lists", params={"name": "WON", "pos": "bottom"})
    assert response.status_code == 200, response.text
    made = response.json()
    assert (made["name"], made["idBoard"], made["closed"]) == ("WON", board, False)
    assert [x["name"] for x in api.get(f"/boards/{board}/lists").json()][-1] == "WON"
    assert api.post("/lists", params={"name": "X", "idBoard": board}).json()["name"] == "X"


def test_a_list_needs_a_name(api: httpx.Client, board: str) -> None:
    response = api.post(f"/boards/{board}/lists", params={"name": ""})
    assert (response.status_code, response.text) == (400, "invalid value for name")


def test_renaming_a_list_logs_update_list_with_old_name(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    response = api.put(f"/lists/{lists['LOST']}", json={"name": "GONE"})
    assert (response.status_code, response.json()["name"]) == (200, "GONE")
    (action,) = _list_actions(api, board)
    assert action["data"]["list"] == {"id": lists["LOST"], "name": "GONE"}
    assert action["data"]["old"] == {"name": "LOST"}
    assert action["data"]["board"]["id"] == board
    assert (
        api.get(f"/boards/{board}/actions", params={"filter": "updateList:name"}).json()[0]["id"]
        == action["id"]
    )


def test_a_rename_to_the_same_name_logs_nothing(api: httpx.Client, board: str, lists: dict[str, str]) -> None:
    api.put(f"/lists/{lists['NEW']}", json={"name": "NEW"})
    assert _list_actions(api, board) == []


def test_archiving_a_list_keeps_its_cards_open(api: httpx.Client, board: str, lists: dict[str, str]) -> None:
    card = new_card(api, lists["LOST"], name="stays open")
    response = api.put(f"/lists/{lists['LOST']}/closed", json={"value": True})
    assert (response.status_code, response.json()["closed"]) == (200, True)
    (action,) = _list_actions(api, board)
    assert (action["data"]["list"]["closed"], action["data"]["old"]) == (True, {"closed": False})
    assert api.get(f"/cards/{card['id']}").json()["closed"] is False


def test_one_field_list_puts_take_value(api: httpx.Client, lists: dict[str, str]) -> None:
    assert api.put(f"/lists/{lists['NEW']}/name", params={"value": "FRESH"}).json()["name"] == "FRESH"
    assert api.put(f"/lists/{lists['NEW']}/pos", json={"value": "top"}).status_code == 200
    assert api.put(f"/lists/{lists['NEW']}/name", json={}).status_code == 400
    unknown = api.put(f"/lists/{lists['NEW']}/color", json={"value": "red"})
    assert unknown.status_code == 404


def test_a_list_on_a_board_the_member_cannot_see_is_401(api: httpx.Client, sandbox: RunningSandbox) -> None:
    made = api.post("/boards", params={"name": "Hidden"}).json()
    list_id = api.get(f"/boards/{made['id']}/lists").json()[0]["id"]
    with trello_client(sandbox, person=True) as person:
        response = person.put(f"/lists/{list_id}", params={"name": "x"})
    assert (response.status_code, response.text) == (401, "unauthorized permission requested")
    assert api.get(f"/lists/{list_id}").json()["name"] == "To Do"
