"""Contract: Trello's boards, lists and cards as a sync client reads and writes them (reference §2)."""

from __future__ import annotations

import re

import httpx

from tests.fixtures_sandbox import RunningSandbox
from tests.sandbox.helpers import new_card


def test_ids_are_24_hex_whose_first_8_are_the_creation_second(
    sandbox: RunningSandbox, api: httpx.Client, lists: dict[str, str]
) -> None:
    sandbox.control("POST", "/clock/advance", json={"seconds": 86400})  # ids follow the sandbox clock
    before = int(sandbox.state.clock.time())
    card = new_card(api, lists["NEW"], name="Ada")
    after = int(sandbox.state.clock.time())
    assert re.fullmatch(r"[0-9a-f]{24}", card["id"])
    assert before <= int(card["id"][:8], 16) <= after
    assert card["dateLastActivity"][:19] == _iso_second(int(card["id"][:8], 16))[:19]


def _iso_second(epoch: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")


def test_a_new_card_carries_the_documented_fields(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["NEW"], name="Follow up: Ada", desc="Lead ID: rec1")
    for name in ("id", "name", "desc", "idList", "idBoard", "closed", "dateLastActivity", "pos", "shortLink",
                 "shortUrl", "url", "idShort", "idLabels", "idMembers", "due", "dueComplete", "badges"):  # fmt: skip
        assert name in card, name
    assert (card["idList"], card["idBoard"], card["closed"]) == (lists["NEW"], board, False)
    assert re.fullmatch(r"[0-9A-Za-z]{8}", card["shortLink"])
    assert card["shortUrl"] == f"https://trello.com/c/{card['shortLink']}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", card["dateLastActivity"])


def test_a_card_without_a_name_is_named_empty(api: httpx.Client, lists: dict[str, str]) -> None:
    assert new_card(api, lists["NEW"])["name"] == ""


def test_id_short_counts_up_per_board(api: httpx.Client, lists: dict[str, str]) -> None:
    shorts = [new_card(api, lists[status])["idShort"] for status in ("NEW", "LOST", "NEW")]
    assert shorts == [1, 2, 3]


def test_cards_and_boards_answer_to_their_short_link(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["NEW"], name="short")
    by_link = api.get(f"/cards/{card['shortLink']}")
    assert (by_link.status_code, by_link.json()["id"]) == (200, card["id"])
    link = api.get(f"/boards/{board}", params={"fields": "shortLink"}).json()["shortLink"]
    assert api.get(f"/boards/{link}").json()["id"] == board
    assert api.put(f"/cards/{card['shortLink']}", json={"name": "renamed"}).json()["name"] == "renamed"


def test_posting_a_card_without_a_valid_id_list_is_400(api: httpx.Client) -> None:
    for body in ({"name": "x"}, {"idList": "nope"}, {"idList": "000000000000000000000000"}):
        response = api.post("/cards", json=body)
        assert (response.status_code, response.text) == (400, "invalid value for idList"), body


def test_description_and_name_lengths_are_enforced(api: httpx.Client, lists: dict[str, str]) -> None:
    longest = "d" * 16384
    card = new_card(api, lists["NEW"], name="n", desc=longest)
    assert card["desc"] == longest
    assert api.post("/cards", json={"idList": lists["NEW"], "desc": longest + "d"}).status_code == 400
    too_long = api.put(f"/cards/{card['id']}", json={"desc": longest + "d"})
    assert (too_long.status_code, too_long.text) == (400, "invalid value for desc")
    empty = api.put(f"/cards/{card['id']}", json={"name": ""})
    assert (empty.status_code, empty.text) == (400, "invalid value for name")
    assert api.put(f"/cards/{card['id']}", json={"name": "n" * 16385}).status_code == 400
    assert api.put(f"/cards/{card['id']}", json={"name": "n" * 16384}).status_code == 200
    assert api.get(f"/cards/{card['id']}", params={"fields": "desc"}).json()["desc"] == longest


def test_pos_takes_top_bottom_or_a_positive_number(api: httpx.Client, lists: dict[str, str]) -> None:
    first = new_card(api, lists["NEW"], name="first")
    last = new_card(api, lists["NEW"], name="last", pos="bottom")
    top = new_card(api, lists["NEW"], name="top", pos="top")
    exact = new_card(api, lists["NEW"], name="exact", pos=12.5)
    assert top["pos"] < first["pos"] < last["pos"]
    assert exact["pos"] == 12.5
    names = [c["name"] for c in api.get(f"/lists/{lists['NEW']}/cards", params={"fields": "name"}).json()]
    assert names == ["exact", "top", "first", "last"]
    for bad in ("middle", -1, 0):
        response = api.put(f"/cards/{first['id']}", json={"pos": bad})
        assert (response.status_code, response.text) == (400, "invalid value for pos"), bad


def test_moving_archiving_and_editing_a_card_by_put(api: httpx.Client, lists: dict[str, str]) -> None:
    card = new_card(api, lists["NEW"], name="Ada")
    moved = api.put(f"/cards/{card['id']}", params={"idList": lists["QUALIFIED"]}).json()  # query params
    assert moved["idList"] == lists["QUALIFIED"]
    archived = api.put(f"/cards/{card['id']}", data={"closed": "true", "desc": "notes"}).json()  # form body
    assert (archived["closed"], archived["desc"]) == (True, "notes")
    bad = api.put(f"/cards/{card['id']}", json={"idList": "000000000000000000000000"})
    assert (bad.status_code, bad.text) == (400, "invalid value for idList")
    assert api.put(f"/cards/{card['id']}", json={"closed": "maybe"}).status_code == 400


