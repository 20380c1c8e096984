"""create_app(): the web application with its API, pages, error handling and static files."""

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException

from innonet import __version__
from innonet.config import Settings, get_settings
from innonet.db import make_engine, make_session_factory, migrate
from innonet.errors import InnonetError, InvalidInput, Problem
from innonet.web import is_htmx, render

API_DESCRIPTION = """The innonet REST API: organisations, projects, participations and
relationships of an innovation network. Errors always have the shape
`{"error": {"status": 422, "message": "...", "problems": [{"field": "...", "message": "..."}]}}`."""


def create_app(settings: Settings | None = None, *,
               sessions: sessionmaker[Session] | None = None) -> FastAPI:
    """The innonet web app on the configured database (migrated to the newest schema)."""
    settings = settings or get_settings()
    if sessions is None:
        engine = make_engine(settings.database_url)
        migrate(engine)
        sessions = make_session_factory(engine)
    app = FastAPI(title="innonet", version=__version__, description=API_DESCRIPTION,
                  openapi_url="/api/openapi.json", docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.sessions = sessions
    app.mount("/static", StaticFiles(directory=str(files("innonet") / "static")), name="static")

    from innonet.collaborations import api as collaborations_api
    from innonet.collaborations import views as collaborations_views
    from innonet.organisations import api as organisations_api
    from innonet.organisations import views as organisations_views

    for module in (organisations_api, collaborations_api, organisations_views, collaborations_views):
        app.include_router(module.router)

    @app.get("/api/docs", include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        return render(request, "api_docs.html")

    _add_error_handlers(app)
    return app


def _error_response(request: Request, status: int, message: str, problems: list[Problem]):
    """The one place errors are shaped: JSON for the API, a fragment for HTMX, else a page."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": {"status": status, "message": message,
                                       "problems": [p.as_dict() for p in problems]}},
                            status_code=status)
    template = "_error.html" if is_htmx(request) else "error.html"
    return render(request, template, {"status": status, "message": message, "problems": problems},
                  status_code=status)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InnonetError)
    async def domain_error(request: Request, error: InnonetError):
        return _error_response(request, error.status_code, error.message, error.problems)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError):
        invalid = InvalidInput.from_validation(error.errors())
        return _error_response(request, 422, invalid.message or "Invalid request.", invalid.problems)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        messages = {404: "Not found.", 405: "Method not allowed."}
        message = error.detail if isinstance(error.detail, str) and error.status_code not in messages \
            else messages.get(error.status_code, str(error.detail))
        return _error_response(request, error.status_code, message, [])
