"""Trello webhook deliveries: ``{"action", "model", "webhook"}`` POSTed as compact UTF-8 JSON, signed in
``X-Trello-Webhook`` with ``base64(HMAC-SHA1(app secret, body + callbackURL))`` over the exact bytes sent.

A 2xx answer is a success, a 410 deletes the webhook, anything else is a failure that counts in
``consecutiveFailures`` and is retried on ``trello_retry_delays``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any, Protocol

from leadsync.sandbox.clock import iso_ms
from leadsync.sandbox.dispatch import DeliveryOutcome
from leadsync.sandbox.shared_state import SharedState
from leadsync.sandbox.trello.rows import WebhookRow

__all__ = ["WebhookWorld", "fan_out", "sign"]


class WebhookWorld(Protocol):
    """What deliveries need of the Trello world: its webhooks (read anew at every attempt) and the shared state."""

    shared: SharedState
    webhooks: dict[str, WebhookRow]


def sign(secret: str, body: bytes, callback_url: str) -> str:
    """``base64(HMAC-SHA1(secret, body + callbackURL))``, the ``X-Trello-Webhook`` header."""
    digest = hmac.new(secret.encode("utf-8"), body + callback_url.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def fan_out(world: WebhookWorld, action: dict[str, Any], models: dict[str, dict[str, Any]]) -> None:
    """Deliver ``action`` to every active webhook watching one of ``models`` (model id -> its JSON now)."""
    shared = world.shared
    for hook in list(world.webhooks.values()):
        if not hook.active or hook.id_model not in models:
            continue
        payload = {"action": action, "model": models[hook.id_model], "webhook": hook.as_json()}
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "X-Trello-Webhook": sign(shared.trello_secrets[hook.key], body, hook.callback_url),
        }
        shared.dispatcher.post(
            "trello", hook.callback_url, body, headers, shared.trello_retry_delays, _outcome(world, hook.id)
        )


def _outcome(world: WebhookWorld, hook_id: str) -> DeliveryOutcome:
    def outcome(status: int | None, last: bool) -> bool:
        # Read the world's webhooks each time: a reset or a delete may have happened since the action.
        hook = world.webhooks.get(hook_id)
        if hook is None:
            return True
        if status is not None and 200 <= status < 300:
            hook.consecutive_failures, hook.first_consecutive_fail_date = 0, None
            return True
        if status == 410:
            del world.webhooks[hook_id]
            return True
        # Every failed attempt counts (whether Trello counts attempts or deliveries is UNVERIFIED).
        hook.consecutive_failures += 1
        if hook.first_consecutive_fail_date is None:
            hook.first_consecutive_fail_date = iso_ms(world.shared.clock.now())
        return False

    return outcome
