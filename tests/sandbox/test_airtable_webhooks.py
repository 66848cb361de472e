"""Airtable webhooks: lifecycle, payloads, filters, and signed pings delivered to a real receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.fixtures_sandbox import RunningSandbox
from tests.sandbox.helpers import PingReceiver, airtable_client

TABLE_DATA = {"options": {"filters": {"dataTypes": ["tableData"]}}}
ISO_MS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
SHARED_SEED = 31  # of this module's ``shared`` sandbox (tests/sandbox/conftest.py)


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[PingReceiver]:
    r = PingReceiver()
    with r.server:
        yield r


@pytest.fixture
def receiver(receiver_server: PingReceiver) -> PingReceiver:
    """The module's receiver, with no pings recorded and no scripted statuses."""
    receiver_server.pings.clear()
    receiver_server.statuses.clear()
    return receiver_server


@dataclass
class Base:
    """The sandbox's base, as leadsync (``client``) and as the person (``person``)."""

    sandbox: RunningSandbox
    client: httpx.Client
    person: httpx.Client
    base_id: str

    @property
    def leads(self) -> str:
        return f"/v0/{self.base_id}/Leads"

    @property
    def hooks(self) -> str:
        return f"/v0/bases/{self.base_id}/webhooks"

    def table(self) -> dict[str, Any]:
        tables: list[dict[str, Any]] = self.client.get(f"/v0/meta/bases/{self.base_id}/tables").json()[
            "tables"
        ]
        return tables[0]

    def field_ids(self) -> dict[str, str]:
        return {f["name"]: f["id"] for f in self.table()["fields"]}

    def status_choice(self, name: str) -> dict[str, Any]:
        status = next(f for f in self.table()["fields"] if f["name"] == "Status")
        choice: dict[str, Any] = next(c for c in status["options"]["choices"] if c["name"] == name)
        return choice

    def add_hook(self, spec: dict[str, Any] = TABLE_DATA, url: str | None = None) -> dict[str, Any]:
        response = self.client.post(self.hooks, json={"notificationUrl": url, "specification": spec})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def hook(self, hook_id: str) -> dict[str, Any]:
        hooks: list[dict[str, Any]] = self.client.get(self.hooks).json()["webhooks"]
        return next(h for h in hooks if h["id"] == hook_id)

    def payloads(self, hook_id: str, **params: Any) -> dict[str, Any]:
        response = self.client.get(f"{self.hooks}/{hook_id}/payloads", params=params)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def create(self, *names: str, status: str = "NEW") -> list[str]:
        records = [{"fields": {"Name": n, "Status": status}} for n in names]
        return [r["id"] for r in self.client.post(self.leads, json={"records": records}).json()["records"]]

    def settle(self) -> None:
        """Wait until the sandbox has no delivery in flight, then a little more for stragglers."""
        deadline = time.monotonic() + 5
        while self.sandbox.control("GET", "/deliveries")["pending"] and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)


@contextmanager
def base_of(sandbox: RunningSandbox) -> Iterator[Base]:
    with (  # httpx's default 5 s timeout
        airtable_client(sandbox, timeout=5) as client,
        airtable_client(sandbox, person=True, timeout=5) as person,
    ):
        yield Base(sandbox, client, person, sandbox.settings["AIRTABLE_BASE_ID"])


@pytest.fixture
def base(shared: RunningSandbox) -> Iterator[Base]:
    shared.control("POST", "/reset")
    with base_of(shared) as b:
        yield b


@pytest.fixture
def fresh(sandbox: RunningSandbox) -> Iterator[Base]:
    """A base on its own sandbox: for tests that send pings or move the clock."""
    sandbox.control("POST", "/config", json={"rate_scale": 0})
    with base_of(sandbox) as b:
        yield b


def test_a_new_webhook_shows_its_secret_once_and_expires_in_seven_days(base: Base) -> None:
    made = base.add_hook(url="https://example.com/hook")
    assert set(made) == {"id", "macSecretBase64", "expirationTime"}
    assert re.fullmatch(r"ach[A-Za-z0-9]{14}", made["id"])
    assert len(base64.b64decode(made["macSecretBase64"])) >= 32
    expires = datetime.fromisoformat(made["expirationTime"])
    now = base.sandbox.state.clock.now()
    assert timedelta(days=7) - timedelta(seconds=5) < expires - now <= timedelta(days=7)
    listed = base.hook(made["id"])
    assert listed == {
        "id": made["id"],
        "areNotificationsEnabled": True,
        "cursorForNextPayload": 1,
        "isHookEnabled": True,
        "lastSuccessfulNotificationTime": None,
        "notificationUrl": "https://example.com/hook",
        "expirationTime": made["expirationTime"],
        "lastNotificationResult": None,
        "specification": TABLE_DATA,
    }


