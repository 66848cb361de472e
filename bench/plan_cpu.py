"""Planning CPU of a first run that adopts every card: 100,000 leads whose 100,000 cards all carry
``Lead ID:`` lines, no pairs yet, the ``latest`` policy. Pure core, no sandbox, no store.

``python -m bench.plan_cpu [N]`` prints the process CPU time of ``plan()`` + ``settle()`` (goal: < 2 s).
"""

from __future__ import annotations

import sys
import time

from leadsync.core import (
    DEFAULT_STATUSES,
    Card,
    CardId,
    ConflictPolicy,
    Lead,
    LeadId,
    ListId,
    Snapshot,
    StatusLists,
    card_title,
    plan,
    render_block,
    settle,
)


def _world(n: int) -> tuple[Snapshot, StatusLists]:
    lists = StatusLists({status: ListId(f"{i:024x}") for i, status in enumerate(DEFAULT_STATUSES, 1)})
    leads: dict[LeadId, Lead] = {}
    cards: dict[CardId, Card] = {}
    for i in range(n):
        status = DEFAULT_STATUSES[i % 3]
        lead = Lead(LeadId(f"rec{i:014d}"), f"Lead {i}", f"lead{i}@example.com", status, "web")
        card_id = CardId(f"{0x60000000 + i:08x}{i:016x}")
        leads[lead.id] = lead
        desc = f"Call back on Tuesday.\n\n{render_block(lead)}"
        list_id = lists.list_for(status)
        assert list_id is not None
        cards[card_id] = Card(card_id, card_title(lead.name), desc, list_id)
    return Snapshot(leads, cards), lists


def main() -> None:
    """Build the world, then time the planning alone."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    snapshot, lists = _world(n)
    started = time.process_time()
    planned = plan(snapshot, {}, lists, ConflictPolicy.LATEST)
    settled = settle(planned, {}, lists)
    cpu = time.process_time() - started
    print(f"{n} leads, {len(snapshot.cards)} cards: {len(settled.ops)} ops, CPU {cpu:.2f} s")


if __name__ == "__main__":
    main()
