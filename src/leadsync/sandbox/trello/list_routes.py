"""Trello's list writes beyond ``POST /1/lists``: ``POST /1/boards/{id}/lists``, ``PUT /1/lists/{id}``
and its one-field forms ``PUT /1/lists/{id}/{closed|name|pos|subscribed}`` with ``value``.

Source: https://developer.atlassian.com/cloud/trello/rest/api-group-lists/. A rename is logged as
``updateList`` with ``data.old.name``, archiving as ``updateList`` with ``data.old.closed``; the cards of
an archived list keep their own ``closed: false``.
"""

from __future__ import annotations

from typing import Any

from leadsync.sandbox.trello import board_writes
from leadsync.sandbox.trello.errors import express_404, invalid_value
from leadsync.sandbox.trello.request import MAX_TEXT, Ctx
from leadsync.sandbox.trello.router import Router

__all__ = ["LIST_VALUE_FIELDS", "create_board_list", "register", "update_list", "update_list_field"]

LIST_VALUE_FIELDS = ("closed", "name", "pos", "subscribed")


def _name(ctx: Ctx) -> str:
    name = ctx.text("name") or ""
    if not 1 <= len(name) <= MAX_TEXT:
        raise invalid_value("name")
    return name


async def create_board_list(ctx: Ctx) -> Any:
    """``POST /1/boards/{id}/lists``: a new list on the board (``name``, ``pos``), as ``POST /1/lists``."""
    world = ctx.world
    board = world.board(ctx.path["id"], ctx.identity)
    name = _name(ctx)
    return world.list_json(world.create_list(ctx.identity, board, name, ctx.params.get("pos")))


def _apply(ctx: Ctx) -> Any:
    world = ctx.world
    lst = world.list_(ctx.path["id"], ctx.identity)
    changes: dict[str, Any] = {}
    if ctx.has("name"):
        changes["name"] = _name(ctx)
    if ctx.has("closed"):
        changes["closed"] = ctx.flag("closed", lst.closed)
    if ctx.has("pos"):
        siblings = [x.pos for x in world.lists_of(lst.id_board) if x.id != lst.id and not x.closed]
        changes["pos"] = world.place(ctx.params["pos"], siblings, "bottom")
    if ctx.has("subscribed"):
        ctx.flag("subscribed", False)  # validated; subscriptions are per member and not kept
    board_writes.update_list(world, ctx.identity, lst, changes)
    return world.list_json(lst)


async def update_list(ctx: Ctx) -> Any:
    """``PUT /1/lists/{id}``: change ``name`` (1..16384), ``closed`` or ``pos``; returns the list."""
    return _apply(ctx)


async def update_list_field(ctx: Ctx) -> Any:
    """``PUT /1/lists/{id}/{field}`` with ``value``, for ``closed``, ``name``, ``pos`` or ``subscribed``."""
    field = ctx.path["field"]
    if field not in LIST_VALUE_FIELDS:
        raise express_404("PUT", f"/1/lists/{ctx.path['id']}/{field}")
    if not ctx.has("value"):
        raise invalid_value("value")
    return _apply(Ctx(ctx.world, ctx.identity, {field: ctx.params["value"]}, ctx.path))


def register(router: Router) -> None:
    """Add the list write routes to ``router``."""
    router.add("POST", "/boards/{id}/lists", create_board_list)
    router.add("PUT", "/lists/{id}", update_list)
    router.add("PUT", "/lists/{id}/{field}", update_list_field)
