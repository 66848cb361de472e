"""Airtable: the metadata API (base schema, creating fields), consistent with the records API."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.fixtures_sandbox import RunningSandbox

AIRTABLE_ID = r"{}[A-Za-z0-9]{{14}}"
SHARED_SEED = 23  # of this module's ``shared`` sandbox (tests/sandbox/conftest.py)


def test_the_schema_lists_the_leads_table_with_ids_choices_and_the_grid_view(
    shared: RunningSandbox, client: httpx.Client
) -> None:
    base = shared.settings["AIRTABLE_BASE_ID"]
    (table,) = client.get(f"/v0/meta/bases/{base}/tables").json()["tables"]
    assert re.fullmatch(AIRTABLE_ID.format("tbl"), table["id"])
    assert table["name"] == "Leads"
    fields = {f["name"]: f for f in table["fields"]}
    assert {n: f["type"] for n, f in fields.items()} == {
        "Name": "singleLineText",
        "Email": "email",
        "Status": "singleSelect",
        "Source": "singleLineText",
    }
    assert table["primaryFieldId"] == fields["Name"]["id"]
    assert all(re.fullmatch(AIRTABLE_ID.format("fld"), f["id"]) for f in table["fields"])
    choices = fields["Status"]["options"]["choices"]
    assert [c["name"] for c in choices] == ["NEW", "CONTACTED", "QUALIFIED", "LOST"]
    assert all(re.fullmatch(AIRTABLE_ID.format("sel"), c["id"]) and c["color"] for c in choices)
    (view,) = table["views"]
    assert (view["name"], view["type"]) == ("Grid view", "grid")
    assert re.fullmatch(AIRTABLE_ID.format("viw"), view["id"])
    with_visible = client.get(f"/v0/meta/bases/{base}/tables", params={"include": "visibleFieldIds"}).json()
    assert with_visible["tables"][0]["views"][0]["visibleFieldIds"] == [f["id"] for f in table["fields"]]


def test_a_created_field_appears_in_the_schema_and_takes_values(
    shared: RunningSandbox, client: httpx.Client
) -> None:
    base, table_id = shared.settings["AIRTABLE_BASE_ID"], shared.state.airtable.table_id
    made = client.post(
        f"/v0/meta/bases/{base}/tables/{table_id}/fields",
        json={
            "name": "Tier",
            "type": "singleSelect",
            "options": {"choices": [{"name": "Gold"}, {"name": "Silver"}]},
        },
    )
    assert made.status_code == 200
    field = made.json()
    assert re.fullmatch(AIRTABLE_ID.format("fld"), field["id"])
    assert [c["name"] for c in field["options"]["choices"]] == ["Gold", "Silver"]
    assert all(c["id"].startswith("sel") for c in field["options"]["choices"])
    schema = client.get(f"/v0/meta/bases/{base}/tables").json()["tables"][0]
    assert schema["fields"][-1] == field
    record = client.post(f"/v0/{base}/Leads", json={"fields": {"Name": "Ada", "Tier": "Gold"}})
    assert record.json()["fields"] == {"Name": "Ada", "Tier": "Gold"}
    assert client.post(f"/v0/{base}/Leads", json={"fields": {"Tier": "Bronze"}}).status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"name": "status", "type": "singleLineText"},  # names are unique case-insensitively
        {"name": "  ", "type": "singleLineText"},
        {"name": "Score", "type": "formula"},
        {"name": "Score", "type": "number"},  # a number needs options.precision
        {"name": "Notes", "type": "multilineText", "options": {"x": 1}},
    ],
)
def test_an_invalid_new_field_is_422_and_changes_nothing(
    shared: RunningSandbox, client: httpx.Client, body: dict[str, object]
) -> None:
    base, table_id = shared.settings["AIRTABLE_BASE_ID"], shared.state.airtable.table_id
    before = client.get(f"/v0/meta/bases/{base}/tables").json()
    response = client.post(f"/v0/meta/bases/{base}/tables/{table_id}/fields", json=body)
    assert response.status_code == 422
    assert client.get(f"/v0/meta/bases/{base}/tables").json() == before
