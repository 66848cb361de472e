"""Which flows a command acts on: ``--flow NAME`` (repeatable), or every flow, or the only one.

``sync``, ``status``, ``conflicts``, ``poll`` and ``serve`` act on every flow when none is named (a
``worker`` always serves every flow); commands about one lead or one flow's webhooks need a name when ``leadsync.toml`` holds several.
"""

from __future__ import annotations

from leadsync.config import FlowConfig, load_flows, one_flow
from leadsync.settings import Settings

__all__ = ["chosen_flows", "single_flow"]


def chosen_flows(settings: Settings, names: list[str] | None) -> list[FlowConfig]:
    """The named flows (ConfigError naming ``--flow`` for an unknown one), or every flow."""
    flows = load_flows(settings)
    if not names:
        return flows
    return [one_flow(flows, name) for name in dict.fromkeys(names)]


def single_flow(settings: Settings, name: str | None) -> FlowConfig:
    """The named flow, or the only one (a usage error naming ``--flow`` when there are several)."""
    return one_flow(load_flows(settings), name)
