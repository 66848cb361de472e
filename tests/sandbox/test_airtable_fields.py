"""Airtable: fields by id (reads, writes, formulas) and each field type's cell format and write errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures_sandbox import RunningSandbox
from tests.sandbox.helpers import leads_path

SHARED_SEED = 43  # of this module's ``shared`` sandbox (tests/sandbox/conftest.py)
TYPED_FIELDS: list[dict[str, Any]] = [
    {"name": "Due", "type": "date"},
    {"name": "Called at", "type": "dateTime", "options": {"timeZone": "utc"}},
    {"name": "Tags", "type": "multipleSelects", "options": {"choices": [{"name": "vip"}, {"name": "cold"}]}},
    {"name": "Score", "type": "number", "options": {"precision": 1}},
    {"name": "Phone", "type": "phoneNumber"},
    {"name": "Site", "type": "url"},
    {"name": "Done", "type": "checkbox"},
]


def field_ids(shared: RunningSandbox, client: httpx.Client) -> dict[str, str]:
    base = shared.settings["AIRTABLE_BASE_ID"]
    (table,) = client.get(f"/v0/meta/bases/{base}/tables").json()["tables"]
    return {f["name"]: f["id"] for f in table["fields"]}


@pytest.fixture
def typed(shared: RunningSandbox, client: httpx.Client) -> dict[str, str]:
    """The Leads table with one field of each type under test; their ids by name."""
    url = f"/v0/meta/bases/{shared.settings['AIRTABLE_BASE_ID']}/tables/Leads/fields"
    for config in TYPED_FIELDS:
        assert client.post(url, json=config).status_code == 200
    return field_ids(shared, client)


# ---- field ids -----------------------------------------------------------------------------------------


def test_writes_keyed_by_field_id_and_reads_keyed_by_field_id_on_request(
    shared: RunningSandbox, client: httpx.Client
) -> None:
    ids, path = field_ids(shared, client), leads_path(shared)
    made = client.post(
        path, json={"fields": {ids["Name"]: "Ada", "Status": "NEW"}, "returnFieldsByFieldId": True}
    )
    assert made.json()["fields"] == {ids["Name"]: "Ada", ids["Status"]: "NEW"}
    record_id = made.json()["id"]
    patched = client.patch(path, json={"records": [{"id": record_id, "fields": {ids["Email"]: "a@x.io"}}]})
    assert patched.json()["records"][0]["fields"] == {"Name": "Ada", "Status": "NEW", "Email": "a@x.io"}
    one = client.get(f"{path}/{record_id}", params={"returnFieldsByFieldId": "1"}).json()
    assert set(one["fields"]) == {ids["Name"], ids["Status"], ids["Email"]}
    listed = client.get(path, params={"returnFieldsByFieldId": "true", "fields[]": ids["Email"]}).json()
    assert listed["records"][0]["fields"] == {ids["Email"]: "a@x.io"}
    posted = client.post(
        f"{path}/listRecords", json={"returnFieldsByFieldId": True, "fields": ["Name"]}
    ).json()
    assert posted["records"][0]["fields"] == {ids["Name"]: "Ada"}


def test_an_unknown_field_id_in_a_write_rejects_the_whole_request(
    shared: RunningSandbox, client: httpx.Client
) -> None:
    path = leads_path(shared)
    response = client.post(
        path, json={"records": [{"fields": {"Name": "Ada"}}, {"fields": {"fldNOPENOPENOPE1": "x"}}]}
    )
    assert response.status_code == 422
    assert response.json() == {
        "error": {"type": "UNKNOWN_FIELD_NAME", "message": 'Unknown field name: "fldNOPENOPENOPE1"'}
    }
    assert client.get(path).json()["records"] == []


def test_with_documented_formulas_a_field_id_is_an_unknown_field_name_listed_lower_cased(
    shared: RunningSandbox, client: httpx.Client
) -> None:
    ids, path = field_ids(shared, client), leads_path(shared)
    client.post(path, json={"fields": {"Name": "Ada", "Status": "NEW"}})
    assert len(client.get(path, params={"filterByFormula": "{Status}='NEW'"}).json()["records"]) == 1
    for formula in (f"{{{ids['Status']}}}='NEW'", "AND({Taskboard Id}='x', {status}='NEW')"):
        response = client.get(path, params={"filterByFormula": formula})
        assert response.status_code == 422
        names = ids["Status"].lower() if "fld" in formula else "taskboard id, status"
        assert response.json() == {
            "error": {
                "type": "INVALID_FILTER_BY_FORMULA",
                "message": f"The formula for filtering records is invalid: Unknown field names: {names}",
            }
        }


# ---- cell formats and write errors ---------------------------------------------------------------------


def test_each_type_reads_back_in_its_documented_format(
    shared: RunningSandbox, client: httpx.Client, typed: dict[str, str]
) -> None:
    cells = {
        "Name": "Ada",
        "Due": "2024-05-01",
        "Called at": "2024-05-01T09:30:00+02:00",
        "Tags": ["vip", "cold"],
        "Score": 4.5,
        "Phone": "+44 20 7946 0000",
        "Site": "https://example.com",
        "Done": True,
    }
    made = client.post(leads_path(shared), json={"fields": cells})
    assert made.status_code == 200, made.text
    assert made.json()["fields"] == {**cells, "Called at": "2024-05-01T07:30:00.000Z"}


def test_an_unchecked_checkbox_and_a_null_cell_read_as_absent(
    shared: RunningSandbox, client: httpx.Client, typed: dict[str, str]
) -> None:
    path = leads_path(shared)
    made = client.post(path, json={"fields": {"Name": "Ada", "Done": True, "Phone": "1"}}).json()
    after = client.patch(f"{path}/{made['id']}", json={"fields": {"Done": False, "Phone": None}}).json()
    assert after["fields"] == {"Name": "Ada"}


@pytest.mark.parametrize(
    ("cells", "error_type"),
    [
        ({"Due": "next tuesday"}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Due": 20240501}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Called at": "not a time"}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Score": "4.5"}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Phone": 442079460000}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Site": ["https://example.com"]}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Done": "yes"}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Tags": "vip"}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Tags": ["vip", "hot"]}, "INVALID_MULTIPLE_CHOICE_OPTIONS"),
        ({"Status": "WON"}, "INVALID_MULTIPLE_CHOICE_OPTIONS"),
    ],
)
def test_a_value_the_type_cannot_hold_is_422_and_nothing_is_written(
    shared: RunningSandbox,
    client: httpx.Client,
    typed: dict[str, str],
    cells: dict[str, Any],
    error_type: str,
) -> None:
    path = leads_path(shared)
    response = client.post(
        path, json={"records": [{"fields": {"Name": "Ok"}}, {"fields": {"Name": "Bad", **cells}}]}
    )
    assert response.status_code == 422
    assert response.json()["error"]["type"] == error_type
    assert client.get(path).json()["records"] == []


def test_typecast_creates_missing_select_options_and_converts_strings(
    shared: RunningSandbox, client: httpx.Client, typed: dict[str, str]
) -> None:
    path = leads_path(shared)
    made = client.post(
        path,
        json={
            "fields": {"Name": "Ada", "Tags": ["vip", "hot"], "Score": "4.5", "Status": "WON"},
            "typecast": True,
        },
    )
    assert made.status_code == 200, made.text
    assert made.json()["fields"] == {"Name": "Ada", "Tags": ["vip", "hot"], "Score": 4.5, "Status": "WON"}
    base = shared.settings["AIRTABLE_BASE_ID"]
    fields = {f["name"]: f for f in client.get(f"/v0/meta/bases/{base}/tables").json()["tables"][0]["fields"]}
    assert [c["name"] for c in fields["Tags"]["options"]["choices"]] == ["vip", "cold", "hot"]
    assert fields["Tags"]["options"]["choices"][-1]["id"].startswith("sel")
    assert [c["name"] for c in fields["Status"]["options"]["choices"]][-1] == "WON"
    # Writing a multipleSelects cell replaces its options rather than adding to them.
    again = client.patch(f"{path}/{made.json()['id']}", json={"fields": {"Tags": ["cold"]}})
    assert again.json()["fields"]["Tags"] == ["cold"]


@pytest.mark.parametrize(
    "config",
    [
        {"name": "X", "type": "checkbox", "options": {"color": "greenLight2"}},
        {"name": "X", "type": "checkbox", "options": {"icon": "smile"}},
        {"name": "X", "type": "date", "options": {"dateFormat": {"name": "iso", "format": "l"}}},
        {"name": "X", "type": "date", "options": {"dateFormat": {"name": "martian"}}},
        {"name": "X", "type": "dateTime", "options": {"timeZone": "Mars/Olympus_Mons"}},
        {"name": "X", "type": "dateTime", "options": {"timeFormat": {"name": "36hour"}}},
        {"name": "X", "type": "number", "options": {"precision": 9}},
        {"name": "X", "type": "currency", "options": {"precision": 2}},
        {"name": "X", "type": "singleSelect", "options": {"choices": [{"name": "a", "color": "neon"}]}},
        {"name": "X", "type": "url", "description": ""},
        {"name": "X", "type": "teleporter"},
    ],
)
def test_a_field_with_options_its_type_does_not_take_is_422(
    shared: RunningSandbox, client: httpx.Client, config: dict[str, Any]
) -> None:
    url = f"/v0/meta/bases/{shared.settings['AIRTABLE_BASE_ID']}/tables/Leads/fields"
    response = client.post(url, json=config)
    assert response.status_code == 422
    assert response.json()["error"]["type"] == "INVALID_REQUEST_UNKNOWN"


def test_a_created_field_echoes_valid_options(shared: RunningSandbox, client: httpx.Client) -> None:
    url = f"/v0/meta/bases/{shared.settings['AIRTABLE_BASE_ID']}/tables/Leads/fields"
    config = {
        "name": "Visited",
        "type": "checkbox",
        "description": "Whether I have visited this apartment yet.",
        "options": {"color": "redBright", "icon": "star"},
    }
    made = client.post(url, json=config).json()
    assert {k: v for k, v in made.items() if k != "id"} == config
    when = client.post(
        url,
        json={
            "name": "When",
            "type": "dateTime",
            "options": {
                "timeZone": "America/New_York",
                "dateFormat": {"name": "us"},
                "timeFormat": {"name": "12hour"},
            },
        },
    ).json()
    assert when["options"] == {
        "timeZone": "America/New_York",
        "dateFormat": {"name": "us", "format": "M/D/YYYY"},
        "timeFormat": {"name": "12hour", "format": "h:mma"},
    }


def test_a_date_time_without_offset_is_read_in_the_fields_time_zone(
    shared: RunningSandbox, client: httpx.Client
) -> None:
    url = f"/v0/meta/bases/{shared.settings['AIRTABLE_BASE_ID']}/tables/Leads/fields"
    client.post(url, json={"name": "LA", "type": "dateTime", "options": {"timeZone": "America/Los_Angeles"}})
    client.post(url, json={"name": "UTC", "type": "dateTime", "options": {"timeZone": "utc"}})
    cells = {"LA": "2020-09-05T07:00:00", "UTC": "2020-09-05T07:00:00"}
    made = client.post(leads_path(shared), json={"fields": {"Name": "Ada", **cells}}).json()
    assert made["fields"]["LA"] == "2020-09-05T14:00:00.000Z"
    assert made["fields"]["UTC"] == "2020-09-05T07:00:00.000Z"
    exact = client.patch(
        f"{leads_path(shared)}/{made['id']}", json={"fields": {"LA": "2020-09-05T07:00:00Z"}}
    )
    assert exact.json()["fields"]["LA"] == "2020-09-05T07:00:00.000Z"
