"""Contract: the sandbox's person renames lists, labels cards and sets due dates through the API, each
edit logged as the person's own action."""

from __future__ import annotations

import httpx

from leadsync.sandbox.person import Person
from tests.fixtures_sandbox import RunningSandbox


def _types_by(api: httpx.Client, board: str, member: str) -> list[str]:
    actions = api.get(f"/boards/{board}/actions", params={"filter": "all"}).json()
    return [a["type"] for a in reversed(actions) if a["idMemberCreator"] == member]


def test_the_persons_list_label_and_due_edits_are_the_persons_actions(
    person: Person, api: httpx.Client, board: str, sandbox: RunningSandbox
) -> None:
    card = person.add_card("NEW", "Ada")
    assert person.rename_list("NEW", "Fresh leads")["name"] == "Fresh leads"
    label = person.add_label(card["id"], "Hot", "red")
    assert (label["name"], label["color"]) == ("Hot", "red")
    due = person.set_due(card["id"], "2030-01-01T09:00:00.000Z", complete=True)
    assert (due["due"], due["dueComplete"]) == ("2030-01-01T09:00:00.000Z", True)
    person.remove_label(card["id"], label["id"])
    assert api.get(f"/cards/{card['id']}").json()["idLabels"] == []
    member = sandbox.state.person.trello_member_id
    assert _types_by(api, board, member) == [
        "createCard", "updateList", "createLabel", "addLabelToCard", "updateCard", "updateCard", "removeLabelFromCard",
    ]  # fmt: skip
    assert person.status_of_list(person.lists["NEW"]) == "NEW"  # a renamed list keeps its status
