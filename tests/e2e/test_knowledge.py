"""The knowledge base in two real browsers: two colleagues edit the same item at once; the
second to save gets the clash with both texts on one page, loses nothing, and saves a third
version; the history shows what changed."""

from datetime import date

import pytest
from playwright.sync_api import expect

from innonet.accounts import service as accounts
from innonet.db import transaction
from innonet.knowledge import service as knowing
from innonet.knowledge.schemas import KnowledgeIn
from innonet.organisations import service as organisations
from tests.e2e.conftest import ESA, ESA_ADMIN, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser
COLLEAGUE = "colleague@esa.example.org"


@pytest.fixture(scope="module")
def item(site) -> int:
    with transaction(site.sessions) as session:
        admin = accounts.get_user(session, email=ESA_ADMIN)
        accounts.set_membership(session, user=accounts.create_user(session, email=COLLEAGUE, password=PASSWORD,
                                                                   name="Colleague"),
                                organisation_id=organisations.get_organisation(session, external_id=ESA).id,
                                role="member")
        writer = accounts.viewer_of(session, user_id=admin.id, today=date.today(), channel="page")
        return knowing.create_item(session, writer, data=KnowledgeIn(
            organisation=ESA, kind="how_to", title="Cleaning the print bed",
            body="Wipe with alcohol.\nLet it dry.")).id


def test_two_browsers_editing_at_once_clash_and_keep_both_texts(site, browser, page, item):
    other = browser.new_context().new_page()
    sign_in(site, page)
    sign_in(site, other, COLLEAGUE)
    for p in (page, other):
        p.goto(f"{site}/knowledge/{item}/edit")
    page.get_by_label("Text").fill("Wipe with isopropyl alcohol.\nLet it dry.")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.get_by_role("status")).to_contain_text("Saved as a new version")
    # The colleague saves the edit begun on version 1.
    other.get_by_label("Text").fill("Wipe with alcohol.\nLet it dry for ten minutes.")
    other.get_by_role("button", name="Save as a new version").click()
    expect(other.get_by_role("alert")).to_contain_text("Someone saved a newer version")
    expect(other.locator(".stored-text")).to_contain_text("isopropyl")
    expect(other.get_by_label("Text")).to_have_value("Wipe with alcohol.\nLet it dry for ten minutes.")
    # Merged by hand and saved again: version 3 on top of version 2, nothing lost.
    other.get_by_label("Text").fill("Wipe with isopropyl alcohol.\nLet it dry for ten minutes.")
    other.get_by_role("button", name="Save as a new version").click()
    expect(other.get_by_role("status")).to_contain_text("Saved as a new version")
    expect(other.locator(".lead")).to_contain_text("version 3")
    other.goto(f"{site}/knowledge/{item}/history")
    expect(other.locator(".diff ins")).to_contain_text("Let it dry for ten minutes.")
    expect(other.locator(".diff del")).to_contain_text("Let it dry.")
    assert other.locator("table.data tbody tr").count() == 3
    other.context.close()
