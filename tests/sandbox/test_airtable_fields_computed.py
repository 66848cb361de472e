"""Airtable: computed fields (autoNumber, createdTime, lastModifiedTime, formula) are computed on every
read, cannot be created through the API, and refuse writes with Airtable's 422."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures_sandbox import RunningSandbox
from tests.sandbox.helpers import leads_path

SHARED_SEED = 47  # of this module's ``shared`` sandbox (tests/sandbox/conftest.py)


def fields_url(shared: RunningSandbox) -> str:
    return f"/v0/meta/bases/{shared.settings['AIRTABLE_BASE_ID']}/tables/Leads/fields"


def add_field(shared: RunningSandbox, client: httpx.Client, config: dict[str, Any]) -> dict[str, Any]:
    response = client.post(fields_url(shared), json=config)
    assert response.status_code == 200, response.text
    field: dict[str, Any] = response.json()
    return field


@pytest.fixture
def computed(shared: RunningSandbox, client: httpx.Client) -> dict[str, dict[str, Any]]:
    """The Leads table with computed fields, added as a person would in the UI; their schemas by name."""
    shared.state.airtable.computed_fields_creatable = True
    status_id = next(
        f["id"]
        for f in client.get(f"/v0/meta/bases/{shared.settings['AIRTABLE_BASE_ID']}/tables").json()["tables"][
            0
        ]["fields"]
        if f["name"] == "Status"
    )
    configs: list[dict[str, Any]] = [
        {"name": "Number", "type": "autoNumber"},
        {"name": "Created", "type": "createdTime"},
        {"name": "Touched", "type": "lastModifiedTime"},
        {
            "name": "Status changed",
            "type": "lastModifiedTime",
            "options": {"referencedFieldIds": [status_id]},
        },
        {"name": "Label", "type": "formula", "options": {"formula": "{Name} & ' <' & {Email} & '>'"}},
    ]
    return {c["name"]: add_field(shared, client, c) for c in configs}


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("autoNumber", None),
        ("createdTime", None),
        ("lastModifiedTime", None),
        ("formula", {"formula": "1+1"}),
        ("rollup", None),
    ],
)
def test_computed_types_cannot_be_created_through_the_api(
    shared: RunningSandbox, client: httpx.Client, kind: str, options: dict[str, Any] | None
) -> None:
    response = client.post(fields_url(shared), json={"name": "Auto", "type": kind, "options": options})
    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "type": "UNSUPPORTED_FIELD_TYPE_FOR_CREATE",
            "message": f"Invalid options for Leads.Auto: Creating {kind} fields is not supported at this time",
        }
    }


def test_computed_cells_are_filled_in_at_creation(
    shared: RunningSandbox, client: httpx.Client, computed: dict[str, dict[str, Any]]
) -> None:
    path = leads_path(shared)
    made = client.post(path, json={"records": [{"fields": {"Name": n, "Email": f"{n}@x.io"}} for n in "AB"]})
    a, b = made.json()["records"]
    assert (a["fields"]["Number"], b["fields"]["Number"]) == (1, 2)
    assert (
        a["fields"]["Created"] == a["fields"]["Touched"] == a["fields"]["Status changed"] == a["createdTime"]
    )
    assert a["fields"]["Label"] == "A <A@x.io>"
    assert client.get(f"{path}/{b['id']}").json()["fields"]["Label"] == "B <B@x.io>"


def test_auto_numbers_grow_and_are_never_reused(
    shared: RunningSandbox, client: httpx.Client, computed: dict[str, dict[str, Any]]
) -> None:
    path = leads_path(shared)
    ids = [client.post(path, json={"fields": {"Name": n}}).json()["id"] for n in "ABC"]
    client.delete(f"{path}/{ids[2]}")
    later = client.post(path, json={"fields": {"Name": "D"}}).json()
    assert later["fields"]["Number"] == 4
    listed = client.get(path, params={"sort[0][field]": "Number", "sort[0][direction]": "desc"}).json()
    assert [r["fields"]["Name"] for r in listed["records"]] == ["D", "B", "A"]


def test_last_modified_time_fields_follow_their_fields_edits(
    shared: RunningSandbox, client: httpx.Client, computed: dict[str, dict[str, Any]]
) -> None:
    path = leads_path(shared)
    made = client.post(path, json={"fields": {"Name": "Ada", "Status": "NEW"}}).json()
    shared.control("POST", "/clock/advance", json={"seconds": 120})
    renamed = client.patch(f"{path}/{made['id']}", json={"fields": {"Name": "Ada L."}}).json()["fields"]
    assert renamed["Touched"] > made["createdTime"]
    assert renamed["Status changed"] == made["createdTime"]
    shared.control("POST", "/clock/advance", json={"seconds": 60})
    moved = client.patch(f"{path}/{made['id']}", json={"fields": {"Status": "LOST"}}).json()["fields"]
    assert moved["Status changed"] == moved["Touched"] > renamed["Touched"]
    assert moved["Created"] == made["createdTime"]
    assert moved["Label"] == "Ada L. <>"


def test_a_formula_field_is_stored_with_field_ids_and_survives_renames(
    shared: RunningSandbox, client: httpx.Client, computed: dict[str, dict[str, Any]]
) -> None:
    base, table_id = shared.settings["AIRTABLE_BASE_ID"], shared.state.airtable.table_id
    fields = client.get(f"/v0/meta/bases/{base}/tables").json()["tables"][0]["fields"]
    ids = {f["name"]: f["id"] for f in fields}
    options = computed["Label"]["options"]
    assert options["formula"] == f"{{{ids['Name']}}} & ' <' & {{{ids['Email']}}} & '>'"
    assert options["isValid"] is True
    assert options["referencedFieldIds"] == [ids["Name"], ids["Email"]]
    assert options["result"] == {"type": "singleLineText"}
    client.patch(f"/v0/meta/bases/{base}/tables/{table_id}/fields/{ids['Email']}", json={"name": "Mail"})
    made = client.post(leads_path(shared), json={"fields": {"Name": "Ada", "Mail": "a@x.io"}}).json()
    assert made["fields"]["Label"] == "Ada <a@x.io>"
    changed = client.patch(
        f"/v0/meta/bases/{base}/tables/{table_id}/fields/{computed['Label']['id']}",
        json={"options": {"formula": "LEN({Name}) * 2"}},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["options"]["result"]["type"] == "number"
    assert client.get(f"{leads_path(shared)}/{made['id']}").json()["fields"]["Label"] == 6
    assert len(client.get(leads_path(shared), params={"filterByFormula": "{Label}=6"}).json()["records"]) == 1


@pytest.mark.parametrize("key", ["Number", "Created", "Touched", "Label"])
def test_a_write_naming_a_computed_field_rejects_the_whole_request(
    shared: RunningSandbox, client: httpx.Client, computed: dict[str, dict[str, Any]], key: str
) -> None:
    path = leads_path(shared)
    body = {"records": [{"fields": {"Name": "Ok"}}, {"fields": {"Name": "Bad", key: 7}}]}
    expected = {
        "error": {
            "type": "INVALID_VALUE_FOR_COLUMN",
            "message": f'Field "{key}" cannot accept a value because the field is computed',
        }
    }
    created = client.post(path, json=body)
    assert (created.status_code, created.json()) == (422, expected)
    assert client.get(path).json()["records"] == []
    record = client.post(path, json={"fields": {"Name": "Ada"}}).json()
    patched = client.patch(f"{path}/{record['id']}", json={"fields": {"Name": "Eve", key: None}})
    assert (patched.status_code, patched.json()) == (422, expected)
    by_id = client.put(f"{path}/{record['id']}", json={"fields": {computed[key]["id"]: 1}})
    assert by_id.status_code == 422
    assert by_id.json()["error"]["type"] == "INVALID_VALUE_FOR_COLUMN"
    assert client.get(f"{path}/{record['id']}").json()["fields"]["Name"] == "Ada"


def test_an_invalid_formula_field_is_422(shared: RunningSandbox, client: httpx.Client) -> None:
    shared.state.airtable.computed_fields_creatable = True
    for formula in ("{Nope} & 'x'", "LEN(", 5):
        response = client.post(
            fields_url(shared), json={"name": "F", "type": "formula", "options": {"formula": formula}}
        )
        assert response.status_code == 422


def test_webhook_payloads_carry_the_computed_cells_a_write_changed(
    shared: RunningSandbox, client: httpx.Client, computed: dict[str, dict[str, Any]]
) -> None:
    base, table_id = shared.settings["AIRTABLE_BASE_ID"], shared.state.airtable.table_id
    hook = client.post(
        f"/v0/bases/{base}/webhooks",
        json={"specification": {"options": {"filters": {"dataTypes": ["tableData"]}}}},
    ).json()["id"]
    made = client.post(leads_path(shared), json={"fields": {"Name": "Ada"}}).json()
    shared.control("POST", "/clock/advance", json={"seconds": 60})
    edited = client.patch(f"{leads_path(shared)}/{made['id']}", json={"fields": {"Name": "Eve"}}).json()
    created, changed = client.get(f"/v0/bases/{base}/webhooks/{hook}/payloads").json()["payloads"]
    ids = {name: schema["id"] for name, schema in computed.items()}
    created_cells = created["changedTablesById"][table_id]["createdRecordsById"][made["id"]][
        "cellValuesByFieldId"
    ]
    assert created_cells[ids["Number"]] == 1
    assert created_cells[ids["Label"]] == "Ada <>"
    current = changed["changedTablesById"][table_id]["changedRecordsById"][made["id"]]["current"]
    assert current["cellValuesByFieldId"] == {
        shared.state.airtable.tables[table_id].primary_field_id: "Eve",
        ids["Touched"]: edited["fields"]["Touched"],
        ids["Label"]: "Eve <>",
    }
