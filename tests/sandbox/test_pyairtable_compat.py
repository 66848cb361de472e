"""pyairtable 3.5.1, unchanged, works against the sandbox as it does against api.airtable.com."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

import pytest
import requests
from pyairtable import Api, Table
from pyairtable.formulas import AND, EQ, IS_AFTER, LAST_MODIFIED_TIME, NOT, OR, RECORD_ID, Field, match
from pyairtable.models import WebhookNotification
from pyairtable.models.schema import SingleSelectFieldSchema

from tests.fixtures_sandbox import RunningSandbox
from tests.sandbox.helpers import PingReceiver

SHARED_SEED = 37  # of this module's ``shared`` sandbox (tests/sandbox/conftest.py)


def api_for(sandbox: RunningSandbox) -> Api:
    return Api(sandbox.settings["AIRTABLE_API_KEY"], endpoint_url=sandbox.url)


@pytest.fixture
def table(shared: RunningSandbox) -> Table:
    shared.control("POST", "/reset")
    return api_for(shared).table(shared.settings["AIRTABLE_BASE_ID"], "Leads")


def test_records_are_created_listed_and_iterated_page_by_page(table: Table) -> None:
    made = table.batch_create([{"Name": f"Lead {i:02d}", "Status": "NEW"} for i in range(25)])
    assert len(made) == 25
    pages = list(table.iterate(page_size=10))
    assert [len(page) for page in pages] == [10, 10, 5]
    assert [r["id"] for page in pages for r in page] == [r["id"] for r in made]
    assert len(table.all(page_size=5, max_records=12)) == 12
    assert table.all(sort=["-Name"], fields=["Name"])[0]["fields"] == {"Name": "Lead 24"}
    assert table.get(made[3]["id"])["fields"] == {"Name": "Lead 03", "Status": "NEW"}
    first = table.first(formula=EQ(Field("Name"), "Lead 07"))
    assert first is not None
    assert first["id"] == made[7]["id"]


def test_pyairtable_formulas_select_exactly_the_right_records(shared: RunningSandbox, table: Table) -> None:
    ada, bob, obrien = table.batch_create(
        [
            {"Name": "Ada", "Email": "ada@example.com", "Status": "NEW"},
            {"Name": "Bob", "Status": "NEW"},
            {"Name": "O'Brien \\ Jr", "Status": "CONTACTED"},
        ]
    )

    def names(formula: object) -> list[str]:
        return sorted(r["fields"]["Name"] for r in table.all(formula=formula))

    assert names(match({"Status": "NEW"})) == ["Ada", "Bob"]
    assert names(match({"Name": "O'Brien \\ Jr"})) == ["O'Brien \\ Jr"]
    assert names(match({"Status": "NEW", "Name": "Bob"})) == ["Bob"]
    assert names(match({"Status": "CONTACTED", "Name": "Ada"}, match_any=True)) == ["Ada", "O'Brien \\ Jr"]
    assert names(AND(EQ(Field("Status"), "NEW"), NOT(Field("Email")))) == ["Bob"]
    assert names(OR(EQ(RECORD_ID(), ada["id"]), EQ(RECORD_ID(), obrien["id"]))) == ["Ada", "O'Brien \\ Jr"]
    watermark = datetime.fromisoformat(bob["createdTime"]) + timedelta(seconds=1)
    shared.control("POST", "/clock/advance", json={"seconds": 60})
    table.update(bob["id"], {"Status": "LOST"})
    assert names(IS_AFTER(LAST_MODIFIED_TIME(Field("Status")), watermark)) == ["Bob"]
    assert names(IS_AFTER(LAST_MODIFIED_TIME(Field("Email")), watermark)) == []


def test_batch_update_upsert_and_delete_work_in_chunks_of_ten(table: Table) -> None:
    made = table.batch_create([{"Name": f"Lead {i:02d}", "Email": f"{i}@example.com"} for i in range(12)])
    updated = table.batch_update([{"id": r["id"], "fields": {"Status": "CONTACTED"}} for r in made])
    assert {r["fields"]["Status"] for r in updated} == {"CONTACTED"}
    (replaced,) = table.batch_update([{"id": made[0]["id"], "fields": {"Name": "Only"}}], replace=True)
    assert replaced["fields"] == {"Name": "Only"}
    upserted = table.batch_upsert(
        [{"fields": {"Email": "1@example.com", "Status": "LOST"}}, {"fields": {"Email": "new@example.com"}}],
        key_fields=["Email"],
    )
    assert upserted["updatedRecords"] == [made[1]["id"]]
    assert len(upserted["createdRecords"]) == 1
    typecast = table.create({"Name": "T", "Status": "Brand new"}, typecast=True)
    assert typecast["fields"]["Status"] == "Brand new"
    deleted = table.batch_delete([r["id"] for r in made])
    assert deleted == [{"id": r["id"], "deleted": True} for r in made]
    assert sorted(r["id"] for r in table.all()) == sorted([upserted["createdRecords"][0], typecast["id"]])


def test_airtable_errors_reach_pyairtable_with_their_type(table: Table) -> None:
    with pytest.raises(requests.HTTPError, match="UNKNOWN_FIELD_NAME") as unknown:
        table.create({"Name": "x", "Foo": 1})
    assert unknown.value.response is not None
    assert unknown.value.response.status_code == 422
    with pytest.raises(requests.HTTPError, match="INVALID_MULTIPLE_CHOICE_OPTIONS"):
        table.create({"Status": "Brand new"})
    with pytest.raises(requests.HTTPError, match="INVALID_FILTER_BY_FORMULA"):
        table.all(formula="{Nope}='x'")
    with pytest.raises(requests.HTTPError) as missing:
        table.get("recAAAAAAAAAAAAAA")
    assert missing.value.response is not None
    assert missing.value.response.status_code == 404
    assert table.all() == []


def test_a_formula_too_long_for_a_url_goes_through_post_list_records(
    shared: RunningSandbox, table: Table
) -> None:
    made = table.batch_create([{"Name": f"Lead {i}"} for i in range(3)])
    wanted = [made[0]["id"], made[2]["id"]]
    padding = [f"rec{i:014d}" for i in range(700)]
    formula = OR(*(EQ(RECORD_ID(), record_id) for record_id in [*padding, *wanted]))
    assert sorted(r["id"] for r in table.all(formula=formula)) == sorted(wanted)
    posts = [r for r in shared.requests() if r["method"] == "POST" and r["path"].endswith("/listRecords")]
    assert [r["status"] for r in posts] == [200]


def test_the_schema_and_new_fields_parse_into_pyairtable_models(table: Table) -> None:
    schema = table.schema()
    assert schema.name == "Leads"
    assert schema.primary_field_id == schema.field("Name").id
    status = schema.field("Status")
    assert isinstance(status, SingleSelectFieldSchema)
    assert [c.name for c in status.options.choices] == ["NEW", "CONTACTED", "QUALIFIED", "LOST"]
    assert schema.view("Grid view").type == "grid"
    notes = table.create_field("Notes", "multilineText", description="Free text")
    assert notes.id.startswith("fld")
    tier = table.create_field("Tier", "singleSelect", options={"choices": [{"name": "Gold"}]})
    assert isinstance(tier, SingleSelectFieldSchema)
    assert tier.options.choices[0].id.startswith("sel")
    assert table.create({"Name": "x", "Notes": "hello", "Tier": "Gold"})["fields"]["Tier"] == "Gold"
    assert [f.name for f in table.schema(force=True).fields][-2:] == ["Notes", "Tier"]


def test_webhooks_are_managed_read_and_verified_with_pyairtable(sandbox: RunningSandbox) -> None:
    sandbox.control("POST", "/config", json={"rate_scale": 0})
    api = api_for(sandbox)
    base = api.base(sandbox.settings["AIRTABLE_BASE_ID"])
    table = base.table("Leads")
    table_id = table.schema().id
    receiver = PingReceiver(ok=204)
    with receiver.server:
        spec = {"options": {"filters": {"dataTypes": ["tableData"], "recordChangeScope": table_id}}}
        made = base.add_webhook(f"{receiver.server.url}/hook", spec)
        (hook,) = base.webhooks()
        assert (hook.id, hook.is_hook_enabled, hook.cursor_for_next_payload) == (made.id, True, 1)
        assert hook.specification.options.filters.record_change_scope == table_id
        table.create({"Name": "Ada", "Status": "NEW"})
        headers, body = receiver.first()
        notification = WebhookNotification.from_request(
            body.decode(), headers["x-airtable-content-mac"], made.mac_secret_base64
        )
        assert (notification.base.id, notification.webhook.id) == (base.id, made.id)
        wrong = base64.b64encode(b"not the secret").decode()
        with pytest.raises(ValueError, match="failed validation"):
            WebhookNotification.from_request(body.decode(), headers["x-airtable-content-mac"], wrong)
    for i in range(52):
        table.create({"Name": f"Lead {i}"})
    payloads = list(base.webhook(made.id).payloads())
    assert [p.cursor for p in payloads] == list(range(1, 54))  # 50 on the first page, 3 on the second
    first = payloads[0]
    assert first.action_metadata is not None
    assert first.action_metadata.source == "publicApi"
    (created,) = first.changed_tables_by_id[table_id].created_records_by_id.values()
    assert created.cell_values_by_field_id[table.schema().field("Status").id]["name"] == "NEW"
    assert list(base.webhook(made.id).payloads(cursor=53)) == [payloads[-1]]
    hook = base.webhook(made.id)
    hook.disable_notifications()
    assert base.webhook(made.id).are_notifications_enabled is False
    hook.enable_notifications()
    hook.extend_expiration()
    hook.delete()
    assert base.webhooks() == []
