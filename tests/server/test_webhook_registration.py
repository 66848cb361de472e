"""``leadsync webhooks register|list|unregister`` end to end against the sandbox, through the CLI."""

from __future__ import annotations

import json

from tests.fixtures_sandbox import Leadsync, RunningSandbox
from tests.fixtures_server import Served


def test_webhooks_are_listed_then_unregistered_on_both_apis(
    served: Served, leadsync: Leadsync, sandbox: RunningSandbox
) -> None:
    env = leadsync.env(LEADSYNC_PUBLIC_URL=served.url)
    listed = leadsync.run("webhooks", "list", env=env)
    assert listed.code == 0, listed.stderr
    shown = json.loads(listed.stdout)
    assert [h["id"] for h in shown["airtable"]] == [shown["stored"]["airtable"]]
    assert [h["id"] for h in shown["trello"]] == [shown["stored"]["trello"]]

    again = leadsync.run("webhooks", "register", env=env)
    assert again.code == 0, again.stderr
    assert {v["status"] for v in json.loads(again.stdout).values()} == {"already registered"}

    gone = leadsync.run("webhooks", "unregister", env=env)
    assert gone.code == 0, gone.stderr
    assert json.loads(gone.stdout) == {
        "airtable": f"deleted {shown['stored']['airtable']}",
        "trello": f"deleted {shown['stored']['trello']}",
    }
    assert sandbox.state.airtable.webhooks == {}
    after = json.loads(leadsync.run("webhooks", "list", env=env).stdout)
    assert after == {"airtable": [], "trello": [], "stored": {"airtable": None, "trello": None}}
    again = leadsync.run("webhooks", "unregister", env=env)
    assert json.loads(again.stdout) == {"airtable": "none registered", "trello": "none registered"}
