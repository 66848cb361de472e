"""``filterByFormula``: a tokenizer, a precedence-climbing parser and an evaluator for Airtable formulas.

Only a subset of Airtable's formula language is implemented, but that subset is implemented for real:
anything outside it (an unknown function, a syntax error, an unknown field) raises
:class:`FormulaError` at compile time, before a single record is looked at, so a filter the sandbox
does not understand can never silently match every record.

Grammar, lowest precedence first (the spreadsheet convention Airtable follows)::

    comparison  := concat (("=" | "!=" | "<" | ">" | "<=" | ">=") concat)*
    concat      := additive ("&" additive)*
    additive    := term (("+" | "-") term)*
    term        := unary (("*" | "/") unary)*
    unary       := ("-" | "+") unary | primary
    primary     := NUMBER | STRING | "{field}" | bare_field | NAME "(" args ")" | "(" comparison ")"

Values are ``None`` (blank), ``bool``, ``int``/``float``, ``str``, aware ``datetime``, lists, or
:data:`ERROR` (``#ERROR!``); their semantics live in :mod:`leadsync.sandbox.airtable.formula_values`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from leadsync.sandbox.airtable.formula_values import (
    ERROR,
    UNITS,
    arithmetic,
    as_datetime,
    compare,
    number,
    parse_datetime,
    parse_with_format,
    text,
    truncate,
    truthy,
)

__all__ = [
    "ERROR",
    "Formula",
    "FormulaError",
    "FormulaRecord",
    "compile_formula",
    "parse_datetime",
]


class FormulaError(ValueError):
    """The formula is not valid: a syntax error, an unknown function or field, or wrong arguments."""


class FormulaRecord(Protocol):
    """What a formula can see of one record."""

    @property
    def record_id(self) -> str:
        """The record's ``rec`` id (``RECORD_ID()``)."""

    @property
    def created_time(self) -> datetime:
        """When the record was created (``CREATED_TIME()``)."""

    def cell(self, field_id: str) -> Any:
        """The cell's formula value: blank as ``None``, dates as ``datetime``, a select as its name."""

    def last_modified_time(self, field_ids: Sequence[str]) -> datetime:
        """Last user modification of any of ``field_ids`` (all fields when empty)."""


# ---- tokens --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # NUM, STR, FIELD, NAME, OP, LPAREN, RPAREN, COMMA, END
    text: str
    pos: int
    value: Any = None


_OPERATORS = ("!=", "<=", ">=", "=", "<", ">", "&", "+", "-", "*", "/")
_STRING_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}
_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "{":
            name, i = _read_delimited(text, i, "}", field=True)
            tokens.append(_Token("FIELD", name, i, name))
        elif ch in "'\"":
            value, end = _read_delimited(text, i, ch, field=False)
            tokens.append(_Token("STR", text[i:end], i, value))
            i = end
        elif match := _NUMBER.match(text, i):
            literal = match.group()
            number = float(literal)
            tokens.append(_Token("NUM", literal, i, int(number) if number.is_integer() else number))
            i = match.end()
        elif match := _NAME.match(text, i):
            tokens.append(_Token("NAME", match.group(), i))
            i = match.end()
        elif ch == "(":
            tokens.append(_Token("LPAREN", ch, i))
            i += 1
        elif ch == ")":
            tokens.append(_Token("RPAREN", ch, i))
            i += 1
        elif ch == ",":
            tokens.append(_Token("COMMA", ch, i))
            i += 1
        else:
            op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
            if op is None:
                raise FormulaError(f"unexpected character {ch!r} at {i}")
            tokens.append(_Token("OP", op, i))
            i += len(op)
    tokens.append(_Token("END", "", n))
    return tokens


