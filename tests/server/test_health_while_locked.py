"""``/health`` tells when nothing can sync because another process holds the store's cycle lock, and
syncing resumes within seconds of its release (not after a whole sweep interval)."""

from __future__ import annotations

from leadsync.sandbox.person import Person
from leadsync.store import Store
from tests.fixtures_sandbox import Leadsync
from tests.fixtures_server import Served, start_serve, wait_until

WAITING = "waiting for the store lock"


def _has_card(person: Person, lead_id: str) -> bool:
    return any(f"Lead ID: {lead_id}" in card["desc"] for card in person.cards())


def test_an_event_held_up_by_the_store_lock_shows_in_health_and_syncs_after_release(
    served: Served, leadsync: Leadsync, person: Person
) -> None:
    cycles = served.health()["worker"]["cycles"]
    with Store.open(leadsync.env()["LEADSYNC_DATABASE_URL"]) as other_process, other_process.lock("cycle"):
        lead = person.add_lead("Ada", status="NEW")  # its webhook reaches the server, which cannot cycle
        wait_until(lambda: served.health()["status"] == WAITING, timeout=30)
        assert served.health()["worker"]["waiting_for_lock_since"] is not None
        assert not _has_card(person, lead)
    wait_until(lambda: _has_card(person, lead), timeout=30)
    health = served.health()
    assert health["status"] == "ok"
    assert health["worker"]["waiting_for_lock_since"] is None
    assert health["worker"]["cycles"] > cycles


def test_a_sweep_held_up_by_the_store_lock_is_retried_soon_after_release(leadsync: Leadsync) -> None:
    server: Served | None = None
    with Store.open(leadsync.env()["LEADSYNC_DATABASE_URL"]) as other_process:
        try:
            with other_process.lock("cycle"):
                server = start_serve(leadsync, name="locked", sweep="600")
                wait_until(lambda: server is not None and server.health()["status"] == WAITING, timeout=30)
                assert server.health()["worker"]["last_sweep_at"] is None
                assert server.health()["worker"]["waiting_for_lock_since"] is not None
            # A sweep interval is ten minutes: the start-up sweep runs now only because it is retried.
            wait_until(lambda: server is not None and server.health()["worker"]["last_sweep_at"] is not None)
            health = server.health()
            assert health["status"] == "ok"
            assert health["worker"]["cycles"] >= 1
        finally:
            if server is not None:
                server.stop()
