"""The rule-based state machine (Hypothesis) over the real engine and the in-process sandbox.

Rules: a person adds leads and cards, and edits, renames, re-statuses, moves, archives, un-archives and
deletes them, and sets due dates and labels (tags) on both sides; leadsync runs incremental, full and webhook-driven (targeted) cycles, with faults armed in
the sandbox (429, 5xx, hangs past the client's timeout, dropped connections, writes applied whose
response is lost), edits made by the person between its writes, and a crash after a drawn number of
writes; the state store can be lost. After every step the store's invariants hold; at the end, after
quiescence, the end-state invariants do (see :mod:`tests.reliability.world`).
"""

from __future__ import annotations

import os
import random
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from leadsync.core import ConflictPolicy
from tests.reliability.fields import DUE_DATES, OWN_LABEL, TAGS
from tests.reliability.world import STATS, STATUSES, UNMAPPED_LIST, UNMAPPED_STATUS, World

NASTY = [
    "Ada Lovelace",
    "O'Brien",
    'Say "hi"',
    "{Name}",
    "back\\slash",
    "two\nlines",
    "', TRUE(), '",
    '") OR RECORD_ID()!=("',
    "RECORD_ID()",
    "Zoë Ångström",
    "李雷",
    "🙂 emoji",
    "  spaced  ",
    "=1+1",
    "Lead ID: recAAAAAAAAAAAAAA",
    "",
]
texts = st.one_of(
    st.sampled_from(NASTY),
    st.text(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from("\n'\"{}\\,"),
        max_size=8,
    ),
)
titles = st.builds(lambda t: f"Call {t}".strip(), texts)
notes = st.builds(lambda n: f"Note: {n}", st.text("abcdefghij 0123456789'\"{}", max_size=10))
new_statuses = st.sampled_from([*STATUSES, None])
statuses = st.sampled_from([*STATUSES, None, UNMAPPED_STATUS])
lists = st.sampled_from([*STATUSES, UNMAPPED_LIST])
index = st.integers(0, 50)
lead_specs = st.tuples(texts, texts, new_statuses, texts)
due_dates = st.sampled_from(DUE_DATES)
tags = st.frozensets(st.sampled_from(TAGS))
card_tags = st.frozensets(st.sampled_from([*TAGS, OWN_LABEL]))

edits = st.one_of(
    st.tuples(st.just("lead_status"), index, statuses),
    st.tuples(st.just("lead_name"), index, texts),
    st.tuples(st.just("lead_email"), index, texts),
    st.tuples(st.just("lead_source"), index, texts),
    st.tuples(st.just("lead_delete"), index, st.none()),
    st.tuples(st.just("card_move"), index, lists),
    st.tuples(st.just("card_title"), index, titles),
    st.tuples(st.just("card_note"), index, notes),
    st.tuples(st.just("card_archive"), index, st.booleans()),
    st.tuples(st.just("card_delete"), index, st.none()),
    st.tuples(st.just("lead_due"), index, due_dates),
    st.tuples(st.just("lead_labels"), index, tags),
    st.tuples(st.just("card_due"), index, due_dates),
    st.tuples(st.just("card_labels"), index, card_tags),
)
during = st.lists(st.builds(lambda at, e: (at, *e), st.integers(1, 4), edits), max_size=2)
faults = st.lists(
    st.tuples(
        st.sampled_from(["*", "GET", "POST", "PUT", "PATCH"]),
        st.sampled_from(["/v0/", "/1/", "/1/cards", "/1/batch", "/1/boards/"]),
        st.sampled_from(["429", "500", "503", "hang", "drop", "lost_response"]),
        st.integers(1, 3),
    ),
    max_size=2,
)


