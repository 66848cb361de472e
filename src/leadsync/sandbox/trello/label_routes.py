"""Trello's label routes: a board's labels (list, create, read, update, delete) and the labels on a card
(``POST /1/cards/{id}/idLabels``, ``DELETE /1/cards/{id}/idLabels/{idLabel}``, ``POST /1/cards/{id}/labels``).

Sources: https://developer.atlassian.com/cloud/trello/rest/api-group-labels/,
https://developer.atlassian.com/cloud/trello/rest/api-group-boards/ (``GET /1/boards/{id}/labels``,
``limit`` 0..1000, default 50) and https://developer.atlassian.com/cloud/trello/rest/api-group-cards/.
A label's colour is one of 30 (ten base colours, each also ``_dark`` and ``_light``) or ``null``: "Null
means no color and the label will not be shown on the front of Cards". Names may be empty and repeat.
"""

from __future__ import annotations

from typing import Any

from leadsync.sandbox.trello import label_writes
from leadsync.sandbox.trello.errors import express_404, invalid_value, not_found
from leadsync.sandbox.trello.render import ALL_LABEL_COLORS
from leadsync.sandbox.trello.request import MAX_TEXT, Ctx
from leadsync.sandbox.trello.router import Router
from leadsync.sandbox.trello.rows import HEX24, BoardRow

__all__ = [
    "DEFAULT_LABEL_LIMIT",
    "add_card_label",
    "board_labels",
    "create_board_label",
    "create_card_label",
    "create_label",
    "delete_label",
    "get_label",
    "register",
    "remove_card_label",
    "update_label",
    "update_label_field",
]

DEFAULT_LABEL_LIMIT = 50


def _color(ctx: Ctx, name: str = "color") -> str | None:
    """A label colour, or ``None`` for ``null`` (JSON null, the text ``null`` or empty)."""
    if name not in ctx.params:
        raise invalid_value(name)
    value = ctx.params[name]
    if value is None or value in ("", "null"):
        return None
    if value not in ALL_LABEL_COLORS:
        raise invalid_value(name)
    return str(value)


def _label_name(ctx: Ctx, name: str = "name") -> str:
    """A label name: required, 0..16384 characters (default labels are named ``""``)."""
    if name not in ctx.params:
        raise invalid_value(name)
    value = ctx.text(name) or ""
    if len(value) > MAX_TEXT:
        raise invalid_value(name)
    return value


def _new_label(ctx: Ctx, board: BoardRow) -> dict[str, Any]:
    world = ctx.world
    label = label_writes.create_label(world, ctx.identity, board, _label_name(ctx), _color(ctx))
    return world.label_json(label)


async def board_labels(ctx: Ctx) -> Any:
    """``GET /1/boards/{id}/labels``: the board's labels, the first ``limit`` (0..1000, default 50)."""
    world = ctx.world
    board = world.board(ctx.path["id"], ctx.identity)
    limit = ctx.integer("limit", DEFAULT_LABEL_LIMIT, 0, 1000)
    fields = ctx.text("fields")
    shown = []
    for label in world.labels_of(board.id)[:limit]:
        full = world.label_json(label)
        full["uses"] = sum(label.id in c.id_labels for c in world.cards.values())
        if fields is None or fields == "all":
            shown.append(full)
        else:
            wanted = {f.strip() for f in fields.split(",")}
            shown.append({k: v for k, v in full.items() if k == "id" or k in wanted})
    return shown


async def create_label(ctx: Ctx) -> Any:
    """``POST /1/labels``: ``name``, ``color`` and ``idBoard`` all required; returns the label."""
    world = ctx.world
    board_ref = ctx.text("idBoard") or ""
    if not HEX24.match(board_ref) or board_ref.lower() not in world.boards:
        raise invalid_value("idBoard")
    return _new_label(ctx, world.board(board_ref, ctx.identity))


async def create_board_label(ctx: Ctx) -> Any:
    """``POST /1/boards/{id}/labels``: ``name`` and ``color`` (a colour or ``null``); returns the label."""
    return _new_label(ctx, ctx.world.board(ctx.path["id"], ctx.identity))


