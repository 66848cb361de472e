"""Webhooks of both APIs: signature checks, what an event names, and registration.

Events are hints that name objects; the cycle then reads those objects' current state and merges it
against the base. So a redelivered, replayed or reordered event can never change anything twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from leadsync.core import CardId, LeadId
from leadsync.engine import Engine
from leadsync.errors import ApiError, ConfigError

log = logging.getLogger("leadsync.webhooks")

AIRTABLE_ID = "airtable.webhook.id"
AIRTABLE_SECRET = "airtable.webhook.secret"  # noqa: S105 - a store key; the value is the macSecretBase64
AIRTABLE_CURSOR = "airtable.webhook.cursor"
AIRTABLE_EXPIRES = "airtable.webhook.expires"
TRELLO_ID = "trello.webhook.id"
TRELLO_CALLBACK = "trello.webhook.callback"
REFRESH_BEFORE = timedelta(days=2)  # Airtable webhooks expire after 7 days unless refreshed
# Ids an event may name: anything else is never read, so it can't reshape a query (a formula, a batch URL).
_CARD_ID = re.compile(r"[0-9a-fA-F]{24}")
_RECORD_ID = re.compile(r"rec[A-Za-z0-9]{14}")


def trello_signature(secret: str, body: bytes, callback_url: str) -> str:
    """base64(HMAC-SHA1(application secret, body + callback URL)), as Trello signs deliveries."""
    digest = hmac.new(secret.encode("utf-8"), body + callback_url.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_trello(secret: str, body: bytes, callback_url: str, header: str | None) -> bool:
    if not header or not secret:
        return False
    return hmac.compare_digest(trello_signature(secret, body, callback_url), header.strip())


def airtable_mac(mac_secret_base64: str, body: bytes) -> str:
    key = base64.b64decode(mac_secret_base64)
    return "hmac-sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_airtable(mac_secret_base64: str | None, body: bytes, header: str | None) -> bool:
    if not header or not mac_secret_base64:
        return False
    try:
        expected = airtable_mac(mac_secret_base64, body)
    except ValueError:
        return False
    return hmac.compare_digest(expected, header.strip().lower())


@dataclass
class Targets:
    """What events named: leads and cards to sync, and echoes of leadsync's own writes left out."""

    leads: set[LeadId] = field(default_factory=set)
    cards: set[CardId] = field(default_factory=set)
    echoes: int = 0

    def __bool__(self) -> bool:
        return bool(self.leads or self.cards)


def trello_targets(event: dict[str, Any], own_member: str | None) -> Targets:
    """The card a Trello delivery names, unless leadsync itself made the change."""
    action = event.get("action")
    if not isinstance(action, dict):
        raise ValueError("delivery has no action")
    if own_member is not None and action.get("idMemberCreator") == own_member:
        return Targets(echoes=1)
    card = (action.get("data") or {}).get("card") or {}
    card_id = card.get("id") if isinstance(card, dict) else None
    if not (isinstance(card_id, str) and _CARD_ID.fullmatch(card_id)):
        return Targets()
    return Targets(cards={CardId(card_id)})


def airtable_targets(payloads: Iterable[dict[str, Any]], table_id: str, own_user: str | None) -> Targets:
    """The records Airtable payloads name (created, changed or destroyed in the Leads table)."""
    out = Targets()
    for payload in payloads:
        meta = payload.get("actionMetadata") or {}
        user = ((meta.get("sourceMetadata") or {}).get("user") or {}).get("id")
        if own_user is not None and meta.get("source") == "publicApi" and user == own_user:
            out.echoes += 1
            continue
        table = (payload.get("changedTablesById") or {}).get(table_id) or {}
        named = [*(table.get("createdRecordsById") or {}), *(table.get("changedRecordsById") or {})]
        named += table.get("destroyedRecordIds") or []
        out.leads.update(LeadId(rid) for rid in named if isinstance(rid, str) and _RECORD_ID.fullmatch(rid))
    return out


# ---- registration -------------------------------------------------------------------------------------


def _public_url(engine: Engine) -> str:
    url = engine.settings.LEADSYNC_PUBLIC_URL
    if not url:
        raise ConfigError("LEADSYNC_PUBLIC_URL", "is not set",
                          "Give the https:// base URL at which 'leadsync serve' is reachable")  # fmt: skip
    return url


