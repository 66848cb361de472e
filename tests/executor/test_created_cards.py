"""The created-card writer: every finished create stored once, in batches, refused rows told alone."""

from __future__ import annotations

import threading
import time

from leadsync.core import CardId, LeadId
from leadsync.created_cards import CreatedCardWriter
from leadsync.store import CompletedCreate, Store
from tests.store.records import base


def lead(i: int) -> LeadId:
    return LeadId(f"rec{i:014d}")


def card(i: int) -> CardId:
    return CardId(f"{i:024x}")


def created(i: int, card_number: int | None = None) -> CompletedCreate:
    return CompletedCreate(
        base(lead(i), card(i if card_number is None else card_number)), detail="in list l1"
    )


class Told:
    def __init__(self) -> None:
        self.results: dict[LeadId, str | None] = {}
        self.lock = threading.Lock()

    def __call__(self, item: CompletedCreate, refused: str | None) -> None:
        with self.lock:
            assert item.base.lead_id not in self.results, "told twice"
            self.results[item.base.lead_id] = refused


def test_every_create_is_stored_and_its_intent_cleared(store: Store) -> None:
    store.record_intents(lead(i) for i in range(120))
    told = Told()
    with CreatedCardWriter(store, told, batch_size=50) as writer:
        for i in range(120):
            writer.add(created(i))
    assert told.results == {lead(i): None for i in range(120)}
    assert set(store.pairs()) == {lead(i) for i in range(120)}
    assert store.intents() == set()


def test_a_refused_row_is_told_alone_and_keeps_its_intent(store: Store) -> None:
    store.link(base(lead(99), card(1)), reason="adopted")
    store.record_intents([lead(0), lead(1), lead(2)])
    told = Told()
    with CreatedCardWriter(store, told) as writer:
        for i in range(3):
            writer.add(created(i))
    assert told.results[lead(0)] is None
    assert told.results[lead(2)] is None
    assert "already linked" in (told.results[lead(1)] or "")
    assert store.intents() == {lead(1)}


def test_a_partial_batch_is_stored_within_the_interval(store: Store) -> None:
    told = Told()
    with CreatedCardWriter(store, told, batch_size=1000, interval=0.1) as writer:
        writer.add(created(0))
        deadline = time.monotonic() + 10
        while store.get_pair(lead(0)) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert store.get_pair(lead(0)) is not None, "stored only when the writer closed"
    assert told.results == {lead(0): None}
