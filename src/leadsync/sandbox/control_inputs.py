"""The inputs the ``/_sandbox/`` control routes accept, as pydantic models: finite numbers in sane ranges,
probabilities in [0, 1], known fault actions. Anything else is refused before it touches the state."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = [
    "MAX_CLOCK_STEP_SECONDS",
    "MAX_DELAY_SECONDS",
    "MAX_FAULT_COUNT",
    "MAX_LATENCY_MS",
    "MAX_RATE_SCALE",
    "MAX_RETRIES",
    "ClockAdvance",
    "ConfigUpdate",
    "FaultSpec",
    "RequestsQuery",
    "problems",
]

MAX_CLOCK_STEP_SECONDS = 10 * 366 * 86400.0
"""How far one ``clock/advance`` may move the clock, either way (ten years)."""
MAX_DELAY_SECONDS = 7 * 86400.0
"""The longest retry delay or hang the sandbox accepts (a week, Airtable's webhook lifetime)."""
MAX_RETRIES = 50
MAX_LATENCY_MS = 60_000.0
MAX_RATE_SCALE = 1_000_000.0
MAX_FAULT_COUNT = 1_000_000

_FINITE = ConfigDict(allow_inf_nan=False, extra="forbid")
Delay = Annotated[float, Field(ge=0, le=MAX_DELAY_SECONDS)]


class FaultSpec(BaseModel):
    """``POST /_sandbox/faults``: one fault rule."""

    model_config = _FINITE

    path_prefix: str = Field(min_length=1)
    method: str = "*"
    action: Literal["status", "hang", "drop", "lost_response"] = "status"
    count: int = Field(default=1, ge=0, le=MAX_FAULT_COUNT)
    status: int = Field(default=503, ge=100, le=599)
    body: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    hang_seconds: float = Field(default=30.0, ge=0, le=MAX_DELAY_SECONDS)

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class ConfigUpdate(BaseModel):
    """``POST /_sandbox/config``: the settings to change; those left out keep their value."""

    model_config = _FINITE

    rate_scale: float | None = Field(default=None, ge=0, le=MAX_RATE_SCALE)
    latency_ms: float | None = Field(default=None, ge=0, le=MAX_LATENCY_MS)
    webhook_duplicate_probability: float | None = Field(default=None, ge=0, le=1)
    webhook_reorder_max_ms: float | None = Field(default=None, ge=0, le=MAX_LATENCY_MS)
    airtable_ping_retry_delays: list[Delay] | None = Field(default=None, max_length=MAX_RETRIES)
    trello_retry_delays: list[Delay] | None = Field(default=None, max_length=MAX_RETRIES)
    person_rate_limited: bool | None = None


class ClockAdvance(BaseModel):
    """``POST /_sandbox/clock/advance``: move the sandbox clock by ``seconds`` (negative: back)."""

    model_config = _FINITE

    seconds: float = Field(ge=-MAX_CLOCK_STEP_SECONDS, le=MAX_CLOCK_STEP_SECONDS)


class RequestsQuery(BaseModel):
    """``GET /_sandbox/requests?since=N``: entries after sequence number ``since``."""

    model_config = ConfigDict(extra="ignore")

    since: int = Field(default=0, ge=0)


def problems(error: ValidationError) -> list[dict[str, str]]:
    """Each validation failure as ``{"field": "<dotted path>", "problem": "<message>"}``."""
    return [
        {"field": ".".join(str(part) for part in item["loc"]) or "(body)", "problem": item["msg"]}
        for item in error.errors(include_url=False)
    ]
