"""create_app(): the web application with its API, pages, error handling and static files."""

import gc
import logging
import re
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from threadpoolctl import threadpool_limits

from innonet import __version__, domains, observability
from innonet.accounts import service as accounts
from innonet.config import PREPARED_DIR, Settings, get_settings, prepared_dir
from innonet.db import (
    POOL_SIZE,
    describe_error,
    integrity_problem,
    make_engine,
    make_session_factory,
    migrate,
    transaction,
)
from innonet.errors import (
    EditConflict,
    InnonetError,
    InvalidInput,
    Pending,
    Problem,
    TooManyRequests,
    Unauthorized,
)
from innonet.glossary import GLOSSARY, methods_page
from innonet.jobs.queue import SESSION_KEY as JOBS_SESSION_KEY
from innonet.jobs.queue import JobQueue
from innonet.matching import service as matching
from innonet.network import service as network
from innonet.versions import data_version
from innonet.web import check_csrf, check_input, is_htmx, render

# script-src 'self' only: no inline script anywhere, so an injected <script> cannot run.
# Inline style attributes carry computed bar widths, hence 'unsafe-inline' for styles only.
# Where files are uploaded: the only bodies allowed past max_request_bytes (files for
# import; attachments, whose multipart body may exceed the file's own limit by a little).
UPLOAD_PATHS = re.compile(r"^(/api/v1)?/imports$")
ATTACHMENT_PATHS = re.compile(r"^(/api/v1)?/knowledge/\d+/attachments$")
MULTIPART_SLACK = 64 * 1024
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

logger = logging.getLogger("innonet")

API_DESCRIPTION = """The innonet REST API: organisations, projects, participations and
relationships of an innovation network. Errors always have the shape
`{"error": {"status": 422, "message": "...", "problems": [{"field": "...", "message": "..."}]}}`."""


