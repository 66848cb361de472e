"""Airtable: webhook payloads for schema changes (tables and fields) and for cells of each field type."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures_sandbox import RunningSandbox
from tests.sandbox.helpers import leads_path

SHARED_SEED = 53  # of this module's ``shared`` sandbox (tests/sandbox/conftest.py)


def hook(shared: RunningSandbox, client: httpx.Client, options: dict[str, Any]) -> str:
    base = shared.settings["AIRTABLE_BASE_ID"]
    response = client.post(f"/v0/bases/{base}/webhooks", json={"specification": {"options": options}})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def payloads(shared: RunningSandbox, client: httpx.Client, hook_id: str) -> list[dict[str, Any]]:
    base = shared.settings["AIRTABLE_BASE_ID"]
    found: list[dict[str, Any]] = client.get(f"/v0/bases/{base}/webhooks/{hook_id}/payloads").json()[
        "payloads"
    ]
    return found


def test_renaming_a_field_or_a_table_is_one_payload_keyed_by_id(
    shared: RunningSandbox, client: httpx.Client
) -> None:
    base, table_id = shared.settings["AIRTABLE_BASE_ID"], shared.state.airtable.table_id
    schema = hook(
        shared,
        client,
        {
            "filters": {"dataTypes": ["tableFields", "tableMetadata"]},
            "includes": {"includePreviousFieldDefinitions": True},
        },
    )
    without_previous = hook(shared, client, {"filters": {"dataTypes": ["tableFields"]}})
    data_only = hook(shared, client, {"filters": {"dataTypes": ["tableData"]}})
    source_id = next(
        f.id for f in shared.state.airtable.tables[table_id].fields.values() if f.name == "Source"
    )
    meta = f"/v0/meta/bases/{base}/tables/{table_id}"
    client.patch(f"{meta}/fields/{source_id}", json={"name": "Channel"})
    client.patch(meta, json={"name": "Prospects", "description": "Warm leads"})
    first, second = payloads(shared, client, schema)
    assert first["changedTablesById"] == {
        table_id: {
            "changedFieldsById": {source_id: {"current": {"name": "Channel"}, "previous": {"name": "Source"}}}
        }
    }
    assert second["changedTablesById"] == {
        table_id: {
            "changedMetadata": {
                "current": {"name": "Prospects", "description": "Warm leads"},
                "previous": {"name": "Leads", "description": None},
            }
        }
    }
    (only,) = payloads(shared, client, without_previous)
    assert only["changedTablesById"][table_id]["changedFieldsById"] == {
        source_id: {"current": {"name": "Channel"}}
    }
    assert payloads(shared, client, data_only) == []


def test_a_created_table_is_announced_with_its_fields(shared: RunningSandbox, client: httpx.Client) -> None:
    base = shared.settings["AIRTABLE_BASE_ID"]
    schema = hook(shared, client, {"filters": {"dataTypes": ["tableFields", "tableMetadata"]}})
    made = client.post(
        f"/v0/meta/bases/{base}/tables",
        json={"name": "Contacts", "fields": [{"name": "Full name", "type": "singleLineText"}]},
    ).json()
    (payload,) = payloads(shared, client, schema)
    assert payload["changedTablesById"] == {}
    assert payload["createdTablesById"] == {
        made["id"]: {
            "metadata": {"name": "Contacts", "description": None},
            "fieldsById": {made["fields"][0]["id"]: {"name": "Full name", "type": "singleLineText"}},
        }
    }


def test_cell_changes_are_keyed_by_field_id_with_selects_as_objects(
    shared: RunningSandbox, client: httpx.Client
) -> None:
    base, table_id = shared.settings["AIRTABLE_BASE_ID"], shared.state.airtable.table_id
    tags = client.post(
        f"/v0/meta/bases/{base}/tables/{table_id}/fields",
        json={"name": "Tags", "type": "multipleSelects", "options": {"choices": [{"name": "vip"}]}},
    ).json()
    due = client.post(
        f"/v0/meta/bases/{base}/tables/{table_id}/fields", json={"name": "Due", "type": "date"}
    ).json()
    data = hook(
        shared,
        client,
        {"filters": {"dataTypes": ["tableData"]}, "includes": {"includePreviousCellValues": True}},
    )
    record = client.post(leads_path(shared), json={"fields": {"Name": "Ada", "Due": "2024-05-01"}}).json()
    client.patch(
        f"{leads_path(shared)}/{record['id']}",
        json={"fields": {"Tags": ["vip", "new"], "Due": None}, "typecast": True},
    )
    _, changed = payloads(shared, client, data)
    change = changed["changedTablesById"][table_id]["changedRecordsById"][record["id"]]
    choices = {
        c["name"]: c
        for c in client.get(f"/v0/meta/bases/{base}/tables").json()["tables"][0]["fields"][-2]["options"][
            "choices"
        ]
    }
    assert change["current"]["cellValuesByFieldId"] == {
        tags["id"]: [choices["vip"], choices["new"]],
        due["id"]: None,
    }
    assert change["previous"]["cellValuesByFieldId"] == {tags["id"]: None, due["id"]: "2024-05-01"}
