"""A person editing both trackers by hand, through the sandbox's APIs with the person's credentials.

The demo and the end-to-end tests use it to make the edits leadsync must pick up.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx

__all__ = ["Person"]


class Person:
    """Edits leads and cards as the sandbox's second identity (``PERSON_*`` settings)."""

    def __init__(self, settings: dict[str, str], client: httpx.Client | None = None) -> None:
        self.s = settings
        self.client = client or httpx.Client(timeout=30)
        self.table = f"{settings['AIRTABLE_API_URL']}/v0/{settings['AIRTABLE_BASE_ID']}/" + quote(
            settings["AIRTABLE_LEADS_TABLE_NAME"], safe=""
        )
        self.lists: dict[str, str] = json.loads(settings["TRELLO_LIST_IDS"])
        self._at = {"Authorization": f"Bearer {settings['PERSON_AIRTABLE_API_KEY']}"}
        self._tr = {"key": settings["PERSON_TRELLO_API_KEY"], "token": settings["PERSON_TRELLO_TOKEN"]}

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()

    def _ok(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise RuntimeError(
                f"{response.request.method} {response.request.url.path}: "
                f"{response.status_code} {response.text[:300]}"
            )
        return response.json() if response.content else None

    # ---- Airtable -----------------------------------------------------------------------------------
    def add_lead(self, name: str, email: str = "", status: str | None = "NEW", source: str = "") -> str:
        """Create a lead in Airtable; returns its record id."""
        fields: dict[str, Any] = {"Name": name}
        if email:
            fields["Email"] = email
        if status:
            fields["Status"] = status
        if source:
            fields["Source"] = source
        return str(self._ok(self.client.post(self.table, json={"fields": fields}, headers=self._at))["id"])

    def edit_lead(self, lead_id: str, **fields: Any) -> None:
        """Change a lead's cells (``fields`` by field name)."""
        self._ok(
            self.client.patch(
                f"{self.table}/{lead_id}", json={"fields": fields, "typecast": True}, headers=self._at
            )
        )

    def delete_lead(self, lead_id: str) -> None:
        """Delete a lead."""
        self._ok(self.client.delete(f"{self.table}/{lead_id}", headers=self._at))

    def leads(self) -> list[dict[str, Any]]:
        """Every lead in the table, every page read."""
        out: list[dict[str, Any]] = []
        offset: str | None = None
        while True:
            params = {"offset": offset} if offset else {}
            page = self._ok(self.client.get(self.table, params=params, headers=self._at))
            out.extend(page["records"])
            offset = page.get("offset")
            if not offset:
                return out

    def _meta_tables(self) -> str:
        return f"{self.s['AIRTABLE_API_URL']}/v0/meta/bases/{self.s['AIRTABLE_BASE_ID']}/tables"

    def rename_table(self, table_id_or_name: str, new_name: str) -> dict[str, Any]:
        """Rename an Airtable table (its id stays); returns the table's schema."""
        url = f"{self._meta_tables()}/{quote(table_id_or_name, safe='')}"
        return dict(self._ok(self.client.patch(url, json={"name": new_name}, headers=self._at)))

    def add_field(self, name: str, type_: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        """Add a field to the Leads table through the metadata API; returns the field's schema."""
        url = f"{self._meta_tables()}/{quote(self.s['AIRTABLE_LEADS_TABLE_NAME'], safe='')}/fields"
        body: dict[str, Any] = {"name": name, "type": type_} | ({"options": options} if options else {})
        return dict(self._ok(self.client.post(url, json=body, headers=self._at)))

    def rename_field(self, table_id: str, field_id: str, new_name: str) -> dict[str, Any]:
        """Rename a field of an Airtable table (its id stays); returns the field's schema."""
        url = f"{self._meta_tables()}/{table_id}/fields/{field_id}"
        return dict(self._ok(self.client.patch(url, json={"name": new_name}, headers=self._at)))

    # ---- Trello -------------------------------------------------------------------------------------
    def cards(self, filter_: str = "all") -> list[dict[str, Any]]:
        """The board's cards (``filter_``: ``all``, ``open``, ``closed``...)."""
        url = f"{self.s['TRELLO_API_URL']}/1/boards/{self.s['TRELLO_BOARD_ID']}/cards/{filter_}"
        return list(self._ok(self.client.get(url, params=self._tr)))

    def card_for(self, lead_id: str) -> dict[str, Any]:
        """The card whose description names ``lead_id``."""
        matches = [c for c in self.cards() if f"Lead ID: {lead_id}" in c["desc"]]
        if len(matches) != 1:
            raise AssertionError(f"expected one card for {lead_id}, found {len(matches)}")
        return matches[0]

    def update_card(self, card_id: str, **fields: Any) -> dict[str, Any]:
        """Change a card's parameters; returns the card."""
        url = f"{self.s['TRELLO_API_URL']}/1/cards/{card_id}"
        return dict(self._ok(self.client.put(url, params=self._tr, json=fields)))

    def move_card(self, card_id: str, status: str) -> None:
        """Move a card to the list of ``status``."""
        self.update_card(card_id, idList=self.lists[status])

    def add_card(self, status: str, name: str, desc: str = "") -> dict[str, Any]:
        """Create a card at the bottom of the list of ``status``; returns it."""
        url = f"{self.s['TRELLO_API_URL']}/1/cards"
        body = {"idList": self.lists[status], "name": name, "desc": desc}
        return dict(self._ok(self.client.post(url, params=self._tr, json=body)))

    def delete_card(self, card_id: str) -> None:
        """Delete a card."""
        self._ok(self.client.delete(f"{self.s['TRELLO_API_URL']}/1/cards/{card_id}", params=self._tr))

    def rename_list(self, status: str, name: str) -> dict[str, Any]:
        """Rename the list of ``status`` (Trello logs ``updateList`` with the old name); returns the list."""
        url = f"{self.s['TRELLO_API_URL']}/1/lists/{self.lists[status]}"
        return dict(self._ok(self.client.put(url, params=self._tr, json={"name": name})))

    def add_label(self, card_id: str, name: str, color: str | None = None) -> dict[str, Any]:
        """Create a board label and put it on a card (``addLabelToCard``); returns the label."""
        url = f"{self.s['TRELLO_API_URL']}/1/cards/{card_id}/labels"
        return dict(self._ok(self.client.post(url, params=self._tr, json={"name": name, "color": color})))

    def remove_label(self, card_id: str, label_id: str) -> None:
        """Take a label off a card (``removeLabelFromCard``)."""
        url = f"{self.s['TRELLO_API_URL']}/1/cards/{card_id}/idLabels/{label_id}"
        self._ok(self.client.delete(url, params=self._tr))

    def set_due(self, card_id: str, due: str | None, *, complete: bool | None = None) -> dict[str, Any]:
        """Set (ISO date) or clear (``None``) a card's due date, and mark it complete or not when
        ``complete`` is given; returns the card."""
        fields: dict[str, Any] = {"due": due}
        if complete is not None:
            fields["dueComplete"] = complete
        return self.update_card(card_id, **fields)

    def status_of_list(self, list_id: str) -> str | None:
        """The status whose list has id ``list_id``, if any."""
        return next((s for s, lid in self.lists.items() if lid == list_id), None)
