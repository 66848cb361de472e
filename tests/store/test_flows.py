"""Several flows on one store: each sees its own pairs, intents, conflicts, journal, state and locks."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from leadsync.errors import LockBusy, StoreError
from leadsync.store import Store
from tests.store.records import CARD_1, CARD_2, LEAD_A, LEAD_B, T0, base, conflict


def test_two_flows_on_one_store_stay_apart(store: Store) -> None:
    east, west = store.for_flow("east"), store.for_flow("west")
    east.link(base(LEAD_A, CARD_1), reason="adopted")
    west.link(base(LEAD_B, CARD_2), reason="adopted")
    east.record_intent(LEAD_B)
    assert east.pairs() == {LEAD_A: base(LEAD_A, CARD_1)}
    assert west.pairs() == {LEAD_B: base(LEAD_B, CARD_2)}
    assert store.pairs() == {}  # the default flow has none
    assert west.get_pair(LEAD_A) is None
    assert west.pair_by_card(CARD_1) is None
    assert east.intents() == {LEAD_B}
    assert west.intents() == set()

    assert east.record_conflict(conflict(LEAD_A))
    assert west.open_conflicts() == []
    assert west.conflicts() == []
    assert [c.lead_id for c in east.open_conflicts()] == [LEAD_A]

    assert [a.action for a in west.recent_activity()] == ["linked"]
    assert [a.lead_id for a in east.recent_activity()] == [LEAD_A]

    cycle = east.start_cycle("full")
    assert west.last_cycle() is None
    east.finish_cycle(cycle, {}, ok=True)
    last = east.last_cycle()
    assert last is not None
    assert last.ok

    east.update_sync_state(trello_last_action="e1", last_full_scan=T0)
    assert west.sync_state().trello_last_action is None
    assert east.sync_state().trello_last_action == "e1"
    east.set_airtable_mac_secret("c2VjcmV0")
    assert west.airtable_mac_secret() is None
    east.remember_ids({"table": "tblE"})
    assert west.remembered_ids() == {}


def test_a_lead_linked_in_one_flow_is_refused_in_another(store: Store) -> None:
    store.for_flow("east").link(base(LEAD_A, CARD_1), reason="adopted")
    with pytest.raises(StoreError, match="already linked"):
        store.for_flow("west").link(base(LEAD_A, CARD_2), reason="adopted")


def test_each_flow_has_its_own_cycle_lock(store: Store) -> None:
    east, west = store.for_flow("east"), store.for_flow("west")
    with east.lock("cycle"):
        with west.lock("cycle"):  # another flow's cycle runs beside it
            pass
        with pytest.raises(LockBusy), store.for_flow("east").lock("cycle"):
            pass


def test_a_store_of_an_earlier_version_gains_the_flow_columns_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:  # the tables as leadsync wrote them before flows
        conn.execute(
            text(
                "CREATE TABLE pairs (lead_id VARCHAR(64) PRIMARY KEY, card_id VARCHAR(64) NOT NULL UNIQUE,"
                " status TEXT, name TEXT NOT NULL, email TEXT NOT NULL, source TEXT NOT NULL,"
                " card_closed BOOLEAN NOT NULL, lead_deleted BOOLEAN NOT NULL, card_deleted BOOLEAN NOT NULL,"
                " updated_at DATETIME NOT NULL)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO pairs VALUES ('recAAAAAAAAAAAAAA', '65f0a0000000000000000001', 'NEW', '', '', '',"
                " 0, 0, 0, '2025-03-01 12:00:00')"
            )
        )
        conn.execute(text("CREATE TABLE activity (id INTEGER PRIMARY KEY, at DATETIME NOT NULL,"
                          " action VARCHAR(64) NOT NULL, lead_id VARCHAR(64), card_id VARCHAR(64),"
                          " detail TEXT NOT NULL)"))  # fmt: skip
    engine.dispose()
    with Store.open(f"sqlite:///{path}") as upgraded:
        assert list(upgraded.pairs()) == [LEAD_A]  # the old rows are the default flow's
        assert upgraded.for_flow("east").pairs() == {}
        upgraded.for_flow("east").log("probe")
        assert [a.action for a in upgraded.for_flow("east").recent_activity()] == ["probe"]


def test_pending_targets_are_per_flow_and_cleared_only_once_read(store: Store) -> None:
    east, west = store.for_flow("east"), store.for_flow("west")
    east.add_targets(leads=[LEAD_A, LEAD_A], cards=[CARD_1])
    east.add_targets(ping=True)
    west.add_targets(full=True)
    read = east.pending_targets()
    assert read.leads == {LEAD_A}
    assert read.cards == {CARD_1}
    assert read.pings == 1
    assert not read.full
    assert read.oldest is not None
    east.add_targets(leads=[LEAD_B])  # arrives while the cycle runs
    east.clear_targets(read.ids)
    assert east.pending_targets().leads == {LEAD_B}
    assert west.pending_targets().full
    assert not store.pending_targets()
