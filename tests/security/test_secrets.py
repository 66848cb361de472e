"""No secret ever shows: not in any command's stdout or stderr at any verbosity, not in an error message,
not in the webhook server's log or health answer, not in the state store's activity log or cycle summaries.

The secrets are leadsync's own (Airtable token, Trello key and token, Trello application secret,
WEBHOOK_SECRET) and the Airtable webhook's MAC secret that ``webhooks register`` receives. Each test makes
the paths most likely to leak run: failing requests (whose errors carry a path), requests whose path holds
a credential (Trello's ``/1/tokens/{token}/webhooks``), read failures, configuration errors, debug logs.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import create_engine, text

from leadsync.clients.http import ApiHttp, RequestCounter, RetryRules
from leadsync.clients.trello import TrelloClient
from leadsync.errors import ApiError
from leadsync.sandbox.person import Person
from leadsync.store import Store
from tests.fixtures_sandbox import CliRun, Leadsync, RunningSandbox
from tests.fixtures_server import start_serve, wait_until

WEBHOOK_SECRET = "a-long-shared-webhook-secret-0123456789"


def secrets_of(sandbox: RunningSandbox) -> list[str]:
    s = sandbox.settings
    return [
        s["AIRTABLE_API_KEY"],
        s["TRELLO_API_KEY"],
        s["TRELLO_TOKEN"],
        s["TRELLO_API_SECRET"],
        WEBHOOK_SECRET,
    ]


def assert_clean(text: str, secrets: list[str], where: str) -> None:
    for secret in secrets:
        assert secret not in text, f"a secret ({secret[:4]}...) appears in {where}"


def assert_runs_clean(runs: list[CliRun], secrets: list[str]) -> None:
    for i, run in enumerate(runs):
        assert_clean(run.stdout, secrets, f"stdout of run {i}")
        assert_clean(run.stderr, secrets, f"stderr of run {i}")


def test_an_error_on_a_request_whose_path_holds_the_token_does_not_show_the_token(
    sandbox: RunningSandbox,
) -> None:
    """Trello lists webhooks at ``/1/tokens/{token}/webhooks``: the error must not carry that path as is."""
    s = sandbox.settings
    sandbox.fault("/1/tokens/", status=500, count=10)
    auth = f'OAuth oauth_consumer_key="{s["TRELLO_API_KEY"]}", oauth_token="{s["TRELLO_TOKEN"]}"'
    with httpx.Client(timeout=10) as client:
        http = ApiHttp("trello", client, s["TRELLO_API_URL"], pacers=[], counter=RequestCounter(),
                       rules=RetryRules(rate_limit_wait=0, attempts=1), headers={"Authorization": auth})  # fmt: skip
        trello = TrelloClient(http, s["TRELLO_BOARD_ID"])
        with pytest.raises(ApiError) as caught:
            trello.list_webhooks(s["TRELLO_TOKEN"])
        with pytest.raises(ApiError) as caught_create:
            trello.create_webhook("http://127.0.0.1:9/webhook/trello", s["TRELLO_TOKEN"])
    for exc in (caught.value, caught_create.value):
        assert exc.status == 500
        assert_clean(str(exc), secrets_of(sandbox), "the error message")
        assert_clean(repr(exc), secrets_of(sandbox), "the error's repr")
        assert_clean(exc.path, secrets_of(sandbox), "the error's path")


def test_no_command_shows_a_secret_at_any_verbosity(
    leadsync: Leadsync, person: Person, sandbox: RunningSandbox
) -> None:
    person.add_lead("Ada", "ada@example.com", "NEW")
    person.add_lead("Bob", status="NEW")
    sandbox.fault("/1/cards", method="POST", status=400, count=1, body="invalid value for idList")
    env = leadsync.env(WEBHOOK_SECRET=WEBHOOK_SECRET, LEADSYNC_PUBLIC_URL="http://127.0.0.1:9",
                       LEADSYNC_MAX_RETRY_SECONDS="1")  # fmt: skip
    runs = [leadsync.run(*(["-" + "v" * n] if n else []), "sync", "--json", env=env) for n in range(4)]
    assert runs[0].code == 1  # one record failed, with its reason
    sandbox.fault("/1/tokens/", status=500, count=100)
    runs += [
        leadsync.run("-vv", "webhooks", "register", env=env),
        leadsync.run("-vv", "webhooks", "list", env=env),
        leadsync.run("-vv", "status", env=env),
        leadsync.run("-vv", "conflicts", "--all", env=env),
    ]
    assert runs[-4].code == runs[-3].code == 1
    sandbox.control("DELETE", "/faults")
    sandbox.fault("/v0/", status=503, count=100)
    runs.append(failed := leadsync.run("-vv", "sync", env=env))
    assert failed.code == 3
    assert_runs_clean(runs, secrets_of(sandbox))


def test_wrong_credentials_are_reported_without_showing_them(
    leadsync: Leadsync, sandbox: RunningSandbox
) -> None:
    wrong = "f" * 64
    run = leadsync.run("-vv", "sync", env=leadsync.env(TRELLO_TOKEN=wrong, LEADSYNC_MAX_RETRY_SECONDS="1"))
    assert run.code == 2  # a configuration error, naming the variable
    assert "TRELLO_TOKEN" in run.stderr
    assert "401" in run.stderr
    assert_runs_clean([run], [*secrets_of(sandbox), wrong])


def test_the_server_log_health_and_store_hold_no_secret(
    leadsync: Leadsync, person: Person, sandbox: RunningSandbox
) -> None:
    server = start_serve(leadsync, WEBHOOK_SECRET=WEBHOOK_SECRET)
    try:
        run = leadsync.run("-v", "webhooks", "register", env=leadsync.env(LEADSYNC_PUBLIC_URL=server.url))
        assert run.code == 0, run.stderr
        lead = person.add_lead("Ada", status="NEW")
        wait_until(lambda: any(f"Lead ID: {lead}" in c["desc"] for c in person.cards()), timeout=30)
        sandbox.fault("/1/cards", method="PUT", status=400, count=5, body="invalid value for idList")
        person.edit_lead(lead, Status="QUALIFIED")
        wait_until(lambda: server.health()["worker"]["last_error"] is not None, timeout=30)
        forged = httpx.post(f"{server.url}/webhook/trello", content=b"{}", headers={"X-Trello-Webhook": "x"})
        assert forged.status_code == 401
        manual = httpx.post(f"{server.url}/sync", headers={"X-Webhook-Secret": WEBHOOK_SECRET}, timeout=10)
        assert manual.status_code == 202
        health = httpx.get(f"{server.url}/health", timeout=10).text
    finally:
        server.stop()
    url = leadsync.env()["LEADSYNC_DATABASE_URL"]
    with Store.open(url) as store:
        mac_secret = store.airtable_mac_secret()
    assert mac_secret
    db = create_engine(url)
    try:
        with db.connect() as conn:
            activity = "\n".join(map(str, conn.execute(text("SELECT * FROM activity")).all()))
            cycles = "\n".join(map(str, conn.execute(text("SELECT * FROM cycles")).all()))
    finally:
        db.dispose()
    assert "created" in activity
    secrets = [*secrets_of(sandbox), mac_secret]
    assert_clean(server.log(), secrets, "the server's log")
    assert_clean(health, secrets, "GET /health")
    assert_clean(activity, secrets, "the activity log")
    assert_clean(cycles, secrets, "the cycle summaries")
    assert_runs_clean([run], secrets)