class SyncMachine(RuleBasedStateMachine):
    """One generated sequence of steps against a fresh sandbox and store."""

    def __init__(self) -> None:
        super().__init__()
        self.world: World | None = None
        self.healthy = True

    @property
    def w(self) -> World:
        assert self.world is not None
        return self.world

    def _step(self) -> None:
        self.healthy = False  # set back when the step returns: teardown skips the end checks after a failure
        STATS["steps"] += 1

    @initialize(
        seed=st.integers(0, 2**32 - 1),
        policy=st.sampled_from(
            [ConflictPolicy.AIRTABLE, ConflictPolicy.TRELLO, ConflictPolicy.MANUAL, ConflictPolicy.LATEST]
        ),
        leads=st.lists(lead_specs, max_size=4),
    )
    def boot(self, seed: int, policy: ConflictPolicy, leads: list[tuple[str, str, str | None, str]]) -> None:
        self._step()
        self.world = World(seed, policy)
        for spec in leads:
            self.w.add_lead(*spec)
        self.healthy = True

    @rule(spec=lead_specs)
    def person_adds_a_lead(self, spec: tuple[str, str, str | None, str]) -> None:
        self._step()
        self.w.add_lead(*spec)
        self.healthy = True

    @rule(status=st.sampled_from(STATUSES), title=titles, claim=st.none() | index)
    def person_adds_a_card(self, status: str, title: str, claim: int | None) -> None:
        self._step()
        self.w.add_card(status, title, claim)
        self.healthy = True

    @rule(changes=st.lists(edits, min_size=1, max_size=3))
    def person_edits(self, changes: list[tuple[str, int, Any]]) -> None:
        self._step()
        for kind, i, value in changes:
            self.w.edit(kind, i, value)
        self.healthy = True

    @precondition(lambda self: self.world is not None and bool(self.world.observer.pairs()))
    @rule(what=st.sampled_from(["status", "due", "labels"]), i=index, pick=index)
    def two_people_edit_one_pair(self, what: str, i: int, pick: int) -> None:
        """Two people edit one field of a linked pair, one in each tracker, each to another value than
        the one agreed (a conflict for the status and the due date; labels merge per tag)."""
        self._step()
        self.w.both_sides(what, i, pick)
        self.healthy = True

    @rule(
        kind=st.sampled_from(["incremental", "full", "webhooks"]),
        crash_at=st.none() | st.integers(1, 5),
        edits_during=during,
        injected=faults,
        order=st.integers(0, 2**32 - 1),
        batches=st.integers(1, 3),
    )
    def leadsync_runs(
        self,
        kind: str,
        crash_at: int | None,
        edits_during: list[tuple[int, str, int, Any]],
        injected: list[tuple[str, str, str, int]],
        order: int,
        batches: int,
    ) -> None:
        self._step()
        # A seed, not st.randoms(): how many events there are to shuffle is not a draw of Hypothesis's.
        self.w.cycle(kind, crash_at, edits_during, injected, random.Random(order), batches)
        self.healthy = True

    # In one sequence in five (by its seed), once: a lost store relaxes what the end checks can expect.
    @precondition(
        lambda self: self.world is not None and self.world.seed % 5 == 0 and not self.world.store_lost_at
    )
    @rule()
    def the_state_store_is_lost(self) -> None:
        self._step()
        self.w.lose_store()
        self.healthy = True

    @invariant()
    def store_invariants_hold(self) -> None:
        if self.world is not None and self.healthy:
            self.w.observe()

    def teardown(self) -> None:
        if self.world is None:
            return
        try:
            if self.healthy:
                self.w.finish()
        finally:
            self.w.close()


def profile() -> settings:
    """The CI profile by default; ``LEADSYNC_LONG=1`` for the long one (``LEADSYNC_EXAMPLES`` to size it)."""
    long = os.environ.get("LEADSYNC_LONG") == "1"
    examples = int(os.environ.get("LEADSYNC_EXAMPLES", "10000" if long else "50"))
    return settings(
        max_examples=examples,
        stateful_step_count=int(os.environ.get("LEADSYNC_STEPS", "30" if long else "20")),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        derandomize=not long,
        print_blob=True,
        # No "explain" phase: its line tracing makes a failing sequence take minutes to report.
        phases=[
            p
            for p in Phase
            if p is not Phase.explain
            and (os.environ.get("LEADSYNC_SHRINK", "1") == "1" or p is not Phase.shrink)
        ],
    )
