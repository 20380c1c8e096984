"""End to end in a real Chromium: the demo data served by a real server."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ESA, FRAUNHOFER, MORE_THAN_ONE, sign_in

pytestmark = pytest.mark.browser


def test_directory_search_narrows_the_list_as_you_type(site, page):
    page.goto(f"{site}/orgs")
    page.get_by_label("Search").fill("space agency")
    expect(page.locator("#result-count")).not_to_have_text("2,016 organisations")
    expect(page.get_by_role("link", name="EUROPEAN SPACE AGENCY")).to_be_visible()
    assert "q=space%20agency" in page.url  # the search is in the address, so it can be shared
    page.get_by_label("Country").select_option("FR")
    page.wait_for_url("**country=FR**")
    page.get_by_role("link", name="EUROPEAN SPACE AGENCY").click()
    assert page.get_by_role("heading", level=1).inner_text() == "EUROPEAN SPACE AGENCY"


def test_organisation_page_draws_a_clickable_network(site, page):
    page.goto(f"{site}/orgs/999984059")  # Fraunhofer: many partners
    expect(page.locator("#ego-network")).to_have_attribute("data-node-count", MORE_THAN_ONE)
    nodes = int(page.get_attribute("#ego-network", "data-node-count"))
    assert nodes > 1
    partner = page.evaluate("window.innonetNetwork.nodes().filter(n => !n.data('is_centre'))[0].id()")
    page.evaluate(f"window.innonetNetwork.getElementById('{partner}').emit('tap')")
    page.wait_for_url(f"**/orgs/{partner}")


def test_adding_a_relationship_shows_errors_then_saves(site, page):
    page.goto(f"{site}/orgs/{ESA}/relationships/new")
    page.wait_for_url("**/login?next=**")  # a visitor is sent to sign in first
    sign_in(site, page)
    page.goto(f"{site}/orgs/{ESA}/relationships/new")
    page.get_by_role("combobox", name="Partner", exact=True).fill("953355965")  # its id finds it too
    page.get_by_role("listbox", name="Partner").get_by_role("option").first.click()
    page.get_by_label("The partner is our …").select_option("research_partner")
    page.get_by_label("Since").fill("2024-05-01")
    page.get_by_label("Until").fill("2023-05-01")
    page.get_by_role("button", name="Add relationship").click()
    error = page.locator("#end_date-error")
    assert "before the start date" in error.inner_text()
    assert page.get_by_label("Until").get_attribute("aria-invalid") == "true"
    # The partner chosen stays chosen on the page that asks for a correction.
    expect(page.get_by_role("list", name="Partner: chosen").get_by_role("listitem")).to_have_count(1)

    page.get_by_label("Until").fill("")
    page.get_by_role("button", name="Add relationship").click()
    page.wait_for_url("**/orgs/999644559#relationships")
    assert page.get_by_role("status").inner_text().startswith("Relationship added")
    row = page.locator("#relationships tbody tr").first
    assert "Research partner" in row.inner_text()


def test_a_script_typed_into_a_name_is_shown_as_text(site, page):
    sign_in(site, page)
    hostile = "<script>window.injected = 1</script><img src=x onerror=window.injected=2>Evil Ltd"
    page.goto(f"{site}/orgs/new")
    page.locator("#name").fill(hostile)
    page.get_by_role("button", name="Add organisation").click()
    page.wait_for_url("**/orgs/IN-*")
    assert page.get_by_role("heading", level=1).inner_text() == hostile
    assert page.evaluate("window.injected === undefined")
    page.goto(f"{site}/orgs?q=Evil")
    expect(page.get_by_role("link", name=hostile)).to_be_visible()
    assert page.evaluate("window.injected === undefined")


def test_diagnosis_page_shows_charts_findings_and_the_ego_network(site, page):
    page.goto(f"{site}/orgs/999984059/diagnosis")  # Fraunhofer
    expect(page.get_by_role("heading", level=1)).to_contain_text("Network diagnosis")
    portfolio = page.locator("#portfolio-chart .bar")
    assert portfolio.count() >= 5
    widths = [b.bounding_box()["width"] for b in portfolio.all()]
    assert max(widths) > 50  # the bars are drawn to scale, not empty
    assert page.locator("#countries-chart .bar").count() >= 5
    assert page.locator("#findings li, #findings .empty").count() >= 1
    expect(page.locator("#ego-network")).to_have_attribute("data-node-count", MORE_THAN_ONE)
    kinds = page.evaluate("[...new Set(window.innonetNetwork.nodes().map(n => n.data('colour')))].length")
    assert kinds >= 2  # partners coloured by kind


def test_explorer_draws_communities_then_filters_and_drills_down(site, page):
    page.goto(f"{site}/network")
    explorer = page.locator("#explorer")
    expect(explorer).to_have_attribute("data-view", "communities")  # 2,016 is too many
    expect(explorer).to_have_attribute("data-node-count", re.compile(r"^[1-9]"))
    expect(page.locator("#explorer-status")).to_contain_text("communities")
    page.get_by_label("Country").select_option("PT")
    page.get_by_label("Show", exact=True).select_option("organisations")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(explorer).to_have_attribute("data-view", "organisations")
    countries = page.evaluate("[...new Set(window.innonetExplorer.nodes().map(n => n.data('country')))]")
    assert countries == ["PT"]
    page.get_by_label("Search").fill("space agency")
    page.get_by_label("Country").select_option("")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(explorer).to_have_attribute("data-node-count", "1")
    node = page.evaluate("window.innonetExplorer.nodes()[0].id()")
    page.evaluate("window.innonetExplorer.nodes()[0].emit('tap')")
    page.wait_for_url(f"**/orgs/{node}/diagnosis")
    expect(page.get_by_role("heading", level=1)).to_contain_text("EUROPEAN SPACE AGENCY")


def test_find_partners_explains_each_result_and_draws_the_introduction(site, page):
    page.goto(f"{site}/orgs/{FRAUNHOFER}")
    page.get_by_role("link", name="Find partners").click()
    page.wait_for_url(f"**/orgs/{FRAUNHOFER}/partners")
    page.get_by_label("What are you looking for?").fill("hydrogen fuel cells for heavy-duty trucks")
    page.get_by_label("Goal").select_option("research_partner")
    page.locator("summary", has_text="What counts").click()
    # The goal sets the sliders to its weights.
    expect(page.locator("#w_complementarity")).to_have_value("2.5")
    page.locator("#w_cultural_closeness").fill("1")
    expect(page.locator("output[for=w_cultural_closeness]")).to_have_text("1")
    page.get_by_role("button", name="Find partners").click()
    results = page.locator("#results li.partner")
    # The first search of a data version learns the ranker: allow it time.
    expect(results.first).to_be_visible(timeout=60_000)
    assert "need=hydrogen" in page.url  # the search can be shared and bookmarked
    assert results.count() >= 5
    first = results.first
    assert first.locator("tr[data-factor]").count() == 7
    assert "share the need's words" in first.locator("tr[data-factor=capability_fit] .reason").inner_text()
    assert first.locator("tr[data-factor=cultural_closeness] td.num").inner_text() == "1"
    for kind in page.locator("#results li.partner .partner-facts").all_inner_texts():
        assert kind.startswith(("Higher education", "Research organisation"))
    chain = page.locator("#results .intro-path ol.chain").first
    expect(chain).to_be_visible()
    steps = chain.locator("li").all_inner_texts()
    assert len(steps) >= 2 and steps[0].startswith("FRAUNHOFER")  # full names, in order
    assert chain.locator("li.asker").count() == 1 and chain.locator("li.candidate").count() == 1

    # The browser itself refuses k = 0 in the form; a hand-edited address gets the message.
    page.goto(f"{site}/orgs/{FRAUNHOFER}/partners?need=fuel+cells&k=0&w_likelihood=-1")
    alert = page.locator("#results [role=alert]")
    expect(alert).to_contain_text("k must be 1 or more")
    expect(alert).to_contain_text("weights.likelihood")


def test_a_member_saves_a_need_and_finds_it_again(site, page):
    sign_in(site, page)
    page.goto(f"{site}/orgs/{ESA}/partners")
    page.get_by_label("What are you looking for?").fill("earth observation data for farming")
    page.get_by_label("Research organisation").check()
    page.get_by_role("button", name="Save need").click()
    expect(page.locator("#title-error")).to_be_visible()  # a need needs a title
    page.get_by_label("What are you looking for?").fill("earth observation data for farming")
    page.get_by_label("Title").fill("Crop monitoring from space")
    page.get_by_role("button", name="Save need").click()
    page.wait_for_url("**need_id=*")
    expect(page.get_by_role("status")).to_contain_text("Need saved")
    expect(page.get_by_label("What are you looking for?")).to_have_value(
        "Crop monitoring from space. earth observation data for farming")
    expect(page.get_by_label("Research organisation")).to_be_checked()
    expect(page.locator("#results li.partner").first).to_be_visible(timeout=60_000)
    kinds = page.locator("#results li.partner .partner-facts").all_inner_texts()
    assert kinds and all(k.startswith("Research organisation") for k in kinds)
    saved = page.get_by_role("navigation", name="Saved needs")
    expect(saved.get_by_role("link", name="Crop monitoring from space")).to_be_visible()
