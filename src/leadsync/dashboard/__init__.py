"""The dashboard ``leadsync serve`` shows at ``/`` when ``LEADSYNC_DASHBOARD_PASSWORD`` is set.

Server-rendered pages (Jinja2 templates in ``templates/``), htmx for the live parts (its file is in
``static/``, served from the package: no CDN, no build step). Modules: :mod:`.auth` (password,
sessions, CSRF, login limit), :mod:`.context` (what the routes share), :mod:`.login`, :mod:`.pages`,
:mod:`.views` (what each page shows), :mod:`.chart` (the SVG chart), :mod:`.backend` (the server's
flows and how a cycle is asked for); settling a conflict is :mod:`leadsync.settling`. Its queries are the store's :mod:`leadsync.store.dashboard_queries`.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from leadsync.dashboard.auth import Password
from leadsync.dashboard.backend import Backend, FlowHub, OneWorker
from leadsync.dashboard.context import HERE, Dashboard
from leadsync.dashboard.login import add_login_routes
from leadsync.dashboard.pages import add_pages
from leadsync.settings import Settings

__all__ = ["STATIC_PATH", "FlowHub", "OneWorker", "mount_dashboard"]

STATIC_PATH = "/dashboard-static"


def mount_dashboard(app: FastAPI, settings: Settings, backend: Backend) -> bool:
    """Add the dashboard's routes to ``app`` if a password is set; returns whether it did."""
    if settings.LEADSYNC_DASHBOARD_PASSWORD is None:
        return False
    dash = Dashboard(settings, backend, Password(settings.LEADSYNC_DASHBOARD_PASSWORD.get_secret_value()))
    app.mount(STATIC_PATH, StaticFiles(directory=HERE / "static"), name="dashboard-static")
    add_login_routes(app, dash)
    add_pages(app, dash)
    return True
