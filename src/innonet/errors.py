"""The one exception tree of innonet; each error carries its HTTP status."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: the field or file line it concerns, and why."""

    message: str
    field: str | None = None
    line: int | None = None

    def as_dict(self) -> dict:
        out: dict = {"message": self.message}
        if self.field is not None:
            out["field"] = self.field
        if self.line is not None:
            out["line"] = self.line
        return out

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(self.field)
        return f"{', '.join(where)}: {self.message}" if where else self.message


class InnonetError(Exception):
    status_code = 400

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or []


class Unauthorized(InnonetError):
    """The request needs a signed-in user or a valid API token."""

    status_code = 401


class NotFound(InnonetError):
    status_code = 404


class Conflict(InnonetError):
    status_code = 409


class EditConflict(Conflict):
    """Someone saved a newer version meanwhile: both texts go back, nothing is overwritten."""

    def __init__(self, message: str, *, stored: dict, yours: dict):
        super().__init__(message)
        self.stored, self.yours = stored, yours


class Forbidden(InnonetError):
    status_code = 403


class TooManyRequests(InnonetError):
    status_code = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class InvalidInput(InnonetError):
    status_code = 422

    @classmethod
    def from_validation(cls, errors: Sequence[Mapping[str, Any]]) -> "InvalidInput":
        """InvalidInput naming each field, from Pydantic's (or FastAPI's) ``errors()`` list."""
        problems = []
        for e in errors:
            message = _in_plain_words(e)
            # FastAPI puts where the value came from first; the field name is what matters.
            where = list(e["loc"])
            if where and where[0] in ("body", "query", "path"):
                where = where[1:]
            field = ".".join(str(part) for part in where)
            if not field and ":" in message:  # a check across fields names its field first
                field, message = (part.strip() for part in message.split(":", 1))
            problems.append(Problem(message, field=field or None))
        return cls("; ".join(map(str, problems)), problems)

    @classmethod
    def for_field(cls, field: str, message: str) -> "InvalidInput":
        return cls(f"{field}: {message}", [Problem(message, field=field)])


def _in_plain_words(error: Mapping[str, Any]) -> str:
    """A validation message in plain words that read alone (beside the field) and after the
    field's name ("title: required")."""
    limits = error.get("ctx") or {}
    match error.get("type"):
        case "missing":
            return "required"
        case "string_too_short" if limits.get("min_length") == 1:
            return "required"
        case "string_too_short":
            return f"needs at least {limits['min_length']:,} characters"
        case "string_too_long":
            return f"too long: at most {limits['max_length']:,} characters"
        case "too_long":
            return f"has too many items: at most {limits['max_length']:,}"
        case "int_parsing" | "int_type" | "int_from_float":
            return "must be a whole number"
        case "float_parsing" | "float_type" | "decimal_parsing" | "decimal_type":
            return "must be a number"
        case "greater_than_equal":
            return f"must be {limits['ge']} or more"
        case "less_than_equal":
            return f"must be {limits['le']} or less"
        case "greater_than":
            return f"must be more than {limits['gt']}"
        case "less_than":
            return f"must be less than {limits['lt']}"
        case "bool_parsing" | "bool_type":
            return "must be yes or no"
        case "date_parsing" | "date_from_datetime_parsing" | "date_type":
            return "must be a date (YYYY-MM-DD)"
        case "literal_error" | "enum":
            return f"must be one of {limits['expected']}"
    return str(error["msg"]).removeprefix("Value error, ")


class ProblemOut(BaseModel):
    message: str
    field: str | None = None
    line: int | None = None


class ErrorBody(BaseModel):
    status: int
    message: str
    problems: list[ProblemOut]
    conflict: dict | None = Field(default=None, description=(
        "On a 409 for an edit made on an older version: 'stored' (the newer version as saved) and "
        "'yours' (what you sent), so that nothing is lost"))


class ErrorOut(BaseModel):
    """The one shape of every API error."""

    error: ErrorBody


# Declared on every API router so that the OpenAPI document lists each error it can return.
API_ERROR_RESPONSES: dict = {
    status: {"model": ErrorOut, "description": description} for status, description in (
        (401, "Not signed in, or the API token is invalid"),
        (403, "Signed in, but not allowed"),
        (404, "No such record, or not visible to you"),
        (409, "Clashes with a stored record"),
        (422, "Invalid input; each problem names its field"),
        (429, "Too many requests"),
    )
}


class Pending(InnonetError):
    """What was asked for is being computed by a background job; ask again shortly."""

    status_code = 202

    def __init__(self, message: str, *, job_id: int, retry_after: int = 5):
        super().__init__(message)
        self.job_id, self.retry_after = job_id, retry_after
