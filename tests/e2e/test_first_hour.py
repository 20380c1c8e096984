"""What a new user meets in the first hour, tried in a real Chromium: each test here failed
before its fix."""

import csv
import io
import zipfile
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import expect

from innonet.accounts import service as accounts
from innonet.db import transaction
from innonet.organisations import service as organisations
from tests.e2e.conftest import ESA, ESA_ADMIN, FRAUNHOFER, MORE_THAN_ONE, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser
RESULTS_WAIT = 60_000  # ms: the first search of a data version learns the ranker


def test_find_partners_with_an_empty_need_searches_with_the_profile_and_says_so(site, page):
    page.goto(f"{site}/orgs/{FRAUNHOFER}/partners")
    expect(page.get_by_label("What are you looking for?")).to_have_value("")
    page.get_by_role("button", name="Find partners").click()
    expect(page.locator("#results li.partner").first).to_be_visible(timeout=RESULTS_WAIT)
    assert page.locator("#results li.partner").count() >= 5
    # The demo organisations state no needs: the finder took the profile, and says so.
    expect(page.locator("#results .lead")).to_contain_text("for your profile and projects")


@pytest.mark.parametrize("path", [f"/orgs/{FRAUNHOFER}/diagnosis", "/network/report"])
def test_an_empty_year_window_means_no_limit(site, page, path):
    page.goto(f"{site}{path}")
    window = page.get_by_role("form", name="Time window")
    window.get_by_role("button", name="Show").click()  # both boxes empty, as by default
    page.wait_for_url("**until=*")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert "Input should" not in page.content()
    expect(page.locator("[role=alert]")).to_have_count(0)
    window.get_by_label("Projects from").fill("2022")
    window.get_by_role("button", name="Show").click()
    page.wait_for_url("**since=2022**")
    expect(window.get_by_label("Projects from")).to_have_value("2022")
    expect(window.get_by_label("until")).to_have_value("")


