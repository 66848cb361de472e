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


# ---- list bases, whoami, scopes ------------------------------------------------------------------------


def test_list_bases_shows_the_base_with_its_permission_level_and_no_offset(
    shared: RunningSandbox, client: httpx.Client
) -> None:
    response = client.get("/v0/meta/bases")
    assert response.status_code == 200
    assert response.json() == {
        "bases": [
            {"id": shared.settings["AIRTABLE_BASE_ID"], "name": "Lead tracking", "permissionLevel": "create"}
        ]
    }


def test_list_bases_pages_1000_at_a_time_through_an_opaque_offset(
    shared: RunningSandbox, client: httpx.Client
) -> None:
    others = [{"id": f"app{i:014d}", "name": f"Base {i}", "permissionLevel": "read"} for i in range(1500)]
    shared.state.airtable.other_bases = others
    first = client.get("/v0/meta/bases").json()
    assert len(first["bases"]) == 1000
    assert re.fullmatch(r"itr[A-Za-z0-9]{14}/app\d{14}", first["offset"])
    second = client.get("/v0/meta/bases", params={"offset": first["offset"]}).json()
    assert "offset" not in second
    assert [b["id"] for b in first["bases"] + second["bases"]] == [
        shared.settings["AIRTABLE_BASE_ID"],
        *(b["id"] for b in others),
    ]
    bad = client.get("/v0/meta/bases", params={"offset": "itrNOTANOFFSET/appNOPE"})
    assert bad.status_code == 422
    assert bad.json()["error"]["type"] == "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"


def test_whoami_shows_scopes_only_to_oauth_tokens_and_email_only_with_its_scope(
    shared: RunningSandbox, client: httpx.Client
) -> None:
    world = shared.state.airtable
    assert "scopes" not in client.get("/v0/meta/whoami").json()  # a personal access token
    world.oauth_identities.add("leadsync")  # an OAuth access token lists its scopes
    assert client.get("/v0/meta/whoami").json()["scopes"] == sorted(world.scopes["leadsync"])
    world.oauth_identities.discard("leadsync")
    world.scopes["leadsync"].discard("user.email:read")
    assert client.get("/v0/meta/whoami").json() == {"id": shared.state.leadsync.airtable_user_id}


@pytest.mark.parametrize(
    ("scope", "method", "path"),
    [
        ("schema.bases:read", "GET", "/v0/meta/bases"),
        ("schema.bases:read", "GET", "/v0/meta/bases/{base}/tables"),
        ("schema.bases:write", "POST", "/v0/meta/bases/{base}/tables/Leads/fields"),
        ("schema.bases:write", "PATCH", "/v0/meta/bases/{base}/tables/Leads"),
        ("data.records:read", "GET", "/v0/{base}/Leads"),
        ("data.records:read", "POST", "/v0/{base}/Leads/listRecords"),
        ("data.records:write", "POST", "/v0/{base}/Leads"),
        ("webhook:manage", "GET", "/v0/bases/{base}/webhooks"),
    ],
)
def test_a_token_without_the_scope_gets_the_403_of_an_unknown_model(
    shared: RunningSandbox, client: httpx.Client, scope: str, method: str, path: str
) -> None:
    shared.state.airtable.scopes["leadsync"].discard(scope)
    url = path.format(base=shared.settings["AIRTABLE_BASE_ID"])
    response = client.request(method, url, json={"name": "Renamed"} if method != "GET" else None)
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND"
    assert client.get("/v0/meta/whoami").status_code == 200  # whoami needs no scope
