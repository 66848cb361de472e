"""Airtable's notification pings: ``{"base":{"id"},"webhook":{"id"},"timestamp"}`` POSTed to a webhook's
URL with ``X-Airtable-Content-MAC: hmac-sha256=<hex>``, retried on ``airtable_ping_retry_delays``.

Pings are coalesced: while one is undelivered no second one is queued, but one more is sent after it
is delivered, so a change is never left without a ping. When every retry has failed, notifications
are turned off, as Airtable does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from leadsync.sandbox.airtable.model import AirtableWorld
from leadsync.sandbox.airtable.rows import WebhookRow
from leadsync.sandbox.clock import iso_ms

__all__ = ["ping", "sign"]


def sign(secret_base64: str, body: bytes) -> str:
    """The ``X-Airtable-Content-MAC`` value for ``body``."""
    digest = hmac.new(base64.b64decode(secret_base64), body, hashlib.sha256).hexdigest()
    return f"hmac-sha256={digest}"


def ping(world: AirtableWorld, hook: WebhookRow) -> None:
    """Notify ``hook``'s URL that a payload is waiting (coalesced while a ping is undelivered)."""
    shared = world.shared
    if hook.ping_pending:
        hook.ping_again = True  # coalesced into the ping already on its way
        return
    url = hook.notification_url
    if url is None:
        return
    hook.ping_pending = True
    body = json.dumps(
        {
            "base": {"id": world.base_id},
            "webhook": {"id": hook.id},
            "timestamp": iso_ms(shared.clock.now()),
        },
        separators=(",", ":"),
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Airtable-Content-MAC": sign(hook.mac_secret_base64, body),
    }
    delays = list(shared.airtable_ping_retry_delays)
    attempt_started = [shared.clock.monotonic()]
    retry_number = [0]

    def outcome(status: int | None, last: bool) -> bool:
        finished = shared.clock.monotonic()
        number = retry_number[0]
        retry_number[0] += 1
        duration_ms = max(0.0, finished - attempt_started[0]) * 1000
        if number < len(delays):
            attempt_started[0] = finished + delays[number]
        alive = world.webhooks.get(hook.id) is hook and hook.notifications_enabled
        ok = status in (200, 204)
        result: dict[str, Any] = {
            "success": ok,
            "completionTimestamp": iso_ms(shared.clock.now()),
            "durationMs": round(duration_ms, 3),
            "retryNumber": number,
            "willBeRetried": not ok and not last and alive,
        }
        if not ok:
            # The wording is UNVERIFIED; the shape follows the list-webhooks documentation.
            reason = f"HTTP status {status}" if status is not None else "no response"
            result["error"] = {"message": f"Notification failed: {reason}"}
        hook.last_result = result
        if ok:
            hook.last_success = shared.clock.now()
            hook.ping_pending = False
            if hook.ping_again:
                hook.ping_again = False
                if alive and hook.is_active(shared.clock.now()):
                    ping(world, hook)
            return True
        if last or not alive:
            hook.ping_pending = hook.ping_again = False
            if last and alive:
                hook.notifications_enabled = False  # as Airtable does after its retries run out
            return True
        return False

    shared.dispatcher.post("airtable", url, body, headers, delays, outcome)
