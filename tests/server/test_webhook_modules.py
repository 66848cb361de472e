"""The pure webhook modules: they import nothing that does I/O, and verify header bytes of any shape."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest

from leadsync import webhook_events, webhook_signatures
from tests.fixtures_server import airtable_sign, trello_sign

HEAVY = ("leadsync.engine", "leadsync.store", "leadsync.settings", "httpx", "sqlalchemy")


@pytest.mark.parametrize("module", ["leadsync.webhook_signatures", "leadsync.webhook_events"])
def test_a_pure_module_imports_no_engine_store_settings_or_http(module: str) -> None:
    probe = f"import sys, {module}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == ""


def test_a_trello_signature_of_any_bytes_verifies_only_when_it_is_right() -> None:
    body, callback = b'{"action": {}}', "https://example.test/webhook/trello"
    right = trello_sign("secret", body, callback).encode()
    assert webhook_signatures.verify_trello("secret", body, callback, right)
    assert webhook_signatures.verify_trello("secret", body, callback, b"  " + right + b"\t")
    for wrong in (b"", b"\xff" * len(right), right[:-1] + b"\xe9", right + b"\x80", "é".encode() * 14):
        assert not webhook_signatures.verify_trello("secret", body, callback, wrong)
    assert not webhook_signatures.verify_trello("", body, callback, right)
    assert not webhook_signatures.verify_trello("secret", body, callback, None)


def test_an_airtable_mac_of_any_bytes_verifies_only_when_it_is_right() -> None:
    secret, body = base64.b64encode(b"k" * 32).decode(), b'{"webhook": {"id": "achX"}}'
    right = airtable_sign(secret, body).encode()
    assert webhook_signatures.verify_airtable(secret, body, right)
    assert webhook_signatures.verify_airtable(secret, body, right.upper())
    for wrong in (
        b"",
        b"\xff\xfe",
        right[:-1] + b"\xe9",
        right + b"\x80",
        b"hmac-sha256=" + "é".encode() * 32,
    ):
        assert not webhook_signatures.verify_airtable(secret, body, wrong)
    assert not webhook_signatures.verify_airtable("not base64!", body, right)
    assert not webhook_signatures.verify_airtable(None, body, right)


@pytest.mark.parametrize("body", [b"[" * 200_000 + b"]" * 200_000, b"{not json", b"\xff\xfe", b""])
def test_a_body_that_is_not_json_or_too_deep_is_a_malformed_event(body: bytes) -> None:
    with pytest.raises(webhook_events.MalformedEvent):
        webhook_events.decode_body(body)


@pytest.mark.parametrize("event", [[], "x", 1, None, {"action": []}, {"action": "x"}, {}])
def test_a_trello_delivery_without_an_action_is_malformed(event: object) -> None:
    with pytest.raises(webhook_events.MalformedEvent):
        webhook_events.trello_targets(event, None)


@pytest.mark.parametrize(
    "event",
    [{"action": {"data": []}}, {"action": {"data": {"card": "x"}}}, {"action": {"data": {"card": []}}}],
)
def test_a_trello_action_of_the_wrong_shape_names_nothing(event: object) -> None:
    assert not webhook_events.trello_targets(event, None)


@pytest.mark.parametrize("ping", [[], {"webhook": "x"}, {"webhook": {"id": 5}}, {"webhook": []}, None])
def test_an_airtable_ping_without_a_webhook_id_is_malformed(ping: object) -> None:
    with pytest.raises(webhook_events.MalformedEvent):
        webhook_events.airtable_ping_webhook_id(ping)


def test_an_airtable_ping_names_its_webhook() -> None:
    assert webhook_events.airtable_ping_webhook_id({"webhook": {"id": "achABC"}}) == "achABC"
