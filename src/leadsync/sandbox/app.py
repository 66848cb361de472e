"""The sandbox ASGI app: both APIs on one port, wrapped in latency, fault injection and a request log,
with the control routes under ``/_sandbox``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Mount

from leadsync.sandbox.airtable import routes as airtable_routes
from leadsync.sandbox.control import control_routes
from leadsync.sandbox.middleware import SandboxMiddleware
from leadsync.sandbox.state import SandboxState
from leadsync.sandbox.trello import routes as trello_routes

__all__ = ["create_app"]


def _lifespan(state: SandboxState) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await state.dispatcher.aclose()

    return lifespan


def create_app(state: SandboxState | None = None) -> Starlette:
    """The sandbox as an ASGI app; ``app.state.sandbox`` is its :class:`SandboxState`."""
    state = state or SandboxState()
    app = Starlette(
        routes=[
            Mount("/v0", routes=airtable_routes.routes(state.airtable, state.bases)),
            Mount("/1", routes=trello_routes.routes(state.trello)),
            Mount("/_sandbox", routes=control_routes(state)),
        ],
        lifespan=_lifespan(state),
    )
    app.state.sandbox = state
    app.add_middleware(SandboxMiddleware, state=state)
    return app
