"""The sandbox ASGI app: both APIs on one port, wrapped in latency, fault injection and a request log."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadsync.sandbox import airtable, trello
from leadsync.sandbox.state import FaultRule, SandboxState

ENTRY_KEY = "sandbox.entry"


def tag_identity(request: Request, who: str) -> None:
    """Record which identity made the request, for the request log."""
    entry = request.scope.get(ENTRY_KEY)
    if entry is not None:
        entry.who = who


class SandboxMiddleware:
    """Applies latency and faults, and logs method, path and status of every API request."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        state = self.state
        query = scope.get("query_string", b"").decode("latin-1")
        entry = state.new_entry(scope["method"], scope["path"], query)
        scope[ENTRY_KEY] = entry
        if state.latency_ms > 0:
            await asyncio.sleep(state.latency_ms / 1000)
        rule = state.take_fault(scope["method"], scope["path"])
        if rule is not None:
            entry.fault = rule.action
            if rule.action == "status":
                await _fault_response(rule, entry.api)(scope, receive, send)
                entry.status = rule.status
                return
            if rule.action == "hang":
                await asyncio.sleep(rule.hang_seconds)
                await _drop(send)
                return
            if rule.action == "drop":
                await _drop(send)
                return

            # lost_response: the request is applied, the response never arrives.
            async def swallow(message: Message) -> None:
                if message["type"] == "http.response.start":
                    entry.status = message["status"]

            await self.app(scope, receive, swallow)
            await _drop(send)
            return

        async def logging_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
            await send(message)

        await self.app(scope, receive, logging_send)


async def _drop(send: Send) -> None:
    """Start a response that promises a body and never send it: the server closes the connection."""
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]})


def _fault_response(rule: FaultRule, api: str) -> Response:
    headers = dict(rule.headers)
    if rule.body is not None:
        media = "application/json" if rule.body.startswith(("{", "[")) else "text/plain; charset=utf-8"
        return Response(rule.body, status_code=rule.status, headers=headers, media_type=media)
    if api == "airtable":
        body: dict[str, Any] = {
            "error": {
                "type": "RETRIABLE_ERROR" if rule.status >= 500 else "INJECTED_FAULT",
                "message": "Server encountered an error, safe to retry the request",
            }
        }
        if rule.status == 429:
            body = {
                "error": {
                    "type": "RATE_LIMIT_REACHED",
                    "message": "Rate limit exceeded. Please try again later",
                }
            }
        return JSONResponse(body, status_code=rule.status, headers=headers)
    if rule.status == 429:
        return JSONResponse(
            {"error": "API_TOKEN_LIMIT_EXCEEDED", "message": "Rate limit exceeded"},
            status_code=429,
            headers=headers,
        )
    return PlainTextResponse(
        "Internal Server Error" if rule.status >= 500 else "injected fault",
        status_code=rule.status,
        headers=headers,
    )


# ---- /_sandbox controls ----------------------------------------------------------------------------


def _control_routes(state: SandboxState) -> list[Route]:
    async def reset(_: Request) -> Response:
        state.reset()
        return JSONResponse({"ok": True})

    async def get_settings(_: Request) -> Response:
        return JSONResponse(state.settings())

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            state.faults.clear()
        elif request.method == "POST":
            try:
                spec = await request.json()
                rule = FaultRule(
                    method=str(spec.get("method", "*")).upper(),
                    path_prefix=str(spec["path_prefix"]),
                    action=str(spec.get("action", "status")),
                    count=int(spec.get("count", 1)),
                    status=int(spec.get("status", 503)),
                    body=spec.get("body"),
                    headers={str(k): str(v) for k, v in (spec.get("headers") or {}).items()},
                    hang_seconds=float(spec.get("hang_seconds", 30.0)),
                )
            except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
                return JSONResponse({"error": f"bad fault spec: {exc}"}, status_code=400)
            if rule.action not in ("status", "hang", "drop", "lost_response"):
                return JSONResponse(
                    {"error": "action must be status, hang, drop or lost_response"}, status_code=400
                )
            state.faults.append(rule)
        return JSONResponse({"faults": [vars(f) for f in state.faults if f.count > 0]})

    async def config(request: Request) -> Response:
        if request.method == "POST":
            try:
                spec = await request.json()
                if "rate_scale" in spec:
                    state.rate_scale = max(0.0, float(spec["rate_scale"]))
                if "latency_ms" in spec:
                    state.latency_ms = max(0.0, float(spec["latency_ms"]))
                if "webhook_duplicate_probability" in spec:
                    state.dispatcher.duplicate_probability = float(spec["webhook_duplicate_probability"])
                if "webhook_reorder_max_ms" in spec:
                    state.dispatcher.reorder_max_ms = float(spec["webhook_reorder_max_ms"])
                if "airtable_ping_retry_delays" in spec:
                    state.airtable_ping_retry_delays = [float(x) for x in spec["airtable_ping_retry_delays"]]
                if "person_rate_limited" in spec:
                    state.person_rate_limited = bool(spec["person_rate_limited"])
                    state.apply_person_exemption()
                if "trello_retry_delays" in spec:
                    state.trello_retry_delays = [float(x) for x in spec["trello_retry_delays"]]
            except (TypeError, ValueError, json.JSONDecodeError) as exc:
                return JSONResponse({"error": f"bad config: {exc}"}, status_code=400)
        return JSONResponse(
            {
                "rate_scale": state.rate_scale,
                "latency_ms": state.latency_ms,
                "webhook_duplicate_probability": state.dispatcher.duplicate_probability,
                "webhook_reorder_max_ms": state.dispatcher.reorder_max_ms,
                "airtable_ping_retry_delays": state.airtable_ping_retry_delays,
                "trello_retry_delays": state.trello_retry_delays,
                "person_rate_limited": state.person_rate_limited,
            }
        )

    async def clock_advance(request: Request) -> Response:
        try:
            seconds = float((await request.json())["seconds"])
        except (KeyError, TypeError, ValueError, json.JSONDecodeError):
            return JSONResponse({"error": 'give {"seconds": <number>}'}, status_code=400)
        state.clock.advance(seconds)
        return JSONResponse({"now": state.clock.now().isoformat()})

    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            state.log.clear()
            return JSONResponse({"requests": []})
        since = int(request.query_params.get("since", "0"))
        return JSONResponse({"requests": [e.as_json() for e in state.log if e.seq > since]})

    async def deliveries(_: Request) -> Response:
        d = state.dispatcher
        return JSONResponse({"pending": d.pending, "deliveries": [r.as_json() for r in d.records]})

    return [
        Route("/reset", reset, methods=["POST"]),
        Route("/settings", get_settings, methods=["GET"]),
        Route("/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/config", config, methods=["GET", "POST"]),
        Route("/clock/advance", clock_advance, methods=["POST"]),
        Route("/requests", requests, methods=["GET", "DELETE"]),
        Route("/deliveries", deliveries, methods=["GET"]),
    ]


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
            Mount("/v0", routes=airtable.routes(state)),
            Mount("/1", routes=trello.routes(state)),
            Mount("/_sandbox", routes=_control_routes(state)),
        ],
        lifespan=_lifespan(state),
    )
    app.state.sandbox = state
    app.add_middleware(SandboxMiddleware, state=state)
    return app


class SandboxTransport(httpx.AsyncBaseTransport):
    """In-process transport to the sandbox app that turns a dropped response into a transport error,
    the way a real connection would (``httpx.ASGITransport`` alone would return a truncated 200)."""

    def __init__(self, app: ASGIApp) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
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
