"""What an operator watches: health and readiness probes, one JSON log line per request,
and Prometheus metrics.

Log lines and metrics name a request by its route (``/password/reset/{token}``), never by
its path, so no token, e-mail address or search text reaches them.
"""

import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from innonet.db import describe_error, transaction

logger = logging.getLogger("innonet.requests")
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> dict:
    """The process answers (for a liveness probe: restart it when this fails)."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """The database and the job queue answer (for a readiness probe: send no traffic
    while this fails). 503 names what is missing."""
    problems = {}
    try:
        with transaction(request.app.state.sessions, writes=False) as session:
            session.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        logger.warning("not ready: database: %s", describe_error(error))
        problems["database"] = "does not answer"
    try:
        request.app.state.jobs.huey.pending_count()
    except Exception as error:  # noqa: BLE001
        logger.warning("not ready: job queue: %s", describe_error(error))
        problems["queue"] = "does not answer"
    if problems:
        return JSONResponse({"status": "unavailable", "problems": problems}, status_code=503)
    return JSONResponse({"status": "ok"})


def route_of(request: Request) -> str:
    """The route template that answered (``/orgs/{external_id}``), or "unmatched"."""
    route = request.scope.get("route")
    return getattr(route, "path", None) or "unmatched"


def add_request_log(app: FastAPI) -> None:
    """One JSON line per request on the ``innonet.requests`` logger: request id (taken from
    X-Request-ID when it is a plain token, else new; sent back in the answer), method, route,
    status and duration. Nothing else of the request is written."""

    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False

    @app.middleware("http")
    async def request_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        start = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Request-ID"] = request_id
        logger.info(json.dumps({
            "request_id": request_id, "method": request.method, "route": route_of(request),
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - start) * 1000, 1)}))
        return response


def add_metrics(app: FastAPI) -> None:
    """Prometheus metrics at /metrics: requests by method, route and status, their
    durations, and jobs by kind and status. With PROMETHEUS_MULTIPROC_DIR set (several
    server processes), each scrape adds up every process."""
    import os

    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        CollectorRegistry,
        Counter,
        Histogram,
        generate_latest,
    )
    from prometheus_client.core import GaugeMetricFamily
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    requests = Counter("innonet_requests", "Requests answered", ("method", "route", "status"),
                       registry=registry)
    durations = Histogram("innonet_request_duration_seconds", "Time to answer", ("route",),
                          registry=registry)

    class JobCollector:
        def collect(self) -> Iterator[GaugeMetricFamily]:
            from sqlalchemy import func, select

            from innonet.jobs.models import Job

            family = GaugeMetricFamily("innonet_jobs", "Background jobs by kind and status",
                                       labels=("kind", "status"))
            with transaction(app.state.sessions, writes=False) as session:
                for kind, status, count in session.execute(
                        select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status)):
                    family.add_metric((kind, status), count)
            yield family

    scrape = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(scrape)
    else:
        scrape = registry
    scrape.register(JobCollector())

    @app.middleware("http")
    async def count_requests(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route = route_of(request)
        requests.labels(request.method, route, str(response.status_code)).inc()
        durations.labels(route).observe(time.perf_counter() - start)
        return response

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(scrape), media_type=CONTENT_TYPE_LATEST)
