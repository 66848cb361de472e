"""Airtable client: the Leads table (paged reads, batched writes, formulas) and webhooks.

Once a flow's table is resolved (:meth:`AirtableClient.use`), every read asks for its fields by id
with ``returnFieldsByFieldId`` and every write names fields by id, and the table is addressed by its
``tbl...`` id: renaming a field or the table in Airtable's UI changes nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from itertools import product
from typing import Any, TypedDict
from urllib.parse import quote

from leadsync.clients.http import ApiHttp
from leadsync.clients.lead_codec import LeadCodec
from leadsync.core import Lead, LeadId
from leadsync.errors import BadRequest, NotFound

__all__ = [
    "BATCH",
    "FIELDS",
    "FILL",
    "AirtableClient",
    "RecordJson",
    "formula_time",
    "quoted",
    "record_id_formula",
    "slice_formulas",
    "to_lead",
]

FIELDS = ("Name", "Email", "Status", "Source")
BATCH = 10  # records per write request, Airtable's maximum
_RECORD_ID = re.compile(r"rec[A-Za-z0-9]{14}")
_URL_BUDGET = 12000  # stay well under the 16,000-character URL limit
# A record id is "rec" and 14 random letters or digits: about half of all ids hold one of three given
# characters there, so each group splits a table in two halves that no edit can move a record across.
_SLICE_GROUPS = ("abc", "xyz")
FILL = 0.8  # share of the rate limit that concurrent requests aim at (see AirtableClient.in_flight)


class RecordJson(TypedDict, total=False):
    """One record as the Airtable API returns it: its id, creation time and non-empty cells."""

    id: str
    createdTime: str
    fields: dict[str, Any]


def quoted(value: str) -> str:
    """A formula string literal: backslashes and quotes escaped (as pyairtable's ``quoted``)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def formula_time(moment: datetime) -> str:
    """A formula that yields ``moment`` as an Airtable date-time (UTC, to the millisecond)."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return f"DATETIME_PARSE({quoted(text)})"


def record_id_formula(lead_id: str) -> str:
    """A formula matching the one record ``lead_id``; raises ValueError when it is not a record id."""
    if not _RECORD_ID.fullmatch(lead_id):
        raise ValueError(f"not an Airtable record id: {lead_id!r}")
    return f"RECORD_ID()={quoted(lead_id)}"


def slice_formulas(splits: int) -> list[str]:
    """``2**splits`` formulas that cut the table into disjoint slices by record id, which together hold
    every record whatever ``FIND`` answers (each record passes each test or its ``NOT``)."""
    tests = [
        "OR(" + ",".join(f"FIND({quoted(c)},RECORD_ID(),4)" for c in group) + ")"
        for group in _SLICE_GROUPS[:splits]
    ]
    formulas = []
    for signs in product((True, False), repeat=len(tests)):
        clauses = [test if sign else f"NOT({test})" for test, sign in zip(tests, signs, strict=True)]
        formulas.append(clauses[0] if len(clauses) == 1 else "AND(" + ",".join(clauses) + ")")
    return formulas


def to_lead(record: RecordJson, shared: dict[str, str] | None = None) -> Lead:
    """A lead from its record; ``shared`` keeps one copy of each Status value (a single select) across many."""
    cells = record.get("fields", {})

    def text(name: str) -> str:
        value = cells.get(name)
        if value is None:
            return ""
        return value if isinstance(value, str) else str(value)

    raw_status = cells.get("Status")
    status = str(raw_status) if raw_status else None
    if shared is not None and status is not None:
        status = shared.setdefault(status, status)
    return Lead(LeadId(record["id"]), text("Name"), text("Email"), status, text("Source"))


class AirtableClient:
    """The Leads table of one base."""

    def __init__(self, http: ApiHttp, base_id: str, table: str) -> None:
        self.http = http
        self.base_id = base_id
        self.table = table
        self.codec: LeadCodec | None = None
        self._path = f"/v0/{base_id}/{quote(table, safe='')}"

    def use(self, codec: LeadCodec) -> None:
        """Read and write the resolved table by its id and its fields by theirs, from now on."""
        self.codec = codec
        self._path = f"/v0/{self.base_id}/{codec.table.table_id}"

    def _record_lead(self, record: RecordJson, shared: dict[str, str] | None = None) -> Lead:
        if self.codec is not None:
            return self.codec.to_lead(record, shared)
        return to_lead(record, shared)

    def _fields(self) -> list[str]:
        return self.codec.field_ids() if self.codec is not None else list(FIELDS)

    # ---- reads ------------------------------------------------------------------------------------
    def iter_pages(
        self, formula: str | None = None, fields: Iterable[str] | None = None, *, after: str | None = None
    ) -> Iterator[list[Lead]]:
        """Every lead matching ``formula``, a page (at most 100) at a time, or the pages after the offset
        ``after``; restarts once from the first page if Airtable expired the iterator (the caller
        deduplicates by id)."""
        body = self._list_body(formula, fields)
        shared: dict[str, str] = {}  # one copy of each Status value across the pages
        restarts = 0
        offset = after
        while True:
            try:
                leads, offset = self._page(body, offset, shared)
            except BadRequest as exc:
                if "LIST_RECORDS_ITERATOR_NOT_AVAILABLE" in exc.body and restarts < 2:
                    restarts += 1
                    offset = None
                    continue
                raise
            yield leads
            if not offset:
                return

    def _list_body(self, formula: str | None, fields: Iterable[str] | None) -> dict[str, Any]:
        body: dict[str, Any] = {"pageSize": 100, "fields": list(self._fields() if fields is None else fields)}
        if self.codec is not None:
            body["returnFieldsByFieldId"] = True
        if formula:
            body["filterByFormula"] = formula
        return body

    def _page(
        self, body: dict[str, Any], offset: str | None, shared: dict[str, str] | None = None
    ) -> tuple[list[Lead], str | None]:
        page = self.http.request(
            "POST", f"{self._path}/listRecords", json_body=dict(body, offset=offset) if offset else body,
            kind="read",
        )  # fmt: skip
        return [self._record_lead(r, shared) for r in page.get("records", [])], page.get("offset") or None

    def all_leads(self) -> dict[LeadId, Lead]:
        """Every lead. Each page names the next, so one listing waits a round trip per 100 records; when
        the first page says there are more, and :meth:`in_flight` allows more requests than one, the
        table is read as 2 or 4 slices at once (:func:`slice_formulas`), the first page dropped."""
        first, offset = self._page(self._list_body(None, None), None)
        leads = {lead.id: lead for lead in first}
        if offset is None:
            return leads
        splits = int(math.log2(self.in_flight(most=4)))
        if splits == 0:
            for page in self.iter_pages(after=offset):
                leads.update((lead.id, lead) for lead in page)
            return leads
        leads = {}
        with ThreadPoolExecutor(max_workers=2**splits, thread_name_prefix="leadsync-read") as pool:
            for part in pool.map(self._collect, slice_formulas(splits)):
                leads.update(part)
        return leads

    def in_flight(self, most: int = 64) -> int:
        """Requests to keep in flight: a little under the rate limit's worth, never over it. Airtable
        refuses every request for 30 s after a 429, and a burst the pacer allows can still reach it
        closer together than it left (network or server delays), so its requests never queue at the
        pacer."""
        return self.http.in_flight(fill=FILL, least=1, most=most)

    def _collect(self, formula: str) -> dict[LeadId, Lead]:
        return {lead.id: lead for page in self.iter_pages(formula) for lead in page}

    def changed_since(self, watermark: datetime) -> dict[LeadId, Lead]:
        """Leads created or modified after ``watermark`` (a constant number of requests when few changed)."""
        since = formula_time(watermark)
        formula = f"OR(IS_AFTER(LAST_MODIFIED_TIME(),{since}),IS_AFTER(CREATED_TIME(),{since}))"
        return {lead.id: lead for page in self.iter_pages(formula) for lead in page}

    def get_leads(self, ids: Iterable[LeadId]) -> dict[LeadId, Lead]:
        """The given leads that still exist, read by record id formulas (ids gone are simply absent)."""
        return self._by_ids(list(ids), lambda lid: record_id_formula(lid))

    def changed_after(self, role: str, times: dict[LeadId, datetime]) -> set[LeadId]:
        """Of the given leads, those whose ``role``'s field (``status``, ``due``) was changed in Airtable
        after the given moment. Formulas need the field's current name (``{fld...}`` is refused as an
        unknown field name), which the table's resolution this cycle gave."""
        name = "Status"
        if self.codec is not None:
            name = self.codec.table.roles[role].name
        field_ref = "{" + name.replace("}", "\\}") + "}"

        def clause(lid: LeadId) -> str:
            return f"AND({record_id_formula(lid)},IS_AFTER(LAST_MODIFIED_TIME({field_ref}),{formula_time(times[lid])}))"

        first = self._fields()[:1]
        return set(self._by_ids(list(times), clause, fields=first))

    def _by_ids(
        self, ids: list[LeadId], clause: Any, fields: Iterable[str] | None = None
    ) -> dict[LeadId, Lead]:
        out: dict[LeadId, Lead] = {}
        chunk: list[str] = []
        size = 0
        for lid in ids:
            part = clause(lid)
            if chunk and size + len(part) > _URL_BUDGET:
                out.update(self._query_or(chunk, fields))
                chunk, size = [], 0
            chunk.append(part)
            size += len(part) + 1
        if chunk:
            out.update(self._query_or(chunk, fields))
        return out

    def _query_or(self, clauses: list[str], fields: Iterable[str] | None) -> dict[LeadId, Lead]:
        formula = clauses[0] if len(clauses) == 1 else "OR(" + ",".join(clauses) + ")"
        return {lead.id: lead for page in self.iter_pages(formula, fields) for lead in page}

    # ---- writes -----------------------------------------------------------------------------------
    def update_leads(
        self, updates: list[tuple[LeadId, dict[str, Any]]]
    ) -> list[tuple[list[LeadId], Exception | None]]:
        """PATCH each lead's cells (keyed by field id, or by name before the table is resolved) in
        batches of 10; returns each batch's ids and its error (None when written).

        Airtable refuses a whole batch when one of its records is refused (deleted since it was read, say):
        such a batch is sent again one record at a time, so that one lead's failure holds back no other.
        """
        results: list[tuple[list[LeadId], Exception | None]] = []
        for i in range(0, len(updates), BATCH):
            batch = updates[i : i + BATCH]
            error = self._patch(batch)
            if isinstance(error, BadRequest | NotFound) and len(batch) > 1:
                results.extend(([lid], self._patch([(lid, cells)])) for lid, cells in batch)
            else:
                results.append(([lid for lid, _ in batch], error))
        return results

    def _patch(self, batch: list[tuple[LeadId, dict[str, Any]]]) -> Exception | None:
        body = {"records": [{"id": lid, "fields": cells} for lid, cells in batch]}
        try:
            self.http.request("PATCH", self._path, json_body=body)
        except Exception as exc:  # reported per batch by the caller, never raised past it
            return exc
        return None

    def create_lead(self, fields: dict[str, Any]) -> Lead:
        """Create one record with ``fields`` (by name) and return it as a lead of the seed's fields (a
        create is never retried blindly)."""
        record = self.http.request("POST", self._path, json_body={"fields": fields}, idempotent=False)
        return to_lead(record)

    def whoami(self) -> str:
        """The token's user id (webhook payloads name it as the author of leadsync's own writes)."""
        return str(self.http.request("GET", "/v0/meta/whoami")["id"])

    # ---- schema and webhooks ----------------------------------------------------------------------
    def schema(self) -> dict[str, Any]:
        """The base's schema as the metadata API returns it: every table with its fields."""
        result: dict[str, Any] = self.http.request("GET", f"/v0/meta/bases/{self.base_id}/tables")
        return result

    def table_schema(self) -> dict[str, Any]:
        """The schema of the Leads table, found by name or id; raises BadRequest when the base has no such table."""
        wanted = {self.table} | ({self.codec.table.table_id} if self.codec is not None else set())
        for table in self.schema().get("tables", []):
            if table["name"] in wanted or table["id"] in wanted:
                return dict(table)
        raise BadRequest(
            "airtable",
            "GET",
            f"/v0/meta/bases/{self.base_id}/tables",
            404,
            message=f"table {self.table!r} not found in base",
        )

    def create_webhook(self, notification_url: str, table_id: str) -> dict[str, Any]:
        """Register a webhook for record changes in ``table_id`` (previous cell values included) and return
        Airtable's answer, which holds the id, the MAC secret and the expiration time."""
        spec = {
            "options": {
                "filters": {"dataTypes": ["tableData"], "recordChangeScope": table_id},
                "includes": {"includePreviousCellValues": True},
            }
        }
        body = {"notificationUrl": notification_url, "specification": spec}
        result: dict[str, Any] = self.http.request(
            "POST", f"/v0/bases/{self.base_id}/webhooks", json_body=body, idempotent=False
        )
        return result

    def list_webhooks(self) -> list[dict[str, Any]]:
        """The base's webhooks, as Airtable lists them."""
        result = self.http.request("GET", f"/v0/bases/{self.base_id}/webhooks")
        return list(result.get("webhooks", []))

    def delete_webhook(self, webhook_id: str) -> None:
        """Delete one webhook of the base."""
        self.http.request("DELETE", f"/v0/bases/{self.base_id}/webhooks/{webhook_id}")

    def refresh_webhook(self, webhook_id: str) -> str:
        """Extend a webhook's life; returns its new expiration time (empty when Airtable gave none)."""
        result = self.http.request("POST", f"/v0/bases/{self.base_id}/webhooks/{webhook_id}/refresh")
        return str(result.get("expirationTime", ""))

    def enable_notifications(self, webhook_id: str, enable: bool = True) -> None:
        """Turn a webhook's pings to its notification URL on (or off with ``enable=False``)."""
        self.http.request(
            "POST",
            f"/v0/bases/{self.base_id}/webhooks/{webhook_id}/enableNotifications",
            json_body={"enable": enable},
        )

    def payloads(self, webhook_id: str, cursor: int) -> Iterator[tuple[int, dict[str, Any]]]:
        """Payloads from ``cursor`` on, each with its own cursor number."""
        while True:
            page = self.http.request(
                "GET",
                f"/v0/bases/{self.base_id}/webhooks/{webhook_id}/payloads",
                params={"cursor": cursor, "limit": 50},
            )
            for i, payload in enumerate(page.get("payloads", [])):
                yield cursor + i, payload
            cursor = int(page.get("cursor", cursor))
            if not page.get("mightHaveMore"):
                return