def test_saving_a_need_without_a_title_says_so_beside_the_title_and_keeps_the_results(
        site, page):
    sign_in(site, page)
    page.goto(f"{site}/orgs/{ESA}/partners")
    page.get_by_label("What are you looking for?").fill("satellite navigation for farming")
    page.get_by_role("button", name="Find partners").click()
    results = page.locator("#results li.partner")
    expect(results.first).to_be_visible(timeout=RESULTS_WAIT)
    found = results.count()
    page.get_by_role("button", name="Save need").click()
    expect(page.locator("#title-error")).to_have_text("Give the need a title to find it again by.")
    expect(page.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    assert "String should" not in page.content()
    expect(results).to_have_count(found)
    expect(page.get_by_label("What are you looking for?")).to_have_value(
        "satellite navigation for farming")
    # Too long a title keeps what was typed and says the limit.
    page.locator("#title").evaluate("box => box.removeAttribute('maxlength')")
    page.get_by_label("Title").fill("x" * 201)
    page.get_by_role("button", name="Save need").click()
    expect(page.locator("#title-error")).to_have_text("Title: too long: at most 200 characters")
    expect(page.get_by_label("Title")).to_have_value("x" * 201)
    expect(results).to_have_count(found)


def test_the_explorer_keeps_its_filters_in_the_address_lists_a_communitys_members_and_counts_as_the_report(
        site, page):
    page.goto(f"{site}/network/report")
    label = page.locator(".stat-label").get_by_text("communities", exact=True)
    reported = int(page.locator(".stat", has=label).locator(".stat-value")
                   .inner_text().replace(",", ""))
    page.goto(f"{site}/network")
    explorer = page.locator("#explorer")
    expect(explorer).to_have_attribute("data-view", "communities")
    expect(page.locator("#explorer-status")).to_contain_text(f"in {reported} communities")
    page.get_by_label("Country").select_option("PT")
    page.get_by_role("button", name="Show", exact=True).click()
    page.wait_for_url("**country=PT**")
    # A community drills down into its members, listed the most central first.
    page.goto(f"{site}/network")
    expect(explorer).to_have_attribute("data-view", "communities")
    page.evaluate("window.innonetExplorer.nodes()[0].emit('tap')")
    page.wait_for_url("**community=*")
    expect(explorer).to_have_attribute("data-view", "organisations")
    members = page.locator("#member-list li")
    expect(members.first).to_be_visible()
    assert members.count() == int(explorer.get_attribute("data-node-count"))
    # Back (the browser's or the page's) returns to all communities.
    page.go_back()
    expect(explorer).to_have_attribute("data-view", "communities")
    expect(page.locator("#community-members")).to_be_hidden()
    page.go_forward()
    expect(explorer).to_have_attribute("data-view", "organisations")
    page.get_by_role("button", name="Back to all communities").click()
    expect(explorer).to_have_attribute("data-view", "communities")
    # An address with filters opens the explorer with them.
    page.goto(f"{site}/network?country=PT&view=organisations")
    expect(page.get_by_label("Country")).to_have_value("PT")
    expect(explorer).to_have_attribute("data-view", "organisations")
    countries = page.evaluate("[...new Set(window.innonetExplorer.nodes().map(n => n.data('country')))]")
    assert countries == ["PT"]


@pytest.mark.parametrize("path", ["/orgs", "/network"])
def test_country_pickers_are_sorted_by_name(site, page, path):
    page.goto(f"{site}{path}")
    options = page.get_by_label("Country").locator("option").all_inner_texts()
    names = [text.rsplit(" (", 1)[0] for text in options[1:]]  # after "All countries"
    assert len(names) > 20 and names == sorted(names, key=str.casefold)


def test_on_a_phone_no_page_scrolls_sideways_and_the_factor_and_partner_tables_fit(
        site, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    phone = context.new_page()
    try:
        sign_in(site, phone)
        for path in ("/", "/orgs", f"/orgs/{FRAUNHOFER}", f"/orgs/{ESA}/members", "/network",
                     "/network/report", f"/orgs/{FRAUNHOFER}/diagnosis", "/projects",
                     f"/orgs/{FRAUNHOFER}/partners?need=hydrogen+fuel+cells"):
            # The first search of a data version learns the ranker in the request here.
            phone.goto(f"{site}{path}", timeout=RESULTS_WAIT)
            if "partners?" in path:
                expect(phone.locator("#results li.partner").first).to_be_visible(timeout=RESULTS_WAIT)
            overflow = phone.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (path, overflow)
            # The factor and partner tables are cards here: nothing inside them scrolls.
            for table in phone.locator("table.stacked").all()[:3]:
                wrap = table.locator("xpath=..")
                assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth"), path
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("path", [f"/orgs/{FRAUNHOFER}/diagnosis", f"/orgs/{FRAUNHOFER}", "/network"])
def test_pictures_label_only_what_fits(site, page, path, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{site}{path}")
    picture = "innonetExplorer" if path == "/network" else "innonetNetwork"
    expect(page.locator("#explorer, #ego-network")).to_have_attribute("data-node-count", MORE_THAN_ONE)
    expect(page.locator("#explorer, #ego-network")).to_have_attribute("data-labelled", MORE_THAN_ONE)
    boxes = page.evaluate(f"""() => window.{picture}.nodes('.labelled').map(n => {{
        const b = n.boundingBox({{includeNodes: true, includeEdges: false, includeLabels: true}});
        return [n.id(), b.x1, b.y1, b.x2, b.y2, !!n.data('is_centre')]; }})""")
    total = page.evaluate(f"window.{picture}.nodes().length")
    assert 2 <= len(boxes) <= total
    if picture == "innonetNetwork":
        assert any(centre for *_, centre in boxes)  # the organisation itself is always named
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            apart = a[3] <= b[1] or b[3] <= a[1] or a[4] <= b[2] or b[4] <= a[2]
            assert apart, (a, b)


@pytest.mark.parametrize("width", [1280, 390])
def test_the_report_picture_names_communities_without_overlap(site, page, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{site}/network/report")
    boxes = page.evaluate("""() => [...document.querySelectorAll('svg.picture text')].map(t => {
        const b = t.getBoundingClientRect(); return [t.textContent, b.left, b.top, b.right, b.bottom]; })""")
    assert len(boxes) >= 3  # the largest communities are named
    for name, left, top, right, bottom in boxes:
        assert bottom - top >= 8, (name, bottom - top)  # large enough to read
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[3] <= b[1] or b[3] <= a[1] or a[4] <= b[2] or b[4] <= a[2], (a, b)


def test_a_warm_introduction_is_asked_from_a_result_and_made_by_the_introducer(site, page, browser):
    """A member of Fraunhofer asks an introducer (through the partner finder) for an
    introduction; a member of the introducer, in a second browser, sees it in the inbox and
    makes it; Fraunhofer then sees whom to contact."""
    search = {"need": "hydrogen fuel cells", "new_partners_only": "on"}
    found = httpx.get(f"{site}/api/v1/orgs/{FRAUNHOFER}/recommendations",
                      params=search | {"new_partners_only": "true"}, timeout=120).json()
    target = next(r for r in found["results"] if len(r["introduction_path"]) > 2)
    introducer = target["introduction_path"][1]
    with transaction(site.sessions) as session:
        for email, external_id in (("asker@example.org", FRAUNHOFER),
                                   ("introducer@example.org", introducer["external_id"])):
            organisation = organisations.get_organisation(session, external_id=external_id)
            accounts.set_membership(session, user=accounts.create_user(
                session, email=email, password=PASSWORD), organisation_id=organisation.id,
                role="member")

    sign_in(site, page, "asker@example.org")
    page.goto(f"{site}/orgs/{FRAUNHOFER}/partners?{urlencode(search)}")
    card = page.locator(f"li.partner[data-partner='{target['external_id']}']")
    card.get_by_text(f"Ask {introducer['name']} for an introduction").click()
    card.get_by_label(f"Your note to {introducer['name']}").fill("We look for fuel cell trials.")
    card.get_by_role("button", name="Send the request").click()
    expect(page.get_by_role("status")).to_contain_text("Request sent")
    request_url = page.url

    other = browser.new_context()
    try:
        second = other.new_page()
        sign_in(site, second, "introducer@example.org")
        expect(second.locator(".topbar .badge")).to_contain_text("1")
        second.get_by_role("link", name="Inbox").click()
        second.get_by_role("link", name=f"asks you to introduce them to {target['name']}").click()
        expect(second.locator(".note").first).to_have_text("We look for fuel cell trials.")
        second.get_by_label(f"Whom at {target['name']} may they contact?").fill("Grace <grace@example.org>")
        second.get_by_role("button", name="Introduce them").click()
        expect(second.get_by_role("status")).to_contain_text("Introduced")
    finally:
        other.close()

    page.goto(request_url)
    expect(page.locator(".facts")).to_contain_text("Grace <grace@example.org>")
    expect(page.locator(".lead .tag")).to_have_text("Introduced")


def test_an_admin_exports_the_organisations_data_and_the_zip_opens(site, page, tmp_path):
    sign_in(site, page)
    page.goto(f"{site}/orgs/{ESA}/members")
    page.get_by_role("button", name="Export our data").click()
    link = page.get_by_role("link", name="Download the ZIP")
    expect(link).to_be_visible(timeout=30_000)
    with page.expect_download() as download:
        link.click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    archive = zipfile.ZipFile(path)
    assert {"README.md", "network-template.csv", "organisation.csv", "members.json",
            "project_partners.csv", "audit_log.csv"} <= set(archive.namelist())
    [profile] = csv.DictReader(io.StringIO(archive.read("organisation.csv").decode()))
    assert profile["external_id"] == ESA
    members = list(csv.DictReader(io.StringIO(archive.read("members.csv").decode())))
    assert [m["email"] for m in members] == [ESA_ADMIN]
    # ESA's one project in the demo data has no other participant.
    assert archive.read("project_partners.csv").decode().startswith("project,acronym,title,")
    assert "| members.csv, members.json |" in archive.read("README.md").decode()


def test_organisations_are_picked_by_name_and_share_with_proposes_the_partner(site, page):
    """Record a relationship with Fraunhofer and share it with Fraunhofer alone, choosing
    each organisation by its name; then pick a party of an agreement and countries."""
    sign_in(site, page)
    page.goto(f"{site}/orgs/{ESA}/relationships/new")
    partner = page.get_by_role("combobox", name="Partner", exact=True)
    partner.fill("fraunhofer gesellschaft")
    page.get_by_role("option", name="FRAUNHOFER GESELLSCHAFT").first.click()
    expect(page.get_by_role("list", name="Partner: chosen")).to_contain_text("FRAUNHOFER GESELLSCHAFT")
    assert page.locator("input[name=partner]").input_value() == FRAUNHOFER
    page.get_by_label("The partner is our …").select_option("research_partner")
    page.get_by_label("Visibility").select_option("partners")
    share = page.get_by_role("combobox", name="Share with (partners only)")
    share.focus()
    proposal = page.get_by_role("option", name="the relationship's partner")
    expect(proposal).to_contain_text("FRAUNHOFER GESELLSCHAFT")
    share.press("Enter")  # the proposal is the active option
    assert page.locator("input[name=shared_with]").input_value() == FRAUNHOFER
    page.get_by_role("button", name="Add relationship").click()
    expect(page.get_by_role("status")).to_contain_text("Relationship added")
    expect(page.locator("#relationships")).to_contain_text("partners FRAUNHOFER GESELLSCHAFT")

    page.goto(f"{site}/agreements")
    parties = page.get_by_role("combobox", name="Other parties")
    parties.fill("fraunhofer gesellschaft")
    expect(page.get_by_role("listbox", name="Other parties").get_by_role("option").first).to_contain_text(
        "FRAUNHOFER GESELLSCHAFT")
    parties.press("ArrowDown")
    parties.press("ArrowUp")  # back to the first
    parties.press("Enter")
    assert page.locator("input[name=parties]").input_value() == FRAUNHOFER
    page.get_by_role("button", name="Remove FRAUNHOFER GESELLSCHAFT", exact=False).click()
    assert page.locator("input[name=parties]").input_value() == ""

    page.goto(f"{site}/orgs/{FRAUNHOFER}/partners")
    countries = page.get_by_role("combobox", name="Preferred countries")
    countries.fill("germ")
    page.get_by_role("option", name="Germany").click()
    countries.fill("fin")
    countries.press("Enter")
    page.get_by_role("button", name="Find partners").click()
    page.wait_for_url("**preferred_countries=FI**")
    assert "preferred_countries=DE" in page.url


def test_the_api_docs_call_the_api_with_a_token(site, page):
    """The document declares bearer tokens, so the docs page has an Authorize button; a call
    made from the page without one is a visitor's, with one it is the token owner's."""
    with transaction(site.sessions) as session:
        user = accounts.get_user(session, email=ESA_ADMIN)
        _, token = accounts.create_token(session, user=user, name="docs page", scope="write")
    page.goto(f"{site}/api/docs")
    operation = page.locator("#operations-jobs-jobs_api_v1_jobs_get")  # your jobs: signed-in callers only
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    operation.get_by_role("button", name="Execute").click()
    expect(status).to_have_text("401")
    page.get_by_role("button", name="Authorize").first.click()
    page.locator(".auth-container input").first.fill(token)
    page.locator(".auth-container button.authorize").click()
    page.locator(".auth-container button.btn-done").click()
    operation.get_by_role("button", name="Execute").click()
    expect(status).to_have_text("200")
