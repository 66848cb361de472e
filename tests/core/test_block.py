"""The card's managed block: a person's text kept byte for byte, lines split at ``\\n`` only, and no
control character written to Trello."""

from __future__ import annotations

import unicodedata
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadsync.core import (
    Card,
    CardId,
    CreateCard,
    Lead,
    LeadId,
    ListId,
    UpdateCard,
    card_title,
    merge_desc,
    parse_lead_id,
    render_block,
    shown_fields,
)
from tests.core.rules import a_lead, planned, synced

LEAD = Lead(LeadId("rec00000000000001"), "Ada", "ada@example.com", "NEW", "web")
MOVED_ON = replace(LEAD, name="Ada Lovelace")
# Every separator Unicode or Python's str.splitlines() knows, but the one Trello breaks lines at.
SEPARATORS = ["\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def control_characters(text: str) -> list[str]:
    """The control characters of ``text`` but the line break."""
    return [ch for ch in text if ch != "\n" and unicodedata.category(ch) == "Cc"]


@pytest.mark.parametrize("sep", SEPARATORS, ids=repr)
def test_a_persons_text_around_the_block_is_kept_byte_for_byte_with_any_separator(sep: str) -> None:
    before, after = f"Call{sep}on Tuesday{sep}\n\n", f"\n\nNotes:{sep}bring coffee{sep}"
    desc = before + render_block(LEAD) + after
    merged = merge_desc(desc, MOVED_ON)
    assert merged == before + render_block(MOVED_ON) + after


@pytest.mark.parametrize("sep", SEPARATORS, ids=repr)
def test_a_block_appended_after_a_persons_text_keeps_every_separator(sep: str) -> None:
    desc = f"first{sep}second{sep}third"
    assert merge_desc(desc, LEAD) == f"{desc}\n\n{render_block(LEAD)}"


def test_a_trailing_line_break_survives_the_rewrite() -> None:
    desc = render_block(LEAD) + "\n"
    assert merge_desc(desc, MOVED_ON) == render_block(MOVED_ON) + "\n"


@pytest.mark.parametrize("sep", ["\x0c", "\x0b", "\u2028", "\u2029", "\x85", "\x1c"], ids=repr)
def test_a_lead_id_after_a_character_trello_does_not_break_lines_at_is_not_a_line(sep: str) -> None:
    assert parse_lead_id(f"notes{sep}Lead ID: {LEAD.id}") is None
    assert parse_lead_id(f"{sep}Lead ID: {LEAD.id}") is None


def test_a_lead_id_line_ending_in_a_carriage_return_is_read() -> None:
    assert parse_lead_id(f"notes\r\nLead ID: {LEAD.id}\r\nmore") == LEAD.id


def test_the_shown_fields_are_read_from_lines_split_at_line_breaks_only() -> None:
    card = Card(CardId("6" * 24), "x", f"intro\x0cEmail: fake@example.com\n{render_block(LEAD)}", ListId("1"))
    assert shown_fields(card)["email"] == "ada@example.com"


@given(st.text(), st.sampled_from(SEPARATORS))
def test_any_persons_text_survives_the_round_trip(text: str, sep: str) -> None:
    person = text.replace("\n", sep)
    merged = merge_desc(person + "\n\n" + render_block(LEAD), MOVED_ON)
    if merged is not None and parse_lead_id(person) is None and "Lead ID" not in person:
        assert merged.startswith(person)


HOSTILE = "A\x00d\x07a\x1b[31m \x7fLove\x9blace\x08"


def test_control_characters_never_reach_a_card_title_or_block() -> None:
    lead = replace(LEAD, name=HOSTILE, email="ada\x00@example.com\x1b", source="fair\x07\x85")
    assert control_characters(card_title(lead.name)) == []
    assert control_characters(render_block(lead)) == []
    assert card_title(lead.name) == "Follow up: Ada[31m Lovelace"
    assert "Email: ada@example.com\n" in render_block(lead)


def test_a_new_card_is_made_without_the_leads_control_characters() -> None:
    (create,) = planned([a_lead(name=HOSTILE, email="e\x1b@x.y", source="s\x00")]).ops
    assert isinstance(create, CreateCard)
    assert control_characters(create.name + create.desc) == []


def test_a_changed_name_is_written_without_control_characters() -> None:
    lead, card, base = synced(a_lead())
    (update,) = planned([replace(lead, name=HOSTILE)], [card], [base]).ops
    assert isinstance(update, UpdateCard)
    assert update.changes.title is not None
    assert update.changes.description is not None
    assert control_characters(update.changes.title + update.changes.description) == []


def test_a_persons_own_control_characters_outside_the_block_are_kept() -> None:
    desc = f"bell\x07 and tab\t\n\n{render_block(LEAD)}"
    merged = merge_desc(desc, MOVED_ON)
    assert merged is not None
    assert merged.startswith("bell\x07 and tab\t\n\n")
