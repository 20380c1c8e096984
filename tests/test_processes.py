"""Two `innonet serve` processes on one database, as behind a load balancer: what one
process learns (a failed sign-in, a session, a change to the network) the other knows."""

import time

import httpx
import pytest

from benchmarks.live_server import innonet_server
from innonet.accounts import service as accounts
from innonet.db import make_engine, make_session_factory, migrate, transaction
from innonet.web import CSRF_COOKIE, SESSION_COOKIE
from tests.factories import PASSWORD, make_organisation, make_user

WAIT = 90  # seconds for an analysis job: far beyond what it takes


@pytest.fixture
def two_servers(databases, tmp_path):
    url = databases.new()
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        own, partner = make_organisation(session), make_organisation(session)
        target, member = make_user(session, own, "admin"), make_user(session, own, "member")
        _, token = accounts.create_token(session, user=member, name="both", scope="write")
        names = (own.external_id, partner.external_id, target.email, member.email)
    engine.dispose()
    environment = {"INNONET_QUEUE_URL": "", "INNONET_DATA_DIR": str(tmp_path)}
    with innonet_server(url, env=environment) as (_, first), \
            innonet_server(url, env=environment) as (_, second):
        yield first, second, names, {"Authorization": f"Bearer {token}"}


def sign_in(base: str, email: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=base, timeout=30) as browser:
        browser.get("/login")
        return browser.post("/login", follow_redirects=False, data={
            "email": email, "password": password, "csrf_token": browser.cookies[CSRF_COOKIE]})


def test_sign_in_limits_sessions_and_analyses_hold_across_processes(two_servers):
    first, second, (own, partner, target, member), token = two_servers
    # Wrong passwords sent to either process count together: five checked, then refused.
    statuses = [sign_in((first, second)[n % 2], target, "wrong password").status_code
                for n in range(7)]
    assert statuses == [401] * 5 + [429] * 2

    # Signed in through one process, known to the other.
    signed_in = sign_in(first, member, PASSWORD)
    assert signed_in.status_code == 303
    cookie = {SESSION_COOKIE: signed_in.cookies[SESSION_COOKIE]}
    account = httpx.get(f"{second}/account", cookies=cookie, timeout=30)
    assert account.status_code == 200 and member in account.text

    # A tie recorded through one process shows in the other's diagnosis once analysed.
    assert diagnosis(second, own, token)["partners"] == 0
    created = httpx.post(f"{first}/api/v1/relationships", headers=token, timeout=30, json={
        "organisation": own, "partner": partner, "kind": "supplier", "visibility": "public"})
    assert created.status_code == 201
    assert diagnosis(second, own, token)["partners"] == 1


def diagnosis(base: str, external_id: str, token: dict) -> dict:
    """The diagnosis once it is up to date (it may first be "being prepared", or as of an
    earlier analysis while the new one is computed)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        answer = httpx.get(f"{base}/api/v1/orgs/{external_id}/diagnosis", headers=token,
                           timeout=30)
        if answer.status_code == 200 and answer.json()["up_to_date"]:
            return answer.json()
        assert answer.status_code in (200, 202), answer.text
        time.sleep(0.5)
    raise AssertionError(f"no up-to-date diagnosis from {base} within {WAIT} s")


def test_connections_killed_by_the_database_are_replaced_without_a_restart(tmp_path):
    """PostgreSQL ends every connection of the server (a failover, an operator's
    pg_terminate_backend): the next requests are answered on new connections."""
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from innonet.app import create_app
    from innonet.config import Settings
    from tests.conftest import POSTGRESQL_URL, DatabaseFactory, skip_or_fail

    if not POSTGRESQL_URL:
        skip_or_fail("PostgreSQL suite off: set INNONET_TEST_POSTGRESQL_URL to run it")
    databases = DatabaseFactory("postgresql", tmp_path)
    url = databases.new()
    try:
        app = create_app(Settings(database_url=url, secret_key="x", data_dir=str(tmp_path)))
        with TestClient(app) as client:
            assert [client.get("/api/v1/orgs").status_code for _ in range(5)] == [200] * 5
            admin = create_engine(make_url(POSTGRESQL_URL), isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                killed = connection.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"),
                    {"name": make_url(url).database}).scalar()
            admin.dispose()
            assert killed >= 1
            assert [client.get("/api/v1/orgs").status_code for _ in range(5)] == [200] * 5
            assert client.get("/readyz").json() == {"status": "ok"}
    finally:
        databases.drop_all()
