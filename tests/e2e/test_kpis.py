"""Partnership health in a real browser: a recorded partnership goes quiet, the daily check
(run with the clock moved forward) raises the decay alert for the organisation's
administrators only, and its suggested action opens the partner finder with the preset for
a partner of the same kind; the KPI page and the report are the members' own."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from innonet.accounts import service as accounts
from innonet.db import transaction
from innonet.kpis import alerts
from innonet.organisations import service as organisations
from tests.e2e.conftest import ESA, ESA_ADMIN, FRAUNHOFER, sign_in
from tests.factories import PASSWORD, make_relationship

pytestmark = pytest.mark.browser
ESA_MEMBER = "member@esa.example.org"
FRAUNHOFER_ADMIN = "admin@fraunhofer.example.org"


@pytest.fixture(scope="module")
def fading(site):
    """ESA records Fraunhofer as a supplier; eight months on, nothing has happened."""
    with transaction(site.sessions) as session:
        esa = organisations.get_organisation(session, external_id=ESA)
        fraunhofer = organisations.get_organisation(session, external_id=FRAUNHOFER)
        for email, organisation, role in ((ESA_MEMBER, esa, "member"), (FRAUNHOFER_ADMIN, fraunhofer, "admin")):
            accounts.set_membership(session, user=accounts.create_user(session, email=email, password=PASSWORD),
                                    organisation_id=organisation.id, role=role)
        make_relationship(session, esa, fraunhofer, kind="supplier", direction="mutual")
    with transaction(site.sessions) as session:
        esa = organisations.get_organisation(session, external_id=ESA)
        assert alerts.check_organisation(session, organisation=esa, today=date.today() + timedelta(days=240)) == 1


def _inbox(browser, site, email):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(site, page, email)
    page.goto(f"{site}/inbox")
    return page


def test_a_fading_partnership_alerts_the_admins_and_leads_to_the_partner_finder(site, page, browser, fading):
    sign_in(site, page, ESA_ADMIN)
    page.goto(f"{site}/inbox")
    expect(page.locator("main")).to_contain_text("partnership with FRAUNHOFER")
    page.goto(f"{site}/orgs/{ESA}/kpis")
    alert = page.locator("#alerts li").first
    expect(alert).to_contain_text("is fading")
    expect(alert).to_contain_text("No activity for more than 6 months")
    alert.get_by_role("link", name="Renew or replace: find partners like").click()
    expect(page).to_have_url(f"{site}/orgs/{ESA}/partners?preset=diversify_suppliers")
    expect(page.locator("#preset")).to_have_value("diversify_suppliers")
    # The member and the other organisation's admin are not told.
    for email in (ESA_MEMBER, FRAUNHOFER_ADMIN):
        other = _inbox(browser, site, email)
        expect(other.locator("main")).not_to_contain_text("is fading")
        other.context.close()
    # The partnership's own page shows why: recent activity earns nothing any more.
    page.goto(f"{site}/orgs/{ESA}/partnerships/{FRAUNHOFER}")
    expect(page.locator("main")).to_contain_text("Recent activity")


def test_the_kpi_page_reads_well_at_both_widths_and_takes_a_check_in(site, page, fading):
    sign_in(site, page, ESA_ADMIN)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{site}/orgs/{ESA}/kpis?period={date.today().year}")
        expect(page.get_by_role("heading", name="KPIs and partnership health")).to_be_visible()
        # Nothing sticks out sideways: the page never scrolls horizontally.
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.goto(f"{site}/orgs/{ESA}/partnerships/{FRAUNHOFER}")
    page.get_by_label("The partnership brings us value").select_option("2")
    page.get_by_label("We trust each other").select_option("4")
    page.get_by_label("We communicate well").select_option("3")
    page.get_by_label("Effort and benefit are shared fairly").select_option("4")
    page.get_by_label("Comment (optional)").fill("Replies take weeks.")
    page.get_by_role("button", name="Save my answer").click()
    expect(page.get_by_role("status")).to_contain_text("Check-in saved")
    expect(page.locator("#check-ins")).to_contain_text("Replies take weeks.")
    expect(page.locator("#check-ins")).to_contain_text("You have answered this quarter")