def create_app(settings: Settings | None = None, *,
               sessions: sessionmaker[Session] | None = None,
               clock: Callable[[], date] = date.today) -> FastAPI:
    """The innonet web app on the configured database (migrated to the newest schema).

    ``clock`` gives today's date to the access policy (agreements end on a date).
    """
    settings = settings or get_settings()
    if sessions is None:
        engine = make_engine(settings.database_url, statement_timeout=settings.statement_timeout,
                             lock_timeout=settings.lock_timeout)
        migrate(engine)
        sessions = make_session_factory(engine)
    app = FastAPI(title="innonet", version=__version__, description=API_DESCRIPTION,
                  openapi_url="/api/openapi.json", docs_url=None, redoc_url=None,
                  lifespan=_lifespan,
                  dependencies=[Depends(check_input), Depends(check_csrf)])
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.clock = clock
    app.state.jobs = JobQueue(settings, sessions)
    # Each request's session carries the queue (jobs.queue.queue_of): slow work is handed to it.
    # ... and where the partner finder prepared for the newest data is kept between processes.
    app.state.session_info = {JOBS_SESSION_KEY: app.state.jobs, PREPARED_DIR: prepared_dir(settings)}
    app.state.identify = accounts.identify

    # Added first, so it sits inside the middleware below: its 413 gets the error shape.
    app.add_middleware(RequestSizeLimit, max_bytes=settings.max_request_bytes, larger=[
        (UPLOAD_PATHS, settings.max_upload_bytes, "the most this server accepts"),
        (ATTACHMENT_PATHS, settings.max_attachment_bytes + MULTIPART_SLACK,
         f"an attachment may be at most {settings.max_attachment_bytes / 1024 / 1024:g} MB "
         f"({settings.max_attachment_bytes:,} bytes)")])

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        try:
            response = await call_next(request)
        except Exception as error:
            # Still the error shape and the headers below; the log has what happened, in
            # words that never carry a statement's parameters.
            # The route, not the path: a path may carry a secret (a calendar's token).
            logger.error("%s %s failed: %s", request.method, observability.route_of(request), describe_error(error),
                         exc_info=not isinstance(error, SQLAlchemyError))
            response = _error_response(request, 500, "Something went wrong on our side; "
                                       "it has been logged. Try again later.", [])
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            # Pages carry form tokens and what this viewer may see: never cache them.
            response.headers.setdefault("Cache-Control", "no-store")
        return response
    if settings.request_log:
        observability.add_request_log(app)
    if settings.metrics:
        observability.add_metrics(app)
    app.mount("/static", StaticFiles(directory=str(files("innonet") / "static")), name="static")
    # Browsers ask for it before any page says where the icon is.
    app.add_api_route("/favicon.ico", lambda: RedirectResponse("/static/favicon.svg", status_code=301),
                      include_in_schema=False)

    # Every API first, then every page, each in the order of the domains.
    for module in domains.modules("api") + domains.modules("views"):
        app.include_router(module.router)

    @app.get("/methods", include_in_schema=False)
    def methods(request: Request) -> HTMLResponse:
        """How every figure is computed, and the glossary the pages' explanations link to."""
        return render(request, "methods.html", {"glossary": GLOSSARY, "body": methods_page()})

    @app.get("/api/docs", include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        return render(request, "api_docs.html")

    app.openapi = _with_tokens(app)  # type: ignore[method-assign]

    _add_error_handlers(app)
    return app


def _with_tokens(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """The API document with how a caller proves who it is: a personal API token sent as a
    bearer token (the docs page's Authorize button). Public records need none, so every
    operation may also be called without."""
    make_document = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            made = make_document()
            made.setdefault("components", {})["securitySchemes"] = {"token": {
                "type": "http", "scheme": "bearer", "description": (
                    "A personal API token, made on your account page (or with `innonet tokens create`); "
                    "a read-scoped token reads, a write-scoped one also makes changes")}}
            made["security"] = [{"token": []}, {}]
        return app.openapi_schema or {}
    return document


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Handlers run in a pool of threads; no more at once than the database pool can serve
    # with two connections each, so no request ever waits for a connection that requests
    # waiting for their second one hold.
    anyio.to_thread.current_default_thread_limiter().total_tokens = POOL_SIZE
    # Requests already run side by side, in threads and in processes: a matrix product
    # spread over every core only makes them wait for each other (the BLAS threads spin).
    threadpool_limits(1)
    stop = threading.Event()
    if app.state.settings.prefetch:  # a long-running server process (off in the tests)
        _freeze_long_lived()
        threading.Thread(target=_keep_warm, args=(app.state.sessions, app.state.clock, stop,
                                                  prepared_dir(app.state.settings)),
                         daemon=True, name="innonet-prefetch").start()
    yield
    stop.set()


# How often a server process looks whether the data changed (one indexed query).
PREFETCH_EVERY = 2.0


def prefetch(sessions: sessionmaker[Session], today: date, *,
             seen: int | None = None, prepared: Path | None = None) -> tuple[int, bool]:
    """Build the partner finder for the newest data unless the data version is still
    ``seen`` (kept in ``prepared`` for the next process too), and load the newest shared
    network analysis once a worker has stored it; returns the data version the finder is
    ready for, and whether anything was made."""
    with transaction(sessions, writes=False) as session:
        session.info[PREPARED_DIR] = prepared
        version = data_version(session)
        if version != seen:
            matching.finder(session)
    loaded = network.prefetch(sessions, today)
    return version, loaded or version != seen


def _keep_warm(sessions: sessionmaker[Session], clock: Callable[[], date],
               stop: threading.Event, prepared: Path) -> None:
    """After an import (by anyone, in any process), the first request for partners or a
    diagnosis would wait seconds for the finder and the analysis of the new data: made
    ready here first."""
    seen = None
    while not stop.wait(PREFETCH_EVERY):
        try:
            seen, made = prefetch(sessions, clock(), seen=seen, prepared=prepared)
            if made:
                _freeze_long_lived()
        except Exception as error:  # noqa: BLE001 - the next look tries again
            logger.warning("prefetch: %s", describe_error(error))


def _freeze_long_lived() -> None:
    """Leave what lives as long as the process (the modules, the app, the finder and the
    analysis just made) out of Python's full garbage collections: each would otherwise walk
    those hundreds of thousands of objects again, pausing every request of the process for
    a fifth of a second. Refcounting still frees them when they are dropped."""
    gc.collect()
    gc.freeze()


class RequestSizeLimit:
    """Refuse a request body larger than ``max_bytes`` (413) before it is held in memory:
    at once when Content-Length says so, else as soon as the streamed body passes the limit.
    The paths in ``larger`` (file uploads) have limits of their own.

    Starlette's own limit answers in plain text, without the error shape of the API and pages.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, larger: list[tuple[re.Pattern, int, str]]) -> None:
        self.app, self.default, self.larger = app, max_bytes, larger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        max_bytes, why = next(((limit, why) for pattern, limit, why in self.larger if pattern.match(scope["path"])),
                              (self.default, "the most this server accepts"))
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        declared_too_large = not declared.isdigit() or int(declared) > max_bytes
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if not declared_too_large:
                message = await receive()
                received += len(message.get("body", b""))
                if received <= max_bytes:
                    return message
            raise HTTPException(413, f"The request is larger than {max_bytes:,} bytes: {why}.")

        return await self.app(scope, limited_receive, send)


def _error_response(request: Request, status: int, message: str, problems: list[Problem],
                    headers: dict | None = None, extra: dict | None = None) -> Response:
    """The one place errors are shaped: JSON for the API, a fragment for HTMX, else a page."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": {"status": status, "message": message,
                                       "problems": [p.as_dict() for p in problems]} | (extra or {})},
                            status_code=status, headers=headers)
    if status == 401 and request.method == "GET" and not is_htmx(request):
        # A page that needs an account: sign in, then come back.
        return RedirectResponse(f"/login?{urlencode({'next': request.url.path})}", status_code=303)
    template = "_error.html" if is_htmx(request) else "error.html"
    response = render(request, template, {"status": status, "message": message,
                                          "problems": problems}, status_code=status)
    response.headers.update(headers or {})
    return response


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Pending)
    async def pending(request: Request, error: Pending) -> Response:
        """Not an error: the answer is being computed. The API says where to follow it; a
        page says so and reloads itself."""
        headers = {"Retry-After": str(error.retry_after)}
        if request.url.path.startswith("/api/"):
            return JSONResponse({"status": "pending", "message": error.message,
                                 "job": {"id": error.job_id, "url": f"/api/v1/jobs/{error.job_id}"}},
                                status_code=202, headers=headers)
        response = render(request, "pending.html", {"message": error.message,
                                                    "job_id": error.job_id,
                                                    "refresh": error.retry_after}, status_code=202)
        response.headers.update(headers)
        return response

    @app.exception_handler(InnonetError)
    async def domain_error(request: Request, error: InnonetError) -> Response:
        headers = {}
        if isinstance(error, TooManyRequests):
            headers["Retry-After"] = str(error.retry_after)
        if isinstance(error, Unauthorized) and request.url.path.startswith("/api/"):
            headers["WWW-Authenticate"] = 'Bearer realm="innonet"'
        extra = None
        if isinstance(error, EditConflict):  # both texts go back: nothing typed is lost
            extra = {"conflict": {"stored": error.stored, "yours": error.yours}}
        return _error_response(request, error.status_code, error.message, error.problems, headers, extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        invalid = InvalidInput.from_validation(error.errors())
        return _error_response(request, 422, invalid.message or "Invalid request.", invalid.problems)

    @app.exception_handler(SQLAlchemyError)
    async def database_error(request: Request, error: SQLAlchemyError) -> Response:
        """What the database refused, said plainly; never a 500 for a clash or a busy moment."""
        if isinstance(error, IntegrityError):
            kind, field = integrity_problem(error)
            if kind in ("check", "not null"):
                problem = Problem("this value is not allowed (too long or empty)", field=field)
                return _error_response(request, 422, str(problem), [problem])
            message = ("another record already has this value; it may have been saved a moment ago"
                       if kind == "unique" else "it refers to a record that no longer exists")
            problem = Problem(message, field=field)
            return _error_response(request, 409, str(problem), [problem])
        if isinstance(error, OperationalError) or (isinstance(error, DBAPIError)
                                                   and error.connection_invalidated):
            logger.warning("database busy or unreachable on %s %s: %s", request.method,
                           request.url.path, describe_error(error))
            return _error_response(request, 503, "The database is busy or unreachable right now; "
                                   "nothing was saved. Try again in a moment.", [],
                                   {"Retry-After": "5"})
        if isinstance(error, DataError):
            return _error_response(request, 422, "A value is out of range or malformed.", [])
        raise error

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        messages = {404: "Not found.", 405: "Method not allowed."}
        message = error.detail if isinstance(error.detail, str) and error.status_code not in messages \
            else messages.get(error.status_code, str(error.detail))
        return _error_response(request, error.status_code, message, [])
