"""An in-process httpx transport to the sandbox app, for tests that do not need a real socket."""

from __future__ import annotations

import httpx
from starlette.types import ASGIApp

__all__ = ["SandboxTransport"]


class SandboxTransport(httpx.AsyncBaseTransport):
    """In-process transport to the sandbox app that turns a dropped response into a transport error,
    the way a real connection would (``httpx.ASGITransport`` alone would return a truncated 200)."""

    def __init__(self, app: ASGIApp) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` to the app; raise ``RemoteProtocolError`` when the body falls short."""
        response = await self._inner.handle_async_request(request)
        body = await response.aread()
        declared = response.headers.get("content-length")
        if declared is not None and int(declared) != len(body):
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body", request=request
            )
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=body,
            request=request,
            extensions=response.extensions,
        )