def test_every_change_bumps_date_last_activity(
    sandbox: RunningSandbox, api: httpx.Client, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["NEW"], name="Ada")
    stamps = [card["dateLastActivity"]]
    for change in ({"name": "Ada L."}, {"idList": lists["LOST"]}, {"closed": True}):
        sandbox.control("POST", "/clock/advance", json={"seconds": 2})
        stamps.append(api.put(f"/cards/{card['id']}", json=change).json()["dateLastActivity"])
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 4


def test_deleting_a_card_is_permanent(api: httpx.Client, board: str, lists: dict[str, str]) -> None:
    card = new_card(api, lists["NEW"], name="gone")
    deleted = api.delete(f"/cards/{card['id']}")
    assert (deleted.status_code, deleted.json()) == (200, {"limits": {}})
    again = api.get(f"/cards/{card['id']}")
    assert (again.status_code, again.text) == (404, "The requested resource was not found.")
    assert api.delete(f"/cards/{card['id']}").status_code == 404
    assert api.get(f"/boards/{board}/cards/all").json() == []


def test_archived_cards_are_hidden_unless_asked_for(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    kept = new_card(api, lists["NEW"], name="kept")
    archived = new_card(api, lists["CONTACTED"], name="archived")
    api.put(f"/cards/{archived['id']}", json={"closed": True})

    def ids(path: str, **params: str) -> set[str]:
        response = api.get(path, params=params)
        assert response.status_code == 200, response.text
        return {c["id"] for c in response.json()}

    assert ids(f"/boards/{board}/cards") == {kept["id"]}
    assert ids(f"/boards/{board}/cards/visible") == {kept["id"]}
    assert ids(f"/boards/{board}/cards/open") == {kept["id"]}
    assert ids(f"/boards/{board}/cards/all") == {kept["id"], archived["id"]}
    assert ids(f"/boards/{board}/cards", filter="all") == {kept["id"], archived["id"]}
    assert ids(f"/boards/{board}/cards/closed") == {archived["id"]}
    assert ids(f"/boards/{board}/cards/none") == set()
    assert ids(f"/lists/{lists['CONTACTED']}/cards") == set()
    assert ids(f"/lists/{lists['CONTACTED']}/cards", filter="all") == {archived["id"]}
    assert api.get(f"/boards/{board}/cards/upside").status_code == 400


def test_visible_cards_leave_out_cards_on_archived_lists(
    sandbox: RunningSandbox, api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["LOST"], name="on a list about to be archived")
    sandbox.state.trello.lists[lists["LOST"]].closed = True  # no PUT /1/lists in the sandbox yet
    assert api.get(f"/boards/{board}/cards").json() == []
    assert [c["id"] for c in api.get(f"/boards/{board}/cards/open").json()] == [card["id"]]


def test_fields_narrows_the_answer_and_always_keeps_the_id(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    card = new_card(api, lists["NEW"], name="Ada", desc="d")
    assert api.get(f"/boards/{board}/cards", params={"fields": "name,idList"}).json() == [
        {"id": card["id"], "name": "Ada", "idList": lists["NEW"]}
    ]
    assert api.get(f"/cards/{card['id']}", params={"fields": "desc"}).json() == {
        "id": card["id"],
        "desc": "d",
    }
    assert api.get(f"/boards/{board}", params={"fields": "name"}).json() == {
        "id": board,
        "name": "Lead Tasks",
    }
    limits = api.get(f"/boards/{board}", params={"fields": "limits"}).json()["limits"]
    assert limits["cards"]["openPerBoard"] == {"status": "ok", "disableAt": 5000, "warnAt": 4500}


def test_board_cards_page_by_limit_since_and_before(
    api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    made = [new_card(api, lists["NEW"], name=str(i))["id"] for i in range(4)]
    assert [c["id"] for c in api.get(f"/boards/{board}/cards", params={"limit": 2}).json()] == made[:2]
    after = api.get(f"/boards/{board}/cards", params={"since": made[1]}).json()
    assert [c["id"] for c in after] == made[2:]
    before = api.get(f"/boards/{board}/cards", params={"before": made[2]}).json()
    assert [c["id"] for c in before] == made[:2]
    for bad in ("0", "1001", "x"):
        assert api.get(f"/boards/{board}/cards", params={"limit": bad}).text == "invalid value for limit"


def test_board_lists_default_to_open_and_filter(
    sandbox: RunningSandbox, api: httpx.Client, board: str, lists: dict[str, str]
) -> None:
    names = [x["name"] for x in api.get(f"/boards/{board}/lists").json()]
    assert names == ["NEW", "CONTACTED", "QUALIFIED", "LOST"]
    sandbox.state.trello.lists[lists["LOST"]].closed = True
    assert [x["name"] for x in api.get(f"/boards/{board}/lists").json()] == ["NEW", "CONTACTED", "QUALIFIED"]
    assert [x["name"] for x in api.get(f"/boards/{board}/lists", params={"filter": "closed"}).json()] == [
        "LOST"
    ]
    assert len(api.get(f"/boards/{board}/lists", params={"filter": "all"}).json()) == 4
    assert api.get(f"/boards/{board}/lists", params={"filter": "none"}).json() == []
    assert api.get(f"/boards/{board}/lists", params={"fields": "name"}).json()[0] == {
        "id": lists["NEW"],
        "name": "NEW",
    }


def test_posting_a_list_adds_it_to_the_board(api: httpx.Client, board: str) -> None:
    created = api.post("/lists", json={"name": "ON HOLD", "idBoard": board, "pos": "bottom"})
    assert created.status_code == 200
    assert created.json()["idBoard"] == board
    assert [x["name"] for x in api.get(f"/boards/{board}/lists").json()][-1] == "ON HOLD"
    assert api.post("/lists", json={"name": "", "idBoard": board}).text == "invalid value for name"
    assert api.post("/lists", json={"name": "x"}).text == "invalid value for idBoard"
