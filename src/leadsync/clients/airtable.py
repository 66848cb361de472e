"""Airtable client: the Leads table (paged reads, batched status writes, formulas) and webhooks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TypedDict
from urllib.parse import quote

from leadsync.clients.http import ApiHttp
from leadsync.errors import BadRequest
from leadsync.models import Lead, LeadId

FIELDS = ("Name", "Email", "Status", "Source")
BATCH = 10  # records per write request, Airtable's maximum
_RECORD_ID = re.compile(r"rec[A-Za-z0-9]{14}")
_URL_BUDGET = 12000  # stay well under the 16,000-character URL limit


class RecordJson(TypedDict, total=False):
    id: str
    createdTime: str
    fields: dict[str, Any]


def quoted(value: str) -> str:
    """A formula string literal: backslashes and quotes escaped (as pyairtable's ``quoted``)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def formula_time(moment: datetime) -> str:
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return f"DATETIME_PARSE({quoted(text)})"


def record_id_formula(lead_id: str) -> str:
    if not _RECORD_ID.fullmatch(lead_id):
        raise ValueError(f"not an Airtable record id: {lead_id!r}")
    return f"RECORD_ID()={quoted(lead_id)}"


def to_lead(record: RecordJson) -> Lead:
    cells = record.get("fields", {})

    def text(name: str) -> str:
        value = cells.get(name)
        if value is None:
            return ""
        return value if isinstance(value, str) else str(value)

    status = cells.get("Status")
    return Lead(
        LeadId(record["id"]), text("Name"), text("Email"), str(status) if status else None, text("Source")
    )


class AirtableClient:
    """The Leads table of one base."""

    def __init__(self, http: ApiHttp, base_id: str, table: str) -> None:
        self.http = http
        self.base_id = base_id
        self.table = table
        self._path = f"/v0/{base_id}/{quote(table, safe='')}"

    # ---- reads ------------------------------------------------------------------------------------
    def iter_pages(self, formula: str | None = None, fields: Iterable[str] = FIELDS) -> Iterator[list[Lead]]:
        """Every lead matching ``formula``, a page (at most 100) at a time; restarts once from the first
        page if Airtable expired the iterator (the caller deduplicates by id)."""
        body: dict[str, Any] = {"pageSize": 100, "fields": list(fields)}
        if formula:
            body["filterByFormula"] = formula
        restarts = 0
        offset: str | None = None
        while True:
            page_body = dict(body, offset=offset) if offset else body
            try:
                page = self.http.request(
                    "POST", f"{self._path}/listRecords", json_body=page_body, kind="read"
                )
            except BadRequest as exc:
                if "LIST_RECORDS_ITERATOR_NOT_AVAILABLE" in exc.body and restarts < 2:
                    restarts += 1
                    offset = None
                    continue
                raise
            yield [to_lead(r) for r in page.get("records", [])]
            offset = page.get("offset")
            if not offset:
                return

    def all_leads(self) -> dict[LeadId, Lead]:
        return {lead.id: lead for page in self.iter_pages() for lead in page}

    def changed_since(self, watermark: datetime) -> dict[LeadId, Lead]:
        """Leads created or modified after ``watermark`` (a constant number of requests when few changed)."""
        since = formula_time(watermark)
        formula = f"OR(IS_AFTER(LAST_MODIFIED_TIME(),{since}),IS_AFTER(CREATED_TIME(),{since}))"
        return {lead.id: lead for page in self.iter_pages(formula) for lead in page}

    def get_leads(self, ids: Iterable[LeadId]) -> dict[LeadId, Lead]:
        return self._by_ids(list(ids), lambda lid: record_id_formula(lid))

    def status_changed_after(self, times: dict[LeadId, datetime]) -> set[LeadId]:
        """Of the given leads, those whose Status was changed in Airtable after the given moment."""

        def clause(lid: LeadId) -> str:
            return f"AND({record_id_formula(lid)},IS_AFTER(LAST_MODIFIED_TIME({{Status}}),{formula_time(times[lid])}))"

        return set(self._by_ids(list(times), clause, fields=("Name",)))

    def _by_ids(self, ids: list[LeadId], clause: Any, fields: Iterable[str] = FIELDS) -> dict[LeadId, Lead]:
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

    def _query_or(self, clauses: list[str], fields: Iterable[str]) -> dict[LeadId, Lead]:
        formula = clauses[0] if len(clauses) == 1 else "OR(" + ",".join(clauses) + ")"
        return {lead.id: lead for page in self.iter_pages(formula, fields) for lead in page}

    # ---- writes -----------------------------------------------------------------------------------
    def update_statuses(
        self, updates: list[tuple[LeadId, str]]
    ) -> list[tuple[list[LeadId], Exception | None]]:
        """PATCH Status in batches of 10; returns each batch's ids and its error (None when written)."""
        results: list[tuple[list[LeadId], Exception | None]] = []
        for i in range(0, len(updates), BATCH):
            batch = updates[i : i + BATCH]
            body = {"records": [{"id": lid, "fields": {"Status": status}} for lid, status in batch]}
            ids = [lid for lid, _ in batch]
            try:
                self.http.request("PATCH", self._path, json_body=body)
                results.append((ids, None))
            except Exception as exc:
                results.append((ids, exc))
        return results

    def create_lead(self, fields: dict[str, Any]) -> Lead:
        record = self.http.request("POST", self._path, json_body={"fields": fields}, idempotent=False)
        return to_lead(record)

    def whoami(self) -> str:
        """The token's user id (webhook payloads name it as the author of leadsync's own writes)."""
        return str(self.http.request("GET", "/v0/meta/whoami")["id"])

    # ---- schema and webhooks ----------------------------------------------------------------------
    def schema(self) -> dict[str, Any]:
        result: dict[str, Any] = self.http.request("GET", f"/v0/meta/bases/{self.base_id}/tables")
        return result

    def table_schema(self) -> dict[str, Any]:
        for table in self.schema().get("tables", []):
            if table["name"] == self.table or table["id"] == self.table:
                return dict(table)
        raise BadRequest(
            "airtable",
            "GET",
            f"/v0/meta/bases/{self.base_id}/tables",
            404,
            message=f"table {self.table!r} not found in base",
        )

    def create_webhook(self, notification_url: str, table_id: str) -> dict[str, Any]:
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
        result = self.http.request("GET", f"/v0/bases/{self.base_id}/webhooks")
        return list(result.get("webhooks", []))

    def delete_webhook(self, webhook_id: str) -> None:
        self.http.request("DELETE", f"/v0/bases/{self.base_id}/webhooks/{webhook_id}")

    def refresh_webhook(self, webhook_id: str) -> str:
        result = self.http.request("POST", f"/v0/bases/{self.base_id}/webhooks/{webhook_id}/refresh")
        return str(result.get("expirationTime", ""))

    def enable_notifications(self, webhook_id: str, enable: bool = True) -> None:
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
