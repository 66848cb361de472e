"""Contract: Trello's boards as a setup step creates and reads them: ``POST /1/boards`` with and without
the default lists and labels, ``GET /1/members/me/boards``, one board field at a time, members and
memberships, deletion, and what a member who cannot see a board gets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fixtures_sandbox import RunningSandbox
from tests.sandbox.helpers import trello_client


@pytest.fixture
def person(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    """The person's Trello client."""
    with trello_client(sandbox, person=True) as client:
        yield client


def _new_board(api: httpx.Client, **params: Any) -> dict[str, Any]:
    response = api.post("/boards", params=params)
    assert response.status_code == 200, response.text
    board: dict[str, Any] = response.json()
    return board


def test_a_new_board_comes_with_to_do_doing_done_and_six_default_labels(api: httpx.Client) -> None:
    board = _new_board(api, name="Onboarding")
    lists = api.get(f"/boards/{board['id']}/lists").json()
    assert [x["name"] for x in lists] == ["To Do", "Doing", "Done"]
    labels = api.get(f"/boards/{board['id']}/labels").json()
    assert [(x["name"], x["color"]) for x in labels] == [
        ("", c) for c in ("green", "yellow", "orange", "red", "purple", "blue")
    ]


def test_default_lists_and_labels_false_make_an_empty_board(api: httpx.Client) -> None:
    board = _new_board(api, name="Empty", defaultLists="false", defaultLabels="false")
    assert api.get(f"/boards/{board['id']}/lists").json() == []
    assert api.get(f"/boards/{board['id']}/labels").json() == []


def test_a_new_board_has_the_documented_fields_and_underscore_prefs(
    api: httpx.Client, sandbox: RunningSandbox
) -> None:
    board = _new_board(
        api, name="Sales", desc="pipeline", prefs_permissionLevel="public", prefs_background="green"
    )
    for name in ("id", "name", "desc", "closed", "idMemberCreator", "url", "shortUrl", "shortLink", "prefs",
                 "labelNames", "memberships", "dateLastActivity"):  # fmt: skip
        assert name in board, name
    assert (board["name"], board["desc"], board["closed"]) == ("Sales", "pipeline", False)
    assert board["prefs"]["permissionLevel"] == "public"
    assert board["prefs"]["background"] == "green"
    assert board["idMemberCreator"] == sandbox.state.leadsync.trello_member_id
    assert board["memberships"][0]["memberType"] == "admin"


def test_creating_a_board_is_refused_without_a_name_or_with_a_bad_pref(api: httpx.Client) -> None:
    for params in ({}, {"name": ""}, {"name": "x" * 16385}, {"name": "ok", "prefs_permissionLevel": "secret"},
                   {"name": "ok", "prefs_background": "mauve"}):  # fmt: skip
        response = api.post("/boards", params=params)
        assert response.status_code == 400, params
        assert response.text.startswith("invalid value for"), params


def test_creating_a_board_logs_create_board(api: httpx.Client) -> None:
    board = _new_board(api, name="Logged", defaultLists="false")
    actions = api.get(f"/boards/{board['id']}/actions", params={"filter": "all"}).json()
    assert [a["type"] for a in actions] == ["createBoard"]
    assert actions[0]["data"]["board"] == {
        "id": board["id"],
        "name": "Logged",
        "shortLink": board["shortLink"],
    }


def test_my_boards_lists_the_callers_boards_with_filter_and_fields(api: httpx.Client, board: str) -> None:
    made = _new_board(api, name="Second")
    shown = api.get("/members/me/boards", params={"filter": "open", "fields": "id,name"}).json()
    assert shown == [{"id": board, "name": "Lead Tasks"}, {"id": made["id"], "name": "Second"}]
    assert api.get("/members/me/boards", params={"filter": "closed"}).json() == []
    assert api.get("/members/me/boards", params={"filter": "nonsense"}).status_code == 400


def test_my_boards_may_carry_their_lists(api: httpx.Client) -> None:
    made = _new_board(api, name="With lists")
    shown = api.get("/members/me/boards", params={"fields": "name", "lists": "open"}).json()
    mine = next(b for b in shown if b["id"] == made["id"])
    assert [x["name"] for x in mine["lists"]] == ["To Do", "Doing", "Done"]


def test_a_board_created_by_one_member_is_not_in_anothers_boards(
    api: httpx.Client, person: httpx.Client
) -> None:
    made = _new_board(api, name="Private")
    assert made["id"] not in [b["id"] for b in person.get("/members/me/boards").json()]


def test_one_board_field_answers_under_value(api: httpx.Client, board: str) -> None:
    assert api.get(f"/boards/{board}/name").json() == {"_value": "Lead Tasks"}
    assert api.get(f"/boards/{board}/closed").json() == {"_value": False}
    assert api.get(f"/boards/{board}/prefs").json()["_value"]["permissionLevel"] == "private"
    unknown = api.get(f"/boards/{board}/nonsense")
    assert (unknown.status_code, unknown.text) == (404, f"Cannot GET /1/boards/{board}/nonsense")


def test_members_and_memberships_name_who_is_on_the_board(api: httpx.Client, sandbox: RunningSandbox) -> None:
    made = _new_board(api, name="Mine")
    me = sandbox.state.leadsync
    assert api.get(f"/boards/{made['id']}/members").json() == [
        {"id": me.trello_member_id, "fullName": me.full_name, "username": me.trello_username}
    ]
    memberships = api.get(f"/boards/{made['id']}/memberships").json()
    assert [(m["idMember"], m["memberType"]) for m in memberships] == [(me.trello_member_id, "admin")]
    assert api.get(f"/boards/{made['id']}/members", params={"filter": "normal"}).json() == []


def test_the_provisioned_board_has_both_identities_as_members(
    api: httpx.Client, board: str, sandbox: RunningSandbox
) -> None:
    ids = {m["id"] for m in api.get(f"/boards/{board}/members").json()}
    assert ids == {sandbox.state.leadsync.trello_member_id, sandbox.state.person.trello_member_id}


def test_a_member_who_cannot_see_a_board_gets_401_never_404(api: httpx.Client, person: httpx.Client) -> None:
    made = _new_board(api, name="Hidden")
    for path in (f"/boards/{made['id']}", f"/boards/{made['id']}/name", f"/boards/{made['id']}/labels",
                 f"/boards/{made['id']}/members", f"/boards/{made['id']}/lists"):  # fmt: skip
        response = person.get(path)
        assert (response.status_code, response.text) == (401, "unauthorized permission requested"), path
    missing = api.get("/boards/5f0000000000000000000000")
    assert (missing.status_code, missing.text) == (404, "The requested resource was not found.")


def test_a_deleted_board_is_gone_with_its_lists(api: httpx.Client) -> None:
    made = _new_board(api, name="Doomed")
    first_list = api.get(f"/boards/{made['id']}/lists").json()[0]["id"]
    assert api.delete(f"/boards/{made['id']}").status_code == 200
    assert api.get(f"/boards/{made['id']}").status_code == 404
    assert api.get(f"/lists/{first_list}").status_code == 404
    assert made["id"] not in [b["id"] for b in api.get("/members/me/boards").json()]


def test_only_an_admin_may_delete_a_board(person: httpx.Client, board: str) -> None:
    response = person.delete(f"/boards/{board}")
    assert response.status_code == 401
    assert person.get(f"/boards/{board}").status_code == 200
