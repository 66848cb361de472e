"""Access to the dashboard over plain HTTP: off without a password, nothing without a session, no form
post without its CSRF token, wrong passwords refused and then rate-limited, no secret on any page."""

from __future__ import annotations

import httpx

from tests.dashboard.conftest import PASSWORD, log_in
from tests.fixtures_sandbox import Leadsync
from tests.fixtures_server import Served, start_serve

PAGES = ["/", "/activity", "/conflicts", "/leads", "/leads/rec00000000000000"]
FRAGMENTS = ["/fragments/overview", "/fragments/activity"]
POSTS = ["/flows/default/sync", "/conflicts/rec00000000000000/keep", "/logout"]


def test_the_dashboard_is_off_without_a_password(leadsync: Leadsync) -> None:
    server = start_serve(leadsync, name="no-dashboard")
    try:
        assert httpx.get(f"{server.url}/", timeout=10).status_code == 404
        assert httpx.get(f"{server.url}/login", timeout=10).status_code == 404
        assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
    finally:
        server.stop()


def test_no_page_is_reachable_without_the_session(board: Served) -> None:
    with httpx.Client(base_url=board.url, timeout=10) as client:
        for path in PAGES:
            answer = client.get(path)
            assert (answer.status_code, answer.headers.get("location")) == (303, "/login"), path
        for path in FRAGMENTS:
            assert client.get(path).status_code == 401, path
        for path in POSTS:
            assert client.post(path, data={"csrf": "x", "side": "airtable"}).status_code in (401, 403), path
        client.cookies.set("leadsync_session", "forged.cookie.value")
        assert client.get("/").status_code == 303
    assert httpx.get(f"{board.url}/health", timeout=10).status_code == 200  # the webhook routes stay open


def test_a_form_post_without_its_csrf_token_is_refused(board: Served) -> None:
    with httpx.Client(base_url=board.url, timeout=10) as client:
        assert log_in(client).status_code == 303
        events = board.health()["worker"]["events"]
        for data in ({}, {"csrf": ""}, {"csrf": "not-the-token"}):
            answer = client.post("/flows/default/sync", data=data)
            assert answer.status_code == 403
            assert "CSRF" in answer.text
        assert board.health()["worker"]["events"] == events  # nothing was queued
        page = client.get("/")
        token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        assert client.post("/flows/default/sync", data={"csrf": token}).status_code == 303
    assert board.health()["worker"]["events"] == events + 1


def test_the_session_cookie_is_httponly_and_strict(board: Served) -> None:
    with httpx.Client(base_url=board.url, timeout=10) as client:
        answer = log_in(client)
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "secure" not in cookie  # plain http on loopback
    with httpx.Client(base_url=board.url, timeout=10, headers={"X-Forwarded-Proto": "https"}) as client:
        assert "secure" in log_in(client).headers["set-cookie"].lower()


def test_wrong_passwords_are_refused_then_rate_limited(board: Served) -> None:
    with httpx.Client(base_url=board.url, timeout=10) as client:
        for _ in range(5):
            answer = log_in(client, "wrong password")
            assert answer.status_code == 401
            assert "Wrong password." in answer.text
            assert "leadsync_session" not in answer.headers.get("set-cookie", "")
        limited = log_in(client, PASSWORD)
        assert limited.status_code == 429
        assert "Too many login attempts" in limited.text
        assert "leadsync_session" not in limited.headers.get("set-cookie", "")


def test_no_secret_or_token_is_on_any_page(board: Served, leadsync: Leadsync) -> None:
    secrets = [v for k, v in leadsync.env().items() if k.endswith(("_KEY", "_TOKEN", "_SECRET"))]
    secrets.append(PASSWORD)
    with httpx.Client(base_url=board.url, timeout=10) as client:
        log_in(client)
        for path in [*PAGES, *FRAGMENTS, "/activity?kind=created"]:
            text = client.get(path).text
            for secret in secrets:
                assert secret not in text, (path, "a secret is on the page")


def test_htmx_is_served_from_the_package_not_a_cdn(board: Served) -> None:
    with httpx.Client(base_url=board.url, timeout=10) as client:
        log_in(client)
        page = client.get("/").text
        assert '<script src="/dashboard-static/htmx.min.js"' in page
        assert '<script src="http' not in page
        script = client.get("/dashboard-static/htmx.min.js")
    assert script.status_code == 200
    assert "htmx" in script.text[:200]


def test_a_session_ends_at_logout_even_for_a_copy_of_its_cookie(board: Served) -> None:
    with httpx.Client(base_url=board.url, timeout=10) as client:
        log_in(client)
        cookie = client.cookies["leadsync_session"]
        token = client.get("/").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        assert client.post("/logout", data={"csrf": token}).status_code == 303
    with httpx.Client(base_url=board.url, timeout=10, cookies={"leadsync_session": cookie}) as copy:
        assert copy.get("/").status_code == 303  # back to the login page
