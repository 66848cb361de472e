"""What a flow's names resolved to: table, field, list and label ids, kept for the next run.

leadsync resolves names to ids every time it starts (and every cycle, for the table's fields). When a
name no longer matches (a field renamed in Airtable's UI while leadsync was stopped), the id it had
last time still finds it: renames never break a running or a restarted flow.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, insert, select

from leadsync.store.connection import StoreConnection, now
from leadsync.store.schema import remembered_ids

__all__ = ["RememberedIdStore"]


class RememberedIdStore(StoreConnection):
    """Reading and replacing a flow's remembered ids."""

    def remembered_ids(self, flow: str | None = None) -> dict[str, str]:
        """Key (``table``, ``status``, ``block:Company``, ``list:NEW``, ``label:Hot``) -> id."""
        flow = flow or self.flow
        query = select(remembered_ids.c.key, remembered_ids.c.value).where(remembered_ids.c.flow == flow)
        with self._read(f"read the remembered ids of flow {flow!r}") as conn:
            return {str(row.key): str(row.value) for row in conn.execute(query)}

    def remember_ids(self, ids: Mapping[str, str], flow: str | None = None, *, prefix: str = "") -> None:
        """Replace the flow's ids whose keys start with ``prefix`` by ``ids``, in one transaction (callers
        compare with what they read first: the engine does every cycle, and writes only a change)."""
        flow = flow or self.flow
        with self._tx(f"remember the ids of flow {flow!r}") as conn:
            stale = delete(remembered_ids).where(remembered_ids.c.flow == flow)
            if prefix:
                stale = stale.where(remembered_ids.c.key.startswith(prefix))
            conn.execute(stale)
            if ids:
                at = now()
                rows = [{"flow": flow, "key": k, "value": v, "updated_at": at} for k, v in ids.items()]
                conn.execute(insert(remembered_ids), rows)
