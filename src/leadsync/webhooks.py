"""Registration of both APIs' webhooks through the engine: register, list, unregister and maintain.

Checking a delivery's signature is ``leadsync.webhook_signatures``; what an event names is
``leadsync.webhook_events``. Both are pure and import nothing of the engine or the store.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from leadsync.config import DEFAULT_FLOW_NAME
from leadsync.engine import Engine
from leadsync.errors import ApiError, ConfigError

__all__ = [
    "REFRESH_BEFORE",
    "listing",
    "maintain",
    "register",
    "unregister",
]

log = logging.getLogger("leadsync.webhooks")

REFRESH_BEFORE = timedelta(days=2)  # Airtable webhooks expire after 7 days unless refreshed


# ---- registration -------------------------------------------------------------------------------------


def _public_url(engine: Engine) -> str:
    url = engine.settings.LEADSYNC_PUBLIC_URL
    if not url:
        raise ConfigError("LEADSYNC_PUBLIC_URL", "is not set",
                          "Give the https:// base URL at which 'leadsync serve' is reachable")  # fmt: skip
    return url


def _suffix(engine: Engine) -> str:
    """The routes of a flow other than ``default`` end in its name (``/webhook/trello/<flow>``)."""
    return "" if engine.flow.name == DEFAULT_FLOW_NAME else f"/{engine.flow.name}"


def _expiry(expiration_time: object) -> datetime | None:
    """An Airtable ``expirationTime`` (ISO 8601, ``Z``) as a time; None when Airtable gave none."""
    return datetime.fromisoformat(str(expiration_time).replace("Z", "+00:00")) if expiration_time else None


def register(engine: Engine) -> dict[str, Any]:
    """Create both webhooks for LEADSYNC_PUBLIC_URL (unless stored ones still exist) and store them."""
    store = engine.store
    base = _public_url(engine)
    result: dict[str, Any] = {}
    hooks = {h["id"]: h for h in engine.airtable.list_webhooks()}
    stored = store.sync_state().airtable_webhook_id
    if stored and stored in hooks and store.airtable_mac_secret():
        result["airtable"] = {"id": stored, "status": "already registered"}
    else:
        table_id = engine.flow_mapping.refresh_table().table_id  # found by its remembered id if renamed
        created = engine.airtable.create_webhook(f"{base}/webhook/airtable{_suffix(engine)}", table_id)
        store.set_airtable_mac_secret(str(created["macSecretBase64"]))
        store.update_sync_state(
            airtable_webhook_id=str(created["id"]),
            airtable_webhook_cursor=1,
            airtable_webhook_expires=_expiry(created.get("expirationTime")),
            airtable_table_id=table_id,
        )
        store.log(
            "webhook registered",
            detail=f"Airtable {created['id']} -> {base}/webhook/airtable{_suffix(engine)}",
        )
        result["airtable"] = {"id": created["id"], "status": "registered"}
    token = engine.flow.trello_token.get_secret_value()
    trello_hooks = {h["id"]: h for h in engine.trello.list_webhooks(token)}
    stored = store.sync_state().trello_webhook_id
    if stored and stored in trello_hooks:
        result["trello"] = {"id": stored, "status": "already registered"}
    else:
        callback = f"{base}/webhook/trello{_suffix(engine)}"
        created = engine.trello.create_webhook(callback, token)
        store.update_sync_state(trello_webhook_id=str(created["id"]), trello_webhook_callback=callback)
        store.log("webhook registered", detail=f"Trello {created['id']} -> {callback}")
        result["trello"] = {"id": created["id"], "status": "registered"}
    return result


def listing(engine: Engine) -> dict[str, Any]:
    """Both APIs' webhooks as they report them (secrets never included)."""
    token = engine.flow.trello_token.get_secret_value()
    return {
        "airtable": engine.airtable.list_webhooks(),
        "trello": engine.trello.list_webhooks(token),
        "stored": {
            "airtable": engine.store.sync_state().airtable_webhook_id,
            "trello": engine.store.sync_state().trello_webhook_id,
        },
    }


def unregister(engine: Engine) -> dict[str, str]:
    """Delete both stored webhooks (one already gone is fine) and forget them and their secrets."""
    store = engine.store
    done: dict[str, str] = {}
    state = store.sync_state()
    for name, hook_id, delete in (("airtable", state.airtable_webhook_id, engine.airtable.delete_webhook),
                                  ("trello", state.trello_webhook_id, engine.trello.delete_webhook)):  # fmt: skip
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
        if name == "airtable":
            store.update_sync_state(airtable_webhook_id=None)
        else:
            store.update_sync_state(trello_webhook_id=None)
    store.set_airtable_mac_secret(None)
    store.update_sync_state(
        airtable_webhook_cursor=None, airtable_webhook_expires=None, trello_webhook_callback=None
    )
    store.log("webhooks unregistered", detail=", ".join(f"{k}: {v}" for k, v in done.items()))
    return done


def maintain(engine: Engine) -> list[str]:
    """Refresh the Airtable webhook before it expires; re-enable notifications Airtable turned off."""
    notes: list[str] = []
    hook_id = engine.store.sync_state().airtable_webhook_id
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
            engine.store.update_sync_state(
                airtable_webhook_expires=_expiry(engine.airtable.refresh_webhook(hook_id))
            )
            notes.append(f"refreshed Airtable webhook {hook_id}")
    if hook.get("areNotificationsEnabled") is False:
        engine.airtable.enable_notifications(hook_id, True)
        notes.append(f"re-enabled notifications of Airtable webhook {hook_id}")
    return notes