async def get_label(ctx: Ctx) -> Any:
    """``GET /1/labels/{id}``: one label; 404 once deleted."""
    return ctx.world.label_json(ctx.world.label(ctx.path["id"], ctx.identity))


async def update_label(ctx: Ctx) -> Any:
    """``PUT /1/labels/{id}``: change ``name`` and/or ``color``; returns the label."""
    world = ctx.world
    label = world.label(ctx.path["id"], ctx.identity)
    changes: dict[str, Any] = {}
    if ctx.has("name"):
        changes["name"] = _label_name(ctx)
    if ctx.has("color"):
        changes["color"] = _color(ctx)
    label_writes.update_label(world, ctx.identity, label, changes)
    return world.label_json(label)


async def update_label_field(ctx: Ctx) -> Any:
    """``PUT /1/labels/{id}/{name|color}`` with ``value``; returns the label."""
    field = ctx.path["field"]
    if field not in ("name", "color"):
        raise express_404("PUT", f"/1/labels/{ctx.path['id']}/{field}")
    if not ctx.has("value"):
        raise invalid_value("value")
    return await update_label(Ctx(ctx.world, ctx.identity, {field: ctx.params["value"]}, ctx.path))


async def delete_label(ctx: Ctx) -> Any:
    """``DELETE /1/labels/{id}``: the label is gone from the board and from every card."""
    world = ctx.world
    label_writes.delete_label(world, ctx.identity, world.label(ctx.path["id"], ctx.identity))
    return {"limits": {}}  # the body is UNVERIFIED; Trello's usual answer to a delete


async def add_card_label(ctx: Ctx) -> Any:
    """``POST /1/cards/{id}/idLabels`` with ``value=<idLabel>``: 400 ``that label is already on the card``;
    answers the card's label ids (the body is UNVERIFIED; a Java client reads it as ``String[]``)."""
    world = ctx.world
    card = world.card(ctx.path["id"], ctx.identity)
    ref = ctx.text("value") or ""
    if not HEX24.match(ref):
        raise invalid_value("value")
    label = world.labels.get(ref.lower())
    if label is None or label.id_board != card.id_board:
        raise invalid_value("value")  # the answer for an unknown or foreign label is UNVERIFIED
    label_writes.add_label(world, ctx.identity, card, label)
    return list(card.id_labels)


async def remove_card_label(ctx: Ctx) -> Any:
    """``DELETE /1/cards/{id}/idLabels/{idLabel}``: the label off the card; 404 when it is not on it (the
    status and body are UNVERIFIED); answers the card's remaining label ids."""
    world = ctx.world
    card = world.card(ctx.path["id"], ctx.identity)
    label = world.label(ctx.path["idLabel"], ctx.identity)
    if label.id not in card.id_labels:
        raise not_found()
    label_writes.remove_label(world, ctx.identity, card, label)
    return list(card.id_labels)


async def create_card_label(ctx: Ctx) -> Any:
    """``POST /1/cards/{id}/labels`` with ``color`` (required) and ``name``: a new board label, put on the
    card; returns the label."""
    world = ctx.world
    card = world.card(ctx.path["id"], ctx.identity)
    color = _color(ctx)
    name = _label_name(ctx) if ctx.has("name") else ""
    label = label_writes.create_label(world, ctx.identity, world.boards[card.id_board], name, color)
    label_writes.add_label(world, ctx.identity, card, label)
    return world.label_json(label)


def register(router: Router) -> None:
    """Add the label routes to ``router``."""
    router.add("GET", "/boards/{id}/labels", board_labels)
    router.add("POST", "/boards/{id}/labels", create_board_label)
    router.add("POST", "/labels", create_label)
    router.add("GET", "/labels/{id}", get_label)
    router.add("PUT", "/labels/{id}", update_label)
    router.add("PUT", "/labels/{id}/{field}", update_label_field)
    router.add("DELETE", "/labels/{id}", delete_label)
    router.add("POST", "/cards/{id}/idLabels", add_card_label)
    router.add("DELETE", "/cards/{id}/idLabels/{idLabel}", remove_card_label)
    router.add("POST", "/cards/{id}/labels", create_card_label)
