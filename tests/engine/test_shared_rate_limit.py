"""The client-side rate limit is shared through the store by every process that uses it."""

from __future__ import annotations

from leadsync.store import Store


def test_two_handles_on_one_store_share_one_budget(db_url: str) -> None:
    one, two = Store.open(db_url), Store.open(db_url)
    try:
        granted = [s.take_rate_slot("airtable:appX", 5, 60.0) == 0.0 for s in (one, two) * 5]
        assert granted.count(True) == 5
        assert granted[:5] == [True] * 5
        wait = two.take_rate_slot("airtable:appX", 5, 60.0)
        assert 0 < wait <= 60.0
        assert one.take_rate_slot("trello:other-token", 5, 60.0) == 0.0  # budgets are per key
    finally:
        one.close()
        two.close()


def test_a_pause_set_by_one_process_holds_back_the_other(db_url: str) -> None:
    one, two = Store.open(db_url), Store.open(db_url)
    try:
        one.pause_rate("airtable:appX", 30.0)
        wait = two.take_rate_slot("airtable:appX", 5, 1.0)
        assert 29.0 < wait <= 30.0
        assert two.rate_slots_in_use("airtable:appX", 1.0) == 0
    finally:
        one.close()
        two.close()