def test_each_write_request_makes_one_payload_with_v2_cell_values(base: Base) -> None:
    hook = base.add_hook()["id"]
    ids, table = base.field_ids(), base.table()["id"]
    a, b = base.create("Ada", "Bob")
    base.person.patch(f"{base.leads}/{a}", json={"fields": {"Status": "LOST"}})
    base.client.delete(f"{base.leads}/{b}")
    page = base.payloads(hook)
    first, second, third = page["payloads"]
    assert first["payloadFormat"] == "v0"
    assert re.fullmatch(ISO_MS, first["timestamp"])
    assert first["baseTransactionNumber"] < second["baseTransactionNumber"] < third["baseTransactionNumber"]
    leadsync, person = base.sandbox.state.leadsync, base.sandbox.state.person
    assert first["actionMetadata"] == {
        "source": "publicApi",
        "sourceMetadata": {
            "user": {"id": leadsync.airtable_user_id, "email": leadsync.email, "permissionLevel": "create"}
        },
    }
    created = first["changedTablesById"][table]["createdRecordsById"]
    assert set(created) == {a, b}
    assert created[a]["cellValuesByFieldId"] == {ids["Name"]: "Ada", ids["Status"]: base.status_choice("NEW")}
    assert re.fullmatch(ISO_MS, created[a]["createdTime"])
    assert second["actionMetadata"]["source"] == "client"  # the person stands for a human in the UI
    assert second["actionMetadata"]["sourceMetadata"]["user"]["id"] == person.airtable_user_id
    assert second["changedTablesById"] == {
        table: {
            "changedRecordsById": {
                a: {"current": {"cellValuesByFieldId": {ids["Status"]: base.status_choice("LOST")}}}
            }
        }
    }
    assert third["changedTablesById"] == {table: {"destroyedRecordIds": [b]}}


def test_previous_and_unchanged_values_come_only_when_the_spec_includes_them(base: Base) -> None:
    ids = base.field_ids()
    spec = {
        "options": {
            "filters": {"dataTypes": ["tableData"]},
            "includes": {"includePreviousCellValues": True, "includeCellValuesInFieldIds": [ids["Name"]]},
        }
    }
    hook = base.add_hook(spec)["id"]
    plain = base.add_hook()["id"]
    (a,) = base.create("Ada")
    base.client.patch(
        f"{base.leads}/{a}", json={"fields": {"Status": "CONTACTED", "Email": "ada@example.com"}}
    )
    base.client.patch(f"{base.leads}/{a}", json={"fields": {"Email": ""}})
    change, cleared = (p["changedTablesById"] for p in base.payloads(hook, cursor=2)["payloads"])
    (record,) = next(iter(change.values()))["changedRecordsById"].values()
    assert record == {
        "current": {
            "cellValuesByFieldId": {
                ids["Email"]: "ada@example.com",
                ids["Status"]: base.status_choice("CONTACTED"),
            }
        },
        "previous": {"cellValuesByFieldId": {ids["Email"]: None, ids["Status"]: base.status_choice("NEW")}},
        "unchanged": {"cellValuesByFieldId": {ids["Name"]: "Ada"}},
    }
    (record,) = next(iter(cleared.values()))["changedRecordsById"].values()
    assert record["current"] == {"cellValuesByFieldId": {ids["Email"]: None}}
    assert record["previous"] == {"cellValuesByFieldId": {ids["Email"]: "ada@example.com"}}
    (record,) = next(iter(base.payloads(plain, cursor=2)["payloads"][0]["changedTablesById"].values()))[
        "changedRecordsById"
    ].values()
    assert set(record) == {"current"}


