"""A wrong credential, base, table or board, found by a cycle's first read, is a configuration error:
exit 2 naming the variable and the fix, no raw API body, no secret, nothing written, and ``poll`` stops
instead of repeating it every cycle."""

from __future__ import annotations

import json
import time

import pytest

from leadsync.engine.misconfigured import config_error
from leadsync.errors import ApiError
from leadsync.server import STATUS_STOPPED
from tests.fixtures_sandbox import Leadsync, RunningSandbox
from tests.fixtures_server import start_serve, wait_until

SECRETS = ("AIRTABLE_API_KEY", "TRELLO_API_KEY", "TRELLO_TOKEN", "TRELLO_API_SECRET")


def writes(sandbox: RunningSandbox) -> list[str]:
    return [
        f"{r['method']} {r['path']}"
        for r in sandbox.requests()
        if r["method"] != "GET" and "listRecords" not in r["path"]
    ]


WRONG = {
    "AIRTABLE_API_KEY": "patWrongWrongWrong.0123456789abcdef",
    "AIRTABLE_BASE_ID": "appAAAAAAAAAAAAAA",
    "AIRTABLE_LEADS_TABLE_NAME": "Leeds",
    "TRELLO_API_KEY": "0123456789abcdef0123456789abcdef",
    "TRELLO_TOKEN": "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
    "TRELLO_BOARD_ID": "0123456789abcdef01234567",
}


@pytest.mark.parametrize("variable", list(WRONG))
def test_a_wrong_setting_exits_2_naming_it_and_writes_nothing(
    cli: Leadsync, sandbox: RunningSandbox, variable: str
) -> None:
    env = cli.env(**{variable: WRONG[variable]})
    run = cli.run("sync", env=env)
    assert run.code == 2, run.stdout + run.stderr
    told = " ".join(run.stderr.split())
    assert f"Configuration error: {variable}" in told
    assert "Read failed" not in told
    assert "next cycle" not in told
    assert '{"error"' not in told  # no raw API body
    assert "Authentication required" not in told
    for name in SECRETS:
        assert env[name] not in run.stdout + run.stderr
    assert writes(sandbox) == []
    # The value came from the environment, which hides .env: the message says so.
    assert "read from the environment, which takes precedence over .env" in told


def test_the_message_does_not_blame_the_environment_when_the_value_is_in_env_file(
    cli: Leadsync, sandbox: RunningSandbox
) -> None:
    env = cli.env()
    settings = {k: v for k, v in env.items() if k.startswith(("AIRTABLE_", "TRELLO_", "LEADSYNC_"))}
    settings["TRELLO_TOKEN"] = WRONG["TRELLO_TOKEN"]
    (cli.workdir / ".env").write_text("".join(f"{k}='{v}'\n" for k, v in settings.items()))
    bare = {k: v for k, v in env.items() if k not in settings}
    run = cli.run("sync", env=bare)
    assert run.code == 2, run.stderr
    told = " ".join(run.stderr.split())
    assert "Configuration error: TRELLO_TOKEN" in told
    assert "authorize" in told  # the fix
    assert "environment" not in told


def test_json_output_names_the_variable(cli: Leadsync) -> None:
    run = cli.run("sync", "--json", env=cli.env(TRELLO_BOARD_ID="AbCdEf12"))
    assert run.code == 2
    assert '"error": "configuration"' in run.stdout
    assert '"variable": "TRELLO_BOARD_ID"' in run.stdout


def test_poll_stops_on_a_refused_token_instead_of_repeating_it(
    cli: Leadsync, sandbox: RunningSandbox
) -> None:
    run = cli.run(
        "poll", "--interval", "1", env=cli.env(AIRTABLE_API_KEY=WRONG["AIRTABLE_API_KEY"]), timeout=60
    )
    assert run.code == 2, run.stderr
    assert run.stderr.count("Configuration error") == 1
    refused = [r for r in sandbox.requests() if r["status"] == 401]
    assert len(refused) == 1


