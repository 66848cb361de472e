"""A cycle asked for from the dashboard goes to the server's worker for its own flow only (settling
itself is ``leadsync.settling``, tested through the CLI in tests/mapping and by a click in test_browser)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from leadsync.core import LeadId
from leadsync.dashboard import OneWorker

LEAD = LeadId("rec00000000000001")


@dataclass
class Flow:
    name: str = "default"


@dataclass
class Engine:
    flow: Flow = field(default_factory=Flow)


@dataclass
class Worker:
    engine: Any = field(default_factory=Engine)
    status: str = "ok"
    asked: list[dict[str, object]] = field(default_factory=list)

    def notify(
        self, *, leads: Any = (), cards: Any = (), airtable_ping: bool = False, full: bool = False
    ) -> None:
        self.asked.append({"leads": list(leads), "full": full})


def test_a_cycle_is_queued_only_for_the_flow_this_worker_runs() -> None:
    worker = Worker()
    backend = OneWorker(lambda: worker)
    assert asyncio.run(backend.queue("default"))
    assert asyncio.run(backend.queue("default", [LEAD]))
    assert not asyncio.run(backend.queue("another flow"))
    assert worker.asked == [{"leads": [], "full": True}, {"leads": [LEAD], "full": False}]
    assert backend.worker_status("default") == "ok"
    assert backend.worker_status("another flow") is None
