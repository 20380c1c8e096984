"""Probes, request logs and metrics, as an operator uses them."""

import json
import logging

from fastapi.testclient import TestClient

from innonet.app import create_app
from innonet.config import Settings
from innonet.db import make_engine, make_session_factory
from innonet.jobs import service as jobs
from innonet.observability import logger as request_logger


def test_probes_answer_and_say_what_is_missing(client, tmp_path):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok"}
    unreachable = make_session_factory(make_engine("postgresql+psycopg://nobody@127.0.0.1:9/none"))
    app = create_app(Settings(database_url="sqlite://", secret_key="x", data_dir=str(tmp_path)),
                     sessions=unreachable)
    with TestClient(app) as down:
        assert down.get("/healthz").status_code == 200
        ready = down.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "problems": {"database": "does not answer"}}


def test_one_json_line_per_request_without_the_secrets_of_its_path(sessions, caplog, tmp_path):
    app = create_app(Settings(database_url="sqlite://", secret_key="x", request_log=True,
                              data_dir=str(tmp_path)), sessions=sessions)
    request_logger.addHandler(caplog.handler)
    try:
        with TestClient(app) as client, caplog.at_level(logging.INFO, logger=request_logger.name):
            answer = client.get("/password/reset/SECRET-RESET-TOKEN",
                                headers={"X-Request-ID": "probe-1"})
            hostile = client.get("/orgs?q=someone@example.org",
                                 headers={"X-Request-ID": "x\" injected"})
    finally:
        request_logger.removeHandler(caplog.handler)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == request_logger.name]
    assert lines[0] == {"request_id": "probe-1", "method": "GET",
                        "route": "/password/reset/{token}", "status": answer.status_code,
                        "duration_ms": lines[0]["duration_ms"]}
    assert answer.headers["X-Request-ID"] == "probe-1"
    assert lines[1]["route"] == "/orgs" and lines[1]["request_id"] == hostile.headers["X-Request-ID"]
    assert len(lines[1]["request_id"]) == 32  # a new id instead of the hostile one
    assert "SECRET-RESET-TOKEN" not in caplog.text and "example.org" not in caplog.text


def test_metrics_count_requests_by_route_and_jobs_by_status(sessions, tmp_path):
    app = create_app(Settings(database_url="sqlite://", secret_key="x", metrics=True,
                              data_dir=str(tmp_path)), sessions=sessions)
    jobs.submit(sessions, "network.analysis", {})
    with TestClient(app) as client:
        client.get("/orgs")
        client.get("/orgs/NO-SUCH-ORG")
        text = client.get("/metrics").text
    assert 'innonet_requests_total{method="GET",route="/orgs",status="200"} 1.0' in text
    assert 'innonet_requests_total{method="GET",route="/orgs/{external_id}",status="404"} 1.0' in text
    assert 'innonet_request_duration_seconds_count{route="/orgs"} 1.0' in text
    assert 'innonet_jobs{kind="network.analysis",status="queued"} 1.0' in text
    assert "NO-SUCH-ORG" not in text
