"""Logging in and out of the dashboard.

The login form carries a CSRF token too: a random value set in a short-lived ``HttpOnly``,
``SameSite=Strict`` cookie when the form is shown, and echoed by the form (another site can neither
read the cookie nor make the browser send it). Attempts are counted per client address before the
password is even checked, so a guesser gets 429 after :data:`~leadsync.dashboard.auth.LOGIN_ATTEMPTS`.
"""

from __future__ import annotations

import hmac
import logging
import math
import secrets

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from leadsync.dashboard.auth import is_https
from leadsync.dashboard.context import SECURITY_HEADERS, Dashboard

__all__ = ["LOGIN_COOKIE", "add_login_routes"]

LOGIN_COOKIE = "leadsync_login"
log = logging.getLogger("leadsync.dashboard")


def _login_form(dash: Dashboard, request: Request, message: str | None, status: int) -> Response:
    token = secrets.token_urlsafe(24)
    response = dash.render(request, "login.html", None, status=status, login_token=token, message=message)
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict", secure=is_https(request)
    )
    return response


def add_login_routes(app: FastAPI, dash: Dashboard) -> None:
    """``GET``/``POST /login`` and ``POST /logout``."""

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request) -> Response:
        if dash.sessions.read(request) is not None:
            return RedirectResponse("/", status_code=303)
        return _login_form(dash, request, None, 200)

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        client = request.client.host if request.client else "unknown"
        wait = dash.limiter.allow(client)
        if wait is not None:
            log.warning("dashboard: too many login attempts from %s", client)
            message = f"Too many login attempts. Try again in {math.ceil(wait)} seconds."
            return _login_form(dash, request, message, 429)
        form = await request.form()
        expected = request.cookies.get(LOGIN_COOKIE, "")
        given = form.get("login_token")
        if not expected or not isinstance(given, str) or not hmac.compare_digest(given, expected):
            return _login_form(dash, request, "The form expired. Please try again.", 403)
        password = form.get("password")
        if not isinstance(password, str) or not dash.password.matches(password):
            log.info("dashboard: wrong password from %s", client)
            return _login_form(dash, request, "Wrong password.", 401)
        response = RedirectResponse("/", status_code=303, headers=SECURITY_HEADERS)
        dash.sessions.attach(response, dash.sessions.new(), request)
        response.delete_cookie(LOGIN_COOKIE)
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        session = dash.sessions.read(request)
        form = await request.form()
        if session is None or not dash.sessions.csrf_ok(session, form.get("csrf")):
            return Response("Forbidden: the form's CSRF token is missing or wrong.", status_code=403)
        dash.sessions.close(session)
        response = RedirectResponse("/login", status_code=303, headers=SECURITY_HEADERS)
        dash.sessions.forget(response, request)
        return response
