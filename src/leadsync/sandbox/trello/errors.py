"""The Trello emulator's error answers, as an Express app gives them: mostly plain text."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, PlainTextResponse, Response

__all__ = ["NOT_FOUND", "TrelloError", "express_404", "invalid_value", "not_found"]

NOT_FOUND = "The requested resource was not found."


class TrelloError(Exception):
    """An error answer: plain text when ``body`` is a string, JSON otherwise."""

    def __init__(self, status: int, body: str | dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body

    def response(self) -> Response:
        """Plain text when ``body`` is a string, JSON otherwise."""
        if isinstance(self.body, str):
            return PlainTextResponse(self.body, status_code=self.status)
        return JSONResponse(self.body, status_code=self.status)


def invalid_value(name: str) -> TrelloError:
    """Trello's generic validation answer, ``400 invalid value for <param>``."""
    return TrelloError(400, f"invalid value for {name}")


def not_found() -> TrelloError:
    """``404 The requested resource was not found.``"""
    return TrelloError(404, NOT_FOUND)


def express_404(method: str, path: str) -> TrelloError:
    """Express's answer for a route that does not exist: ``404 Cannot <METHOD> <path>``."""
    return TrelloError(404, f"Cannot {method} {path}")
