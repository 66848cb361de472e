"""A team's own base and board for the mapping tests: a table whose fields are all named differently
from the defaults (made through the metadata API, as a person would), lists with other names, and the
``leadsync.toml`` that maps them. Edits are made as the sandbox's second identity (the person)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.fixtures_sandbox import RunningSandbox

STATUS_LISTS = {"New": "To call", "Contacted": "Called", "Qualified": "Won", "Lost": "Lost"}
TAGS = ("Hot", "Cold")
FIELDS: list[dict[str, Any]] = [
    {"name": "Full Name", "type": "singleLineText"},
    {"name": "Work Email", "type": "email"},
    {
        "name": "Lead Status",
        "type": "singleSelect",
        "options": {"choices": [{"name": s} for s in STATUS_LISTS]},
    },
    {"name": "Origin", "type": "singleLineText"},
    {"name": "Follow-up date", "type": "date", "options": {"dateFormat": {"name": "iso"}}},
    {"name": "Tags", "type": "multipleSelects", "options": {"choices": [{"name": t} for t in TAGS]}},
    {"name": "Company", "type": "singleLineText"},
]


def mapping_toml(
    base: str, board: str, *, table: str = "Prospects", policy: str = "latest", **fields: str
) -> str:
    """The mapping file of this world (``fields`` overrides a role's field)."""
    roles = {
        "name": "Full Name",
        "email": "Work Email",
        "status": "Lead Status",
        "source": "Origin",
        "due": "Follow-up date",
        "labels": "Tags",
    } | fields
    role_lines = "\n".join(f'{role} = "{name}"' for role, name in roles.items())
    status_lines = "\n".join(f'"{option}" = "{name}"' for option, name in STATUS_LISTS.items())
    return f"""# A team's own names, mapped to leadsync's roles.
[[flow]]
name = "sales"
conflict_policy = "{policy}"

[flow.airtable]
base = "{base}"
table = "{table}"

[flow.trello]
board = "{board}"

[flow.fields]
{role_lines}

[flow.statuses]
{status_lines}

[flow.card]
title = "Call {{name}}"
block = ["name", "email", "source", "Company"]
no_card = ["Lost"]
"""


class TeamWorld:
    """The team's table and board in a sandbox, and a person editing them by hand."""

    def __init__(self, sandbox: RunningSandbox, workdir: Path, *, policy: str = "latest") -> None:
        self.sandbox = sandbox
        s = sandbox.settings
        self.s = s
        self.http = httpx.Client(timeout=30)
        self._at = {"Authorization": f"Bearer {s['PERSON_AIRTABLE_API_KEY']}"}
        self._tr = {"key": s["PERSON_TRELLO_API_KEY"], "token": s["PERSON_TRELLO_TOKEN"]}
        self.base = s["AIRTABLE_BASE_ID"]
        self.board = s["TRELLO_BOARD_ID"]
        table = self._ok(
            self.http.post(
                f"{s['AIRTABLE_API_URL']}/v0/meta/bases/{self.base}/tables",
                json={"name": "Prospects", "fields": FIELDS},
                headers=self._at,
            )
        )
        self.table_id: str = table["id"]
        self.field_ids: dict[str, str] = {f["name"]: f["id"] for f in table["fields"]}
        self.lists: dict[str, str] = {}
        for option, name in STATUS_LISTS.items():
            created = self._ok(
                self.http.post(
                    f"{s['TRELLO_API_URL']}/1/lists",
                    params=self._tr,
                    json={"name": name, "idBoard": self.board, "pos": "bottom"},
                )
            )
            self.lists[option] = created["id"]
        self.config = workdir / "leadsync.toml"
        self.config.write_text(mapping_toml(self.base, self.board, policy=policy))

    def close(self) -> None:
        self.http.close()

    def _ok(self, response: httpx.Response) -> Any:
        assert response.status_code < 400, (
            f"{response.request.url.path}: {response.status_code} {response.text[:300]}"
        )
        return response.json() if response.content else None

    # ---- Airtable, by the fields' current names ----------------------------------------------------
    @property
    def _records(self) -> str:
        return f"{self.s['AIRTABLE_API_URL']}/v0/{self.base}/{self.table_id}"

    def add_lead(self, name: str, status: str | None = "New", **cells: Any) -> str:
        fields = {"Full Name": name, **cells}
        if status:
            fields["Lead Status"] = status
        return str(self._ok(self.http.post(self._records, json={"fields": fields}, headers=self._at))["id"])

    def edit_lead(self, lead_id: str, **cells: Any) -> None:
        self._ok(self.http.patch(f"{self._records}/{lead_id}", json={"fields": cells}, headers=self._at))

    def lead(self, lead_id: str) -> dict[str, Any]:
        """The lead's cells by field id (so that renames do not change what a test reads)."""
        record = self._ok(
            self.http.get(
                f"{self._records}/{lead_id}", params={"returnFieldsByFieldId": "true"}, headers=self._at
            )
        )
        return dict(record["fields"])

    def cell(self, lead_id: str, field_name: str) -> Any:
        return self.lead(lead_id).get(self.field_ids[field_name])

    def rename_field(self, name: str, new_name: str) -> None:
        url = f"{self.s['AIRTABLE_API_URL']}/v0/meta/bases/{self.base}/tables/{self.table_id}/fields/{self.field_ids[name]}"
        self._ok(self.http.patch(url, json={"name": new_name}, headers=self._at))

    def rename_table(self, new_name: str) -> None:
        url = f"{self.s['AIRTABLE_API_URL']}/v0/meta/bases/{self.base}/tables/{self.table_id}"
        self._ok(self.http.patch(url, json={"name": new_name}, headers=self._at))

    # ---- Trello ------------------------------------------------------------------------------------
    def cards(self) -> list[dict[str, Any]]:
        url = f"{self.s['TRELLO_API_URL']}/1/boards/{self.board}/cards/all"
        return list(
            self._ok(
                self.http.get(url, params={**self._tr, "fields": "id,name,desc,idList,closed,due,idLabels"})
            )
        )

    def card_for(self, lead_id: str) -> dict[str, Any]:
        matches = [c for c in self.cards() if f"Lead ID: {lead_id}" in c["desc"]]
        assert len(matches) == 1, f"{len(matches)} cards for {lead_id}"
        return matches[0]

    def list_option(self, list_id: str) -> str | None:
        return next((o for o, lid in self.lists.items() if lid == list_id), None)

    def update_card(self, card_id: str, **fields: Any) -> dict[str, Any]:
        url = f"{self.s['TRELLO_API_URL']}/1/cards/{card_id}"
        return dict(self._ok(self.http.put(url, params=self._tr, json=fields)))

    def move_card(self, card_id: str, option: str) -> None:
        self.update_card(card_id, idList=self.lists[option])

    def rename_list(self, option: str, new_name: str) -> None:
        url = f"{self.s['TRELLO_API_URL']}/1/lists/{self.lists[option]}"
        self._ok(self.http.put(url, params=self._tr, json={"name": new_name}))

    def board_labels(self) -> dict[str, str]:
        """Label id -> name."""
        url = f"{self.s['TRELLO_API_URL']}/1/boards/{self.board}/labels"
        return {row["id"]: row["name"] for row in self._ok(self.http.get(url, params=self._tr))}

    def label_names(self, card: dict[str, Any]) -> set[str]:
        names = self.board_labels()
        return {names[lid] for lid in card.get("idLabels", [])}

    def add_label(self, card_id: str, name: str) -> str:
        """Put the board's label ``name`` on the card (made first when the board has none)."""
        existing = {n: lid for lid, n in self.board_labels().items()}
        if name in existing:
            url = f"{self.s['TRELLO_API_URL']}/1/cards/{card_id}/idLabels"
            self._ok(self.http.post(url, params=self._tr, json={"value": existing[name]}))
            return existing[name]
        url = f"{self.s['TRELLO_API_URL']}/1/cards/{card_id}/labels"
        return str(
            self._ok(self.http.post(url, params=self._tr, json={"name": name, "color": "green"}))["id"]
        )

    def rename_label(self, label_id: str, new_name: str) -> None:
        url = f"{self.s['TRELLO_API_URL']}/1/labels/{label_id}"
        self._ok(self.http.put(url, params=self._tr, json={"name": new_name}))
