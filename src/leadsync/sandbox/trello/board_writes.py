"""Writes to boards and lists: creating a board (with Trello's default lists and labels when asked),
deleting one, and changing a list's name, archived flag or position, each logged as its action.

Sources: https://developer.atlassian.com/cloud/trello/rest/api-group-boards/ (``POST /1/boards``:
``defaultLists`` adds "the default set of lists to a board (To Do, Doing, Done)") and
https://developer.atlassian.com/cloud/trello/rest/api-group-lists/ (``PUT /1/lists/{id}``).
"""

from __future__ import annotations

from typing import Any

from leadsync.sandbox.identities import Identity
from leadsync.sandbox.trello import actions as acts
from leadsync.sandbox.trello.model import TrelloWorld
from leadsync.sandbox.trello.rows import BoardRow, LabelRow, ListRow

__all__ = ["DEFAULT_LABEL_COLORS", "DEFAULT_LIST_NAMES", "create_board", "delete_board", "update_list"]

DEFAULT_LIST_NAMES = ("To Do", "Doing", "Done")
# Which labels defaultLabels creates is UNVERIFIED; the usual set is six unnamed ones.
DEFAULT_LABEL_COLORS = ("green", "yellow", "orange", "red", "purple", "blue")


def create_board(
    world: TrelloWorld,
    who: Identity,
    name: str,
    desc: str,
    prefs: dict[str, Any],
    *,
    default_lists: bool,
    default_labels: bool,
) -> BoardRow:
    """A new board whose only member (an admin) is ``who``, logged as ``createBoard``.

    The default lists and labels come with the board and log no actions of their own (UNVERIFIED).
    """
    board = world.add_board(name, [who])
    board.desc, board.prefs, board.admins = desc, prefs, [who.trello_member_id]
    if default_lists:
        for i, list_name in enumerate(DEFAULT_LIST_NAMES):
            lst = ListRow(world.new_id()[0], list_name, board.id, 16384.0 * (i + 1))
            world.lists[lst.id] = lst
    if default_labels:
        for color in DEFAULT_LABEL_COLORS:
            label = LabelRow(world.new_id()[0], board.id, "", color)
            world.labels[label.id] = label
    stamp = world.new_id()
    world.touch(board, stamp[1])
    world.record(who, acts.create_board(who, board), {board.id: world.board_json(board)}, stamp)
    return board


def delete_board(world: TrelloWorld, board: BoardRow) -> None:
    """Delete ``board`` for good, with its lists, cards, labels, actions and the webhooks on any of them."""
    gone = {board.id}
    for rows in (world.lists, world.cards, world.labels):
        doomed = [key for key, row in rows.items() if row.id_board == board.id]
        gone.update(doomed)
        for key in doomed:
            del rows[key]
    world.actions = [a for a in world.actions if a["data"].get("board", {}).get("id") != board.id]
    world.webhooks = {k: h for k, h in world.webhooks.items() if h.id_model not in gone}
    del world.boards[board.id]


def update_list(world: TrelloWorld, who: Identity, lst: ListRow, changes: dict[str, Any]) -> None:
    """Apply validated ``name``/``closed``/``pos`` changes: one ``updateList`` action per changed field.

    Archiving a list leaves its cards' own ``closed`` flag as it was, as Trello does.
    """
    board = world.boards[lst.id_board]
    for field in ("name", "closed", "pos"):
        if field not in changes or changes[field] == getattr(lst, field):
            continue
        old = getattr(lst, field)
        setattr(lst, field, changes[field])
        stamp = world.new_id()
        world.touch(board, stamp[1])
        models = {board.id: world.board_json(board), lst.id: world.list_json(lst)}
        world.record(who, acts.edit_list(who, board, lst, field, old, changes[field]), models, stamp)
