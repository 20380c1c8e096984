"""Pages: templates, rendering, HTMX helpers, flash messages, the request's database session."""

import functools
import inspect
import secrets
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import ChoiceLoader, FileSystemLoader
from pydantic import BeforeValidator, Field, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from innonet import __version__
from innonet.countries import country_name
from innonet.db import read_from_here, transaction
from innonet.errors import Forbidden, InnonetError, InvalidInput, Unauthorized
from innonet.glossary import term
from innonet.roles import Viewer
from innonet.text import (
    CONTROL_MESSAGE,
    MAX_ID,
    TEXT_LIMITS,
    counted,
    excerpt,
    has_control_characters,
    highlighted,
)

PACKAGE = Path(__file__).parent
templates = Jinja2Templates(directory=PACKAGE / "templates")
# Each domain keeps its own templates; one loader finds them all.
templates.env.loader = ChoiceLoader([
    FileSystemLoader(PACKAGE / "templates"),
    *(FileSystemLoader(p) for p in sorted(PACKAGE.glob("*/templates"))),
])
# What every page may use; each domain adds its own words with template_globals.
templates.env.globals |= {"country_name": country_name, "version": __version__,
                          "TEXT_LIMITS": TEXT_LIMITS, "term": term}
templates.env.filters["money"] = lambda v: "" if v is None else f"€{v:,.0f}"
templates.env.filters["thousands"] = lambda v: f"{v:,}"
templates.env.filters["counted"] = counted  # {{ n | counted("partner") }}: 1 partner, 2 partners
templates.env.filters["highlighted"] = highlighted  # {{ name | highlighted(words) }}: words in <mark>
templates.env.filters["excerpt"] = excerpt

# Database ids in paths: larger numbers cannot exist (PostgreSQL integer), so they are a 422.
RecordId = Annotated[int, PathParam(ge=1, le=MAX_ID)]



def _blank_is_none(value: object) -> object:
    # A form sent by GET sends its empty boxes too: an empty box means "not given".
    return None if isinstance(value, str) and not value.strip() else value


# The years of a time window (pages and API): empty or absent means no limit.
Year = Annotated[Annotated[int, Field(ge=1900, le=2100)] | None, BeforeValidator(_blank_is_none),
                 Query(description="Projects starting from / until this year (relationships "
                       "active then), 1900-2100; empty or absent: no limit")]

FLASH_COOKIE = "innonet_flash"
SESSION_COOKIE = "innonet_session"
CSRF_COOKIE = "innonet_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def template_globals(**values: object) -> None:
    """Names every template may use (a domain's vocabularies: kinds, roles …)."""
    templates.env.globals.update(values)


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed before the response goes out, else rolled back.
    GET and HEAD only read (and leave audit rows); the other methods write. The session
    carries what the app puts in ``app.state.session_info`` (its job queue)."""
    with transaction(request.app.state.sessions, writes=request.method in UNSAFE_METHODS) as session:
        session.info.update(request.app.state.session_info)
        yield session


# scope="function" ends the transaction before the response is sent, so a failed commit
# becomes an error response instead of a success that was not saved.
DbSession = Depends(get_session, scope="function")


def get_viewer(request: Request) -> Viewer:
    """Who is asking: a bearer token (API), a sign-in cookie, or a visitor, as the app's
    ``state.identify`` (the accounts domain's) says.

    Read in a short transaction of its own, not the request's: the request's transaction
    then begins in the handler, so a writer holds SQLite's write lock only within one
    thread of the pool, never while it waits for the next (which the requests waiting
    for that lock might all hold).
    """
    on_api = request.url.path.startswith("/api/")
    token = None
    if on_api and (authorization := request.headers.get("Authorization")):
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Authorization: send 'Bearer <token>' with a personal API token.")
    with transaction(request.app.state.sessions, writes=False) as session:
        viewer = request.app.state.identify(
            session, token=token and token.strip(), cookie=request.cookies.get(SESSION_COOKIE),
            on_api=on_api, today=request.app.state.clock(), path=request.url.path)
    request.state.viewer = viewer
    return viewer


CurrentViewer = Depends(get_viewer)


class ApiRoute(APIRoute):
    """An API route whose handler ends the request's transaction itself, in its own thread.

    FastAPI checks and serialises a plain handler's answer in a second thread of the pool,
    before the dependencies close; a transaction still open then would hold SQLite's write
    lock while waiting for a thread, which the requests waiting for that lock might all
    hold. Committed here, a failed commit is still an error answer, never a lost write.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _committing(endpoint), **kwargs)


