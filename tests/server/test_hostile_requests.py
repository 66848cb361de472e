"""Requests no genuine delivery would make, sent as raw bytes to a real ``leadsync serve`` on loopback:
each gets a 4xx (or no answer, for a client that is gone), never a 500 nor a traceback in the log, and
changes nothing."""

from __future__ import annotations

import pytest

from tests.fixtures_sandbox import RunningSandbox
from tests.fixtures_server import (
    Served,
    airtable_sign,
    post_request,
    raw_exchange,
    status_of,
    trello_sign,
    wait_until,
)

SIGNATURE_HEADERS = {"/webhook/trello": b"X-Trello-Webhook", "/webhook/airtable": b"X-Airtable-Content-MAC"}
NON_ASCII_VALUES = [b"\xff\xfe", b"caf\xe9", "signé".encode(), b"\x80" * 29, b"hmac-sha256=\xc3\xa9" * 3]


def _airtable_secret(sandbox: RunningSandbox) -> str:
    (hook,) = sandbox.state.airtable.webhooks.values()
    return hook.mac_secret_base64


def _leadsync_writes(sandbox: RunningSandbox, since: int) -> list[dict[str, object]]:
    return [r for r in sandbox.requests(since) if r["who"] == "leadsync" and r["method"] != "GET"]


def _assert_untouched(served: Served, sandbox: RunningSandbox, seen: int, cycles: int) -> None:
    worker = served.health()["worker"]
    assert worker["events"] == 0
    assert worker["cycles"] == cycles
    assert _leadsync_writes(sandbox, seen) == []
    assert "Traceback" not in served.log()
    assert " ERROR " not in served.log()


@pytest.mark.parametrize("path", sorted(SIGNATURE_HEADERS))
def test_a_non_ascii_signature_header_is_refused_without_a_traceback(
    served: Served, sandbox: RunningSandbox, path: str
) -> None:
    seen, cycles = len(sandbox.requests()), served.health()["worker"]["cycles"]
    body = b'{"action": {"data": {"card": {"id": "eeeeeeeeeeeeeeeeeeeeeeee"}}}, "webhook": {"id": "x"}}'
    for value in NON_ASCII_VALUES:
        answer = raw_exchange(served.url, post_request(path, body, {SIGNATURE_HEADERS[path]: value}))
        assert status_of(answer) == 401, answer[:300]
    _assert_untouched(served, sandbox, seen, cycles)


@pytest.mark.parametrize("path", sorted(SIGNATURE_HEADERS))
def test_a_deeply_nested_signed_body_is_a_bad_request(
    served: Served, sandbox: RunningSandbox, path: str
) -> None:
    seen, cycles = len(sandbox.requests()), served.health()["worker"]["cycles"]
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"action": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001):
        if path == "/webhook/trello":
            signature = trello_sign(sandbox.settings["TRELLO_API_SECRET"], body, f"{served.url}{path}")
        else:
            signature = airtable_sign(_airtable_secret(sandbox), body)
        answer = raw_exchange(
            served.url, post_request(path, body, {SIGNATURE_HEADERS[path]: signature.encode()})
        )
        assert status_of(answer) == 400, answer[:300]
    _assert_untouched(served, sandbox, seen, cycles)


def test_clients_hanging_up_mid_body_leave_one_quiet_line_each(
    served: Served, sandbox: RunningSandbox
) -> None:
    seen, cycles = len(sandbox.requests()), served.health()["worker"]["cycles"]
    hang_ups = 8
    for i in range(hang_ups):
        path = sorted(SIGNATURE_HEADERS)[i % 2]
        partial = post_request(path, b'{"action": ', {SIGNATURE_HEADERS[path]: b"sig"}, content_length=4000)
        raw_exchange(served.url, partial, hang_up=True)
    wait_until(lambda: served.log().count("disconnected before its body was read") == hang_ups)
    lines = [line for line in served.log().splitlines() if "disconnected before its body was read" in line]
    assert all(" INFO " in line or " DEBUG " in line for line in lines), lines
    _assert_untouched(served, sandbox, seen, cycles)
