"""Airtable: creating and updating tables and fields through the metadata API, and what renames do."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from leadsync.sandbox.person import Person
from tests.fixtures_sandbox import RunningSandbox

AIRTABLE_ID = r"{}[A-Za-z0-9]{{14}}"
SHARED_SEED = 41  # of this module's ``shared`` sandbox (tests/sandbox/conftest.py)
CONTACTS = {
    "name": "Contacts",
    "description": "People we talk to",
    "fields": [
        {"name": "Full name", "type": "singleLineText"},
        {"name": "Phone", "type": "phoneNumber"},
        {"name": "Met on", "type": "date", "options": {"dateFormat": {"name": "iso"}}},
    ],
}


def tables_url(shared: RunningSandbox) -> str:
    return f"/v0/meta/bases/{shared.settings['AIRTABLE_BASE_ID']}/tables"


def schema(shared: RunningSandbox, client: httpx.Client) -> list[dict[str, Any]]:
    tables: list[dict[str, Any]] = client.get(tables_url(shared)).json()["tables"]
    return tables


def test_a_created_table_has_its_first_field_as_primary_a_grid_view_and_takes_records(
    shared: RunningSandbox, client: httpx.Client
) -> None:
    response = client.post(tables_url(shared), json=CONTACTS)
    assert response.status_code == 200, response.text
    table = response.json()
    assert re.fullmatch(AIRTABLE_ID.format("tbl"), table["id"])
    assert (table["name"], table["description"]) == ("Contacts", "People we talk to")
    assert [(f["name"], f["type"]) for f in table["fields"]] == [
        ("Full name", "singleLineText"),
        ("Phone", "phoneNumber"),
        ("Met on", "date"),
    ]
    assert table["primaryFieldId"] == table["fields"][0]["id"]
    assert table["fields"][2]["options"] == {"dateFormat": {"name": "iso", "format": "YYYY-MM-DD"}}
    (view,) = table["views"]
    assert (view["name"], view["type"]) == ("Grid view", "grid")
    assert schema(shared, client)[-1] == table
    base = shared.settings["AIRTABLE_BASE_ID"]
    made = client.post(
        f"/v0/{base}/{table['id']}", json={"fields": {"Full name": "Ada", "Met on": "2024-05-01"}}
    )
    assert made.json()["fields"] == {"Full name": "Ada", "Met on": "2024-05-01"}
    assert client.get(f"/v0/{base}/Contacts").json()["records"][0]["id"] == made.json()["id"]


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"name": "Contacts", "fields": []}, "INVALID_REQUEST_UNKNOWN"),  # at least one field
        ({"name": "Contacts"}, "INVALID_REQUEST_UNKNOWN"),
        (
            {"name": "leads", "fields": [{"name": "A", "type": "singleLineText"}]},
            "DUPLICATE_OR_EMPTY_TABLE_NAME",
        ),
        ({"name": "", "fields": [{"name": "A", "type": "singleLineText"}]}, "DUPLICATE_OR_EMPTY_TABLE_NAME"),
        (
            {
                "name": "C",
                "fields": [{"name": "A", "type": "singleLineText"}, {"name": "a", "type": "email"}],
            },
            "DUPLICATE_OR_EMPTY_FIELD_NAME",
        ),
        (
            {"name": "C", "fields": [{"name": "Done", "type": "checkbox"}]},
            "INVALID_REQUEST_UNKNOWN",
        ),  # primary
        ({"name": "C", "fields": [{"name": "N", "type": "autoNumber"}]}, "UNSUPPORTED_FIELD_TYPE_FOR_CREATE"),
        (
            {"name": "C", "description": "", "fields": [{"name": "A", "type": "email"}]},
            "INVALID_REQUEST_UNKNOWN",
        ),
        ({"name": "C", "fields": [{"name": "A", "type": "email"}], "views": []}, "INVALID_REQUEST_UNKNOWN"),
    ],
)
def test_an_invalid_new_table_is_422_with_its_error_type_and_changes_nothing(
    shared: RunningSandbox, client: httpx.Client, body: dict[str, Any], kind: str
) -> None:
    before = schema(shared, client)
    response = client.post(tables_url(shared), json=body)
    assert response.status_code == 422
    assert response.json()["error"]["type"] == kind
    assert schema(shared, client) == before


def test_a_renamed_table_keeps_its_id_and_its_old_name_is_table_not_found(
    shared: RunningSandbox, client: httpx.Client
) -> None:
    base, table_id = shared.settings["AIRTABLE_BASE_ID"], shared.state.airtable.table_id
    assert client.post(f"/v0/{base}/Leads", json={"fields": {"Name": "Ada"}}).status_code == 200
    response = client.patch(f"{tables_url(shared)}/Leads", json={"name": "Prospects", "description": "Warm"})
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["name"]) == (table_id, "Prospects")
    assert response.json()["description"] == "Warm"
    assert [f["name"] for f in response.json()["fields"]] == ["Name", "Email", "Status", "Source"]
    gone = client.get(f"/v0/{base}/Leads")
    assert gone.status_code == 404
    assert gone.json() == {
        "error": {"type": "TABLE_NOT_FOUND", "message": f"Could not find table Leads in application {base}"}
    }
    assert len(client.get(f"/v0/{base}/{table_id}").json()["records"]) == 1
    assert len(client.get(f"/v0/{base}/Prospects").json()["records"]) == 1


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"primaryFieldId": "fldAAAAAAAAAAAAAA"}, {"description": 5}],
)
def test_an_invalid_table_update_is_422_and_changes_nothing(
    shared: RunningSandbox, client: httpx.Client, body: dict[str, Any]
) -> None:
    before = schema(shared, client)
    assert client.patch(f"{tables_url(shared)}/Leads", json=body).status_code == 422
    assert schema(shared, client) == before


def test_a_renamed_field_keeps_its_id_and_its_cells_and_its_old_name_is_unknown(
    shared: RunningSandbox, client: httpx.Client
) -> None:
    base, table_id = shared.settings["AIRTABLE_BASE_ID"], shared.state.airtable.table_id
    source_id = next(f["id"] for f in schema(shared, client)[0]["fields"] if f["name"] == "Source")
    made = client.post(f"/v0/{base}/Leads", json={"fields": {"Name": "Ada", "Source": "fair"}}).json()
    response = client.patch(
        f"{tables_url(shared)}/{table_id}/fields/{source_id}",
        json={"name": "Channel", "description": "Where from"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "id": source_id,
        "name": "Channel",
        "type": "singleLineText",
        "description": "Where from",
    }
    assert client.get(f"/v0/{base}/Leads/{made['id']}").json()["fields"] == {"Name": "Ada", "Channel": "fair"}
    stale = client.patch(f"/v0/{base}/Leads/{made['id']}", json={"fields": {"Source": "web"}})
    assert stale.status_code == 422
    assert stale.json() == {
        "error": {"type": "UNKNOWN_FIELD_NAME", "message": 'Unknown field name: "Source"'}
    }
    by_id = client.patch(f"/v0/{base}/Leads/{made['id']}", json={"fields": {source_id: "web"}})
    assert by_id.json()["fields"]["Channel"] == "web"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"name": "email"}, 422),  # taken, case-insensitively
        ({"type": "multilineText"}, 422),
        ({"options": {"formula": "1"}}, 422),  # not a formula field
        ({}, 422),
    ],
)
def test_an_invalid_field_update_is_refused_and_changes_nothing(
    shared: RunningSandbox, client: httpx.Client, body: dict[str, Any], status: int
) -> None:
    table_id = shared.state.airtable.table_id
    before = schema(shared, client)
    source_id = before[0]["fields"][3]["id"]
    assert (
        client.patch(f"{tables_url(shared)}/{table_id}/fields/{source_id}", json=body).status_code == status
    )
    assert client.patch(
        f"{tables_url(shared)}/{table_id}/fields/fldNOPENOPENOPE1", json={"name": "X"}
    ).json() == {"error": "NOT_FOUND"}
    assert schema(shared, client) == before


def test_the_person_renames_tables_and_fields_through_the_api(
    shared: RunningSandbox, client: httpx.Client
) -> None:
    table_id = shared.state.airtable.table_id
    email_id = schema(shared, client)[0]["fields"][1]["id"]
    person = Person(shared.settings)
    try:
        assert person.rename_field(table_id, email_id, "E-mail")["id"] == email_id
        assert person.rename_table("Leads", "Prospects")["id"] == table_id
    finally:
        person.close()
    (table,) = schema(shared, client)
    assert table["name"] == "Prospects"
    assert table["fields"][1]["name"] == "E-mail"
