"""filterByFormula: the parser and evaluator on their own, then the same language over HTTP."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from leadsync.sandbox import start
from leadsync.sandbox.airtable.formula import ERROR, FormulaError, compile_formula
from tests.fixtures_sandbox import RunningSandbox

CREATED = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
FIELDS = {
    "Name": "fldName",
    "Email": "fldEmail",
    "Status": "fldStatus",
    "Count": "fldCount",
    "Odd}Name": "fldOdd",
}
INVALID_BODY = {
    "error": {
        "type": "INVALID_FILTER_BY_FORMULA",
        "message": "The formula for filtering records is invalid: Invalid formula. Please check your formula text.",
    }
}


@dataclass
class FakeRecord:
    record_id: str = "recAAAAAAAAAAAAAA"
    created_time: datetime = CREATED
    cells: dict[str, Any] = field(default_factory=dict)
    modified: dict[str, datetime] = field(default_factory=dict)

    def cell(self, field_id: str) -> Any:
        return self.cells.get(field_id)

    def last_modified_time(self, field_ids: Sequence[str]) -> datetime:
        times = [self.modified[f] for f in (field_ids or list(self.modified)) if f in self.modified]
        return max(times, default=self.created_time)


def resolve(name: str) -> str | None:
    return FIELDS.get(name) or (name if name in FIELDS.values() else None)


RECORD = FakeRecord(
    cells={"fldName": "Ada", "fldStatus": "NEW", "fldCount": 3, "fldOdd": "odd"},
    modified={"fldStatus": CREATED + timedelta(days=2), "fldName": CREATED + timedelta(days=1)},
)


def evaluate(text: str) -> Any:
    return compile_formula(text, resolve).evaluate(RECORD, CREATED + timedelta(days=10))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{Name}='Ada'", True),
        ('{Name}="Ada"', True),
        ("{Name}='ada'", False),
        ("{fldName}='Ada'", True),
        ("Name='Ada'", True),
        ("{Odd\\}Name}='odd'", True),
        ("{Status}='NEW'", True),
        ("'it\\'s'='it'&\"'\"&'s'", True),
        ('"say \\"hi\\""=\'say "hi"\'', True),
        ("LEN('back\\\\slash')", 10),
        ("1+2*3", 7),
        ("(1+2)*3", 9),
        ("10/4", 2.5),
        ("-{Count}+1", -2),
        ("'a'&1+2", "a3"),
        ("{Count}>=3", True),
        ("{Count}<3", False),
        ("{Count}!=4", True),
        ("{Count}='3'", True),
        ("AND({Count}>1, {Name}='Ada')", True),
        ("OR({Count}>5, {Name}='Bob')", False),
        ("NOT({Email})", True),
        ("{Email}=BLANK()", True),
        ("{Email}=''", True),
        ("IF({Count}>2, 'big', 'small')", "big"),
        ("IF({Count}>5, 'big')", None),
        ("TRUE()", True),
        ("and(TRUE(), false())", False),
        ("RECORD_ID()='recAAAAAAAAAAAAAA'", True),
        ("CREATED_TIME()='2024-01-01T12:00:00.000Z'", True),
        ("IS_AFTER(CREATED_TIME(), DATETIME_PARSE('2023-12-31'))", True),
        ("IS_BEFORE(CREATED_TIME(), '2023-12-31T00:00:00Z')", False),
        ("IS_SAME(CREATED_TIME(), '2024-01-01', 'day')", True),
        ("IS_SAME(CREATED_TIME(), '2024-02-01', 'month')", False),
        ("IS_SAME(CREATED_TIME(), '2024-03-30', 'year')", True),
        ("IS_AFTER(LAST_MODIFIED_TIME({Status}), LAST_MODIFIED_TIME({Name}))", True),
        ("LAST_MODIFIED_TIME()=DATETIME_PARSE('2024-01-03T12:00:00.000Z')", True),
        ("LAST_MODIFIED_TIME({Email})=CREATED_TIME()", True),
        ("IS_SAME(DATETIME_PARSE('05/01/2024 13:30', 'DD/MM/YYYY HH:mm'), '2024-01-05T13:30:00Z')", True),
        ("FIND('da', {Name})", 2),
        ("FIND('x', {Name})", 0),
        ("SEARCH('ADA', {Name})", 1),
        ("LOWER({Name})&UPPER({Name})", "adaADA"),
        ("LEN({Name})", 3),
        ("ISERROR(1/0)", True),
        ("ISERROR(DATETIME_PARSE('not a date'))", True),
        ("IS_AFTER({Name}, NOW())", ERROR),
    ],
)
def test_the_formula_subset_evaluates_like_airtable(text: str, expected: Any) -> None:
    assert evaluate(text) == expected


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("0", False),
        ("''", False),
        ("BLANK()", False),
        ("1/0", False),
        ("{Email}", False),
        ("'0'", True),
        ("3", True),
    ],
)
def test_zero_empty_blank_and_errors_are_false(text: str, kept: bool) -> None:
    assert compile_formula(text, resolve).matches(RECORD, CREATED) is kept


@pytest.mark.parametrize(
    "text",
    [
        "{Nope}='x'",
        "Nope='x'",
        "TRUE",
        "FOO(1)",
        "{Name}='x",
        "{Name",
        "{Name}=",
        "{Name}=='x'",
        "{Name}<>'x'",
        "AND()",
        "NOT(1, 2)",
        "IF(1)",
        "LAST_MODIFIED_TIME('Status')",
        "{Name}='x' OR 1",
        "1 2",
        "(1",
        "1)",
        "$",
        "",
        "   ",
    ],
)
def test_anything_outside_the_subset_is_a_compile_error(text: str) -> None:
    with pytest.raises(FormulaError):
        compile_formula(text, resolve)


# ---- over HTTP ---------------------------------------------------------------------------------------

PEOPLE = [
    {"Name": "Ada", "Email": "ada@example.com", "Status": "NEW", "Source": "web"},
    {"Name": "Bob", "Status": "CONTACTED"},
    {"Name": "x' OR TRUE() OR '", "Status": "LOST"},
    {"Name": "Back\\slash", "Status": "QUALIFIED", "Source": "referral"},
    {"Name": "Curly} Brace"},
]


@dataclass
class Leads:
    client: httpx.Client
    path: str

    def names(self, formula: str) -> list[str]:
        response = self.client.get(self.path, params={"filterByFormula": formula})
        assert response.status_code == 200, response.text
        return sorted(r["fields"]["Name"] for r in response.json()["records"])


@pytest.fixture(scope="module")
def leads() -> Iterator[Leads]:
    """One sandbox for the read-only formula cases, seeded once."""
    server, state = start(seed=11, rate_scale=0)
    settings = state.settings()
    headers = {"Authorization": f"Bearer {settings['AIRTABLE_API_KEY']}"}
    path = f"/v0/{settings['AIRTABLE_BASE_ID']}/Leads"
    try:
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
            response = client.post(path, json={"records": [{"fields": f} for f in PEOPLE]})
            assert response.status_code == 200, response.text
            yield Leads(client, path)
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("formula", "names"),
    [
        ("{Status}='NEW'", ["Ada"]),
        ("OR({Status}='NEW', {Status}='CONTACTED')", ["Ada", "Bob"]),
        ("AND({Source}, NOT({Status}='NEW'))", ["Back\\slash"]),
        ("{Email}=BLANK()", ["Back\\slash", "Bob", "Curly} Brace", "x' OR TRUE() OR '"]),
        ("{Name}='x\\' OR TRUE() OR \\''", ["x' OR TRUE() OR '"]),
        ("{Name}='Back\\\\slash'", ["Back\\slash"]),
        ("{Name}='Curly} Brace'", ["Curly} Brace"]),
        ("FIND('o', LOWER({Name}))>0", ["Bob", "x' OR TRUE() OR '"]),
        ("LEN({Name})=3", ["Ada", "Bob"]),
        ("{Status}", ["Ada", "Back\\slash", "Bob", "x' OR TRUE() OR '"]),
        (
            "IS_AFTER(CREATED_TIME(), '2000-01-01')",
            ["Ada", "Back\\slash", "Bob", "Curly} Brace", "x' OR TRUE() OR '"],
        ),
        ("{Name}='Nobody'", []),
    ],
)
def test_filter_by_formula_keeps_exactly_the_matching_records(
    leads: Leads, formula: str, names: list[str]
) -> None:
    assert leads.names(formula) == names


def test_an_injection_looking_value_is_just_a_string(leads: Leads) -> None:
    # Escaped as pyairtable's quoted() does, the value cannot change the formula's meaning...
    assert leads.names("{Name}='Ada\\' OR \\'1\\'=\\'1'") == []
    # ...and unescaped it is a syntax error, never a match-all.
    response = leads.client.get(leads.path, params={"filterByFormula": "{Name}='Ada' OR '1'='1'"})
    assert response.status_code == 422
    assert response.json() == INVALID_BODY


@pytest.mark.parametrize(
    "formula", ["UNKNOWN_FN({Name})", "{Name}='unterminated", "AND(", "{Name}='a' {Name}='b'"]
)
def test_an_invalid_formula_is_422_and_never_matches_everything(leads: Leads, formula: str) -> None:
    for method in ("GET", "POST"):
        if method == "GET":
            response = leads.client.get(leads.path, params={"filterByFormula": formula})
        else:
            response = leads.client.post(f"{leads.path}/listRecords", json={"filterByFormula": formula})
        assert response.status_code == 422, response.text
        assert response.json() == INVALID_BODY


def test_an_unknown_field_name_is_422_naming_it_and_never_matches_everything(leads: Leads) -> None:
    response = leads.client.get(leads.path, params={"filterByFormula": "{Nope}='x'"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["type"] == "INVALID_FILTER_BY_FORMULA"
    assert response.json()["error"]["message"].endswith("Unknown field names: nope")


def test_field_ids_inside_formulas_are_unknown_field_names(leads: Leads) -> None:
    schema = leads.client.get(f"/v0/meta/bases/{leads.path.split('/')[2]}/tables").json()
    status_id = next(f["id"] for f in schema["tables"][0]["fields"] if f["name"] == "Status")
    response = leads.client.get(leads.path, params={"filterByFormula": f"{{{status_id}}}='CONTACTED'"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"].endswith(f"Unknown field names: {status_id.lower()}")
    assert leads.names("{Status}='CONTACTED'") == ["Bob"]


def test_last_modified_time_tracks_each_field_and_ignores_unchanged_writes(sandbox: RunningSandbox) -> None:
    s = sandbox.settings
    path = f"/v0/{s['AIRTABLE_BASE_ID']}/{quote('Leads')}"
    with httpx.Client(
        base_url=sandbox.url, headers={"Authorization": f"Bearer {s['AIRTABLE_API_KEY']}"}, timeout=10
    ) as client:
        sandbox.control("POST", "/config", json={"rate_scale": 0})
        made = client.post(path, json={"records": [{"fields": {"Name": n, "Status": "NEW"}} for n in "AB"]})
        a, b = (r["id"] for r in made.json()["records"])
        created = made.json()["records"][0]["createdTime"]
        sandbox.control("POST", "/clock/advance", json={"seconds": 120})
        assert client.patch(f"{path}/{a}", json={"fields": {"Status": "LOST"}}).status_code == 200
        assert client.patch(f"{path}/{b}", json={"fields": {"Status": "NEW"}}).status_code == 200  # no change

        def ids(formula: str) -> set[str]:
            response = client.get(path, params={"filterByFormula": formula})
            assert response.status_code == 200, response.text
            return {r["id"] for r in response.json()["records"]}

        after = f"DATETIME_PARSE('{created}')"
        watermark = datetime.fromisoformat(created) + timedelta(seconds=30)
        assert ids(f"IS_AFTER(LAST_MODIFIED_TIME({{Status}}), {after})") == {a}
        assert ids(f"IS_AFTER(LAST_MODIFIED_TIME({{Status}}), '{watermark.isoformat()}')") == {a}
        assert ids(f"IS_AFTER(LAST_MODIFIED_TIME({{Name}}), {after})") == set()
        assert ids(f"IS_AFTER(LAST_MODIFIED_TIME(), {after})") == {a}
        # A field never written falls back to the record's createdTime (the sandbox's documented choice).
        assert ids("LAST_MODIFIED_TIME({Email})=CREATED_TIME()") == {a, b}