def _read_delimited(text: str, start: int, close: str, *, field: bool) -> tuple[str, int]:
    """Read ``{...}`` (only ``\\}`` is an escape) or a quoted string; returns (value, index after)."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if field:
                out.append("}" if nxt == "}" else "\\")
                i += 2 if nxt == "}" else 1
            else:
                out.append(_STRING_ESCAPES.get(nxt, nxt))
                i += 2
            continue
        if ch == close:
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    what = "field reference" if field else "string"
    raise FormulaError(f"unterminated {what} starting at {start}")


# ---- syntax tree ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Literal:
    value: Any


@dataclass(frozen=True)
class _FieldRef:
    field_id: str


@dataclass(frozen=True)
class _Call:
    name: str
    args: tuple[_Node, ...]


@dataclass(frozen=True)
class _Binary:
    op: str
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _Negate:
    operand: _Node


_Node = _Literal | _FieldRef | _Call | _Binary | _Negate

_PRECEDENCE: tuple[tuple[str, ...], ...] = (
    ("=", "!=", "<", ">", "<=", ">="),
    ("&",),
    ("+", "-"),
    ("*", "/"),
)

# name -> (min args, max args or None for any number)
_ARITY: dict[str, tuple[int, int | None]] = {
    "AND": (1, None),
    "OR": (1, None),
    "XOR": (1, None),
    "NOT": (1, 1),
    "IF": (2, 3),
    "BLANK": (0, 0),
    "TRUE": (0, 0),
    "FALSE": (0, 0),
    "ISERROR": (1, 1),
    "RECORD_ID": (0, 0),
    "CREATED_TIME": (0, 0),
    "LAST_MODIFIED_TIME": (0, None),
    "NOW": (0, 0),
    "TODAY": (0, 0),
    "IS_AFTER": (2, 2),
    "IS_BEFORE": (2, 2),
    "IS_SAME": (2, 3),
    "DATETIME_PARSE": (1, 3),
    "FIND": (2, 3),
    "SEARCH": (2, 3),
    "LOWER": (1, 1),
    "UPPER": (1, 1),
    "LEN": (1, 1),
    "TRIM": (1, 1),
    "CONCATENATE": (1, None),
}


class _Parser:
    def __init__(self, tokens: list[_Token], resolve_field: Callable[[str], str | None]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.resolve_field = resolve_field

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self, kind: str) -> _Token:
        token = self.tokens[self.pos]
        if token.kind != kind:
            found = token.text or "end of formula"
            raise FormulaError(f"expected {kind} at {token.pos}, found {found!r}")
        self.pos += 1
        return token

    def parse(self) -> _Node:
        node = self.binary(0)
        token = self.peek()
        if token.kind != "END":
            raise FormulaError(f"unexpected {token.text!r} at {token.pos}")
        return node

    def binary(self, level: int) -> _Node:
        if level == len(_PRECEDENCE):
            return self.unary()
        node = self.binary(level + 1)
        while (token := self.peek()).kind == "OP" and token.text in _PRECEDENCE[level]:
            self.pos += 1
            node = _Binary(token.text, node, self.binary(level + 1))
        return node

    def unary(self) -> _Node:
        token = self.peek()
        if token.kind == "OP" and token.text in ("-", "+"):
            self.pos += 1
            operand = self.unary()
            return _Negate(operand) if token.text == "-" else operand
        return self.primary()

    def primary(self) -> _Node:
        token = self.peek()
        self.pos += 1
        if token.kind in ("NUM", "STR"):
            return _Literal(token.value)
        if token.kind == "FIELD":
            return self.field(token.value, token.pos)
        if token.kind == "LPAREN":
            node = self.binary(0)
            self.take("RPAREN")
            return node
        if token.kind == "NAME":
            if self.peek().kind == "LPAREN":
                return self.call(token)
            # A one-word field name may be written without braces.
            return self.field(token.text, token.pos)
        raise FormulaError(f"unexpected {token.text or 'end of formula'!r} at {token.pos}")

    def field(self, name: str, pos: int) -> _FieldRef:
        field_id = self.resolve_field(name)
        if field_id is None:
            raise FormulaError(f"unknown field {name!r} at {pos}")
        return _FieldRef(field_id)

    def call(self, name_token: _Token) -> _Call:
        name = name_token.text.upper()
        if name not in _ARITY:
            raise FormulaError(f"unknown function {name_token.text!r} at {name_token.pos}")
        self.take("LPAREN")
        args: list[_Node] = []
        if self.peek().kind != "RPAREN":
            args.append(self.binary(0))
            while self.peek().kind == "COMMA":
                self.pos += 1
                args.append(self.binary(0))
        self.take("RPAREN")
        low, high = _ARITY[name]
        if len(args) < low or (high is not None and len(args) > high):
            raise FormulaError(f"{name} does not take {len(args)} argument(s)")
        if name == "LAST_MODIFIED_TIME" and not all(isinstance(a, _FieldRef) for a in args):
            raise FormulaError("LAST_MODIFIED_TIME takes only field references")
        return _Call(name, tuple(args))


# ---- evaluation ----------------------------------------------------------------------------------


class _Evaluator:
    def __init__(self, record: FormulaRecord, now: datetime) -> None:
        self.record = record
        self.now = now

    def eval(self, node: _Node) -> Any:
        if isinstance(node, _Literal):
            return node.value
        if isinstance(node, _FieldRef):
            return self.record.cell(node.field_id)
        if isinstance(node, _Negate):
            return arithmetic("-", 0, self.eval(node.operand))
        if isinstance(node, _Binary):
            left, right = self.eval(node.left), self.eval(node.right)
            if node.op == "&":
                return ERROR if ERROR in (left, right) else text(left) + text(right)
            if node.op in ("+", "-", "*", "/"):
                return arithmetic(node.op, left, right)
            return compare(node.op, left, right)
        return self.call(node)

    def call(self, node: _Call) -> Any:
        name, args = node.name, node.args
        if name == "IF":
            condition = self.eval(args[0])
            if condition is ERROR:
                return ERROR
            if truthy(condition):
                return self.eval(args[1])
            return self.eval(args[2]) if len(args) == 3 else None
        if name == "LAST_MODIFIED_TIME":
            return self.record.last_modified_time([a.field_id for a in args if isinstance(a, _FieldRef)])
        values = [self.eval(a) for a in args]
        if name == "ISERROR":
            return values[0] is ERROR
        if ERROR in values:
            return ERROR
        return self.plain(name, values)

    def plain(self, name: str, values: list[Any]) -> Any:
        if name == "AND":
            return all(truthy(v) for v in values)
        if name == "OR":
            return any(truthy(v) for v in values)
        if name == "XOR":
            return sum(truthy(v) for v in values) % 2 == 1
        if name == "NOT":
            return not truthy(values[0])
        if name in ("TRUE", "FALSE"):
            return name == "TRUE"
        if name == "BLANK":
            return None
        if name == "RECORD_ID":
            return self.record.record_id
        if name == "CREATED_TIME":
            return self.record.created_time
        if name == "NOW":
            return self.now
        if name == "TODAY":
            return truncate(self.now, "d")
        if name in ("IS_AFTER", "IS_BEFORE", "IS_SAME"):
            return self.datecompare(name, values)
        if name == "DATETIME_PARSE":
            return self.datetime_parse(values)
        if name in ("FIND", "SEARCH"):
            return self.find(name, values)
        if name == "LOWER":
            return text(values[0]).lower()
        if name == "UPPER":
            return text(values[0]).upper()
        if name == "LEN":
            return len(text(values[0]))
        if name == "TRIM":
            return text(values[0]).strip()
        return "".join(text(v) for v in values)  # CONCATENATE

    @staticmethod
    def datecompare(name: str, values: list[Any]) -> Any:
        a, b = as_datetime(values[0]), as_datetime(values[1])
        if a is None or b is None:
            return ERROR
        if name == "IS_AFTER":
            return a > b
        if name == "IS_BEFORE":
            return a < b
        if len(values) == 3:
            unit_name = text(values[2]).strip()
            unit = UNITS.get(unit_name) or UNITS.get(unit_name.lower().rstrip("s"))
            if unit is None:
                return ERROR
            return truncate(a, unit) == truncate(b, unit)
        return a == b

    @staticmethod
    def datetime_parse(values: list[Any]) -> Any:
        value = values[0]
        if isinstance(value, datetime):
            return value
        if value is None:
            return ERROR
        raw = text(value)
        fmt = text(values[1]) if len(values) > 1 and values[1] is not None else ""
        moment = parse_with_format(raw, fmt) if fmt else None
        moment = moment or parse_datetime(raw)
        return ERROR if moment is None else moment

    @staticmethod
    def find(name: str, values: list[Any]) -> Any:
        needle, haystack = text(values[0]), text(values[1])
        start = number(values[2]) if len(values) == 3 else 1
        if start is None:
            return ERROR
        begin = max(int(start) - 1, 0)
        if name == "SEARCH":
            index = haystack.lower().find(needle.lower(), begin)
            return None if index < 0 else index + 1
        return haystack.find(needle, begin) + 1


@dataclass(frozen=True)
class Formula:
    """A compiled formula; evaluate it against records with :meth:`evaluate` or :meth:`matches`."""

    text: str
    root: _Node

    def evaluate(self, record: FormulaRecord, now: datetime) -> Any:
        """The formula's value for ``record`` at ``now``."""
        return _Evaluator(record, now).eval(self.root)

    def matches(self, record: FormulaRecord, now: datetime) -> bool:
        """True when the record is kept by ``filterByFormula``."""
        return truthy(self.evaluate(record, now))


def compile_formula(text: str, resolve_field: Callable[[str], str | None]) -> Formula:
    """Parse ``text``; field references are resolved (name or id) to field ids by ``resolve_field``.

    Raises :class:`FormulaError` for anything the sandbox cannot evaluate faithfully.
    """
    tokens = _tokenize(text)
    if tokens[0].kind == "END":
        raise FormulaError("empty formula")
    return Formula(text, _Parser(tokens, resolve_field).parse())
