"""A real server on the demo data and a real Chromium, for the browser tests of this folder
(each module gets its own copy of the demo database)."""

import fcntl
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import expect

from innonet.accounts import service as accounts
from innonet.app import create_app
from innonet.config import Settings
from innonet.db import make_engine, make_session_factory, migrate, transaction
from innonet.imports import service as imports
from innonet.matching import service as matching
from innonet.organisations import service as organisations
from tests.conftest import CONSORTIA, skip_or_fail
from tests.factories import PASSWORD

ESA = "999644559"  # the European Space Agency in the demo data
ESA_ADMIN = "admin@esa.example.org"
FRAUNHOFER = "999984059"  # in many of the demo consortia
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Pages are awaited through locators: polling a JavaScript string (wait_for_function) needs
# eval, which our Content-Security-Policy forbids.
MORE_THAN_ONE = re.compile(r"^([2-9]|\d\d+)$")
DELIBERATE_STATUS = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d ")


class Site(str):
    """The server's address, with the sessions of its database (to add people to it)."""

    sessions: object


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory, worker_id) -> Path:
    """The demo data (the 2021 consortia), ESA's admin and the partner finder's rankers,
    made once per test run (the first test process that needs it makes it while the others
    wait; learning the rankers takes half a minute): each module's site works on a copy of
    the file, and no first partner search waits for the rankers to be learned."""
    run_directory = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # each test process has a directory of its own inside the run's
        run_directory = run_directory.parent
    path = run_directory / "demo.db"
    with open(run_directory / "demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            _make_demo_database(run_directory / "demo-being-made.db").rename(path)
    return path


def _make_demo_database(path: Path) -> Path:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as session, CONSORTIA.open("rb") as f:
        imports.import_dashboard(session, file=f)
        esa = organisations.get_organisation(session, external_id=ESA)
        accounts.set_membership(session, user=accounts.create_user(
            session, email=ESA_ADMIN, password=PASSWORD), organisation_id=esa.id, role="admin")
    matching.train_rankers(sessions)
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory, demo_database):
    path = tmp_path_factory.mktemp("e2e") / "demo.db"
    shutil.copyfile(demo_database, path)
    url = f"sqlite:///{path}"
    sessions = make_session_factory(make_engine(url))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Settings(database_url=url, secret_key="e2e"), sessions=sessions)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    address = Site(f"http://127.0.0.1:{port}")
    address.sessions = sessions
    yield address
    server.should_exit = True
    thread.join(5)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM:
        skip_or_fail("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    # Any console error or warning (a Content-Security-Policy violation among them) means a
    # page relies on something it should not, or a script failed. Chromium also logs each
    # answer with a 4xx status, which the tests ask for on purpose (a form with errors is
    # a 422): those say nothing about the page.
    violations = []
    page.on("console", lambda m: violations.append(f"{m.type}: {m.text}")
            if (m.type in ("error", "warning") and not DELIBERATE_STATUS.match(m.text))
            or "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda error: violations.append(f"uncaught: {error}"))
    yield page
    context.close()
    assert violations == []


def sign_in(site, page, email=ESA_ADMIN):
    page.goto(f"{site}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status")).to_contain_text(f"Signed in as {email}")
