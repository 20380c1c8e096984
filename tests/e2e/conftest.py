"""A real server on the demo data and a real Chromium, for the browser tests of this folder
(each module gets its own database)."""

import re
import shutil
import socket
import threading
import time

import pytest
import uvicorn
from playwright.sync_api import expect

from innonet.accounts import service as accounts
from innonet.app import create_app
from innonet.config import Settings
from innonet.db import make_engine, make_session_factory, migrate, transaction
from innonet.imports import service as imports
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


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'demo.db'}"
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as session, CONSORTIA.open("rb") as f:
        imports.import_dashboard(session, file=f)
        esa = organisations.get_organisation(session, external_id=ESA)
        accounts.set_membership(session, user=accounts.create_user(
            session, email=ESA_ADMIN, password=PASSWORD), organisation_id=esa.id, role="admin")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Settings(database_url=url, secret_key="e2e"), sessions=sessions)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


@pytest.fixture(scope="module")
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
    # Any Content-Security-Policy violation means a page relies on something we forbid.
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    yield page
    context.close()
    assert violations == []


def sign_in(site, page, email=ESA_ADMIN):
    page.goto(f"{site}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status")).to_contain_text(f"Signed in as {email}")
