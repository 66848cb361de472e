"""One example per sync rule, planned by the core alone (no API, no store)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from leadsync.core import (
    UNKNOWN_STATUS,
    BaseUpdate,
    Card,
    CardChanges,
    Conflict,
    ConflictPolicy,
    CreateCard,
    Lead,
    LeadChanges,
    LinkCard,
    MergeBase,
    RecordConflict,
    ReportKind,
    Side,
    UpdateBase,
    UpdateCard,
    WriteKind,
    WriteLead,
    card_title,
    keep_side,
    plan,
)
from leadsync.core.snapshot import Snapshot
from tests.core.rules import LISTS, UNMAPPED, a_card, a_lead, base_of, list_of, moved, planned, synced


def test_a_new_lead_gets_a_card_in_its_status_list() -> None:
    lead = a_lead(status="CONTACTED")
    (create,) = planned([lead]).ops
    assert isinstance(create, CreateCard)
    assert (create.lead_id, create.list_id, create.name) == (
        lead.id,
        list_of("CONTACTED"),
        "Follow up: Ada 1",
    )
    assert f"Lead ID: {lead.id}" in create.desc


def test_a_lost_lead_gets_no_new_card() -> None:
    assert planned([a_lead(status="LOST")]).ops == ()


def test_a_lead_with_an_empty_status_gets_no_card_and_is_reported() -> None:
    p = planned([a_lead(status=None)])
    assert p.ops == ()
    assert [r.kind for r in p.reports] == [ReportKind.SKIPPED]


def test_an_empty_status_on_a_linked_lead_leaves_its_card_where_it_is() -> None:
    lead, card, base = synced(a_lead())
    p = planned([replace(lead, status=None)], [card], [base])
    assert p.ops == ()
    assert [r.reason for r in p.reports] == ["lead has no Status: card left where it is"]


def test_a_status_change_in_airtable_moves_the_card() -> None:
    lead, card, base = synced(a_lead())
    (update,) = planned([replace(lead, status="QUALIFIED")], [card], [base]).ops
    assert isinstance(update, UpdateCard)
    assert update.changes == CardChanges(list_id=list_of("QUALIFIED"))
    assert update.kinds == {WriteKind.MOVED}
    assert update.base_updates == BaseUpdate(status="QUALIFIED")


def test_a_card_moved_in_trello_changes_the_lead_status() -> None:
    lead, card, base = synced(a_lead())
    (write,) = planned([lead], [moved(card, "CONTACTED")], [base]).ops
    assert write == WriteLead(
        lead.id, LeadChanges(status="CONTACTED"), BaseUpdate(status="CONTACTED"), "card moved in Trello"
    )


@pytest.mark.parametrize("policy", list(ConflictPolicy))
def test_both_sides_changing_to_the_same_status_is_no_conflict_and_no_write(policy: ConflictPolicy) -> None:
    lead, card, base = synced(a_lead())
    p = planned([replace(lead, status="CONTACTED")], [moved(card, "CONTACTED")], [base], policy)
    assert p.ops == (UpdateBase(lead.id, BaseUpdate(status="CONTACTED"), "sides agree"),)
    assert p.writes == ()


def both_changed() -> tuple[list[Lead], list[Card], list[MergeBase]]:
    """A pair whose lead went to QUALIFIED while its card went to CONTACTED."""
    lead, card, base = synced(a_lead())
    return [replace(lead, status="QUALIFIED")], [moved(card, "CONTACTED")], [base]


def test_under_latest_a_conflict_waits_unsettled_with_its_writes_held_back() -> None:
    leads, cards, bases = both_changed()
    unsettled = plan(
        Snapshot({x.id: x for x in leads}, {c.id: c for c in cards}),
        {b.lead_id: b for b in bases},
        LISTS,
        ConflictPolicy.LATEST,
    )
    assert unsettled.ops == ()
    (entry,) = unsettled.unsettled
    assert (entry.conflict.airtable_status, entry.conflict.trello_status) == ("QUALIFIED", "CONTACTED")
    assert entry.conflict.base_status == "NEW"


def test_under_latest_a_later_airtable_change_moves_the_card() -> None:
    leads, cards, bases = both_changed()
    p = planned(leads, cards, bases, winners={leads[0].id: Side.AIRTABLE})
    conflict, update = p.ops
    assert isinstance(conflict, RecordConflict)
    assert (conflict.conflict.winner, conflict.conflict.resolution) == (
        Side.AIRTABLE,
        "latest: kept airtable",
    )
    assert isinstance(update, UpdateCard)
    assert update.changes.list_id == list_of("QUALIFIED")


def test_under_latest_a_later_trello_change_writes_the_lead() -> None:
    leads, cards, bases = both_changed()
    p = planned(leads, cards, bases, winners={leads[0].id: Side.TRELLO})
    assert [type(op) for op in p.ops] == [RecordConflict, WriteLead]
    assert p.writes[0] == WriteLead(
        leads[0].id, LeadChanges(status="CONTACTED"), BaseUpdate(status="CONTACTED"), "card moved in Trello"
    )


def test_under_latest_a_conflict_without_timestamps_is_recorded_open_and_nothing_is_written() -> None:
    leads, cards, bases = both_changed()
    p = planned(leads, cards, bases)
    (record,) = p.ops
    assert isinstance(record, RecordConflict)
    assert record.conflict.winner is None


@pytest.mark.parametrize(
    ("policy", "kept"), [(ConflictPolicy.AIRTABLE, Side.AIRTABLE), (ConflictPolicy.TRELLO, Side.TRELLO)]
)
def test_a_side_policy_keeps_that_side(policy: ConflictPolicy, kept: Side) -> None:
    leads, cards, bases = both_changed()
    p = planned(leads, cards, bases, policy)
    record, write = p.ops
    assert isinstance(record, RecordConflict)
    assert record.conflict.winner is kept
    if kept is Side.AIRTABLE:
        assert isinstance(write, UpdateCard)
        assert write.changes == CardChanges(list_id=list_of("QUALIFIED"))
    else:
        assert isinstance(write, WriteLead)
        assert write.status == "CONTACTED"


def test_under_manual_neither_side_is_written_and_the_conflict_is_recorded_for_a_person() -> None:
    leads, cards, bases = both_changed()
    p = planned(leads, cards, bases, ConflictPolicy.MANUAL)
    (record,) = p.ops
    assert isinstance(record, RecordConflict)
    assert (record.conflict.winner, record.conflict.policy) == (None, ConflictPolicy.MANUAL)


def test_an_open_manual_conflict_leaves_the_whole_pair_alone() -> None:
    leads, cards, bases = both_changed()
    leads = [replace(leads[0], name="Ada Lovelace")]
    p = planned(leads, cards, bases, ConflictPolicy.MANUAL, open_conflicts=[leads[0].id])
    assert p.ops == ()


def test_a_person_keeping_a_side_gets_a_base_on_the_losing_status() -> None:
    lead, card, base = synced(a_lead())
    conflict = Conflict(lead.id, card.id, "NEW", "QUALIFIED", "CONTACTED", ConflictPolicy.MANUAL)
    at = datetime(2026, 1, 2, tzinfo=UTC)
    resolved, new_base = keep_side(conflict, base, Side.AIRTABLE, at, losing_now="CONTACTED")
    assert new_base == replace(base, status="CONTACTED")
    # The losing side's value as read now, not as recorded: Trello moved again while the conflict was open.
    assert keep_side(conflict, base, Side.AIRTABLE, at, losing_now="LOST")[1] == replace(base, status="LOST")
    assert (resolved.winner, resolved.resolved_at, resolved.resolution) == (
        Side.AIRTABLE,
        at,
        "manual: kept airtable",
    )
    # The next cycle then moves the card to the kept status, like any one-sided change.
    (update,) = planned([replace(lead, status="QUALIFIED")], [moved(card, "CONTACTED")], [new_base]).ops
    assert isinstance(update, UpdateCard)
    assert update.changes.list_id == list_of("QUALIFIED")


def test_a_deleted_lead_gets_its_card_archived_never_deleted() -> None:
    _, card, base = synced(a_lead())
    (update,) = planned([], [card], [base]).ops
    assert isinstance(update, UpdateCard)
    assert update.changes == CardChanges(closed=True)
    assert update.kinds == {WriteKind.ARCHIVED}


def test_an_archived_card_leaves_its_lead_alone() -> None:
    lead, card, base = synced(a_lead())
    p = planned([replace(lead, status="QUALIFIED")], [replace(card, closed=True)], [base])
    assert p.ops == (UpdateBase(lead.id, BaseUpdate(card_closed=True), "card archived in Trello"),)
    assert p.writes == ()


def test_an_unarchived_card_resumes_and_catches_up_with_the_lead() -> None:
    lead, card, base = synced(a_lead())
    p = planned([replace(lead, status="QUALIFIED")], [card], [replace(base, card_closed=True)])
    update, store = p.ops
    assert isinstance(update, UpdateCard)
    assert update.changes.list_id == list_of("QUALIFIED")
    assert store == UpdateBase(lead.id, BaseUpdate(card_closed=False), "sides agree")


def test_an_existing_card_that_claims_a_lead_is_adopted_never_duplicated() -> None:
    lead = a_lead()
    card = a_card(lead)
    p = planned([lead], [card])
    assert not any(isinstance(op, CreateCard) for op in p.ops)
    link = p.ops[0]
    assert isinstance(link, LinkCard)
    assert (link.base.card_id, link.base.status) == (card.id, UNKNOWN_STATUS)


def test_of_two_cards_claiming_one_lead_the_oldest_is_linked_and_the_other_reported() -> None:
    lead = a_lead()
    newer, older = a_card(lead, created=0x60000002), a_card(lead, created=0x60000001)
    p = planned([lead], [newer, older])
    links = [op for op in p.ops if isinstance(op, LinkCard)]
    assert [link.base.card_id for link in links] == [older.id]
    assert [(r.kind, r.card_id) for r in p.reports] == [(ReportKind.DUPLICATE, newer.id)]


def test_a_card_cannot_steal_another_lead_by_its_description() -> None:
    lead, card, base = synced(a_lead(1))
    other = a_lead(2)
    thief = replace(card, desc=f"Lead ID: {other.id}")
    p = planned([lead, other], [thief], [base])
    assert not any(isinstance(op, LinkCard) for op in p.ops)
    assert [op.lead_id for op in p.ops if isinstance(op, CreateCard)] == [other.id]
    assert any(r.card_id == thief.id and "stays linked" in r.reason for r in p.reports)


def test_a_card_in_an_unmapped_list_is_skipped() -> None:
    lead, card, base = synced(a_lead())
    p = planned([replace(lead, status="QUALIFIED")], [replace(card, list_id=UNMAPPED)], [base])
    assert p.writes == ()
    assert [r.reason for r in p.reports] == ["card is in a list that maps to no status"]


def test_a_status_that_maps_to_no_list_is_skipped() -> None:
    lead, card, base = synced(a_lead())
    p = planned([replace(lead, status="NURTURE")], [card], [base])
    assert p.writes == ()
    assert [r.reason for r in p.reports] == ["Status 'NURTURE' maps to no list"]
    assert planned([a_lead(2, status="NURTURE")]).ops == ()


def test_name_email_and_source_changed_in_airtable_reach_the_card() -> None:
    lead = a_lead()
    card = a_card(lead, notes="Call on Tuesday.\n\n")
    base = base_of(lead, card)
    changed = replace(lead, name="Ada Lovelace", email="ada@lovelace.org", source="fair")
    (update,) = planned([changed], [card], [base]).ops
    assert isinstance(update, UpdateCard)
    assert update.changes.title == "Follow up: Ada Lovelace"
    assert update.changes.description is not None
    assert update.changes.description.startswith(
        "Call on Tuesday.\n\nLead Name: Ada Lovelace\nEmail: ada@lovelace.org"
    )
    assert update.base_updates == BaseUpdate(name="Ada Lovelace", email="ada@lovelace.org", source="fair")


def test_a_card_text_edited_in_trello_does_not_flow_back_to_the_lead() -> None:
    lead, card, base = synced(a_lead())
    edited = replace(
        card, name="Call Ada!", desc=card.desc.replace("Email: ada1@example.com", "Email: x@y.z")
    )
    assert planned([lead], [edited], [base]).ops == ()


def test_a_persons_title_edit_survives_a_change_of_email() -> None:
    lead, card, base = synced(a_lead())
    retitled = replace(card, name="Call Ada before Friday")
    (update,) = planned([replace(lead, email="new@example.com")], [retitled], [base]).ops
    assert isinstance(update, UpdateCard)
    assert update.changes.title is None
    assert update.changes.description is not None
    assert card_title(lead.name) != retitled.name
