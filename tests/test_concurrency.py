"""Many people at once, on a real server and a real database (SQLite and PostgreSQL).

Each test sends overlapping requests from threads to a server running on its own fresh
database, with a client timeout, so that a freeze fails the test instead of hanging it.
"""

import inspect
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from fastapi.routing import APIRoute
from sqlalchemy import func, select

from benchmarks.live_server import innonet_server
from innonet.accounts import service as accounts
from innonet.accounts.models import LoginFailure
from innonet.app import create_app
from innonet.collaborations.models import Relationship
from innonet.config import Settings
from innonet.db import make_engine, make_session_factory, migrate, transaction
from innonet.organisations.models import Organisation
from innonet.web import CSRF_COOKIE, SESSION_COOKIE
from tests.factories import PASSWORD, make_organisation, make_user

TIMEOUT = 60  # seconds: far beyond any answer, so only a freeze reaches it


@dataclass
class Live:
    url: str
    sessions: object
    orgs: list  # external ids: two organisations, then possible partners
    users: list  # e-mails of members of orgs[0] and orgs[1], then spare accounts

    def browser(self, email: str) -> httpx.Client:
        """A signed-in browser of ``email`` with its form token in ``.csrf``."""
        client = httpx.Client(base_url=self.url, timeout=TIMEOUT)
        with transaction(self.sessions) as session:
            user = accounts.get_user(session, email=email)
            client.cookies.set(SESSION_COOKIE, accounts.start_session(session, user=user))
        client.get("/login")
        client.csrf = client.cookies[CSRF_COOKIE]
        return client

    def token(self, email: str) -> dict:
        with transaction(self.sessions) as session:
            user = accounts.get_user(session, email=email)
            _, secret = accounts.create_token(session, user=user, name="load", scope="write")
        return {"Authorization": f"Bearer {secret}"}

    def count(self, statement) -> int:
        with transaction(self.sessions, writes=False) as session:
            return session.scalar(statement)


@pytest.fixture
def live(databases):
    url = databases.new()
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        orgs = [make_organisation(session) for _ in range(20)]
        users = [make_user(session, orgs[0], role="admin").email,
                 make_user(session, orgs[1], role="admin").email]
        users += [make_user(session, orgs[0]).email for _ in range(10)]
        orgs = [o.external_id for o in orgs]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Settings(database_url=url, secret_key="concurrency", lock_timeout=10))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield Live(f"http://127.0.0.1:{port}", sessions, orgs, users)
    server.should_exit = True
    thread.join(10)
    engine.dispose()


