"""Pages: templates, rendering, HTMX helpers, flash messages, the request's database session."""

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import ChoiceLoader, FileSystemLoader
from pydantic import ValidationError
from sqlalchemy.orm import Session

from innonet import __version__
from innonet.collaborations.models import DIRECTIONS, PARTICIPATION_ROLES, RELATIONSHIP_KINDS
from innonet.countries import country_name
from innonet.db import transaction
from innonet.errors import InvalidInput
from innonet.organisations.models import KINDS

PACKAGE = Path(__file__).parent
templates = Jinja2Templates(directory=PACKAGE / "templates")
# Each domain keeps its own templates; one loader finds them all.
templates.env.loader = ChoiceLoader([
    FileSystemLoader(PACKAGE / "templates"),
    *(FileSystemLoader(p) for p in sorted(PACKAGE.glob("*/templates"))),
])
templates.env.globals |= {
    "KINDS": KINDS, "RELATIONSHIP_KINDS": RELATIONSHIP_KINDS, "DIRECTIONS": DIRECTIONS,
    "ROLES": PARTICIPATION_ROLES, "country_name": country_name, "version": __version__,
}
templates.env.filters["money"] = lambda v: "" if v is None else f"€{v:,.0f}"
templates.env.filters["thousands"] = lambda v: f"{v:,}"

FLASH_COOKIE = "innonet_flash"


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed before the response goes out, else rolled back."""
    with transaction(request.app.state.sessions) as session:
        yield session


# scope="function" ends the transaction before the response is sent, so a failed commit
# becomes an error response instead of a success that was not saved.
DbSession = Depends(get_session, scope="function")


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.settings.secret_key, salt="flash")


def render(request: Request, template: str, context: dict | None = None,
           status_code: int = 200) -> HTMLResponse:
    """Render a page (or fragment) with the pending flash message, then forget the message."""
    message = None
    if cookie := request.cookies.get(FLASH_COOKIE):
        try:
            message = _serializer(request).loads(cookie)
        except BadSignature:
            message = None
    response = templates.TemplateResponse(
        request, template, {"flash": message, **(context or {})}, status_code=status_code)
    if cookie:
        response.delete_cookie(FLASH_COOKIE)
    return response


def redirect_with_flash(request: Request, url: str, message: str) -> RedirectResponse:
    """Go to ``url`` (303, so the browser GETs it) and show ``message`` there once."""
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(FLASH_COOKIE, _serializer(request).dumps(message), httponly=True,
                        samesite="lax", max_age=60)
    return response


def field_errors(error: ValidationError) -> dict[str, str]:
    """Validation messages keyed by form field, for showing next to each field."""
    return {p.field or "form": p.message for p in reversed(InvalidInput.from_validation(error.errors()).problems)}


def query_string(params: dict, **changes) -> str:
    """The current filters with some changed (for pagination links)."""
    merged = {k: v for k, v in (params | changes).items() if v not in (None, "")}
    return urlencode(merged)


templates.env.globals["query_string"] = query_string
