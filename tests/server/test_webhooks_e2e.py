"""End-to-end: the sandbox delivers real signed webhooks to a real ``leadsync serve`` on loopback; no
poll runs. Every forged or malformed delivery is refused and changes nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
from pathlib import Path

import httpx
import pytest

from leadsync.sandbox.person import Person
from leadsync.store import Store
from tests.fixtures_sandbox import Leadsync, RunningSandbox
from tests.fixtures_server import Served, start_serve, wait_until


def lead_status(person: Person, lead_id: str) -> str | None:
    lead = next(r for r in person.leads() if r["id"] == lead_id)
    value = lead["fields"].get("Status")
    return str(value) if value else None


def card_status(person: Person, lead_id: str) -> str | None:
    cards = [c for c in person.cards() if f"Lead ID: {lead_id}" in c["desc"]]
    return person.status_of_list(cards[0]["idList"]) if len(cards) == 1 else None


def leadsync_writes(sandbox: RunningSandbox, since: int = 0) -> list[dict[str, object]]:
    return [r for r in sandbox.requests(since) if r["who"] == "leadsync" and r["method"] != "GET"
            and not str(r["path"]).endswith("/listRecords")]  # fmt: skip


def trello_sign(secret: str, body: bytes, callback: str) -> str:
    return base64.b64encode(
        hmac.new(secret.encode(), body + callback.encode(), hashlib.sha1).digest()
    ).decode()


# ---- changes travel without a poll ---------------------------------------------------------------------


def test_a_new_lead_gets_its_card_from_the_airtable_webhook(served: Served, person: Person) -> None:
    lead = person.add_lead("Ada", status="NEW")
    wait_until(lambda: card_status(person, lead) == "NEW")


def test_a_persons_card_move_reaches_the_lead(served: Served, person: Person) -> None:
    lead = person.add_lead("Ada", status="NEW")
    wait_until(lambda: card_status(person, lead) == "NEW")
    person.move_card(person.card_for(lead)["id"], "QUALIFIED")
    wait_until(lambda: lead_status(person, lead) == "QUALIFIED")


def test_a_lead_change_reaches_the_card(served: Served, person: Person) -> None:
    lead = person.add_lead("Ada", status="NEW")
    wait_until(lambda: card_status(person, lead) == "NEW")
    person.edit_lead(lead, Status="CONTACTED")
    wait_until(lambda: card_status(person, lead) == "CONTACTED")


def test_own_writes_do_not_echo_into_more_writes(
    served: Served, person: Person, sandbox: RunningSandbox
) -> None:
    lead = person.add_lead("Ada", status="NEW")
    wait_until(lambda: card_status(person, lead) == "NEW")
    seen = len(sandbox.requests())
    person.move_card(person.card_for(lead)["id"], "CONTACTED")
    wait_until(lambda: lead_status(person, lead) == "CONTACTED")
    # Let the echo of leadsync's own lead write come back through the Airtable webhook and settle.
    wait_until(lambda: sandbox.control("GET", "/deliveries")["pending"] == 0)
    events = served.health()["worker"]["events"]
    wait_until(lambda: served.health()["worker"]["events"] >= events, timeout=2)
    writes = leadsync_writes(sandbox, seen)
    assert [(w["method"], w["api"]) for w in writes] == [("PATCH", "airtable")]
    wait_until(lambda: served.health()["worker"]["echoes_ignored"] >= 1)


def test_a_burst_of_edits_converges_with_no_extra_writes(
    served: Served, person: Person, sandbox: RunningSandbox
) -> None:
    leads = [person.add_lead(f"Lead {i}", status="NEW") for i in range(8)]
    wait_until(lambda: all(card_status(person, lead) == "NEW" for lead in leads), timeout=30)
    seen = len(sandbox.requests())
    for lead in leads:
        person.edit_lead(lead, Status="CONTACTED")
    wait_until(lambda: all(card_status(person, lead) == "CONTACTED" for lead in leads), timeout=30)
    wait_until(lambda: sandbox.control("GET", "/deliveries")["pending"] == 0)
    writes = leadsync_writes(sandbox, seen)
    assert len(writes) == len(leads)  # one move per changed lead, nothing twice
    assert all(w["method"] == "PUT" for w in writes)
    assert len(person.cards("all")) == len(leads)


# ---- refused deliveries change nothing ------------------------------------------------------------------


def _nothing_happens(served: Served, sandbox: RunningSandbox, response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert served.health()["worker"]["events"] == 0


@pytest.fixture
def quiet(served: Served, sandbox: RunningSandbox) -> Served:
    """A server that has seen no event yet (the fixture's registration produced none)."""
    assert served.health()["worker"]["events"] == 0
    return served


def _delivery(person: Person) -> bytes:
    """A delivery naming a card, made up without touching the board (a real edit would send a real one)."""
    del person
    return json.dumps({"action": {"id": "a" * 24, "idMemberCreator": "b" * 24, "type": "updateCard",
                                  "data": {"card": {"id": "e" * 24}}}, "model": {}}).encode()  # fmt: skip


def test_an_unsigned_trello_delivery_is_refused(
    quiet: Served, sandbox: RunningSandbox, person: Person
) -> None:
    r = httpx.post(f"{quiet.url}/webhook/trello", content=_delivery(person))
    _nothing_happens(quiet, sandbox, r, 401)


def test_a_wrongly_signed_trello_delivery_is_refused(
    quiet: Served, sandbox: RunningSandbox, person: Person
) -> None:
    body = _delivery(person)
    forged = trello_sign("not-the-secret", body, f"{quiet.url}/webhook/trello")
    r = httpx.post(f"{quiet.url}/webhook/trello", content=body, headers={"X-Trello-Webhook": forged})
    _nothing_happens(quiet, sandbox, r, 401)


def test_a_delivery_signed_for_another_callback_url_is_refused(
    quiet: Served, sandbox: RunningSandbox, person: Person
) -> None:
    body = _delivery(person)
    other = trello_sign(
        sandbox.settings["TRELLO_API_SECRET"], body, "https://elsewhere.example/webhook/trello"
    )
    r = httpx.post(f"{quiet.url}/webhook/trello", content=body, headers={"X-Trello-Webhook": other})
    _nothing_happens(quiet, sandbox, r, 401)


def test_a_malformed_but_signed_delivery_is_a_bad_request(quiet: Served, sandbox: RunningSandbox) -> None:
    body = b"{not json"
    signature = trello_sign(sandbox.settings["TRELLO_API_SECRET"], body, f"{quiet.url}/webhook/trello")
    r = httpx.post(f"{quiet.url}/webhook/trello", content=body, headers={"X-Trello-Webhook": signature})
    _nothing_happens(quiet, sandbox, r, 400)


def test_an_oversized_delivery_is_refused(quiet: Served, sandbox: RunningSandbox) -> None:
    r = httpx.post(f"{quiet.url}/webhook/trello", content=b"x" * (2 << 20))
    _nothing_happens(quiet, sandbox, r, 413)


def test_a_forged_airtable_ping_is_refused(quiet: Served, sandbox: RunningSandbox) -> None:
    body = json.dumps({"base": {"id": sandbox.settings["AIRTABLE_BASE_ID"]}, "webhook": {"id": "achXXXXXXXXXXXXXX"},
                       "timestamp": "2026-01-01T00:00:00.000Z"}).encode()  # fmt: skip
    forged = "hmac-sha256=" + hmac.new(b"guess", body, hashlib.sha256).hexdigest()
    r = httpx.post(f"{quiet.url}/webhook/airtable", content=body, headers={"X-Airtable-Content-MAC": forged})
    _nothing_happens(quiet, sandbox, r, 401)
    r = httpx.post(f"{quiet.url}/webhook/airtable", content=body)
    _nothing_happens(quiet, sandbox, r, 401)


def test_a_replayed_delivery_changes_nothing_twice(
    served: Served, person: Person, sandbox: RunningSandbox
) -> None:
    lead = person.add_lead("Ada", status="NEW")
    wait_until(lambda: card_status(person, lead) == "NEW")
    card = person.card_for(lead)
    person.move_card(card["id"], "QUALIFIED")
    wait_until(lambda: lead_status(person, lead) == "QUALIFIED")
    wait_until(lambda: sandbox.control("GET", "/deliveries")["pending"] == 0)
    seen = len(sandbox.requests())
    # An attacker (or a retrying network) replays a genuine, validly signed old delivery.
    body = json.dumps({"action": {"id": "c" * 24, "idMemberCreator": "d" * 24, "type": "updateCard",
                                  "data": {"card": {"id": card["id"]}, "listAfter": {"id": person.lists["NEW"]}}},
                       "model": {}}).encode()  # fmt: skip
    signature = trello_sign(sandbox.settings["TRELLO_API_SECRET"], body, f"{served.url}/webhook/trello")
    for _ in range(3):
        r = httpx.post(f"{served.url}/webhook/trello", content=body, headers={"X-Trello-Webhook": signature})
        assert r.status_code == 200
    events = served.health()["worker"]["events"]
    wait_until(
        lambda: served.health()["worker"]["cycles"] > 0 and served.health()["worker"]["events"] == events
    )
    wait_until(lambda: not served.health()["worker"]["last_error"], timeout=5)
    assert leadsync_writes(sandbox, seen) == []
    assert lead_status(person, lead) == "QUALIFIED"


def test_the_trello_callback_answers_head(served: Served) -> None:
    assert httpx.head(f"{served.url}/webhook/trello").status_code == 200


def test_the_manual_trigger_needs_the_shared_secret(leadsync: Leadsync) -> None:
    server = start_serve(leadsync, name="manual", WEBHOOK_SECRET="s3cret-shared-value")
    try:
        assert httpx.post(f"{server.url}/sync").status_code == 401
        assert httpx.post(f"{server.url}/sync", headers={"X-Webhook-Secret": "wrong"}).status_code == 401
        assert (
            httpx.post(f"{server.url}/sync", headers={"X-Webhook-Secret": "s3cret-shared-value"}).status_code
            == 202
        )
    finally:
        server.stop()
    assert "s3cret-shared-value" not in server.log()


def test_notifications_airtable_disabled_are_re_enabled_by_the_sweep(
    leadsync: Leadsync, sandbox: RunningSandbox
) -> None:
    server = start_serve(leadsync, name="sweeper", sweep="5")
    try:
        run = leadsync.run("webhooks", "register", env=leadsync.env(LEADSYNC_PUBLIC_URL=server.url))
        assert run.code == 0, run.stderr
        s = sandbox.settings
        api = httpx.Client(base_url=f"{s['AIRTABLE_API_URL']}/v0/bases/{s['AIRTABLE_BASE_ID']}/webhooks",
                           headers={"Authorization": f"Bearer {s['AIRTABLE_API_KEY']}"})  # fmt: skip
        hook = api.get("").json()["webhooks"][0]
        api.post(f"/{hook['id']}/enableNotifications", json={"enable": False}).raise_for_status()
        wait_until(lambda: api.get("").json()["webhooks"][0]["areNotificationsEnabled"] is True, timeout=20)
    finally:
        server.stop()


@pytest.mark.postgres
def test_two_servers_on_one_postgresql_store_never_run_two_cycles_at_once(
    sandbox: RunningSandbox, person: Person, pg_url: str, tmp_path: Path
) -> None:
    sandbox.control("POST", "/config", json={"rate_scale": 0})
    leadsync = Leadsync(sandbox, tmp_path, {"LEADSYNC_DATABASE_URL": pg_url})
    first = start_serve(leadsync, name="one", LEADSYNC_DATABASE_URL=pg_url, sweep="1")
    second = start_serve(leadsync, name="two", LEADSYNC_DATABASE_URL=pg_url, sweep="1")
    try:
        leads = [person.add_lead(f"Lead {i}", status="NEW") for i in range(10)]
        wait_until(lambda: all(card_status(person, lead) == "NEW" for lead in leads), timeout=30)
        for lead in leads:
            person.edit_lead(lead, Status="CONTACTED")
        wait_until(lambda: all(card_status(person, lead) == "CONTACTED" for lead in leads), timeout=30)
        wait_until(lambda: first.health()["worker"]["cycles"] > 2 and second.health()["worker"]["cycles"] > 2)
    finally:
        first.stop()
        second.stop()
    store = Store.open(pg_url)
    try:
        from sqlalchemy import select

        from leadsync.store.schema import cycles

        with store._engine.connect() as conn:  # the test reads the cycle log directly
            rows = conn.execute(
                select(cycles.c.started_at, cycles.c.finished_at).order_by(cycles.c.started_at)
            ).all()
    finally:
        store.close()
    assert len(rows) > 5
    for (_, end), (next_start, _) in itertools.pairwise(rows):
        assert end is not None
        assert end <= next_start, "two cycles overlapped"
    assert len(person.cards("all")) == len(leads)


def test_the_airtable_webhook_is_refreshed_before_it_expires(
    leadsync: Leadsync, sandbox: RunningSandbox
) -> None:
    # Six days back on the sandbox's clock: the webhook it creates expires within a day of leadsync's now.
    sandbox.control("POST", "/clock/advance", json={"seconds": -6 * 86400})
    server = start_serve(leadsync, name="refresher", sweep="2")
    try:
        run = leadsync.run("webhooks", "register", env=leadsync.env(LEADSYNC_PUBLIC_URL=server.url))
        assert run.code == 0, run.stderr
        seen = len(sandbox.requests())
        wait_until(lambda: any(str(r["path"]).endswith("/refresh") and r["status"] == 200
                               for r in sandbox.requests(seen)), timeout=20)  # fmt: skip
    finally:
        server.stop()
    assert "refreshed Airtable webhook" in server.log()