def run_together(calls) -> list:
    """Start every call at the same moment (one thread each) and return their results."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_no_request_handler_runs_on_the_event_loop():
    """Database work, password hashing and mail run in the thread pool: a handler that is a
    coroutine would run them on the event loop and stall every other request."""
    app = create_app(Settings(database_url="sqlite://", secret_key="x"), sessions=lambda: None)
    coroutines = [route.path for route in app.routes
                  if isinstance(route, APIRoute) and inspect.iscoroutinefunction(route.endpoint)]
    assert coroutines == []


def test_overlapping_form_saves_and_api_writes_all_land(live):
    alice, bob = live.browser(live.users[0]), live.browser(live.users[1])
    token = live.token(live.users[0])

    def form_save(client, own, partner, n):
        return lambda: client.post(f"/orgs/{own}/relationships/new", data={
            "csrf_token": client.csrf, "partner": partner, "kind": "supplier",
            "notes": f"form {n}"}, follow_redirects=False).status_code

    def api_write(n):
        return lambda: httpx.post(f"{live.url}/api/v1/relationships", headers=token, timeout=TIMEOUT,
                                  json={"organisation": live.orgs[0], "partner": live.orgs[12 + n],
                                        "kind": "customer", "notes": f"api {n}"}).status_code

    # Each relationship is to another partner: one kind of tie per pair is stored once.
    calls = [form_save(alice, live.orgs[0], live.orgs[2 + n], n) for n in range(5)]
    calls += [form_save(bob, live.orgs[1], live.orgs[7 + n], n) for n in range(5)]
    calls += [api_write(n) for n in range(5)]
    statuses = run_together(calls)
    assert statuses == [303] * 10 + [201] * 5
    assert live.count(select(func.count()).select_from(Relationship)) == 15


def test_more_api_writes_at_once_than_the_server_has_threads_all_land(live):
    """Sixty writes at once, three times the threads that run handlers: each answer is
    checked and serialised after its transaction has ended, so no writer waits for a
    thread while the others wait for its lock (on SQLite that froze for 30 s, then 503)."""
    token = live.token(live.users[0])
    ties = [(partner, kind) for partner in live.orgs[2:14]
            for kind in ("supplier", "customer", "research_partner", "consultant", "distributor")]

    def api_write(partner, kind):
        return lambda: httpx.post(f"{live.url}/api/v1/relationships", headers=token,
                                  timeout=TIMEOUT, json={"organisation": live.orgs[0],
                                                         "partner": partner, "kind": kind}).status_code

    assert run_together([api_write(*tie) for tie in ties]) == [201] * 60
    assert live.count(select(func.count()).select_from(Relationship)) == 60


def test_a_burst_of_wrong_passwords_checks_exactly_the_limit(live):
    target = live.users[2]

    def guess():
        with httpx.Client(base_url=live.url, timeout=TIMEOUT) as client:
            client.get("/login")
            return client.post("/login", data={"email": target, "password": f"wrong {time.time()}",
                                               "csrf_token": client.cookies[CSRF_COOKIE]}).status_code

    statuses = run_together([guess] * 30)
    assert statuses.count(401) == accounts.FAILURES_PER_ACCOUNT
    assert statuses.count(429) == 30 - accounts.FAILURES_PER_ACCOUNT
    assert live.count(select(func.count()).where(LoginFailure.email == target)) \
        == accounts.FAILURES_PER_ACCOUNT


def test_failed_sign_ins_from_one_visitor_beyond_the_limit_are_all_answered(live):
    def guess(n):
        def call():
            with httpx.Client(base_url=live.url, timeout=TIMEOUT) as client:
                client.get("/login")
                return client.post("/login", data={
                    "email": f"nobody{n}@example.org", "password": "wrong password",
                    "csrf_token": client.cookies[CSRF_COOKIE]}).status_code
        return call

    sent = accounts.FAILURES_PER_ADDRESS + 20
    statuses = run_together([guess(n) for n in range(sent)])
    assert statuses.count(401) == accounts.FAILURES_PER_ADDRESS
    assert statuses.count(429) == sent - accounts.FAILURES_PER_ADDRESS


def test_identical_creates_race_to_one_success_and_clear_conflicts(live):
    token = live.token(live.users[0])

    def create(body):
        return lambda: httpx.post(f"{live.url}/api/v1/orgs", json=body, headers=token,
                                  timeout=TIMEOUT)

    same_id = run_together([create({"name": "Twin", "external_id": "TWIN-1"})] * 10)
    same_pic = run_together([create({"name": f"Pic {n}", "pic": "912345678"}) for n in range(10)])
    for answers in (same_id, same_pic):
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [201] + [409] * 9
        conflicts = [a.json()["error"] for a in answers if a.status_code == 409]
        assert all(c["problems"][0]["field"] in ("external_id", "pic") for c in conflicts)
    assert live.count(select(func.count()).where(Organisation.pic == "912345678")) == 1


def test_a_light_page_answers_while_passwords_are_hashed(live):
    """Ten sign-ins (each a costly password check) and a sign-in page requested in the
    middle of them: the page does not wait for the checks."""
    finished = {}

    def sign_in(email):
        def call():
            with httpx.Client(base_url=live.url, timeout=TIMEOUT) as client:
                client.get("/login")
                status = client.post("/login", data={"email": email, "password": PASSWORD,
                                                     "csrf_token": client.cookies[CSRF_COOKIE]},
                                     follow_redirects=False).status_code
            finished[email] = time.perf_counter()
            return status
        return call

    def light_page():
        time.sleep(0.05)  # the sign-ins are under way
        status = httpx.get(f"{live.url}/login", timeout=TIMEOUT).status_code
        finished["page"] = time.perf_counter()
        return status

    statuses = run_together([sign_in(email) for email in live.users[2:12]] + [light_page])
    assert statuses == [303] * 10 + [200]
    assert finished["page"] < max(t for who, t in finished.items() if who != "page")


def test_a_light_page_answers_while_diagnoses_are_computed(consortia_database, tmp_path):
    """`innonet serve` as shipped, on the 2021 consortia: ten diagnoses, each of a time
    window nobody has analysed yet, and a sign-in page requested in the middle of them.
    The analyses run in the worker process beside the server, so the page does not wait."""
    url, sessions = consortia_database
    with transaction(sessions, writes=False) as session:
        organisations = session.scalars(select(Organisation.external_id).limit(10)).all()
    finished = {}

    def diagnosis(base, external_id, since):
        def call():
            status = httpx.get(f"{base}/api/v1/orgs/{external_id}/diagnosis?since={since}",
                               timeout=TIMEOUT).status_code
            if status == 200:  # computed while it waited ("being prepared" comes at once)
                finished[since] = time.perf_counter()
            return status
        return call

    def light_page(base):
        def call():
            time.sleep(0.3)  # the diagnoses are under way
            status = httpx.get(f"{base}/login", timeout=TIMEOUT).status_code
            finished["page"] = time.perf_counter()
            return status
        return call

    environment = {"INNONET_QUEUE_URL": "", "INNONET_DATA_DIR": str(tmp_path)}
    with innonet_server(url, env=environment) as (_, base):
        statuses = run_together([diagnosis(base, o, 2011 + i) for i, o in enumerate(organisations)]
                                + [light_page(base)])
        # The worker goes on with the analyses: asked again, they come (the first within
        # minutes even on a machine busy with other work).
        again = [diagnosis(base, o, 2011 + i) for i, o in enumerate(organisations)]
        deadline = time.monotonic() + 3 * TIMEOUT
        asked = 0
        while (status := again[asked % len(again)]()) == 202 and time.monotonic() < deadline:
            asked += 1
            time.sleep(0.2)
    assert statuses[-1] == 200 and status == 200
    # Ten analyses, one after the other in the worker: the requests wait a little for theirs
    # (on a busy machine none may be done by then), then answer "being prepared".
    assert set(statuses[:-1]) <= {200, 202}
    assert finished["page"] < min(t for who, t in finished.items() if who != "page")
