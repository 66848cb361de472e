"""Contract: one card field at a time: ``GET /1/cards/{id}/{field}`` answers ``{"_value": ...}``, and the
older ``PUT /1/cards/{id}/{field}`` with ``value`` (py-trello still sends it, JSON body) has the same
effects and actions as ``PUT /1/cards/{id}``, due dates included."""

from __future__ import annotations

import httpx

from tests.sandbox.helpers import new_card


def test_one_card_field_answers_under_value(api: httpx.Client, lists: dict[str, str]) -> None:
    card = new_card(api, lists["NEW"], name="Ada", due="2020-01-01T00:00:00.000Z")
    assert api.get(f"/cards/{card['id']}/name").json() == {"_value": "Ada"}
    assert api.get(f"/cards/{card['id']}/due").json() == {"_value": "2020-01-01T00:00:00.000Z"}
    assert api.get(f"/cards/{card['id']}/idList").json() == {"_value": lists["NEW"]}
    assert api.get(f"/cards/{card['shortLink']}/labels").json() == {"_value": []}
    unknown = api.get(f"/cards/{card['id']}/nonsense")
    assert (unknown.status_code, unknown.text) == (404, f"Cannot GET /1/cards/{card['id']}/nonsense")


def test_card_actions_still_answer_as_actions(api: httpx.Client, lists: dict[str, str]) -> None:
    card = new_card(api, lists["NEW"])
    assert isinstance(api.get(f"/cards/{card['id']}/actions").json(), list)


def test_a_one_field_put_renames_with_the_same_action_as_a_full_put(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["NEW"], name="Ada")
    response = api.put(f"/cards/{card['id']}/name", json={"value": "Ada Lovelace"})
    assert (response.status_code, response.json()["name"]) == (200, "Ada Lovelace")
    (action,) = api.get(f"/boards/{board}/actions", params={"filter": "updateCard:name"}).json()
    assert (action["data"]["card"]["name"], action["data"]["old"]) == ("Ada Lovelace", {"name": "Ada"})


def test_one_field_puts_set_due_due_complete_and_closed(api: httpx.Client, lists: dict[str, str]) -> None:
    card = new_card(api, lists["NEW"])
    assert api.put(f"/cards/{card['id']}/due", json={"value": "2020-05-05T10:00:00Z"}).json()["due"] == (
        "2020-05-05T10:00:00.000Z"
    )
    assert api.put(f"/cards/{card['id']}/dueComplete", json={"value": True}).json()["dueComplete"] is True
    assert api.put(f"/cards/{card['id']}/start", json={"value": None}).json()["start"] is None
    assert api.put(f"/cards/{card['id']}/closed", params={"value": "true"}).json()["closed"] is True


def test_a_one_field_put_moves_a_card_between_lists(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["NEW"])
    assert (
        api.put(f"/cards/{card['id']}/idList", json={"value": lists["QUALIFIED"]}).json()["idList"]
        == (lists["QUALIFIED"])
    )
    (move,) = api.get(f"/boards/{board}/actions", params={"filter": "updateCard:idList"}).json()
    assert move["data"]["old"] == {"idList": lists["NEW"]}


def test_a_one_field_put_validates_like_the_full_put(api: httpx.Client, lists: dict[str, str]) -> None:
    card = new_card(api, lists["NEW"])
    empty = api.put(f"/cards/{card['id']}/name", json={"value": ""})
    assert (empty.status_code, empty.text) == (400, "invalid value for name")
    assert api.put(f"/cards/{card['id']}/name", json={}).status_code == 400
    assert api.put(f"/cards/{card['id']}/idList", json={"value": "nope"}).status_code == 400
    unknown = api.put(f"/cards/{card['id']}/badges", json={"value": 1})
    assert (unknown.status_code, unknown.text) == (404, f"Cannot PUT /1/cards/{card['id']}/badges")


def test_subscribed_is_accepted_and_changes_nothing(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["NEW"])
    assert api.put(f"/cards/{card['id']}/subscribed", json={"value": True}).status_code == 200
    assert api.put(f"/cards/{card['id']}/subscribed", json={"value": "maybe"}).status_code == 400
    assert api.get(f"/boards/{board}/actions", params={"filter": "updateCard"}).json() == []
