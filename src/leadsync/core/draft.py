"""The plan under construction: operations and reports, in the order they were found."""

from __future__ import annotations

from dataclasses import dataclass, field

from leadsync.core.ops import Op, Plan, Report, Unsettled

__all__ = ["PlanDraft"]


@dataclass
class PlanDraft:
    """Collects what the planning steps find; :meth:`done` freezes it into a :class:`Plan`."""

    ops: list[Op] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    unsettled: list[Unsettled] = field(default_factory=list)

    def done(self) -> Plan:
        """The finished plan."""
        return Plan(tuple(self.ops), tuple(self.reports), tuple(self.unsettled))