def _committing(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)
    def handler(*args: Any, **kwargs: Any) -> Any:
        answer = endpoint(*args, **kwargs)
        for value in kwargs.values():
            if isinstance(value, Session):
                value.commit()
        return answer
    return handler


def api_router(**options: Any) -> APIRouter:
    """A router of the REST API (``/api/v1``), listing every error it can answer."""
    from innonet.errors import API_ERROR_RESPONSES

    return APIRouter(prefix="/api/v1", responses=API_ERROR_RESPONSES, route_class=ApiRoute,
                     **options)


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
    token = csrf_token(request)
    response = templates.TemplateResponse(
        request, template, {"flash": message, "csrf_token": token,
                            "viewer": getattr(request.state, "viewer", None), **(context or {})},
        status_code=status_code)
    if cookie:
        response.delete_cookie(FLASH_COOKIE)
    if request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")
    return response


def _csrf_serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.settings.secret_key, salt="csrf")


def csrf_token(request: Request) -> str:
    """This browser's form token: signed by us, kept in a cookie, repeated in every form."""
    cookie = request.cookies.get(CSRF_COOKIE)
    if cookie and _valid_csrf(request, cookie):
        return cookie
    if not hasattr(request.state, "new_csrf"):
        request.state.new_csrf = _csrf_serializer(request).dumps(secrets.token_urlsafe(24))
    return request.state.new_csrf


def _valid_csrf(request: Request, token: str) -> bool:
    try:
        _csrf_serializer(request).loads(token)
    except BadSignature:
        return False
    return True


async def read_form(request: Request) -> FormData:
    """The posted form, read here (on the event loop) so that the page handler can be a plain
    function that runs in the thread pool: database work never blocks the loop."""
    return await request.form()


PostedForm = Depends(read_form)


# Reading a posted form. A blank field is missing (so that a model says "required" next to
# it rather than accepting an empty string); the models that receive these values check
# their lengths and characters, so nothing here trims to a size except the list limit.

def form_text(form: FormData, name: str) -> str | None:
    """One field, stripped; ``None`` when blank or absent."""
    return str(form.get(name) or "").strip() or None


def form_fields(form: FormData, names: Iterable[str]) -> dict[str, str]:
    """The named fields that were filled in, stripped (blank ones left out)."""
    return {name: value for name in names if (value := form_text(form, name))}


def form_tags(form: FormData, name: str = "tags") -> list[str]:
    """Comma-separated labels (a label may hold spaces: "open source, health")."""
    return [tag.strip() for tag in str(form.get(name) or "").split(",") if tag.strip()]


def form_ids(form: FormData, name: str, *, limit: int | None = None) -> list[str]:
    """Identifiers separated by commas or spaces (organisation ids to share with, parties,
    co-authors); at most ``limit`` of them where the model receiving them does not count."""
    return str(form.get(name) or "").replace(",", " ").split()[:limit]


async def check_input(request: Request) -> None:
    """No path segment or query value may carry a control character (one rule for all ways
    in: see innonet.text). Forms and JSON bodies are checked by the models that read them,
    so that a form shows the problem next to its field."""
    for name, value in [*request.path_params.items(), *request.query_params.multi_items()]:
        if has_control_characters(name):
            raise InvalidInput.for_field("form", CONTROL_MESSAGE)
        if has_control_characters(str(value)):
            raise InvalidInput.for_field(name, CONTROL_MESSAGE)


