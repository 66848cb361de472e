"""The control routes under ``/_sandbox/``: reset, settings, faults, config, the clock, the request log
and webhook deliveries. Every input is validated (:mod:`~leadsync.sandbox.control_inputs`) before it
touches the state; a bad one is answered 422 with each field and its problem."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from leadsync.sandbox.control_inputs import ClockAdvance, ConfigUpdate, FaultSpec, RequestsQuery, problems
from leadsync.sandbox.faults import FaultRule
from leadsync.sandbox.state import SandboxState

__all__ = [
    "LATEST_CLOCK",
    "InvalidInput",
    "control_routes",
]

LATEST_CLOCK = datetime(9000, 1, 1, tzinfo=UTC).timestamp()
"""The clock may not be moved past this moment (nor before the epoch): dates must stay representable."""

Endpoint = Callable[[Request], Awaitable[Response]]
_Model = TypeVar("_Model", bound=BaseModel)


class InvalidInput(Exception):
    """A control request whose input failed validation; answered 422."""

    def __init__(self, details: list[dict[str, str]]) -> None:
        super().__init__(details)
        self.details = details

    def response(self) -> JSONResponse:
        """``422 {"error": "invalid input", "detail": [{"field", "problem"}, ...]}``."""
        return JSONResponse({"error": "invalid input", "detail": self.details}, status_code=422)


async def _body(request: Request, model: type[_Model]) -> _Model:
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as error:
        raise InvalidInput(problems(error)) from None


def _config_json(state: SandboxState) -> dict[str, object]:
    return {
        "rate_scale": state.rate_scale,
        "latency_ms": state.latency_ms,
        "webhook_duplicate_probability": state.dispatcher.duplicate_probability,
        "webhook_reorder_max_ms": state.dispatcher.reorder_max_ms,
        "airtable_ping_retry_delays": state.airtable_ping_retry_delays,
        "trello_retry_delays": state.trello_retry_delays,
        "person_rate_limited": state.person_rate_limited,
    }


def _apply_config(state: SandboxState, update: ConfigUpdate) -> None:
    if update.rate_scale is not None:
        state.rate_scale = update.rate_scale
    if update.latency_ms is not None:
        state.latency_ms = update.latency_ms
    if update.webhook_duplicate_probability is not None:
        state.dispatcher.duplicate_probability = update.webhook_duplicate_probability
    if update.webhook_reorder_max_ms is not None:
        state.dispatcher.reorder_max_ms = update.webhook_reorder_max_ms
    if update.airtable_ping_retry_delays is not None:
        state.airtable_ping_retry_delays = list(update.airtable_ping_retry_delays)
    if update.trello_retry_delays is not None:
        state.trello_retry_delays = list(update.trello_retry_delays)
    if update.person_rate_limited is not None:
        state.person_rate_limited = update.person_rate_limited
        state.apply_person_exemption()


def control_routes(state: SandboxState) -> list[Route]:
    """The ``/_sandbox`` routes acting on ``state``."""

    async def reset(_: Request) -> Response:
        state.reset()
        return JSONResponse({"ok": True})

    async def get_settings(_: Request) -> Response:
        return JSONResponse(state.settings())

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            state.faults.clear()
        elif request.method == "POST":
            spec = await _body(request, FaultSpec)
            state.faults.append(FaultRule(**spec.model_dump()))
        return JSONResponse({"faults": [vars(f) for f in state.faults if f.count > 0]})

    async def config(request: Request) -> Response:
        if request.method == "POST":
            _apply_config(state, await _body(request, ConfigUpdate))
        return JSONResponse(_config_json(state))

    async def clock_advance(request: Request) -> Response:
        seconds = (await _body(request, ClockAdvance)).seconds
        if not 0 <= state.clock.time() + seconds <= LATEST_CLOCK:
            problem = "would move the clock before 1970 or past the year 9000"
            raise InvalidInput([{"field": "seconds", "problem": problem}])
        state.clock.advance(seconds)
        return JSONResponse({"now": state.clock.now().isoformat()})

    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            state.log.clear()
            return JSONResponse({"requests": []})
        try:
            since = RequestsQuery.model_validate(dict(request.query_params)).since
        except ValidationError as error:
            raise InvalidInput(problems(error)) from None
        return JSONResponse({"requests": [e.as_json() for e in state.log if e.seq > since]})

    async def deliveries(_: Request) -> Response:
        d = state.dispatcher
        return JSONResponse({"pending": d.pending, "deliveries": [r.as_json() for r in d.records]})

    def answering_invalid_input(endpoint: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            try:
                return await endpoint(request)
            except InvalidInput as invalid:
                return invalid.response()

        return guarded

    return [
        Route(path, answering_invalid_input(endpoint), methods=methods)
        for path, endpoint, methods in (
            ("/reset", reset, ["POST"]),
            ("/settings", get_settings, ["GET"]),
            ("/faults", faults, ["GET", "POST", "DELETE"]),
            ("/config", config, ["GET", "POST"]),
            ("/clock/advance", clock_advance, ["POST"]),
            ("/requests", requests, ["GET", "DELETE"]),
            ("/deliveries", deliveries, ["GET"]),
        )
    ]
