"""The dashboard's pages (overview, activity, conflicts, leads), their live fragments, and its two actions
(settling a conflict is :func:`leadsync.settling.settle_conflict`, as for ``conflicts resolve``).

Every route needs a session: a page without one redirects to ``/login``, a fragment answers 401, and a
``POST`` also needs the session's CSRF token (403 without it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from leadsync.core import LeadId, Side
from leadsync.dashboard.auth import Session
from leadsync.dashboard.context import SECURITY_HEADERS, Dashboard
from leadsync.dashboard.views import activity_rows, flow_view
from leadsync.errors import LeadsyncError
from leadsync.settling import NothingToSettle, settle_conflict
from leadsync.store import DEFAULT_FLOW

__all__ = ["PAGE_SIZE", "RECENT_DAYS", "add_pages"]

PAGE_SIZE = 50
RECENT_DAYS = 7
Text = Annotated[str | None, Query(max_length=200)]


def _overview(dash: Dashboard) -> dict[str, Any]:
    store = dash.store
    return {
        "flows": [
            flow_view(store, name, dash.settings, dash.backend.worker_status(name))
            for name in store.flow_names()
        ]
    }


def _activity(
    dash: Dashboard, flow: str | None, lead: str | None, kind: str | None, before: int | None
) -> dict[str, Any]:
    store = dash.store
    lead_ids: list[str] | None = None
    if lead:
        lead_ids = [m.base.lead_id for m in store.search_pairs(lead, limit=200)] or [lead.strip()]
    lines = store.activity_page(
        flow=flow or None, lead_ids=lead_ids, kind=kind or None, before=before, limit=PAGE_SIZE + 1
    )
    more = len(lines) > PAGE_SIZE
    rows = activity_rows(lines[:PAGE_SIZE], dash.links(), dash.list_names())
    return {
        "rows": rows,
        "older": rows[-1].id if more and rows else None,
        "flows": store.flow_names(),
        "kinds": store.activity_kinds(),
        "filters": {"flow": flow or "", "lead": lead or "", "kind": kind or ""},
        "live": before is None,
        "before": before,
    }


async def _posted(dash: Dashboard, request: Request) -> tuple[Session, dict[str, Any]] | Response:
    """The session and form of a POST, or the answer refusing it (no session, or a bad CSRF token)."""
    session = dash.sessions.read(request)
    if session is None:
        return Response("Unauthorized: log in first.", status_code=401, headers=SECURITY_HEADERS)
    form = await request.form()
    if not dash.sessions.csrf_ok(session, form.get("csrf")):
        message = "Forbidden: the form's CSRF token is missing or wrong. Reload the page and try again."
        return Response(message, status_code=403, headers=SECURITY_HEADERS)
    return session, dict(form)


def add_pages(app: FastAPI, dash: Dashboard) -> None:
    """Register every page, fragment and action on ``app``."""

    @app.get("/", include_in_schema=False)
    def overview(request: Request, queued: Text = None) -> Response:
        session = dash.session_or_login(request)
        if isinstance(session, Response):
            return session
        return dash.render(request, "overview.html", session, queued=queued, **_overview(dash))

    @app.get("/fragments/overview", include_in_schema=False)
    def overview_fragment(request: Request) -> Response:
        session = dash.sessions.read(request)
        if session is None:
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return dash.render(request, "_overview.html", session, **_overview(dash))

    @app.get("/activity", include_in_schema=False)
    def activity(
        request: Request, flow: Text = None, lead: Text = None, kind: Text = None, before: int | None = None
    ) -> Response:
        session = dash.session_or_login(request)
        if isinstance(session, Response):
            return session
        values = _activity(dash, flow, lead, kind, before)
        return dash.render(request, "activity.html", session, **values)

    @app.get("/fragments/activity", include_in_schema=False)
    def activity_fragment(
        request: Request, flow: Text = None, lead: Text = None, kind: Text = None
    ) -> Response:
        session = dash.sessions.read(request)
        if session is None:
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        values = _activity(dash, flow, lead, kind, None)
        return dash.render(request, "_activity.html", session, **values)

    @app.get("/conflicts", include_in_schema=False)
    def conflicts(request: Request, settled: Text = None, problem: Text = None) -> Response:
        session = dash.session_or_login(request)
        if isinstance(session, Response):
            return session
        since = datetime.now(UTC) - timedelta(days=RECENT_DAYS)
        found = dash.store.recent_conflicts(since)
        return dash.render(
            request,
            "conflicts.html",
            session,
            open=[c for c in found if c.conflict.resolved_at is None],
            decided=[c for c in found if c.conflict.resolved_at is not None],
            links=dash.links(),
            days=RECENT_DAYS,
            settled=settled,
            problem=problem,
        )

    @app.post("/conflicts/{lead_id}/keep", include_in_schema=False)
    async def keep(request: Request, lead_id: str) -> Response:
        posted = await _posted(dash, request)
        if isinstance(posted, Response):
            return posted
        _, form = posted
        side = form.get("side")
        if side not in (Side.AIRTABLE.value, Side.TRELLO.value):
            return Response("Bad request: side must be airtable or trello.", status_code=400)
        field = form.get("field")
        try:
            await run_in_threadpool(
                settle_conflict,
                dash.backend.engine(_flow_of(form)),
                LeadId(lead_id),
                Side(side),
                field if isinstance(field, str) and field else None,
            )
        except NothingToSettle as exc:
            return _back("/conflicts", problem=str(exc))
        except LeadsyncError as exc:
            return _back("/conflicts", problem=f"could not settle: {exc}")
        # The kept status reaches the other side with the next cycle: ask for one of this lead now.
        await dash.backend.queue(_flow_of(form), [LeadId(lead_id)])
        return _back("/conflicts", settled=lead_id)

    @app.post("/flows/{flow}/sync", include_in_schema=False)
    async def sync_now(request: Request, flow: str) -> Response:
        posted = await _posted(dash, request)
        if isinstance(posted, Response):
            return posted
        if not await dash.backend.queue(flow):
            return _back("/", queued=f"none:{flow}")
        return _back("/", queued=flow)

    @app.get("/leads", include_in_schema=False)
    def leads(request: Request, q: Text = None) -> Response:
        session = dash.session_or_login(request)
        if isinstance(session, Response):
            return session
        found = dash.store.search_pairs(q) if q and q.strip() else []
        return dash.render(request, "leads.html", session, q=q or "", found=found, links=dash.links())

    @app.get("/leads/{lead_id}", include_in_schema=False)
    def lead(request: Request, lead_id: str) -> Response:
        session = dash.session_or_login(request)
        if isinstance(session, Response):
            return session
        store = dash.store
        match = store.pair_match(LeadId(lead_id))
        history = activity_rows(
            store.activity_page(lead_ids=[lead_id], limit=200), dash.links(), dash.list_names()
        )
        status = 200 if match is not None or history else 404
        return dash.render(
            request,
            "lead.html",
            session,
            status=status,
            lead_id=lead_id,
            match=match,
            conflict=store.get_open_conflict(LeadId(lead_id)),
            history=history,
            links=dash.links(),
        )


def _back(path: str, **query: str) -> Response:
    """After a POST, back to a page (303, so a reload does not post again), with a notice for it."""
    return RedirectResponse(f"{path}?{urlencode(query)}", status_code=303, headers=SECURITY_HEADERS)


def _flow_of(form: dict[str, Any]) -> str:
    flow = form.get("flow")
    return flow if isinstance(flow, str) and flow else DEFAULT_FLOW
