"""Each write in words, with the names people gave their leads and lists."""

from __future__ import annotations

from leadsync.core import (
    BaseUpdate,
    CardChanges,
    CardId,
    LeadChanges,
    LeadId,
    ListId,
    UpdateCard,
    WriteKind,
    WriteLead,
)
from leadsync.write_lines import card_change_words, limited, write_line

LISTS = {"l1": "New leads", "l2": "Called"}


def test_a_move_names_the_list_and_the_lead() -> None:
    op = UpdateCard(
        LeadId("rec1"), CardId("c1"), CardChanges(list_id=ListId("l2")), BaseUpdate(),
        frozenset({WriteKind.MOVED}), "lead changed in Airtable",
    )  # fmt: skip
    line = write_line(op, "Ada Lovelace", LISTS)
    assert line == {
        "kind": "move",
        "lead": "rec1",
        "card": "c1",
        "what": "card 'Ada Lovelace': moved to 'Called' (lead changed in Airtable)",
    }


def test_an_unknown_list_and_a_nameless_lead_fall_back_to_their_ids() -> None:
    assert (
        card_change_words(CardChanges(list_id=ListId("lX"), closed=True), LISTS) == "moved to 'lX', archived"
    )
    line = write_line(WriteLead(LeadId("rec2"), LeadChanges(status="WON"), BaseUpdate()), "", LISTS)
    assert line["what"] == "lead 'rec2': Status 'WON'"
    assert line["kind"] == "status"


def test_a_long_list_is_cut_with_a_count_of_the_rest() -> None:
    assert limited(["a", "b"], 3) == ["a", "b"]
    assert limited([str(n) for n in range(25)], 10) == [*map(str, range(9)), "… and 16 more"]
