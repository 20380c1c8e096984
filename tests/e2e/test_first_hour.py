"""What a new user meets in the first hour, tried in a real Chromium: each test here failed
before its fix."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ESA, FRAUNHOFER, sign_in

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
