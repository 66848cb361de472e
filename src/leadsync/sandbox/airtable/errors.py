"""The Airtable emulator's error answers: an :class:`ApiError` raised anywhere below a route becomes the
documented JSON body. Where Airtable's documentation leaves a body unverified, the choice made here is
said next to it.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

__all__ = [
    "FORMULA_MESSAGE",
    "GENERIC_422_MESSAGE",
    "PERMISSIONS_MESSAGE",
    "ApiError",
    "authentication_required",
    "computed_field",
    "duplicate_field_name",
    "duplicate_table_name",
    "invalid_choice",
    "invalid_formula",
    "invalid_request",
    "invalid_value",
    "iterator_not_available",
    "malformed_json",
    "meta_not_found",
    "model_not_found",
    "rate_limited",
    "record_not_found",
    "route_not_found",
    "row_does_not_exist",
    "table_not_found",
    "unknown_field",
    "unknown_formula_fields",
    "unsupported_field_type",
    "url_too_long",
]

GENERIC_422_MESSAGE = "Invalid request: parameter validation failed. Check your request data."
FORMULA_MESSAGE = (
    "The formula for filtering records is invalid: Invalid formula. Please check your formula text."
)
PERMISSIONS_MESSAGE = (
    "Invalid permissions, or the requested model was not found. Check that both your user and your "
    "token have the required permissions, and that the model names and/or ids are correct."
)


class ApiError(Exception):
    """An error answer: HTTP ``status`` with the JSON ``body``."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body

    def response(self) -> JSONResponse:
        """The error as a JSON response."""
        return JSONResponse(self.body, status_code=self.status)


def _typed(status: int, kind: str, message: str | None = None) -> ApiError:
    error: dict[str, Any] = {"type": kind}
    if message is not None:
        error["message"] = message
    return ApiError(status, {"error": error})


def authentication_required() -> ApiError:
    """401: no token, or one no identity holds."""
    return _typed(401, "AUTHENTICATION_REQUIRED", "Authentication required")


def model_not_found() -> ApiError:
    """403: a base (or other model) this token cannot see."""
    return _typed(403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", PERMISSIONS_MESSAGE)


def route_not_found() -> ApiError:
    """404: no endpoint at this path and method."""
    return ApiError(404, {"error": "NOT_FOUND"})


def record_not_found() -> ApiError:
    """404: no record with that id in the table."""
    return _typed(404, "MODEL_ID_NOT_FOUND", "Record not found")


def table_not_found(name: str, base_id: str) -> ApiError:
    """404: no table with that id or name in the base."""
    # The type is observed; the message is UNVERIFIED in the documentation.
    return _typed(404, "TABLE_NOT_FOUND", f"Could not find table {name} in application {base_id}")


def invalid_request() -> ApiError:
    """422: the generic parameter validation failure."""
    return _typed(422, "INVALID_REQUEST_UNKNOWN", GENERIC_422_MESSAGE)


def unknown_field(name: str) -> ApiError:
    """422: a field name or id the table does not have."""
    return _typed(422, "UNKNOWN_FIELD_NAME", f'Unknown field name: "{name}"')


def invalid_choice(value: str) -> ApiError:
    """422: a select option that does not exist (and ``typecast`` is off)."""
    return _typed(
        422,
        "INVALID_MULTIPLE_CHOICE_OPTIONS",
        f'Insufficient permissions to create new select option ""{value}""',
    )


def invalid_value(field_name: str) -> ApiError:
    """422: a value the field cannot hold."""
    # Type observed in third-party captures; the message wording is UNVERIFIED.
    return _typed(422, "INVALID_VALUE_FOR_COLUMN", f'Field "{field_name}" cannot accept the provided value')


def invalid_formula() -> ApiError:
    """422: a ``filterByFormula`` that does not parse or evaluate."""
    return _typed(422, "INVALID_FILTER_BY_FORMULA", FORMULA_MESSAGE)


def iterator_not_available() -> ApiError:
    """422: an offset that is unknown or has expired."""
    return _typed(422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE")


def row_does_not_exist(record_id: str) -> ApiError:
    """422: a record id in a batch write that is not in the table."""
    return _typed(422, "ROW_DOES_NOT_EXIST", f"Record ID {record_id} does not exist in this table")


def rate_limited() -> ApiError:
    """429: over the per-base or per-token rate limit."""
    return _typed(429, "RATE_LIMIT_REACHED", "Rate limit exceeded. Please try again later")


def malformed_json() -> ApiError:
    """400: a body that does not parse as JSON."""
    # The documentation says only "400: request can't be parsed as JSON"; this body is UNVERIFIED.
    return _typed(400, "INVALID_REQUEST_BODY", "Could not parse request body as JSON")


def url_too_long(length: int) -> ApiError:
    # The 16,000-character limit is documented; the answer is not (UNVERIFIED). We answer 414 URI Too
    # Long, the HTTP status for exactly this, so clients can tell it from a validation error (422).
    """414: a URL over 16,000 characters."""
    return _typed(
        414,
        "URL_TOO_LONG",
        f"The request URL is {length} characters long; the limit is 16000. "
        "Use POST .../listRecords with a JSON body instead.",
    )


def computed_field(name: str) -> ApiError:
    """422: a write names a computed (read-only) field; the whole request is rejected.

    Observed live for POST and PATCH, with the field quoted as it was sent (for a key that is a field id
    the message is UNVERIFIED; the id is quoted the same way here).
    """
    return _typed(
        422, "INVALID_VALUE_FOR_COLUMN", f'Field "{name}" cannot accept a value because the field is computed'
    )


def unknown_formula_fields(names: list[str]) -> ApiError:
    """422: ``filterByFormula`` names fields the table does not have (a ``{fld...}`` id is one of them).

    Airtable lists the unknown names lower-cased and comma-separated, e.g.
    "The formula for filtering records is invalid: Unknown field names: status, fldcxsg01lijsin4p".
    """
    listed = ", ".join(dict.fromkeys(n.lower() for n in names))
    return _typed(
        422,
        "INVALID_FILTER_BY_FORMULA",
        f"The formula for filtering records is invalid: Unknown field names: {listed}",
    )


def duplicate_field_name(name: object) -> ApiError:
    """422: a field name that is empty, or already used in the table (compared case-insensitively)."""
    # The type is seen in several independent scripts; the message is UNVERIFIED.
    return _typed(
        422, "DUPLICATE_OR_EMPTY_FIELD_NAME", f'Field name "{name}" is empty or already used in this table'
    )


def duplicate_table_name(name: object) -> ApiError:
    """422: a table name that is empty, or already used in the base (compared case-insensitively)."""
    # Both the type and the message are UNVERIFIED: named after the documented field-name error.
    return _typed(
        422, "DUPLICATE_OR_EMPTY_TABLE_NAME", f'Table name "{name}" is empty or already used in this base'
    )


def unsupported_field_type(table_name: str, field_name: str, kind: str) -> ApiError:
    """422: a field type the metadata API cannot create (computed types such as ``autoNumber``)."""
    return _typed(
        422,
        "UNSUPPORTED_FIELD_TYPE_FOR_CREATE",
        f"Invalid options for {table_name}.{field_name}: Creating {kind} fields is not supported at this time",
    )


def meta_not_found() -> ApiError:
    """404: a field the metadata API has no model for (the bare ``NOT_FOUND`` body of meta routes)."""
    return ApiError(404, {"error": "NOT_FOUND"})
