"""Airtable: listing and reading records (pagination, options, record shape), over HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.fixtures_sandbox import RunningSandbox
from tests.sandbox.helpers import GENERIC_422, airtable_client, leads_path

SHARED_SEED = 23  # of this module's ``shared`` sandbox (tests/sandbox/conftest.py)
ITERATOR_GONE = {"error": {"type": "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"}}


@dataclass
class Leads:
    client: httpx.Client
    path: str

    def page(self, **params: Any) -> httpx.Response:
        return self.client.get(self.path, params=params)

    def create(self, *fields: dict[str, Any]) -> list[str]:
        ids: list[str] = []
        for i in range(0, len(fields), 10):
            chunk = [{"fields": f} for f in fields[i : i + 10]]
            response = self.client.post(self.path, json={"records": chunk})
            assert response.status_code == 200, response.text
            ids += [r["id"] for r in response.json()["records"]]
        return ids


@contextmanager
def leads_of(sandbox: RunningSandbox) -> Iterator[Leads]:
    """The Leads table as leadsync sees it."""
    with airtable_client(sandbox) as client:
        yield Leads(client, leads_path(sandbox))


@pytest.fixture
def leads(shared: RunningSandbox, client: httpx.Client) -> Leads:
    """The Leads table of the freshly reset ``shared`` sandbox, as leadsync sees it."""
    return Leads(client, leads_path(shared))


def test_pages_carry_an_offset_only_while_more_records_remain(leads: Leads) -> None:
    ids = leads.create(*({"Name": f"Lead {i:02d}"} for i in range(25)))
    pages, offset = [], None
    while True:
        body = leads.page(pageSize=10, **({"offset": offset} if offset else {})).json()
        pages.append([r["id"] for r in body["records"]])
        offset = body.get("offset")
        if offset is None:
            break
        assert re.fullmatch(r"itr[A-Za-z0-9]{14}/rec[A-Za-z0-9]{14}", offset)
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [i for p in pages for i in p] == ids  # creation (grid view) order, no repeats
    whole = leads.page().json()
    assert len(whole["records"]) == 25
    assert "offset" not in whole


def test_max_records_caps_the_total_across_pages(leads: Leads) -> None:
    leads.create(*({"Name": f"Lead {i:02d}"} for i in range(25)))
    first = leads.page(pageSize=10, maxRecords=15).json()
    second = leads.page(pageSize=10, maxRecords=15, offset=first["offset"]).json()
    assert (len(first["records"]), len(second["records"])) == (10, 5)
    assert "offset" not in second


@pytest.mark.parametrize(
    "params", [{"pageSize": 101}, {"pageSize": 0}, {"pageSize": "ten"}, {"maxRecords": 0}]
)
def test_page_size_must_be_1_to_100_and_max_records_positive(leads: Leads, params: dict[str, Any]) -> None:
    response = leads.page(**params)
    assert response.status_code == 422
    assert response.json() == GENERIC_422


def test_an_unknown_query_parameter_is_422(leads: Leads) -> None:
    assert leads.page(fields="Name").status_code == 422  # the name is fields[], not fields


def test_an_offset_expires_after_minutes_of_inactivity(sandbox: RunningSandbox) -> None:
    sandbox.control("POST", "/config", json={"rate_scale": 0})
    with leads_of(sandbox) as leads:
        leads.create(*({"Name": f"Lead {i:02d}"} for i in range(30)))
        first = leads.page(pageSize=10).json()
        sandbox.control("POST", "/clock/advance", json={"seconds": 240})
        second = leads.page(pageSize=10, offset=first["offset"])
        assert second.status_code == 200  # four idle minutes are fine...
        sandbox.control("POST", "/clock/advance", json={"seconds": 301})
        third = leads.page(pageSize=10, offset=second.json()["offset"])
        assert third.status_code == 422  # ...five are not: the client must start again
        assert third.json() == ITERATOR_GONE
        assert len(leads.page(pageSize=10).json()["records"]) == 10


def test_an_offset_does_not_survive_a_reset_or_forgery(shared: RunningSandbox, leads: Leads) -> None:
    leads.create(*({"Name": f"Lead {i:02d}"} for i in range(12)))
    offset = leads.page(pageSize=10).json()["offset"]
    forged = offset.split("/")[0] + "/recAAAAAAAAAAAAAA"
    assert leads.page(pageSize=10, offset=forged).json() == ITERATOR_GONE
    shared.control("POST", "/reset")
    assert leads.page(pageSize=10, offset=offset).json() == ITERATOR_GONE


def test_fields_sort_and_field_ids_shape_what_is_returned(shared: RunningSandbox, leads: Leads) -> None:
    leads.create(
        {"Name": "b", "Status": "LOST", "Email": "b@example.com"},
        {"Name": "a", "Status": "NEW"},
        {"Name": "c", "Status": "CONTACTED"},
        {"Name": "d"},
    )
    by_status = leads.page(**{"sort[0][field]": "Status", "sort[0][direction]": "desc", "fields[]": "Name"})
    records = by_status.json()["records"]
    assert [r["fields"] for r in records] == [{"Name": "b"}, {"Name": "c"}, {"Name": "a"}, {"Name": "d"}]
    by_name = leads.page(**{"sort[0][field]": "Name", "returnFieldsByFieldId": "true"}).json()["records"]
    table = shared.state.airtable.tables[shared.state.airtable.table_id]
    name_id = table.primary_field_id
    assert [r["fields"][name_id] for r in by_name] == ["a", "b", "c", "d"]
    assert all(key.startswith("fld") for r in by_name for key in r["fields"])
    unknown = leads.client.get(leads.path, params={"fields[]": ["Name", "Nope"]})
    assert unknown.status_code == 422
    assert unknown.json() == {
        "error": {"type": "UNKNOWN_FIELD_NAME", "message": 'Unknown field name: "Nope"'}
    }


def test_post_list_records_takes_the_same_options_in_a_json_body(leads: Leads) -> None:
    leads.create(*({"Name": f"Lead {i:02d}", "Status": "NEW" if i % 2 else "LOST"} for i in range(15)))
    body = {
        "pageSize": 5,
        "fields": ["Name"],
        "filterByFormula": "{Status}='NEW'",
        "sort": [{"field": "Name", "direction": "desc"}],
    }
    first = leads.client.post(f"{leads.path}/listRecords", json=body).json()
    second = leads.client.post(f"{leads.path}/listRecords", json={**body, "offset": first["offset"]}).json()
    names = [r["fields"]["Name"] for r in first["records"] + second["records"]]
    via_get = leads.page(
        filterByFormula="{Status}='NEW'",
        **{"sort[0][field]": "Name", "sort[0][direction]": "desc", "fields[]": "Name"},
    ).json()
    assert (
        names
        == [r["fields"]["Name"] for r in via_get["records"]]
        == [f"Lead {i:02d}" for i in range(13, 0, -2)]
    )
    assert "offset" not in second
    # timeZone and userLocale must stay in the query string.
    in_body = leads.client.post(f"{leads.path}/listRecords", json={"timeZone": "UTC", "userLocale": "en"})
    assert in_body.status_code == 422
    in_query = leads.client.post(
        f"{leads.path}/listRecords",
        params={"timeZone": "UTC", "userLocale": "en"},
        json={"cellFormat": "string"},
    )
    assert in_query.status_code == 200


def test_the_grid_view_is_accepted_and_an_unknown_view_is_422(shared: RunningSandbox, leads: Leads) -> None:
    leads.create({"Name": "a"})
    view_id = shared.state.airtable.tables[shared.state.airtable.table_id].view_id
    assert len(leads.page(view="Grid view").json()["records"]) == 1
    assert len(leads.page(view=view_id).json()["records"]) == 1
    assert leads.page(view="Kanban").status_code == 422


def test_empty_values_are_omitted_and_ids_and_times_have_the_documented_shape(leads: Leads) -> None:
    response = leads.client.post(
        leads.path, json={"fields": {"Name": "Ada", "Email": "", "Status": None, "Source": "web"}}
    )
    record = response.json()
    assert record["fields"] == {"Name": "Ada", "Source": "web"}
    assert re.fullmatch(r"rec[A-Za-z0-9]{14}", record["id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["createdTime"])
    assert leads.page().json()["records"] == [record]


def test_a_record_is_read_by_id_and_an_unknown_id_is_404(leads: Leads) -> None:
    (record_id,) = leads.create({"Name": "Ada", "Status": "NEW"})
    response = leads.client.get(f"{leads.path}/{record_id}")
    assert response.status_code == 200
    assert response.json()["fields"] == {"Name": "Ada", "Status": "NEW"}
    missing = leads.client.get(f"{leads.path}/recAAAAAAAAAAAAAA")
    assert missing.status_code == 404
    assert missing.json() == {"error": {"type": "MODEL_ID_NOT_FOUND", "message": "Record not found"}}
