"""Contract: Trello's labels: a board's labels (list with its default limit of 50, create, read, update,
delete), the 30 colours and ``null``, labels on cards (add, remove, a card's whole set through ``PUT``),
the cards' ``labels``/``idLabels`` and every label action's ``data``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fixtures_sandbox import RunningSandbox
from tests.sandbox.helpers import new_card, trello_client


@pytest.fixture
def person(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    """The person's Trello client."""
    with trello_client(sandbox, person=True) as client:
        yield client


def _label(api: httpx.Client, board: str, name: str, color: str | None) -> dict[str, Any]:
    response = api.post("/labels", json={"name": name, "color": color, "idBoard": board})
    assert response.status_code == 200, response.text
    label: dict[str, Any] = response.json()
    return label


def _actions(api: httpx.Client, board: str, kinds: str) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = api.get(f"/boards/{board}/actions", params={"filter": kinds}).json()
    return actions


# ---- board labels ------------------------------------------------------------------------------------


def test_a_created_label_reads_back_with_its_name_color_and_board(api: httpx.Client, board: str) -> None:
    label = _label(api, board, "Hot", "red")
    assert set(label) == {"id", "idBoard", "name", "color"}
    assert (label["name"], label["color"], label["idBoard"]) == ("Hot", "red", board)
    assert api.get(f"/labels/{label['id']}").json() == label
    assert api.get(f"/boards/{board}/labels").json() == [{**label, "uses": 0}]


def test_labels_take_thirty_colours_or_null_and_nothing_else(api: httpx.Client, board: str) -> None:
    for color in ("green", "sky_dark", "black_light", "pink"):
        assert _label(api, board, color, color)["color"] == color
    assert _label(api, board, "plain", None)["color"] is None
    assert api.post(f"/boards/{board}/labels", params={"name": "n", "color": "null"}).json()["color"] is None
    for bad in ("mauve", "Red", "red_darker"):
        response = api.post("/labels", json={"name": "x", "color": bad, "idBoard": board})
        assert (response.status_code, response.text) == (400, "invalid value for color"), bad


def test_creating_a_label_needs_name_color_and_board(api: httpx.Client, board: str) -> None:
    for body, param in (({"color": "red", "idBoard": board}, "name"), ({"name": "x", "idBoard": board}, "color"),
                        ({"name": "x", "color": "red"}, "idBoard")):  # fmt: skip
        response = api.post("/labels", json=body)
        assert (response.status_code, response.text) == (400, f"invalid value for {param}")


def test_empty_and_repeated_label_names_are_valid(api: httpx.Client, board: str) -> None:
    first, second = _label(api, board, "", "green"), _label(api, board, "", "green")
    assert first["id"] != second["id"]
    assert first["name"] == second["name"] == ""


def test_board_labels_default_to_a_limit_of_50(api: httpx.Client, board: str) -> None:
    for i in range(52):
        _label(api, board, f"l{i}", None)
    assert len(api.get(f"/boards/{board}/labels").json()) == 50
    assert len(api.get(f"/boards/{board}/labels", params={"limit": 1000}).json()) == 52
    assert api.get(f"/boards/{board}/labels", params={"limit": 1001}).status_code == 400
    shown = api.get(f"/boards/{board}/labels", params={"fields": "name", "limit": 1}).json()
    assert set(shown[0]) == {"id", "name"}


def test_updating_a_label_returns_it_and_logs_old_name_and_old_color(api: httpx.Client, board: str) -> None:
    label = _label(api, board, "Hot", "red")
    assert api.put(f"/labels/{label['id']}", json={"name": "Warm"}).json()["name"] == "Warm"
    assert api.put(f"/labels/{label['id']}/color", json={"value": "orange"}).json()["color"] == "orange"
    renamed, recoloured = reversed(_actions(api, board, "updateLabel"))
    assert renamed["data"]["old"] == {"name": "Hot"}
    assert renamed["data"]["label"] == {"id": label["id"], "name": "Warm", "color": "red"}
    assert recoloured["data"]["old"] == {"color": "red"}
    assert recoloured["data"]["label"]["color"] == "orange"


def test_create_and_delete_label_actions(api: httpx.Client, board: str) -> None:
    label = _label(api, board, "Temp", None)
    (created,) = _actions(api, board, "createLabel")
    assert created["data"]["label"] == {"id": label["id"], "name": "Temp"}  # no colour: no ``color`` key
    assert api.delete(f"/labels/{label['id']}").status_code == 200
    assert api.get(f"/labels/{label['id']}").status_code == 404
    (deleted,) = _actions(api, board, "deleteLabel")
    assert deleted["data"]["label"] == {"id": label["id"]}
    assert deleted["data"]["board"]["id"] == board


def test_a_label_of_a_board_the_member_cannot_see_is_401(api: httpx.Client, person: httpx.Client) -> None:
    hidden = api.post("/boards", params={"name": "Hidden"}).json()
    label = api.get(f"/boards/{hidden['id']}/labels").json()[0]
    response = person.put(f"/labels/{label['id']}", json={"name": "mine"})
    assert (response.status_code, response.text) == (401, "unauthorized permission requested")


# ---- labels on cards ---------------------------------------------------------------------------------


