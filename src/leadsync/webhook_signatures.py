"""Signatures of webhook deliveries: Trello's ``X-Trello-Webhook`` and Airtable's ``X-Airtable-Content-MAC``.

Pure functions of bytes: no I/O, and no import of the engine, the store or an HTTP client. Header values
are taken as the raw bytes the client sent, so a header of any shape (non-ASCII, odd length, empty)
simply fails to verify instead of raising.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

__all__ = ["airtable_mac", "trello_signature", "verify_airtable", "verify_trello"]


def trello_signature(secret: str, body: bytes, callback_url: str) -> str:
    """base64(HMAC-SHA1(application secret, body + callback URL)), as Trello signs deliveries."""
    digest = hmac.new(secret.encode("utf-8"), body + callback_url.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_trello(secret: str, body: bytes, callback_url: str, header: bytes | None) -> bool:
    """Whether ``header`` (the raw ``X-Trello-Webhook`` value) signs ``body`` for ``callback_url``."""
    if not header or not secret:
        return False
    expected = trello_signature(secret, body, callback_url).encode("ascii")
    return hmac.compare_digest(expected, header.strip())


def airtable_mac(mac_secret_base64: str, body: bytes) -> str:
    """``hmac-sha256=`` and the hex HMAC-SHA256 of ``body`` under the webhook's decoded MAC secret."""
    key = base64.b64decode(mac_secret_base64)
    return "hmac-sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_airtable(mac_secret_base64: str | None, body: bytes, header: bytes | None) -> bool:
    """Whether ``header`` (the raw ``X-Airtable-Content-MAC`` value) is the MAC of ``body``."""
    if not header or not mac_secret_base64:
        return False
    try:
        expected = airtable_mac(mac_secret_base64, body).encode("ascii")
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(expected, header.strip().lower())
