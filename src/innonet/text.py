"""What text may enter innonet: no control characters, every field bounded.

One rule for every way in (forms, JSON, query strings, paths, imported files): C0 control
characters other than tab, line feed and carriage return, DEL, lone surrogates and the
non-characters U+FFFE and U+FFFF are refused. PostgreSQL cannot store NUL, XML (the GEXF
and GraphML exports) cannot carry the others, and a terminal obeys ESC.
"""

import re
from datetime import date
from html import unescape
from typing import Annotated, Any, get_args, overload

from markdown_it import MarkdownIt
from markupsafe import Markup, escape
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from innonet.errors import InvalidInput

CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
CONTROL_MESSAGE = "contains a control character (such as NUL or ESC); remove it"

def counted(count: int, noun: str, plural: str | None = None) -> str:
    """'1 project', '2,016 projects' (``plural`` when it is not the noun and an s)."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


# Database ids: larger numbers cannot exist (PostgreSQL integer), so they are refused.
MAX_ID = 2_147_483_647
RecordIdField = Annotated[int, Field(ge=1, le=MAX_ID)]

# The longest each free-text column may be, in characters. The schemas refuse longer input
# and the database checks them too (migration 0005). Imported cells have the same bound.
TEXT_LIMITS = {
    "organisation.description": 10_000,
    "organisation.capabilities": 5_000,
    "organisation.needs": 5_000,
    "organisation.sectors": 1_000,
    "organisation.goals": 2_000,
    "organisation.values_statement": 2_000,
    "project.title": 20_000,
    "project.description": 20_000,
    "relationship.notes": 5_000,
    "need.description": 5_000,
    "agreement.notes": 5_000,
    "challenge.problem": 10_000,
    "check_in.comment": 2_000,
    "challenge.sought": 5_000,
    "challenge.offered": 5_000,
    "challenge.cover_text": 2_000,
    "challenge.terms_text": 5_000,
    "idea.description": 10_000,
    "comment.body": 5_000,
    "joint_project.summary": 10_000,
    "joint_project.results_summary": 10_000,
    "joint_project.lessons": 10_000,
    "work_package.description": 5_000,
    "project_milestone.description": 2_000,
    "project_risk.description": 2_000,
    "project_risk.mitigation": 2_000,
    "project_decision.rationale": 5_000,
    "background_ip.description": 5_000,
    "project_result.description": 5_000,
    "project_review.note": 2_000,
    "knowledge_item.body": 50_000,
}
MAX_CELL = 20_000  # characters in one cell of an imported file


def has_control_characters(value: str) -> bool:
    return CONTROL_CHARACTERS.search(value) is not None


@overload
def refuse_control_characters(field: str, value: str) -> str: ...
@overload
def refuse_control_characters(field: str, value: str | None) -> str | None: ...
def refuse_control_characters(field: str, value: str | None) -> str | None:
    """The value, or InvalidInput naming ``field`` when it holds a control character
    (for form fields that no input model reads)."""
    if value and has_control_characters(value):
        raise InvalidInput.for_field(field, CONTROL_MESSAGE)
    return value


def strip_control_characters(value: str) -> str:
    """The text without the characters that are refused on input (for exports of old data)."""
    return CONTROL_CHARACTERS.sub("", value)


# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A value safe to put in a CSV file that people open in a spreadsheet: text that would
    start a formula gets a leading apostrophe (numbers stay numbers)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def from_csv_cell(value: str) -> str:
    """The value :func:`csv_cell` protected, when a file we wrote is read back."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def parse_record_id(value: str) -> int | None:
    """A database id typed in a query string, or None when it cannot be one."""
    value = value.strip()
    if value.isascii() and value.isdigit() and len(value) <= 10 and 1 <= int(value) <= MAX_ID:
        return int(value)
    return None


def _check_strings(value: Any) -> Any:
    if isinstance(value, str):
        if has_control_characters(value):
            raise ValueError(CONTROL_MESSAGE)
    elif isinstance(value, (list, tuple, set)):
        for item in value:
            _check_strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key)
            _check_strings(item)
    return value


# Every date innonet accepts lies in these years: pages, calendars and KPI periods compute
# months and years around a date, and a year such as 9999 would overflow them.
FIRST_YEAR, LAST_YEAR = 1900, 2200


def _check_dates(value: Any) -> Any:
    if isinstance(value, date) and not FIRST_YEAR <= value.year <= LAST_YEAR:  # a datetime too
        raise ValueError(f"a date from {FIRST_YEAR} to {LAST_YEAR}")
    elif isinstance(value, (list, tuple, set)):
        for item in value:
            _check_dates(item)
    return value


def _numeric(annotation: Any) -> bool:
    """Whether a field asks for a number (int or float, optional or not; never bool)."""
    if annotation in (int, float):
        return True
    return any(_numeric(a) for a in get_args(annotation) if a is not type(None))


class InputModel(BaseModel):
    """Base of every model that reads input: no field may hold a control character, every
    date lies from FIRST_YEAR to LAST_YEAR, and true or false is no number."""

    _no_control_characters = field_validator("*", mode="before")(_check_strings)
    _dates_in_range = field_validator("*", mode="after")(_check_dates)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if isinstance(value, bool) and field is not None and _numeric(field.annotation):
            raise ValueError("a number, not true or false")
        return value


def _pattern(words: list[str]) -> re.Pattern | None:
    words = [w for w in words if w]
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)),
                      re.IGNORECASE)


def highlighted(text: str | None, words: list[str]) -> Markup:
    """The text, escaped, with each occurrence of the words (case aside) in <mark>."""
    text, pattern = text or "", _pattern(words)
    if pattern is None:
        return escape(text)
    out, last = Markup(), 0
    for match in pattern.finditer(text):
        out += escape(text[last:match.start()]) + Markup("<mark>") + escape(match.group()) + Markup("</mark>")
        last = match.end()
    return out + escape(text[last:])


def excerpt(text: str | None, words: list[str], width: int = 160) -> str:
    """About ``width`` characters of the text around the first of the words found."""
    text, pattern = " ".join((text or "").split()), _pattern(words)
    match = pattern.search(text) if pattern else None
    if len(text) <= width:
        return text
    start = max(0, (match.start() if match else 0) - width // 3)
    end = min(len(text), start + width)
    return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")


LINK_SCHEMES = ("http", "https", "mailto")
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):", re.IGNORECASE)


def _safe_link(url: str) -> bool:
    """http(s), mailto and relative addresses; not another scheme (``ms-msdt:``,
    ``smb:``, ``data:``…) nor a host of its own (``//host``, ``/\\host``)."""
    url = url.strip()
    if url.startswith(("//", "\\", "/\\", "\\/")) or url.upper().startswith(("/%5C", "%5C")):
        return False
    scheme = _SCHEME.match(url)
    return scheme is None or scheme.group(1).lower() in LINK_SCHEMES


_markdown = MarkdownIt("commonmark", {"html": False}).disable("image")
_markdown.validateLink = _safe_link  # type: ignore[method-assign]


def markdown_html(text: str | None) -> Markup:
    """People's Markdown as HTML that cannot act: raw HTML is shown as text, links other
    than http(s), mailto and relative ones are not made (:func:`_safe_link`), and images
    are not loaded."""
    return Markup(_markdown.render(text or ""))  # noqa: S704 - markdown-it escapes all input


def plain_text(markdown: str | None) -> str:
    """What a reader sees of Markdown, without its marks (for excerpts and search results)."""
    html = _markdown.render(markdown or "")
    return unescape(re.sub(r"<[^>]+>", " ", html))