def test_a_label_added_to_a_card_shows_in_id_labels_and_labels(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    label = _label(api, board, "Hot", "red")
    card = new_card(api, lists["NEW"], name="Ada")
    response = api.post(f"/cards/{card['id']}/idLabels", params={"value": label["id"]})
    assert (response.status_code, response.json()) == (200, [label["id"]])
    shown = api.get(f"/cards/{card['id']}").json()
    assert (shown["idLabels"], shown["labels"]) == ([label["id"]], [label])
    assert api.get(f"/boards/{board}/labels").json()[0]["uses"] == 1


def test_adding_a_label_already_on_the_card_is_400(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    label = _label(api, board, "Hot", "red")
    card = new_card(api, lists["NEW"], idLabels=label["id"])
    response = api.post(f"/cards/{card['id']}/idLabels", json={"value": label["id"]})
    assert (response.status_code, response.text) == (400, "that label is already on the card")


def test_the_label_routes_that_do_not_exist_are_express_404s(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    label = _label(api, board, "Hot", "red")
    card = new_card(api, lists["NEW"])
    response = api.post(f"/cards/{card['id']}/idLabels/{label['id']}")
    assert (response.status_code, response.text) == (
        404,
        f"Cannot POST /1/cards/{card['id']}/idLabels/{label['id']}",
    )


def test_removing_a_label_takes_it_off_the_card(api: httpx.Client, board: str, lists: dict[str, str]) -> None:
    label = _label(api, board, "Hot", "red")
    card = new_card(api, lists["NEW"], idLabels=label["id"])
    assert api.delete(f"/cards/{card['id']}/idLabels/{label['id']}").status_code == 200
    assert api.get(f"/cards/{card['id']}").json()["idLabels"] == []
    assert api.delete(f"/cards/{card['id']}/idLabels/{label['id']}").status_code == 404


def test_add_and_remove_actions_carry_label_board_card_text_and_value_but_no_list(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    label = _label(api, board, "", "orange")
    card = new_card(api, lists["NEW"], name="posts-per-page")
    api.post(f"/cards/{card['id']}/idLabels", params={"value": label["id"]})
    api.delete(f"/cards/{card['id']}/idLabels/{label['id']}")
    removed, added = _actions(api, board, "addLabelToCard,removeLabelFromCard")
    assert (added["type"], removed["type"]) == ("addLabelToCard", "removeLabelFromCard")
    for action in (added, removed):
        data = action["data"]
        assert set(data) == {"label", "board", "card", "text", "value"}
        assert data["label"] == {"id": label["id"], "name": "", "color": "orange"}
        assert (data["text"], data["value"]) == ("", "orange")
        assert data["card"] == {"id": card["id"], "name": "posts-per-page", "idShort": card["idShort"],
                                "shortLink": card["shortLink"]}  # fmt: skip


def test_an_uncoloured_labels_actions_have_no_color_and_no_value(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    label = _label(api, board, "banana", None)
    card = new_card(api, lists["NEW"])
    api.post(f"/cards/{card['id']}/idLabels", params={"value": label["id"]})
    (added,) = _actions(api, board, "addLabelToCard")
    assert added["data"]["label"] == {"id": label["id"], "name": "banana"}
    assert added["data"]["text"] == "banana"
    assert "value" not in added["data"]


def test_put_id_labels_sets_the_whole_set_and_logs_each_change(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    a, b, c = (_label(api, board, n, "green")["id"] for n in "abc")
    card = new_card(api, lists["NEW"], idLabels=f"{a},{b}")
    assert card["idLabels"] == [a, b]
    assert _actions(api, board, "addLabelToCard") == []  # labels given at creation are part of createCard
    shown = api.put(f"/cards/{card['id']}", json={"idLabels": f"{b},{c}"}).json()
    assert shown["idLabels"] == [b, c]
    logged = [
        (x["type"], x["data"]["label"]["id"])
        for x in _actions(api, board, "addLabelToCard,removeLabelFromCard")
    ]
    assert logged == [("removeLabelFromCard", a), ("addLabelToCard", c)]


def test_id_labels_must_be_object_ids_of_labels_of_the_cards_board(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["NEW"])
    bad = api.put(f"/cards/{card['id']}", json={"idLabels": "nope"})
    assert (bad.status_code, bad.json()) == (400, {"message": "Invalid objectId", "error": "ERROR"})
    other = api.post("/boards", params={"name": "Other"}).json()
    foreign = api.get(f"/boards/{other['id']}/labels").json()[0]["id"]
    assert api.put(f"/cards/{card['id']}", json={"idLabels": foreign}).status_code == 400
    assert api.post(f"/cards/{card['id']}/idLabels", params={"value": foreign}).status_code == 400


def test_a_card_label_created_through_the_card_is_a_board_label_on_the_card(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["NEW"])
    response = api.post(f"/cards/{card['id']}/labels", json={"color": "lime", "name": "VIP"})
    assert response.status_code == 200, response.text
    label = response.json()
    assert (label["name"], label["color"], label["idBoard"]) == ("VIP", "lime", board)
    assert api.get(f"/cards/{card['id']}").json()["idLabels"] == [label["id"]]
    assert [x["type"] for x in _actions(api, board, "createLabel,addLabelToCard")] == [
        "addLabelToCard",
        "createLabel",
    ]


def test_deleting_a_label_takes_it_off_every_card(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    label = _label(api, board, "Hot", "red")
    card = new_card(api, lists["NEW"], idLabels=label["id"])
    api.delete(f"/labels/{label['id']}")
    shown = api.get(f"/cards/{card['id']}").json()
    assert (shown["idLabels"], shown["labels"]) == ([], [])


def test_label_names_show_in_the_boards_label_names(api: httpx.Client, board: str) -> None:
    _label(api, board, "Hot", "red")
    _label(api, board, "Hotter", "red")
    names = api.get(f"/boards/{board}/labelNames").json()["_value"]
    assert (names["red"], names["green"]) == ("Hot", "")
