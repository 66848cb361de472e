"""I9, same seed, same outcome: a sequence of edits, faults and cycles (webhook deliveries shuffled and
duplicated by a seeded random) played twice against sandboxes started from the same seed ends with the same
leads, cards, links, conflicts, and the same counts from every cycle. I8, order insensitivity: played with
its webhook deliveries in other orders, it ends in the same state.

The sequences here keep to what is deterministic by construction: faults on reads (which a cycle makes one
at a time) and no crash. A crash or a fault on a write lands on whichever of the writes sent side by side
reaches the sandbox first, which the thread scheduler decides; with those, a seed fixes the sequence and
the invariants (the state machine's checks), not the exact trace.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import stamina

from leadsync.core import ConflictPolicy
from tests.reliability.world import STATUSES, UNMAPPED_LIST, world

NAMES = ["Ada", "O'Brien", "{Name}", "Zoë", "two\nlines", "李雷", ""]


@pytest.fixture(autouse=True)
def no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=6, cap=True):
        yield


def program(seed: int) -> list[tuple[str, tuple[Any, ...]]]:
    rng = random.Random(seed)
    steps: list[tuple[str, tuple[Any, ...]]] = [
        ("add_lead", (rng.choice(NAMES), rng.choice(NAMES), rng.choice(STATUSES[:3]), "x")) for _ in range(5)
    ]
    for _ in range(24):
        roll = rng.random()
        if roll < 0.1:
            steps.append(
                ("add_lead", (rng.choice(NAMES), rng.choice(NAMES), rng.choice([*STATUSES, None]), "x"))
            )
        elif roll < 0.65:
            kind = rng.choice(["lead_status", "lead_status", "lead_name", "card_move", "card_move", "card_title",
                               "card_note", "card_archive"] + ["lead_delete"] * (roll < 0.12))  # fmt: skip
            value = {
                "lead_status": rng.choice(STATUSES),
                "lead_name": rng.choice(NAMES),
                "card_move": rng.choice([*STATUSES, UNMAPPED_LIST]),
                "card_title": f"Call {rng.choice(NAMES)}!",
                "card_note": f"Note: {rng.randrange(100)}",
                "card_archive": rng.random() < 0.5,
                "lead_delete": None,
            }[kind]
            steps.append(("edit", (kind, rng.randrange(50), value)))
        else:
            faults = [("GET", rng.choice(["/1/", "/v0/", "/1/batch"]), rng.choice(["429", "503", "drop"]), 1)]
            kind = rng.choice(["incremental", "full", "webhooks"])
            steps.append(
                ("cycle", (kind, None, [], faults if rng.random() < 0.5 else [], rng.randrange(1 << 30), 2))
            )
    return steps


def play(seed: int, policy: ConflictPolicy, reorder: int = 0) -> dict[str, Any]:
    """Play ``program(seed)``; a non-zero ``reorder`` delivers every cycle's webhook events in another order
    (and with other events duplicated) than the program's own seed draws."""
    with world(seed, policy, timeout=10.0) as w:  # no hang here: a slow machine must not add timeouts
        for op, args in program(seed):
            if op == "add_lead":
                w.add_lead(*args)
            elif op == "edit":
                w.edit(*args)
            else:
                kind, crash_at, during, faults, order, batches = args
                w.cycle(kind, crash_at, during, faults, random.Random(order ^ reorder), batches)
            w.observe()
        w.finish()
        return w.fingerprint()


@pytest.mark.parametrize(
    ("seed", "policy"),
    [
        (1, ConflictPolicy.AIRTABLE),
        (2, ConflictPolicy.TRELLO),
        (3, ConflictPolicy.MANUAL),
        (4, ConflictPolicy.LATEST),
    ],
)
def test_the_same_seed_gives_the_same_outcome(seed: int, policy: ConflictPolicy) -> None:
    first, second = play(seed, policy), play(seed, policy)
    assert first["cycles"], "the sequence ran no cycle"
    assert first == second


# Seeds whose sequence records a conflict, and whose cycles do different things in each delivery order.
@pytest.mark.parametrize(
    ("seed", "policy"),
    [
        (22, ConflictPolicy.AIRTABLE),
        (42, ConflictPolicy.TRELLO),
        (22, ConflictPolicy.MANUAL),
        (59, ConflictPolicy.LATEST),
    ],
)
def test_the_order_webhook_events_arrive_in_does_not_change_the_outcome(
    seed: int, policy: ConflictPolicy
) -> None:
    """I8: the same edits, with each cycle's webhook events shuffled and duplicated differently, end in the
    same leads, cards, links and conflicts, though the cycles on the way did different things."""
    outcomes = [play(seed, policy, reorder) for reorder in (0, 0x5EED, 0xC0FFEE)]
    traces = [outcome.pop("cycles") for outcome in outcomes]
    assert traces[0] != traces[1] or traces[0] != traces[2], "the orders made no difference to the cycles"
    assert outcomes[0]["conflicts"], "the sequence recorded no conflict"
    assert outcomes[0] == outcomes[1] == outcomes[2]
