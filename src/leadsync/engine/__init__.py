"""The sync engine: wiring from the settings, reading both sides, and the cycle.

- :mod:`leadsync.engine.wiring`: the HTTP client, the store-shared pacers and both API clients;
- :mod:`leadsync.engine.reading`: full, incremental and targeted reads, with API errors turned into
  :class:`~leadsync.errors.ReadFailed` in one place;
- :mod:`leadsync.engine.latest`: the ``latest`` conflict policy's timestamps;
- :mod:`leadsync.engine.cycle`: :class:`Engine` and its :class:`CycleResult`.
"""

from __future__ import annotations

from leadsync.engine.cycle import CycleResult, Engine
from leadsync.engine.wiring import StorePacer

__all__ = ["CycleResult", "Engine", "StorePacer"]
