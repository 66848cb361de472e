"""Settling from the dashboard is what ``leadsync conflicts resolve`` does, field by field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadsync.core import CardId, Conflict, ConflictPolicy, LeadId, MergeBase, Side
from leadsync.dashboard.actions import NothingToSettle, queue_cycle, settle
from leadsync.store import Store

LEAD, CARD = LeadId("rec00000000000001"), CardId("0" * 23 + "1")


def _store(tmp_path: Path) -> Store:
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    store.link(MergeBase(LEAD, CARD, status="NEW", due="2026-01-01"), reason="test")
    now = datetime.now(UTC)
    for field, values in (
        ("status", ("NEW", "QUALIFIED", "LOST")),
        ("due", ("2026-01-01", "2026-02-01", None)),
    ):
        base, airtable, trello = values
        store.record_conflict(Conflict(LEAD, CARD, base, airtable, trello, ConflictPolicy.MANUAL,
                                       detected_at=now, field=field))  # fmt: skip
    return store


def test_keeping_a_side_moves_the_base_to_the_other_and_closes_only_that_fields_conflict(
    tmp_path: Path,
) -> None:
    with _store(tmp_path) as store:
        resolved = settle(store, LEAD, Side.TRELLO, "due")
        assert (resolved.field, resolved.resolution) == ("due", "manual: kept trello")
        base = store.get_pair(LEAD)
        assert base is not None
        assert (base.due, base.status) == ("2026-02-01", "NEW")  # the losing side's due: Trello's wins next
        assert store.get_open_conflict(LEAD, "due") is None
        assert store.get_open_conflict(LEAD, "status") is not None
        settle(store, LEAD, Side.AIRTABLE, "status")
        base = store.get_pair(LEAD)
        assert base is not None
        assert base.status == "LOST"
        assert store.activity_page(kind="conflict resolved")[0].record.detail == "kept airtable"
        with pytest.raises(NothingToSettle):
            settle(store, LEAD, Side.AIRTABLE, "status")


class Queue:
    def __init__(self) -> None:
        self.asked: list[dict[str, object]] = []

    def notify(self, *, leads: list[LeadId] = [], full: bool = False) -> None:  # noqa: B006
        self.asked.append({"leads": list(leads), "full": full})


def test_a_cycle_is_queued_only_for_the_flow_this_process_runs() -> None:
    queue = Queue()
    assert queue_cycle(queue, "default")
    assert queue_cycle(queue, "default", leads=[LEAD])
    assert not queue_cycle(queue, "another flow")
    assert not queue_cycle(None, "default")
    assert queue.asked == [{"leads": [], "full": True}, {"leads": [LEAD], "full": False}]
