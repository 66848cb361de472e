"""Airtable: creating, updating, upserting and deleting records, all-or-nothing, over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.fixtures_sandbox import RunningSandbox
from tests.sandbox.helpers import GENERIC_422, leads_path

SHARED_SEED = 23  # of this module's ``shared`` sandbox (tests/sandbox/conftest.py)


@dataclass
class Leads:
    client: httpx.Client
    path: str

    def create(self, *fields: dict[str, Any]) -> list[str]:
        response = self.client.post(self.path, json={"records": [{"fields": f} for f in fields]})
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["records"]]

    def fields(self) -> dict[str, dict[str, Any]]:
        """Every record's fields by id."""
        return {r["id"]: r["fields"] for r in self.client.get(self.path).json()["records"]}


@pytest.fixture
def leads(shared: RunningSandbox, client: httpx.Client) -> Leads:
    """The Leads table of the freshly reset ``shared`` sandbox, as leadsync sees it."""
    return Leads(client, leads_path(shared))


def test_a_single_create_returns_the_bare_record_and_a_batch_returns_records(leads: Leads) -> None:
    single = leads.client.post(leads.path, json={"fields": {"Name": "Ada"}}).json()
    assert set(single) == {"id", "createdTime", "fields"}
    batch = leads.client.post(
        leads.path, json={"records": [{"fields": {"Name": "Bob"}}, {"fields": {}}]}
    ).json()
    assert list(batch) == ["records"]
    assert [r["fields"] for r in batch["records"]] == [{"Name": "Bob"}, {}]
    assert len(leads.fields()) == 3


def test_more_than_10_records_in_one_write_is_422_and_writes_nothing(leads: Leads) -> None:
    ids = leads.create(*({"Name": f"Lead {i}"} for i in range(10)))
    eleven = [{"fields": {"Name": f"New {i}"}} for i in range(11)]
    assert leads.client.post(leads.path, json={"records": eleven}).json() == GENERIC_422
    updates = [{"id": i, "fields": {"Status": "LOST"}} for i in ids] + [{"id": ids[0], "fields": {}}]
    assert leads.client.patch(leads.path, json={"records": updates}).json() == GENERIC_422
    deleted = leads.client.delete(leads.path, params={"records[]": [*ids, ids[0]]})
    assert deleted.status_code == 422
    assert leads.client.post(leads.path, json={"records": []}).status_code == 422
    assert leads.fields() == {i: {"Name": f"Lead {n}"} for n, i in enumerate(ids)}


def test_patch_merges_and_put_replaces(leads: Leads) -> None:
    a, b = leads.create(
        {"Name": "Ada", "Email": "ada@example.com"}, {"Name": "Bob", "Email": "bob@example.com"}
    )
    merged = leads.client.patch(f"{leads.path}/{a}", json={"fields": {"Status": "NEW"}}).json()
    assert merged["fields"] == {"Name": "Ada", "Email": "ada@example.com", "Status": "NEW"}
    replaced = leads.client.put(f"{leads.path}/{b}", json={"fields": {"Status": "LOST"}}).json()
    assert replaced["fields"] == {"Status": "LOST"}
    batch = leads.client.put(leads.path, json={"records": [{"id": a, "fields": {"Name": "Ada L."}}]}).json()
    assert batch["records"][0]["fields"] == {"Name": "Ada L."}
    cleared = leads.client.patch(leads.path, json={"records": [{"id": a, "fields": {"Name": ""}}]}).json()
    assert cleared["records"][0]["fields"] == {}


def test_an_unknown_record_id_fails_the_whole_batch(leads: Leads) -> None:
    (a,) = leads.create({"Name": "Ada"})
    records = [
        {"id": a, "fields": {"Status": "NEW"}},
        {"id": "recAAAAAAAAAAAAAA", "fields": {"Status": "NEW"}},
    ]
    response = leads.client.patch(leads.path, json={"records": records})
    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "type": "ROW_DOES_NOT_EXIST",
            "message": "Record ID recAAAAAAAAAAAAAA does not exist in this table",
        }
    }
    assert leads.fields() == {a: {"Name": "Ada"}}
    single = leads.client.patch(f"{leads.path}/recAAAAAAAAAAAAAA", json={"fields": {"Name": "x"}})
    assert single.status_code == 404
    assert single.json()["error"]["type"] == "MODEL_ID_NOT_FOUND"


def test_an_unknown_field_name_rejects_the_whole_request(leads: Leads) -> None:
    (a,) = leads.create({"Name": "Ada"})
    records = [{"fields": {"Name": "Bob"}}, {"fields": {"Name": "Cy", "Foo": 1}}]
    response = leads.client.post(leads.path, json={"records": records})
    assert response.status_code == 422
    assert response.json() == {
        "error": {"type": "UNKNOWN_FIELD_NAME", "message": 'Unknown field name: "Foo"'}
    }
    patch = leads.client.patch(f"{leads.path}/{a}", json={"fields": {"Status": "NEW", "Foo": 1}})
    assert patch.status_code == 422
    assert leads.fields() == {a: {"Name": "Ada"}}


