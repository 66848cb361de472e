"""Fuzz of both webhook routes of a real ``leadsync serve`` on loopback, in raw bytes: bodies of any shape
and depth, signature headers of any bytes and length, and declared lengths that lie. No request gets a
5xx, and none without a valid signature starts a cycle, writes to the store or reaches either API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadsync.server import MAX_BODY
from leadsync.store import Store
from tests.fixtures_sandbox import Leadsync, RunningSandbox
from tests.fixtures_server import Served, airtable_sign, post_request, raw_exchange, status_of, trello_sign

ROUTES = {"/webhook/trello": b"X-Trello-Webhook", "/webhook/airtable": b"X-Airtable-Content-MAC"}
# A failing example can hold a body of 100 kB: Hypothesis warns that its repr is large, and the suite's
# warnings-as-errors would then hide the example behind that warning.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
deliveries: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {
        "action": st.fixed_dictionaries(
            {"idMemberCreator": json_values, "data": json_values | st.just({"card": {}})}
        )
    }
) | st.fixed_dictionaries({"webhook": st.fixed_dictionaries({"id": json_values})})
bodies = st.one_of(
    st.binary(max_size=2048),
    json_values.map(lambda v: json.dumps(v).encode()),
    deliveries.map(lambda v: json.dumps(v).encode()),
    st.tuples(st.integers(1, 60_000), st.sampled_from([b"[", b'{"a":'])).map(
        lambda nest: nest[1] * nest[0] + b"0" + (b"]" if nest[1] == b"[" else b"}") * nest[0]
    ),
)
header_values = st.one_of(
    st.binary(max_size=120),
    st.binary(min_size=1, max_size=120).map(lambda b: bytes(byte | 0x80 for byte in b)),  # all non-ASCII
    st.text(max_size=60).map(lambda t: t.encode()),
    st.binary(min_size=1, max_size=64).map(lambda b: b"hmac-sha256=" + b.hex().encode()[:-1]),  # odd length
)
content_lengths = st.one_of(
    st.none(), st.integers(0, 5000), st.just(MAX_BODY + 1), st.integers(MAX_BODY, 1 << 40)
)


def _state(served: Served, sandbox: RunningSandbox, store: Store) -> dict[str, Any]:
    worker = served.health()["worker"]
    last = store.last_cycle()
    writes = [r for r in sandbox.requests() if r["who"] == "leadsync" and r["method"] != "GET"]
    return {
        "events": worker["events"],
        "cycles": worker["cycles"],
        "last_cycle": None if last is None else last.started_at,
        "pairs": len(store.pairs()),
        "leadsync_writes": len(writes),
    }


def _send(
    served: Served, path: str, body: bytes, headers: dict[bytes, bytes], length: int | None
) -> int | None:
    status = status_of(raw_exchange(served.url, post_request(path, body, headers, length)))
    if length is not None and len(body) < length <= MAX_BODY:
        assert status is None or status < 500, status  # the body ends early: the client is gone
    else:
        assert status is not None
        assert status < 500, status
    return status


def test_no_unsigned_request_fails_the_server_or_changes_anything(
    served: Served, sandbox: RunningSandbox, leadsync: Leadsync
) -> None:
    with Store.open(leadsync.env()["LEADSYNC_DATABASE_URL"]) as store:
        before = _state(served, sandbox, store)

        @FUZZ
        @given(
            path=st.sampled_from(sorted(ROUTES)),
            body=bodies,
            header=st.none() | header_values,
            both_headers=st.booleans(),
            length=content_lengths,
        )
        def unsigned(
            path: str, body: bytes, header: bytes | None, both_headers: bool, length: int | None
        ) -> None:
            names = list(ROUTES.values()) if both_headers else [ROUTES[path]]
            headers = {} if header is None else dict.fromkeys(names, header)
            status = _send(served, path, body, headers, length)
            assert status not in (200, 204)

        unsigned()
        assert _state(served, sandbox, store) == before
    assert "Traceback" not in served.log()
    assert " ERROR " not in served.log()


def test_no_signed_request_fails_the_server(served: Served, sandbox: RunningSandbox) -> None:
    (hook,) = sandbox.state.airtable.webhooks.values()
    trello_secret = sandbox.settings["TRELLO_API_SECRET"]

    @FUZZ
    @given(path=st.sampled_from(sorted(ROUTES)), body=bodies, padding=st.sampled_from([b"", b" ", b"\t"]))
    def signed(path: str, body: bytes, padding: bytes) -> None:
        if path == "/webhook/trello":
            signature = trello_sign(trello_secret, body, f"{served.url}{path}")
        else:
            signature = airtable_sign(hook.mac_secret_base64, body)
        _send(served, path, body, {ROUTES[path]: padding + signature.encode() + padding}, None)

    signed()
    assert "Traceback" not in served.log()
    assert " ERROR " not in served.log()
    assert served.health()["status"] == "ok"
