"""Trello's Express-style router: routes like ``/cards/{id}`` matched in order, a trailing slash tolerated."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from leadsync.sandbox.trello.request import Ctx

__all__ = ["Handler", "RouteDef", "Router"]

Handler = Callable[[Ctx], Awaitable[Any]]


@dataclass(frozen=True)
class RouteDef:
    """One route: its method, its path pattern and its handler."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler


class Router:
    """Express-style routes (``/cards/{id}``) matched in order, a trailing slash tolerated."""

    def __init__(self) -> None:
        self.routes: list[RouteDef] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        """Add a route; ``{name}`` in ``template`` matches one path segment."""
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        self.routes.append(RouteDef(method, re.compile(f"^{regex}/?$"), handler))

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        """The first route matching ``method`` (``HEAD`` as ``GET``) and ``path``, with its path parameters."""
        method = "GET" if method == "HEAD" else method
        for route in self.routes:
            if route.method == method and (m := route.pattern.match(path)):
                return route.handler, m.groupdict()
        return None