def test_payload_cursors_count_up_and_might_have_more_says_when_to_stop(base: Base) -> None:
    hook = base.add_hook()["id"]
    (a,) = base.create("Ada")
    base.client.patch(f"{base.leads}/{a}", json={"fields": {"Status": "LOST"}})
    base.client.patch(f"{base.leads}/{a}", json={"fields": {"Status": "LOST"}})  # no change, no payload
    base.create("Bob")
    assert base.hook(hook)["cursorForNextPayload"] == 4
    first = base.payloads(hook, limit=2)
    assert (len(first["payloads"]), first["cursor"], first["mightHaveMore"]) == (2, 3, True)
    rest = base.payloads(hook, cursor=first["cursor"])
    assert (len(rest["payloads"]), rest["cursor"], rest["mightHaveMore"]) == (1, 4, False)
    assert "createdRecordsById" in next(iter(rest["payloads"][0]["changedTablesById"].values()))
    empty = base.payloads(hook, cursor=4)
    assert (empty["payloads"], empty["cursor"], empty["mightHaveMore"]) == ([], 4, False)
    again = base.payloads(hook, cursor=2, limit=1)  # the cursor is never reset: payloads can be re-read
    assert again["payloads"] == [first["payloads"][1]]
    for params in ({"limit": 51}, {"limit": 0}, {"cursor": 0}):
        assert base.client.get(f"{base.hooks}/{hook}/payloads", params=params).status_code == 422


def test_filters_decide_which_changes_make_payloads(base: Base) -> None:
    ids, table = base.field_ids(), base.table()["id"]

    def spec(**filters: Any) -> dict[str, Any]:
        return {"options": {"filters": {"dataTypes": ["tableData"], **filters}}}

    watch_status = base.add_hook(spec(watchDataInFieldIds=[ids["Status"]]))["id"]
    from_people = base.add_hook(spec(fromSources=["client"]))["id"]
    adds_only = base.add_hook(spec(changeTypes=["add"]))["id"]
    in_table = base.add_hook(spec(recordChangeScope=table))["id"]
    fields_only = base.add_hook({"options": {"filters": {"dataTypes": ["tableFields"]}}})["id"]
    (a,) = base.create("Ada")  # leadsync adds a record
    base.client.patch(f"{base.leads}/{a}", json={"fields": {"Name": "Ada L."}})  # leadsync edits the name
    base.person.patch(f"{base.leads}/{a}", json={"fields": {"Status": "LOST"}})  # the person edits the status

    def kinds(hook: str) -> list[str]:
        return [k for p in base.payloads(hook)["payloads"] for k in p["changedTablesById"][table]]

    assert kinds(watch_status) == ["createdRecordsById", "changedRecordsById"]
    assert kinds(from_people) == ["changedRecordsById"]
    assert kinds(adds_only) == ["createdRecordsById"]
    assert kinds(in_table) == ["createdRecordsById", "changedRecordsById", "changedRecordsById"]
    assert kinds(fields_only) == []
    base.client.post(
        f"/v0/meta/bases/{base.base_id}/tables/{table}/fields",
        json={"name": "Notes", "type": "multilineText"},
    )
    (created,) = base.payloads(fields_only)["payloads"]
    assert list(created["changedTablesById"][table]["createdFieldsById"].values()) == [
        {"name": "Notes", "type": "multilineText"}
    ]
    assert len(base.payloads(in_table)["payloads"]) == 3  # a tableData hook ignores schema changes


@pytest.mark.parametrize(
    "spec",
    [
        {"options": {"filters": {}}},
        {"options": {"filters": {"dataTypes": ["tableRows"]}}},
        {"options": {"filters": {"dataTypes": ["tableData"], "recordChangeScope": "tblAAAAAAAAAAAAAA"}}},
        {"options": {"filters": {"dataTypes": ["tableData"], "watchDataInFieldIds": ["fldAAAAAAAAAAAAAA"]}}},
        {
            "options": {
                "filters": {"dataTypes": ["tableData"]},
                "includes": {"includeCellValuesInFieldIds": "some"},
            }
        },
    ],
)
def test_an_invalid_specification_is_422(base: Base, spec: dict[str, Any]) -> None:
    response = base.client.post(base.hooks, json={"specification": spec})
    assert response.status_code == 422
    assert base.client.get(base.hooks).json() == {"webhooks": []}


def test_a_ping_is_signed_with_the_webhook_secret_over_the_exact_body(
    fresh: Base, receiver: PingReceiver
) -> None:
    made = fresh.add_hook(url=receiver.url)
    fresh.create("Ada")
    ((headers, body),) = receiver.wait_for(1)
    key = base64.b64decode(made["macSecretBase64"])
    expected = "hmac-sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-airtable-content-mac"], expected)
    ping = json.loads(body)
    assert set(ping) == {"base", "webhook", "timestamp"}
    assert (ping["base"], ping["webhook"]) == ({"id": fresh.base_id}, {"id": made["id"]})
    assert re.fullmatch(ISO_MS, ping["timestamp"])
    fresh.settle()
    listed = fresh.hook(made["id"])
    assert listed["lastSuccessfulNotificationTime"] is not None
    assert listed["lastNotificationResult"]["success"] is True
    assert listed["lastNotificationResult"]["retryNumber"] == 0