def register(engine: Engine) -> dict[str, Any]:
    """Create both webhooks for LEADSYNC_PUBLIC_URL (unless stored ones still exist) and store them."""
    store = engine.store
    base = _public_url(engine)
    result: dict[str, Any] = {}
    hooks = {h["id"]: h for h in engine.airtable.list_webhooks()}
    stored = store.get_cursor(AIRTABLE_ID)
    if stored and stored in hooks and store.get_cursor(AIRTABLE_SECRET):
        result["airtable"] = {"id": stored, "status": "already registered"}
    else:
        table_id = str(engine.airtable.table_schema()["id"])
        created = engine.airtable.create_webhook(f"{base}/webhook/airtable", table_id)
        store.set_cursor(AIRTABLE_ID, str(created["id"]))
        store.set_cursor(AIRTABLE_SECRET, str(created["macSecretBase64"]))
        store.set_cursor(AIRTABLE_CURSOR, "1")
        store.set_cursor(AIRTABLE_EXPIRES, str(created.get("expirationTime") or ""))
        store.set_cursor("airtable.table_id", table_id)
        store.log("webhook registered", detail=f"Airtable {created['id']} -> {base}/webhook/airtable")
        result["airtable"] = {"id": created["id"], "status": "registered"}
    token = engine.settings.TRELLO_TOKEN.get_secret_value()
    trello_hooks = {h["id"]: h for h in engine.trello.list_webhooks(token)}
    stored = store.get_cursor(TRELLO_ID)
    if stored and stored in trello_hooks:
        result["trello"] = {"id": stored, "status": "already registered"}
    else:
        callback = f"{base}/webhook/trello"
        created = engine.trello.create_webhook(callback, token)
        store.set_cursor(TRELLO_ID, str(created["id"]))
        store.set_cursor(TRELLO_CALLBACK, callback)
        store.log("webhook registered", detail=f"Trello {created['id']} -> {callback}")
        result["trello"] = {"id": created["id"], "status": "registered"}
    return result


def listing(engine: Engine) -> dict[str, Any]:
    """Both APIs' webhooks as they report them (secrets never included)."""
    token = engine.settings.TRELLO_TOKEN.get_secret_value()
    return {
        "airtable": engine.airtable.list_webhooks(),
        "trello": engine.trello.list_webhooks(token),
        "stored": {
            "airtable": engine.store.get_cursor(AIRTABLE_ID),
            "trello": engine.store.get_cursor(TRELLO_ID),
        },
    }


def unregister(engine: Engine) -> dict[str, str]:
    store = engine.store
    done: dict[str, str] = {}
    for name, key, delete in (("airtable", AIRTABLE_ID, engine.airtable.delete_webhook),
                              ("trello", TRELLO_ID, engine.trello.delete_webhook)):  # fmt: skip
        hook_id = store.get_cursor(key)
        if not hook_id:
            done[name] = "none registered"
            continue
        try:
            delete(hook_id)
            done[name] = f"deleted {hook_id}"
        except ApiError as exc:
            if exc.status not in (400, 404):
                raise
            done[name] = f"{hook_id} was already gone"
        store.set_cursor(key, None)
    for key in (AIRTABLE_SECRET, AIRTABLE_CURSOR, AIRTABLE_EXPIRES, TRELLO_CALLBACK):
        store.set_cursor(key, None)
    store.log("webhooks unregistered", detail=", ".join(f"{k}: {v}" for k, v in done.items()))
    return done


def maintain(engine: Engine) -> list[str]:
    """Refresh the Airtable webhook before it expires; re-enable notifications Airtable turned off."""
    notes: list[str] = []
    hook_id = engine.store.get_cursor(AIRTABLE_ID)
    if not hook_id:
        return notes
    hook = next((h for h in engine.airtable.list_webhooks() if h["id"] == hook_id), None)
    if hook is None:
        notes.append(f"Airtable webhook {hook_id} is gone: run 'leadsync webhooks register'")
        return notes
    expires = hook.get("expirationTime")
    if expires:
        when = datetime.fromisoformat(str(expires).replace("Z", "+00:00"))
        if when - datetime.now(UTC) < REFRESH_BEFORE:
            engine.store.set_cursor(AIRTABLE_EXPIRES, engine.airtable.refresh_webhook(hook_id))
            notes.append(f"refreshed Airtable webhook {hook_id}")
    if hook.get("areNotificationsEnabled") is False:
        engine.airtable.enable_notifications(hook_id, True)
        notes.append(f"re-enabled notifications of Airtable webhook {hook_id}")
    return notes
