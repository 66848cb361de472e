"""What every dashboard route shares: settings, the password, sessions, the login limit, the templates,
and the backend: the server's flows, their store, and what runs their cycles."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from leadsync.dashboard.auth import LoginLimiter, Password, Session, Sessions
from leadsync.dashboard.backend import Backend
from leadsync.dashboard.views import Links
from leadsync.engine.mapping import FIELD_KEY, LIST_KEY
from leadsync.settings import Settings
from leadsync.store import Store

__all__ = ["HERE", "SECURITY_HEADERS", "Dashboard"]

HERE = Path(__file__).resolve().parent
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # htmx inserts a small style element for its request indicators, hence 'unsafe-inline' for styles.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
}


@dataclass
class Dashboard:
    """The dashboard's shared parts."""

    settings: Settings
    backend: Backend
    password: Password
    sessions: Sessions = field(default_factory=Sessions)
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    templates: Jinja2Templates = field(
        default_factory=lambda: Jinja2Templates(directory=str(HERE / "templates"))
    )

    @property
    def store(self) -> Store:
        """The state store the server's flows sync with."""
        return self.backend.store()

    def links(self, flow_name: str | None = None) -> Links:
        """Links to records and cards of a flow's base and table (the first flow's by default)."""
        flow = self.backend.flow(flow_name)
        remembered = self.store.remembered_ids(flow.name)
        table = (
            remembered.get(FIELD_KEY + "table")
            or self.store.sync_state(flow.name).airtable_table_id
            or flow.table
        )
        return Links(flow.base_id, table)

    def list_names(self, flow_name: str | None = None) -> dict[str, str]:
        """Trello list id -> list name, as far as the settings and the store know (never asking Trello)."""
        flow = self.backend.flow(flow_name)
        by_status = dict(flow.list_ids or {})
        if not by_status:  # the ids the engine resolved the list names to, remembered in the store
            remembered = self.store.remembered_ids(flow.name)
            by_status = {k.removeprefix(LIST_KEY): v for k, v in remembered.items() if k.startswith(LIST_KEY)}
        return {list_id: flow.statuses.get(status, status) for status, list_id in by_status.items()}

    def render(
        self, request: Request, name: str, session: Session | None, status: int = 200, **values: Any
    ) -> Response:
        """A template rendered with the session's CSRF token and the security headers."""
        context = {"csrf": session.csrf if session else "", "logged_in": session is not None, **values}
        response = self.templates.TemplateResponse(request, name, context, status_code=status)
        response.headers.update(SECURITY_HEADERS)
        return response

    def session_or_login(self, request: Request) -> Session | Response:
        """The request's session, or a redirect to the login page."""
        session = self.sessions.read(request)
        if session is None:
            return RedirectResponse("/login", status_code=303, headers=SECURITY_HEADERS)
        return session