async def check_csrf(request: Request) -> None:
    """Every form post must repeat the browser's form token (double submit, signed)."""
    if request.method not in UNSAFE_METHODS or request.url.path.startswith("/api/"):
        return
    sent: object = request.headers.get(CSRF_HEADER)
    if sent is None and "form" in request.headers.get("content-type", ""):
        sent = (await request.form()).get(CSRF_FIELD)
    cookie = request.cookies.get(CSRF_COOKIE)
    if not (sent and cookie and secrets.compare_digest(str(sent), cookie)
            and _valid_csrf(request, cookie)):
        raise Forbidden("This form has expired or came from another site; reload the page and try again.")


def set_session_cookie(request: Request, response: Response, token: str | None) -> None:
    """Sign the browser in (HttpOnly, SameSite, Secure under HTTPS) or out (``None``)."""
    if token is None:
        response.delete_cookie(SESSION_COOKIE)
        return
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", max_age=14 * 24 * 3600)


def download(content: str | bytes | Iterator[bytes], filename: str, media_type: str, *,
             inline: bool = False, headers: dict[str, str] | None = None) -> Response:
    """A file to save (``inline``: to show or subscribe to). The name goes out percent-encoded
    (RFC 6266), so that any name an owner chose, accents and quotes included, arrives whole
    and cannot break the header."""
    disposition = f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{quote(filename, safe='')}"
    headers = {"Content-Disposition": disposition} | (headers or {})
    if isinstance(content, str | bytes):
        return Response(content, media_type=media_type, headers=headers)
    return StreamingResponse(content, media_type=media_type, headers=headers)


def csv_download(text: str, filename: str) -> Response:
    """CSV text as a file to save."""
    return download(text, filename, "text/csv; charset=utf-8")


def redirect_with_flash(request: Request, url: str, message: str) -> Response:
    """Go to ``url`` (303, so the browser GETs it) and show ``message`` there once. An
    HTMX request is told to go there itself (HX-Redirect): following a 303 would swap the
    whole next page into a part of this one."""
    # Percent-encoded, so that what a user typed (a space, an accent) cannot break the header.
    url = quote(url, safe="/?&=#%:@!$'()*+,;~-._")
    response = (Response(status_code=200, headers={"HX-Redirect": url}) if is_htmx(request)
                else RedirectResponse(url, status_code=303))
    response.set_cookie(FLASH_COOKIE, _serializer(request).dumps(message), httponly=True,
                        samesite="lax", max_age=60)
    return response


def field_errors(error: ValidationError) -> dict[str, str]:
    """Validation messages keyed by form field, for showing next to each field."""
    return {p.field or "form": p.message for p in reversed(InvalidInput.from_validation(error.errors()).problems)}


def form_errors(error: Exception, default_field: str) -> dict[str, str]:
    """What went wrong with a form, keyed by field: a validation error's fields, or an
    innonet error's problems (its message under ``default_field`` when it names none)."""
    if isinstance(error, ValidationError):
        return field_errors(error)
    assert isinstance(error, InnonetError)
    return {p.field or default_field: p.message for p in error.problems} or {default_field: error.message}


# Refusals a form cannot help with: answered by their own page, never by the form again
# (which could show an outsider what the form holds).
NOT_FOR_THE_FORM = frozenset({401, 403, 404})


def refused_form(session: Session, error: ValidationError | InnonetError, default_field: str, *,
                 elsewhere: frozenset[int] = NOT_FOR_THE_FORM) -> tuple[dict[str, str], int]:
    """The problems by field and the status code with which a refused write shows its form
    again; a refusal whose status is in ``elsewhere`` propagates. The request's writes are
    rolled back first: nothing refused stays half-written, and the page that shows the form
    again (which may wait for a job of its own) holds no write lock while it is made."""
    if isinstance(error, InnonetError) and error.status_code in elsewhere:
        raise error
    read_from_here(session)
    return form_errors(error, default_field), getattr(error, "status_code", 422)


def query_string(params: dict, **changes: object) -> str:
    """The current filters with some changed (for pagination links)."""
    merged = {k: v for k, v in (params | changes).items() if v not in (None, "")}
    return urlencode(merged)


templates.env.globals["query_string"] = query_string
