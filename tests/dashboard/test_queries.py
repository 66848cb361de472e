"""The dashboard's store queries: filters, keyset paging, flows, search, and the indexes an older store
gets when it is opened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from leadsync.core import CardId, Conflict, ConflictPolicy, LeadId, MergeBase
from leadsync.store import Store


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store's URL, once per backend (the queries are the same SQLAlchemy statements on both)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 's.db'}"
    pg: str = request.getfixturevalue("pg_url")
    return pg


def _pair(n: int, name: str, email: str = "") -> MergeBase:
    return MergeBase(lead_id=LeadId(f"rec{n:014d}"), card_id=CardId(f"{n:024x}"), status="NEW",
                     name=name, email=email)  # fmt: skip


def test_activity_pages_go_back_by_id_with_the_leads_names(url: str) -> None:
    with Store.open(url) as store:
        store.link(_pair(1, "Ada Lovelace"), reason="adopted")
        for i in range(7):
            store.log("status" if i % 2 else "moved", lead_id="rec00000000000001", detail=f"line {i}")
        first = store.activity_page(limit=3)
        assert [line.record.detail for line in first] == ["line 6", "line 5", "line 4"]
        assert {line.lead_name for line in first} == {"Ada Lovelace"}
        older = store.activity_page(limit=3, before=first[-1].record.id)
        assert [line.record.detail for line in older] == ["line 3", "line 2", "line 1"]
        assert [ln.record.detail for ln in store.activity_page(kind="status")] == [
            "line 5",
            "line 3",
            "line 1",
        ]
        assert store.activity_page(lead_ids=[]) == []
        assert len(store.activity_page(lead_ids=["rec00000000000001"])) == 8  # with the link's own line
        assert store.activity_kinds() == ["linked", "moved", "status"]


def test_rows_without_a_flow_belong_to_the_default_flow(url: str) -> None:
    with Store.open(url) as store:
        store.log("status", detail="x")
        store.update_sync_state("second", trello_last_action="a1")
        assert store.flow_names() == ["default", "second"]
        assert len(store.activity_page(flow="default")) == 1
        assert store.activity_page(flow="second") == []


def test_lead_search_matches_name_or_email_in_any_case_and_takes_wildcards_literally(url: str) -> None:
    with Store.open(url) as store:
        store.link(_pair(1, "Grace Hopper", "grace@navy.mil"), reason="")
        store.link(_pair(2, "Alan Turing", "alan_t@bletchley.uk"), reason="")
        assert [m.base.name for m in store.search_pairs("HOPPER")] == ["Grace Hopper"]
        assert [m.base.name for m in store.search_pairs("navy.")] == ["Grace Hopper"]
        assert [m.base.name for m in store.search_pairs("n_t")] == ["Alan Turing"]  # '_' is not a wildcard
        assert store.search_pairs("%") == []
        assert [m.base.name for m in store.search_pairs("rec00000000000002")] == ["Alan Turing"]


def test_recent_conflicts_are_the_open_ones_and_those_decided_lately(url: str) -> None:
    with Store.open(url) as store:
        now = datetime.now(UTC)
        for n in (1, 2):
            store.link(_pair(n, f"Lead {n}"), reason="")
            store.record_conflict(Conflict(LeadId(f"rec{n:014d}"), CardId(f"{n:024x}"), "NEW", "QUALIFIED",
                                           "LOST", ConflictPolicy.MANUAL, detected_at=now))  # fmt: skip
        store.resolve_conflict(LeadId("rec00000000000002"), "manual: kept trello")
        recent = store.recent_conflicts(now - timedelta(days=7))
        assert [(r.lead_name, r.conflict.resolution) for r in recent] == [
            ("Lead 2", "manual: kept trello"),
            ("Lead 1", None),
        ]
        assert store.open_conflict_count() == 1
        assert [r.lead_name for r in store.recent_conflicts(now + timedelta(minutes=1))] == ["Lead 1"]


def test_a_store_made_before_the_dashboard_gets_its_indexes_on_open(url: str) -> None:
    Store.open(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:  # what an earlier version's store looks like
        conn.execute(text("DROP INDEX ix_activity_action_id"))  # the same statement on both databases
        conn.execute(text("DROP INDEX ix_cycles_started_at"))
    Store.open(url).close()
    names = {i["name"] for table in ("activity", "cycles") for i in inspect(engine).get_indexes(table)}
    engine.dispose()
    assert {"ix_activity_action_id", "ix_cycles_started_at"} <= names