@pytest.mark.parametrize(
    ("error", "variable"),
    [
        (ApiError("airtable", "POST", "/v0/appAAAAAAAAAAAAAA/Leads/listRecords", 401), "AIRTABLE_API_KEY"),
        (ApiError("airtable", "GET", "/v0/appAAAAAAAAAAAAAA/Leads", 403), "AIRTABLE_BASE_ID"),
        (
            ApiError("airtable", "GET", "/v0/appAAAAAAAAAAAAAA/Leads", 404, '{"error":"NOT_FOUND"}'),
            "AIRTABLE_BASE_ID",
        ),
        (
            ApiError(
                "airtable",
                "GET",
                "/v0/appAAAAAAAAAAAAAA/My%20Leads",
                404,
                '{"error":{"type":"TABLE_NOT_FOUND"}}',
            ),
            "AIRTABLE_LEADS_TABLE_NAME",
        ),
        (ApiError("trello", "GET", "/1/boards/AbCdEf12", 401, "invalid key"), "TRELLO_API_KEY"),
        (ApiError("trello", "GET", "/1/boards/AbCdEf12", 401, "expired token"), "TRELLO_TOKEN"),
        (
            ApiError("trello", "GET", "/1/boards/AbCdEf12", 401, "unauthorized permission requested"),
            "TRELLO_BOARD_ID",
        ),
        (ApiError("trello", "GET", "/1/boards/AbCdEf12", 400, "invalid id"), "TRELLO_BOARD_ID"),
        (ApiError("trello", "GET", "/1/members/me", 401, "unauthorized"), "TRELLO_API_KEY/TRELLO_TOKEN"),
    ],
)
def test_each_refusal_names_its_variable(error: ApiError, variable: str) -> None:
    found = config_error(error)
    assert found is not None
    assert found.variable == variable
    assert "{" not in str(found)  # never the raw body


@pytest.mark.parametrize(
    "error",
    [
        ApiError("airtable", "GET", "/v0/appAAAAAAAAAAAAAA/Leads", 503),
        ApiError("airtable", "GET", "/v0/appAAAAAAAAAAAAAA/Leads", 429),
        ApiError("trello", "GET", "/1/batch (/cards/abc)", 401, "unauthorized card permission requested"),
        ApiError("trello", "GET", "/1/cards/abc", 404, "The requested resource was not found."),
        ApiError("trello", "GET", "/1/boards/AbCdEf12/cards/all", 500),
    ],
)
def test_transient_failures_and_gone_cards_stay_read_failures(error: ApiError) -> None:
    assert config_error(error) is None


# ---- the status -> list mapping ------------------------------------------------------------------------


def test_list_ids_the_board_lacks_exit_2_before_any_write(cli: Leadsync, sandbox: RunningSandbox) -> None:
    lists = json.loads(cli.env()["TRELLO_LIST_IDS"])
    lists["CONTACTED"] = "0123456789abcdef01234567"
    run = cli.run("sync", env=cli.env(TRELLO_LIST_IDS=json.dumps(lists)))
    assert run.code == 2, run.stderr
    told = " ".join(run.stderr.split())
    assert "Configuration error: TRELLO_LIST_IDS" in told
    assert "CONTACTED (0123456789abcdef01234567)" in told
    assert writes(sandbox) == []


def test_a_list_ids_key_that_is_no_status_exits_2_naming_it(cli: Leadsync, sandbox: RunningSandbox) -> None:
    lists = json.loads(cli.env()["TRELLO_LIST_IDS"])
    lists["New"] = lists.pop("NEW")
    run = cli.run("sync", env=cli.env(TRELLO_LIST_IDS=json.dumps(lists)))
    assert run.code == 2, run.stderr
    told = " ".join(run.stderr.split())
    assert "TRELLO_LIST_IDS: 'New' is not a status" in told
    assert "NEW, CONTACTED, QUALIFIED, LOST" in told
    assert writes(sandbox) == []


def test_a_list_name_mistake_is_reported_as_the_list_names_setting(
    cli: Leadsync, sandbox: RunningSandbox
) -> None:
    env = cli.env(LEADSYNC_STATUS_LIST_NAMES=json.dumps({"NEW": "NEW", "CONTACTED": "Contacted"}))
    del env["TRELLO_LIST_IDS"]
    run = cli.run("sync", env=env)
    assert run.code == 2, run.stderr
    told = " ".join(run.stderr.split())
    assert "Configuration error: LEADSYNC_STATUS_LIST_NAMES: the board has no list named 'Contacted'" in told
    assert "TRELLO_LIST_IDS" not in told
    assert writes(sandbox) == []


def test_the_servers_worker_stops_on_a_refused_token_and_health_says_why(
    cli: Leadsync, sandbox: RunningSandbox
) -> None:
    served = start_serve(cli, AIRTABLE_API_KEY=WRONG["AIRTABLE_API_KEY"], sweep="1")  # a sweep a second
    try:
        wait_until(lambda: served.health()["status"] == STATUS_STOPPED, timeout=30)
        health = served.health()
        assert health["worker"]["last_error"].startswith("AIRTABLE_API_KEY: Airtable refused the token")
        refused = len([r for r in sandbox.requests() if r["status"] == 401])
        time.sleep(2.5)  # two more sweeps were due: none repeats the refused read
        assert len([r for r in sandbox.requests() if r["status"] == 401]) == refused
        assert WRONG["AIRTABLE_API_KEY"] not in served.log()
    finally:
        served.stop()
