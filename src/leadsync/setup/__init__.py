"""Setting leadsync up and checking the setup: ``leadsync init`` and ``leadsync doctor``.

``apis`` holds the requests setup makes (bases, schema writes, boards, lists, token permissions);
``wanted`` compares what a mapping wants with what the table and board have (pure); ``init`` and
``doctor`` are the two commands' logic; ``commands`` their Typer entry points.
"""

from __future__ import annotations

__all__: list[str] = []
