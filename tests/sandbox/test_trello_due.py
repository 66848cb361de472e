"""Contract: due dates on cards (``due``, ``dueComplete``, ``start``, ``dueReminder``): stored and answered
in UTC with milliseconds and ``Z``, and each change logged as an ``updateCard`` action carrying exactly
the changed key in ``card`` and its previous value in ``old``."""

from __future__ import annotations

from typing import Any

import httpx

from tests.sandbox.helpers import new_card


def _updates(api: httpx.Client, board: str, sub: str) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = api.get(
        f"/boards/{board}/actions", params={"filter": f"updateCard:{sub}"}
    ).json()
    return actions


def test_due_and_start_are_answered_in_utc_with_milliseconds(
    api: httpx.Client, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["NEW"], due="2015-06-10T17:00:00+02:00", start="2015-06-01T09:30:00.5Z")
    assert (card["due"], card["start"]) == ("2015-06-10T15:00:00.000Z", "2015-06-01T09:30:00.500Z")
    assert card["badges"]["due"] == "2015-06-10T15:00:00.000Z"
    assert card["dueComplete"] is False


def test_a_date_that_is_not_iso_is_400(api: httpx.Client, lists: dict[str, str]) -> None:
    card = new_card(api, lists["NEW"])
    response = api.put(f"/cards/{card['id']}", json={"due": "next tuesday"})
    assert (response.status_code, response.text) == (400, "invalid value for due")


def test_setting_a_due_for_the_first_time_logs_old_due_null(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["NEW"], name="Increase revenue")
    api.put(f"/cards/{card['id']}", json={"due": "2017-12-12T17:00:00.000Z"})
    (action,) = _updates(api, board, "due")
    data = action["data"]
    assert data["card"]["due"] == "2017-12-12T17:00:00.000Z"
    assert data["old"] == {"due": None}
    assert data["list"] == {"id": lists["NEW"], "name": "NEW"}
    assert data["board"]["id"] == board
    assert action["display"]["translationKey"] == "action_added_a_due_date"
    assert action["display"]["entities"]["date"] == {"type": "date", "date": "2017-12-12T17:00:00.000Z"}


def test_changing_and_removing_a_due_log_the_previous_value(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["NEW"], due="2017-05-01T16:00:00.000Z")
    api.put(f"/cards/{card['id']}", json={"due": "2017-12-12T17:00:00.000Z"})
    api.put(f"/cards/{card['id']}", json={"due": None})
    removed, changed = _updates(api, board, "due")
    assert (changed["data"]["card"]["due"], changed["data"]["old"]) == (
        "2017-12-12T17:00:00.000Z",
        {"due": "2017-05-01T16:00:00.000Z"},
    )
    assert changed["display"]["translationKey"] == "action_changed_a_due_date"
    assert (removed["data"]["card"]["due"], removed["data"]["old"]) == (
        None,
        {"due": "2017-12-12T17:00:00.000Z"},
    )
    assert api.get(f"/cards/{card['id']}").json()["due"] is None


def test_completing_a_due_logs_old_due_complete(api: httpx.Client, board: str, lists: dict[str, str]) -> None:
    card = new_card(api, lists["NEW"], due="2017-05-01T16:00:00.000Z")
    shown = api.put(f"/cards/{card['id']}", json={"dueComplete": True}).json()
    assert shown["dueComplete"] is True
    (action,) = _updates(api, board, "dueComplete")
    assert (action["data"]["card"]["dueComplete"], action["data"]["old"]) == (True, {"dueComplete": False})
    assert "due" not in action["data"]["card"]  # exactly the changed key


def test_changing_start_logs_old_start(api: httpx.Client, board: str, lists: dict[str, str]) -> None:
    card = new_card(api, lists["NEW"])
    api.put(f"/cards/{card['id']}", json={"start": "2020-01-02T03:04:05.006Z"})
    (action,) = _updates(api, board, "start")
    assert (action["data"]["card"]["start"], action["data"]["old"]) == (
        "2020-01-02T03:04:05.006Z",
        {"start": None},
    )


def test_one_put_of_due_and_due_complete_logs_one_action_each(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["NEW"])
    api.put(f"/cards/{card['id']}", json={"due": "2021-01-01T00:00:00.000Z", "dueComplete": "true"})
    assert len(_updates(api, board, "due")) == 1
    assert len(_updates(api, board, "dueComplete")) == 1


def test_due_reminder_is_stored_in_minutes(api: httpx.Client, lists: dict[str, str]) -> None:
    card = new_card(api, lists["NEW"], due="2021-01-01T00:00:00.000Z")
    assert card["dueReminder"] is None
    assert api.put(f"/cards/{card['id']}", json={"dueReminder": 1440}).json()["dueReminder"] == 1440
    assert api.put(f"/cards/{card['id']}", json={"dueReminder": "soon"}).status_code == 400


def test_the_complete_and_incomplete_card_filters_follow_due_complete(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    done = new_card(api, lists["NEW"], dueComplete=True)
    open_ = new_card(api, lists["NEW"])
    assert [c["id"] for c in api.get(f"/boards/{board}/cards/complete").json()] == [done["id"]]
    assert [c["id"] for c in api.get(f"/boards/{board}/cards/incomplete").json()] == [open_["id"]]
