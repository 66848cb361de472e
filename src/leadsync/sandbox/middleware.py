"""The middleware around both APIs: added latency, injected faults and the request log."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadsync.sandbox.faults import FaultRule
from leadsync.sandbox.request_log import ENTRY_KEY
from leadsync.sandbox.state import SandboxState

__all__ = ["SandboxMiddleware"]


class SandboxMiddleware:
    """Applies latency and faults, and logs method, path and status of every API request."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass ``/_sandbox`` through untouched; delay, fault or log every other HTTP request."""
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
