"""One card field at a time: ``GET /1/cards/{id}/{field}`` answers ``{"_value": ...}``, and the older
``PUT /1/cards/{id}/{field}`` with ``value`` changes one field with the same effects and actions as
``PUT /1/cards/{id}``.

Sources: https://developer.atlassian.com/cloud/trello/rest/api-group-cards/ (the one-field GET). The
one-field PUT was documented in Trello's 2017 reference and is gone from today's; py-trello 0.20.1
(``Card._set_remote_attribute``) still sends it for ``name``, ``desc``, ``due``, ``start``,
``dueReminder``, ``closed``, ``pos``, ``idList``, ``idBoard`` (with ``idList``), ``dueComplete`` and
``subscribed``, so the sandbox serves it.
"""

from __future__ import annotations

from typing import Any

from leadsync.sandbox.trello import label_writes
from leadsync.sandbox.trello.card_changes import card_changes
from leadsync.sandbox.trello.errors import express_404, invalid_value
from leadsync.sandbox.trello.request import Ctx
from leadsync.sandbox.trello.router import Router

__all__ = ["CARD_FIELDS", "CARD_VALUE_FIELDS", "card_field", "register", "update_card_field"]

CARD_FIELDS = (
    "id", "address", "badges", "checkItemStates", "closed", "coordinates", "creationMethod", "dueComplete",
    "dateLastActivity", "desc", "descData", "due", "dueReminder", "idBoard", "idChecklists", "idLabels",
    "idList", "idMembers", "idMembersVoted", "idShort", "idAttachmentCover", "labels", "limits",
    "locationName", "manualCoverAttachment", "name", "pos", "shortLink", "shortUrl", "subscribed", "url",
    "cover", "isTemplate",
)  # fmt: skip
CARD_VALUE_FIELDS = (
    "closed", "desc", "due", "dueComplete", "dueReminder", "idBoard", "idLabels", "idList", "idMembers",
    "name", "pos", "start", "subscribed",
)  # fmt: skip
_ABSENT_FIELDS: dict[str, Any] = {
    "address": None,
    "coordinates": None,
    "creationMethod": None,
    "limits": {},
    "locationName": None,
}


async def card_field(ctx: Ctx) -> Any:
    """``GET /1/cards/{id}/{field}``: ``{"_value": <the field>}``; an undocumented field is no route."""
    field = ctx.path["field"]
    if field not in CARD_FIELDS:
        raise express_404("GET", f"/1/cards/{ctx.path['id']}/{field}")
    world = ctx.world
    card = world.card(ctx.path["id"], ctx.identity)
    return {"_value": {**_ABSENT_FIELDS, **world.card_json(card)}[field]}


async def update_card_field(ctx: Ctx) -> Any:
    """``PUT /1/cards/{id}/{field}`` with ``value`` (``idBoard`` may bring ``idList``); returns the card."""
    field = ctx.path["field"]
    if field not in CARD_VALUE_FIELDS:
        raise express_404("PUT", f"/1/cards/{ctx.path['id']}/{field}")
    if not ctx.has("value"):
        raise invalid_value("value")
    world = ctx.world
    card = world.card(ctx.path["id"], ctx.identity)
    params: dict[str, Any] = {field: ctx.params["value"]}
    if field == "idBoard" and ctx.has("idList"):
        params["idList"] = ctx.params["idList"]
    if field == "subscribed":
        ctx.flag("value", False)  # validated; subscriptions are per member and not kept
        return world.card_json(card)
    changes = card_changes(Ctx(world, ctx.identity, params, ctx.path), card)
    labels = changes.pop("idLabels", None)
    world.update_card(ctx.identity, card, changes)
    if labels is not None:
        label_writes.set_labels(world, ctx.identity, card, labels)
    return world.card_json(card)


def register(router: Router) -> None:
    """Add the one-field card routes to ``router`` (after the card's named sub-routes)."""
    router.add("GET", "/cards/{id}/{field}", card_field)
    router.add("PUT", "/cards/{id}/{field}", update_card_field)
