"""The actions of labels: ``createLabel``, ``updateLabel``, ``deleteLabel``, ``addLabelToCard`` and
``removeLabelFromCard``, shaped as captured Trello traffic shows them.

Adding or removing a label names the label, the board and the card, with the label's name in ``text`` and
its colour in ``value``; there is no ``data.list``, and an uncoloured label has neither ``label.color`` nor
``value``. The ``display.translationKey`` values of label actions are UNVERIFIED.
"""

from __future__ import annotations

from typing import Any

from leadsync.sandbox.identities import Identity
from leadsync.sandbox.trello.actions import board_ref, card_entity, card_ref, member_entity
from leadsync.sandbox.trello.rows import BoardRow, CardRow, LabelRow

__all__ = [
    "add_label_to_card",
    "create_label",
    "delete_label",
    "label_ref",
    "remove_label_from_card",
    "update_label",
]

Shaped = tuple[str, dict[str, Any], dict[str, Any]]


def label_ref(label: LabelRow) -> dict[str, Any]:
    """A label as actions name it in ``data``: no ``color`` key when it has none."""
    ref: dict[str, Any] = {"id": label.id, "name": label.name}
    if label.color is not None:
        ref["color"] = label.color
    return ref


def _label_entity(label: LabelRow) -> dict[str, Any]:
    return {"type": "label", "id": label.id, "color": label.color, "text": label.name}


def _on_card(kind: str, identity: Identity, board: BoardRow, card: CardRow, label: LabelRow) -> Shaped:
    data: dict[str, Any] = {"label": label_ref(label), "board": board_ref(board), "card": card_ref(card)}
    data["text"] = label.name
    if label.color is not None:
        data["value"] = label.color
    entities = {
        "label": _label_entity(label),
        "card": card_entity(card),
        "memberCreator": member_entity(identity),
    }
    key = "action_add_label_to_card" if kind == "addLabelToCard" else "action_remove_label_from_card"
    return kind, data, {"translationKey": key, "entities": entities}


def add_label_to_card(identity: Identity, board: BoardRow, card: CardRow, label: LabelRow) -> Shaped:
    """The ``addLabelToCard`` action."""
    return _on_card("addLabelToCard", identity, board, card, label)


def remove_label_from_card(identity: Identity, board: BoardRow, card: CardRow, label: LabelRow) -> Shaped:
    """The ``removeLabelFromCard`` action (the same ``data`` as ``addLabelToCard``)."""
    return _on_card("removeLabelFromCard", identity, board, card, label)


def create_label(identity: Identity, board: BoardRow, label: LabelRow) -> Shaped:
    """The ``createLabel`` action: ``data{board, label{id, name[, color]}}``."""
    entities = {"label": _label_entity(label), "memberCreator": member_entity(identity)}
    data = {"board": board_ref(board), "label": label_ref(label)}
    return "createLabel", data, {"translationKey": "action_create_label", "entities": entities}


def update_label(identity: Identity, board: BoardRow, label: LabelRow, field: str, old: Any) -> Shaped:
    """The ``updateLabel`` action of one changed field: ``old{name}`` or ``old{color}``."""
    data = {
        "board": board_ref(board),
        "label": {"id": label.id, "name": label.name, "color": label.color},
        "old": {field: old},
    }
    entities = {"label": _label_entity(label), "memberCreator": member_entity(identity)}
    return "updateLabel", data, {"translationKey": "action_update_label", "entities": entities}


def delete_label(identity: Identity, board: BoardRow, label: LabelRow) -> Shaped:
    """The ``deleteLabel`` action: ``data{board, label{id}}``."""
    entities = {"memberCreator": member_entity(identity)}
    data = {"board": board_ref(board), "label": {"id": label.id}}
    return "deleteLabel", data, {"translationKey": "action_delete_label", "entities": entities}
