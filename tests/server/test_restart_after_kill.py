"""A ``leadsync serve`` killed with SIGKILL in the middle of a cycle and restarted at once syncs at once:
the dead process's store lock went with it, so the new one's start-up sweep completes within seconds,
``/health`` says so, and a person's edit reaches the other side."""

from __future__ import annotations

import signal
import time

from leadsync.sandbox.person import Person
from tests.engine.test_cli_kill import LEADS, add_leads, cards_per_lead, first_write_by_leadsync
from tests.fixtures_sandbox import Leadsync, RunningSandbox
from tests.fixtures_server import start_serve, wait_until

# A whole cycle of this test's leads takes a few seconds; a lock left behind by the dead process would
# hold the restarted one back for minutes.
FIRST_SWEEP_WITHIN = 45.0


def test_a_serve_restarted_right_after_a_sigkill_mid_cycle_syncs_at_once(
    leadsync: Leadsync, sandbox: RunningSandbox, person: Person
) -> None:
    leads = add_leads(person, LEADS)
    sandbox.control("POST", "/config", json={"latency_ms": 20})
    # The sandbox's rate limits are off; leadsync's own pacing at the documented limits would make each
    # cycle last half a minute.
    leadsync.extra_env["LEADSYNC_RATE_LIMIT_SCALE"] = "10"

    first = start_serve(leadsync, name="killed")  # its start-up sweep is a full first cycle
    try:
        wait_until(lambda: first_write_by_leadsync(sandbox) or first.process.poll() is not None, timeout=60)
        assert first.process.poll() is None, f"serve exited:\n{first.log()}"
        first.process.send_signal(signal.SIGKILL)
        assert first.process.wait(timeout=10) == -signal.SIGKILL
    finally:
        if first.process.poll() is None:
            first.process.kill()
    assert sum(cards_per_lead(person).values()) < LEADS, "the killed cycle had already finished its work"

    restarted = start_serve(leadsync, name="restarted")
    try:
        started = time.monotonic()
        wait_until(
            lambda: restarted.health()["worker"]["last_sweep_at"] is not None, timeout=FIRST_SWEEP_WITHIN
        )
        assert time.monotonic() - started < FIRST_SWEEP_WITHIN
        health = restarted.health()
        assert health["status"] == "ok"
        assert health["worker"]["cycles"] >= 1
        assert health["worker"]["waiting_for_lock_since"] is None
        assert health["last_cycle"] is not None
        assert health["last_cycle"]["ok"]
        per_lead = cards_per_lead(person)
        assert {lead: n for lead, n in per_lead.items() if n > 1} == {}
        assert set(per_lead) == set(leads)

        run = leadsync.run("webhooks", "register", env=leadsync.env(LEADSYNC_PUBLIC_URL=restarted.url))
        assert run.code == 0, f"{run.stdout}\n{run.stderr}"
        person.edit_lead(leads[0], Status="QUALIFIED")
        qualified = person.lists["QUALIFIED"]
        wait_until(lambda: person.card_for(leads[0])["idList"] == qualified, timeout=30)
    finally:
        restarted.stop()
