"""A cycle asked for from the dashboard is queued only for the flow this process runs (settling itself is
``leadsync.settling``, tested through the CLI in tests/mapping and through the browser in test_browser)."""

from __future__ import annotations

from leadsync.core import LeadId
from leadsync.dashboard.actions import queue_cycle

LEAD = LeadId("rec00000000000001")


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
