"""Writes to labels: a board's labels (create, update, delete) and the labels on a card (add, remove, or
a card's whole set at once), each logged as its action and handed to the webhooks watching.

Sources: https://developer.atlassian.com/cloud/trello/rest/api-group-labels/ and
https://developer.atlassian.com/cloud/trello/rest/api-group-cards/ (``POST /1/cards/{id}/idLabels``,
``DELETE /1/cards/{id}/idLabels/{idLabel}``, ``idLabels`` on ``PUT /1/cards/{id}``).
"""

from __future__ import annotations

from typing import Any

from leadsync.sandbox.identities import Identity
from leadsync.sandbox.trello import label_actions as acts
from leadsync.sandbox.trello.errors import TrelloError
from leadsync.sandbox.trello.model import TrelloWorld
from leadsync.sandbox.trello.rows import BoardRow, CardRow, LabelRow

__all__ = [
    "ALREADY_ON_CARD",
    "add_label",
    "create_label",
    "delete_label",
    "remove_label",
    "set_labels",
    "update_label",
]

ALREADY_ON_CARD = "that label is already on the card"


def _board_models(world: TrelloWorld, board: BoardRow) -> dict[str, dict[str, Any]]:
    return {board.id: world.board_json(board)}


def _card_models(world: TrelloWorld, card: CardRow) -> dict[str, dict[str, Any]]:
    # Label actions name no list, so a list's webhook is not told (which ones reach it is UNVERIFIED).
    return {card.id: world.card_json(card), card.id_board: world.board_json(world.boards[card.id_board])}


def create_label(
    world: TrelloWorld, who: Identity, board: BoardRow, name: str, color: str | None
) -> LabelRow:
    """A new label on ``board``, logged as ``createLabel``."""
    label = LabelRow(world.new_id()[0], board.id, name, color)
    world.labels[label.id] = label
    stamp = world.new_id()
    world.touch(board, stamp[1])
    world.record(who, acts.create_label(who, board, label), _board_models(world, board), stamp)
    return label


def update_label(world: TrelloWorld, who: Identity, label: LabelRow, changes: dict[str, Any]) -> None:
    """Apply ``name``/``color`` changes: one ``updateLabel`` action per changed field."""
    board = world.boards[label.id_board]
    for field in ("name", "color"):
        if field not in changes or changes[field] == getattr(label, field):
            continue
        old = getattr(label, field)
        setattr(label, field, changes[field])
        stamp = world.new_id()
        world.touch(board, stamp[1])
        world.record(
            who, acts.update_label(who, board, label, field, old), _board_models(world, board), stamp
        )


def delete_label(world: TrelloWorld, who: Identity, label: LabelRow) -> None:
    """Delete ``label`` and take it off every card, logged as ``deleteLabel`` (whether Trello also logs a
    ``removeLabelFromCard`` per card is UNVERIFIED; the sandbox does not)."""
    board = world.boards[label.id_board]
    for card in world.cards.values():
        if label.id in card.id_labels:
            card.id_labels = [i for i in card.id_labels if i != label.id]
    del world.labels[label.id]
    stamp = world.new_id()
    world.touch(board, stamp[1])
    world.record(who, acts.delete_label(who, board, label), _board_models(world, board), stamp)


def add_label(world: TrelloWorld, who: Identity, card: CardRow, label: LabelRow) -> None:
    """Put ``label`` on ``card``, logged as ``addLabelToCard``; 400 ``that label is already on the card``."""
    if label.id in card.id_labels:
        raise TrelloError(400, ALREADY_ON_CARD)
    board = world.boards[card.id_board]
    card.id_labels = [*card.id_labels, label.id]
    stamp = world.new_id()
    world.touch(board, stamp[1], card)
    world.record(who, acts.add_label_to_card(who, board, card, label), _card_models(world, card), stamp)


def remove_label(world: TrelloWorld, who: Identity, card: CardRow, label: LabelRow) -> None:
    """Take ``label`` off ``card``, logged as ``removeLabelFromCard``."""
    board = world.boards[card.id_board]
    card.id_labels = [i for i in card.id_labels if i != label.id]
    stamp = world.new_id()
    world.touch(board, stamp[1], card)
    world.record(who, acts.remove_label_from_card(who, board, card, label), _card_models(world, card), stamp)


def set_labels(world: TrelloWorld, who: Identity, card: CardRow, label_ids: list[str]) -> None:
    """Make ``label_ids`` the card's whole label set: one ``addLabelToCard`` per label added, then one
    ``removeLabelFromCard`` per label removed (that a PUT logs these per change is UNVERIFIED)."""
    wanted = list(dict.fromkeys(label_ids))
    for label_id in wanted:
        if label_id not in card.id_labels:
            add_label(world, who, card, world.labels[label_id])
    for label_id in [i for i in card.id_labels if i not in wanted]:
        remove_label(world, who, card, world.labels[label_id])