def test_pings_are_coalesced_while_one_is_undelivered_and_none_is_lost(
    fresh: Base, receiver: PingReceiver
) -> None:
    fresh.sandbox.control("POST", "/config", json={"airtable_ping_retry_delays": [0.5]})
    receiver.statuses = [503]
    hook = fresh.add_hook(url=receiver.url)["id"]
    fresh.create("Ada")
    fresh.create("Bob")
    fresh.create("Cy")
    fresh.create("Di")  # three payloads while the first ping waits for its retry
    receiver.wait_for(3)
    fresh.settle()
    # The failed attempt, its successful retry, and one more ping for the changes made meanwhile.
    assert len(receiver.pings) == 3
    assert fresh.hook(hook)["cursorForNextPayload"] == 5


def test_notifications_turn_off_after_the_retries_run_out(fresh: Base, receiver: PingReceiver) -> None:
    fresh.sandbox.control("POST", "/config", json={"airtable_ping_retry_delays": [0.05, 0.05]})
    receiver.statuses = [500, 500, 500]
    hook = fresh.add_hook(url=receiver.url)["id"]
    fresh.create("Ada")
    receiver.wait_for(3)
    fresh.settle()
    listed = fresh.hook(hook)
    assert listed["areNotificationsEnabled"] is False
    result = listed["lastNotificationResult"]
    assert (result["success"], result["retryNumber"], result["willBeRetried"]) == (False, 2, False)
    assert result["error"]["message"]
    assert re.fullmatch(ISO_MS, result["completionTimestamp"])
    fresh.create("Bob")  # payloads keep accumulating, but nobody is pinged
    fresh.settle()
    assert len(receiver.pings) == 3
    assert fresh.hook(hook)["cursorForNextPayload"] == 3
    enabled = fresh.client.post(f"{fresh.hooks}/{hook}/enableNotifications", json={"enable": True})
    assert enabled.status_code == 200
    fresh.create("Cy")
    receiver.wait_for(4)
    assert fresh.hook(hook)["areNotificationsEnabled"] is True


def test_refreshing_or_reading_payloads_extends_the_expiry_and_expired_hooks_go_quiet(
    fresh: Base, receiver: PingReceiver
) -> None:
    made = fresh.add_hook(url=receiver.url)
    hook = made["id"]

    def advance(days: float) -> None:
        fresh.sandbox.control("POST", "/clock/advance", json={"seconds": days * 86400})

    advance(3)
    fresh.payloads(hook)
    extended = fresh.hook(hook)["expirationTime"]
    assert datetime.fromisoformat(extended) - datetime.fromisoformat(made["expirationTime"]) >= timedelta(
        days=3
    )
    advance(1)
    refreshed = fresh.client.post(f"{fresh.hooks}/{hook}/refresh").json()["expirationTime"]
    assert datetime.fromisoformat(refreshed) - datetime.fromisoformat(extended) >= timedelta(days=1)
    advance(7.01)
    listed = fresh.hook(hook)
    assert listed["isHookEnabled"] is False
    fresh.create("Ada")
    fresh.settle()
    assert receiver.pings == []
    assert fresh.hook(hook)["cursorForNextPayload"] == 1
    fresh.payloads(hook)  # an expired hook stays readable, but reading does not revive it
    assert fresh.hook(hook)["isHookEnabled"] is False
    assert fresh.client.post(f"{fresh.hooks}/{hook}/refresh").status_code == 422
    advance(7.01)
    assert fresh.client.get(fresh.hooks).json() == {"webhooks": []}


def test_notifications_can_be_toggled_and_a_webhook_deleted(fresh: Base, receiver: PingReceiver) -> None:
    hook = fresh.add_hook(url=receiver.url)["id"]
    off = fresh.client.post(f"{fresh.hooks}/{hook}/enableNotifications", json={"enable": False})
    assert off.status_code == 200
    fresh.create("Ada")
    fresh.settle()
    assert receiver.pings == []
    assert (
        fresh.client.post(f"{fresh.hooks}/{hook}/enableNotifications", json={"enable": "yes"}).status_code
        == 422
    )
    assert fresh.client.delete(f"{fresh.hooks}/{hook}").status_code == 200
    assert fresh.client.get(fresh.hooks).json() == {"webhooks": []}
    for method, path in [("DELETE", ""), ("POST", "/refresh"), ("GET", "/payloads")]:
        response = fresh.client.request(method, f"{fresh.hooks}/{hook}{path}")
        assert response.status_code == 404
        assert response.json() == {"error": "NOT_FOUND"}