def test_an_unknown_select_option_needs_typecast_which_creates_it(
    shared: RunningSandbox, leads: Leads
) -> None:
    records = [{"fields": {"Name": "Ada", "Status": "NEW"}}, {"fields": {"Name": "Bob", "Status": "Foo"}}]
    refused = leads.client.post(leads.path, json={"records": records})
    assert refused.status_code == 422
    assert refused.json() == {
        "error": {
            "type": "INVALID_MULTIPLE_CHOICE_OPTIONS",
            "message": 'Insufficient permissions to create new select option ""Foo""',
        }
    }
    assert leads.fields() == {}
    records.append({"fields": {"Name": "Cy", "Status": "Foo"}})
    made = leads.client.post(leads.path, json={"records": records, "typecast": True}).json()
    assert [r["fields"]["Status"] for r in made["records"]] == ["NEW", "Foo", "Foo"]
    schema = leads.client.get(f"/v0/meta/bases/{shared.settings['AIRTABLE_BASE_ID']}/tables").json()
    status = next(f for f in schema["tables"][0]["fields"] if f["name"] == "Status")
    foo = [c for c in status["options"]["choices"] if c["name"] == "Foo"]
    assert len(foo) == 1
    assert foo[0]["id"].startswith("sel")
    assert len(foo[0]["id"]) == 17


def test_text_fields_take_strings_unless_typecast(leads: Leads) -> None:
    refused = leads.client.post(leads.path, json={"fields": {"Name": "Ada", "Email": 5}})
    assert refused.status_code == 422
    assert refused.json()["error"]["type"] == "INVALID_VALUE_FOR_COLUMN"
    cast = leads.client.post(leads.path, json={"fields": {"Name": 7, "Email": 5}, "typecast": True}).json()
    assert cast["fields"] == {"Name": "7", "Email": "5"}


def test_a_body_that_is_not_json_is_400_and_not_an_object_422(leads: Leads) -> None:
    headers = {"Content-Type": "application/json"}
    assert leads.client.post(leads.path, content=b'{"fields": {', headers=headers).status_code == 400
    assert leads.client.post(leads.path, content=b"[1, 2]", headers=headers).status_code == 422
    assert leads.client.post(leads.path, json={"fields": {}, "surprise": 1}).status_code == 422
    assert leads.fields() == {}


def test_upsert_creates_updates_and_says_which(leads: Leads) -> None:
    ada, bob = leads.create(
        {"Name": "Ada", "Email": "ada@example.com"}, {"Name": "Bob", "Email": "bob@example.com"}
    )
    body = {
        "performUpsert": {"fieldsToMergeOn": ["Email"]},
        "records": [
            {"fields": {"Email": "cy@example.com", "Name": "Cy"}},
            {"fields": {"Email": "ada@example.com", "Status": "QUALIFIED"}},
            {"id": bob, "fields": {"Email": "robert@example.com"}},  # an id bypasses the merge fields
        ],
    }
    result = leads.client.patch(leads.path, json=body).json()
    cy = result["records"][0]["id"]
    assert result["createdRecords"] == [cy]
    assert result["updatedRecords"] == [ada, bob]
    assert leads.fields() == {
        ada: {"Name": "Ada", "Email": "ada@example.com", "Status": "QUALIFIED"},
        bob: {"Name": "Bob", "Email": "robert@example.com"},
        cy: {"Name": "Cy", "Email": "cy@example.com"},
    }
    replaced = leads.client.put(
        leads.path,
        json={
            "performUpsert": {"fieldsToMergeOn": ["Email"]},
            "records": [{"fields": {"Email": "cy@example.com"}}],
        },
    ).json()
    assert replaced["updatedRecords"] == [cy]
    assert replaced["records"][0]["fields"] == {"Email": "cy@example.com"}


def test_an_upsert_matching_more_than_one_record_fails_the_whole_request(leads: Leads) -> None:
    leads.create({"Name": "Ada", "Email": "same@example.com"}, {"Name": "Ada 2", "Email": "same@example.com"})
    before = leads.fields()
    body = {
        "performUpsert": {"fieldsToMergeOn": ["Email"]},
        "records": [
            {"fields": {"Email": "new@example.com"}},
            {"fields": {"Email": "same@example.com", "Status": "NEW"}},
        ],
    }
    response = leads.client.patch(leads.path, json=body)
    assert response.status_code == 422
    assert leads.fields() == before
    bad_id = {
        "performUpsert": {"fieldsToMergeOn": ["Email"]},
        "records": [{"id": "recAAAAAAAAAAAAAA", "fields": {}}],
    }
    assert leads.client.patch(leads.path, json=bad_id).json()["error"]["type"] == "ROW_DOES_NOT_EXIST"
    unknown = {
        "performUpsert": {"fieldsToMergeOn": ["Mail"]},
        "records": [{"fields": {"Email": "x@example.com"}}],
    }
    assert leads.client.patch(leads.path, json=unknown).json()["error"]["type"] == "UNKNOWN_FIELD_NAME"
    assert leads.fields() == before


def test_delete_answers_per_record_and_an_unknown_id_deletes_nothing(leads: Leads) -> None:
    a, b, c = leads.create({"Name": "a"}, {"Name": "b"}, {"Name": "c"})
    assert leads.client.delete(f"{leads.path}/{a}").json() == {"id": a, "deleted": True}
    missing = leads.client.delete(leads.path, params={"records[]": [b, "recAAAAAAAAAAAAAA"]})
    assert missing.status_code == 404
    assert set(leads.fields()) == {b, c}
    batch = leads.client.delete(leads.path, params={"records[]": [b, c]}).json()
    assert batch == {"records": [{"id": b, "deleted": True}, {"id": c, "deleted": True}]}
    assert leads.fields() == {}
    assert leads.client.delete(f"{leads.path}/{a}").status_code == 404
