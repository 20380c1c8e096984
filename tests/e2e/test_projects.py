"""A joint project in a real browser, from a selected idea to its lessons: the idea becomes a
project with two partner organisations under an IP agreement, background IP is registered,
a milestone slips, the daily check raises the exit review for every party's administrators,
the project is closed, and its lessons reach the knowledge base for the parties only,
on every route."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from innonet.accounts import service as accounts
from innonet.challenges import service as challenging
from innonet.challenges.schemas import ChallengeIn, IdeaIn
from innonet.db import transaction
from innonet.organisations import service as organisations
from innonet.projects import exits
from innonet.roles import operator
from innonet.sharing import service as sharing
from innonet.sharing.schemas import AgreementIn
from tests.e2e.conftest import ESA, ESA_ADMIN, FRAUNHOFER, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser
SINTEF = "910945140"
THIRD = "999993953"
PEOPLE = {"fh-admin@fraunhofer.example.org": (FRAUNHOFER, "admin"), "sintef-admin@sintef.example.org": (SINTEF, "admin"),
          "sintef@sintef.example.org": (SINTEF, "member"), "third@third.example.org": (THIRD, "admin")}


@pytest.fixture(scope="module")
def selected_idea(site) -> int:
    """ESA's challenge to Fraunhofer; Fraunhofer's idea, selected by ESA's gatekeeper."""
    with transaction(site.sessions) as session:
        for email, (external_id, role) in PEOPLE.items():
            accounts.set_membership(session, user=accounts.create_user(
                session, email=email, password=PASSWORD, name=email.split("@")[0]),
                organisation_id=organisations.get_organisation(session, external_id=external_id).id, role=role)
        sharing.create_agreement(session, operator(date.today()), data=AgreementIn(
            owner=ESA, parties=[FRAUNHOFER, SINTEF], kind="ip_agreement", title="Bracket IP agreement",
            status="in_force"))
        esa = accounts.viewer_of(session, user_id=accounts.get_user(session, email=ESA_ADMIN).id,
                                 today=date.today(), channel="page")
        fraunhofer = accounts.viewer_of(session, user_id=accounts.get_user(
            session, email="fh-admin@fraunhofer.example.org").id, today=date.today(), channel="page")
        challenge = challenging.create_challenge(session, esa, data=ChallengeIn(
            organisation=ESA, title="Lighter brackets", problem="Too heavy.", visibility="partners",
            shared_with=[FRAUNHOFER]))
        challenge.state = "open"
        idea = challenging.submit_idea(session, fraunhofer, data=IdeaIn(
            challenge=challenge.id, title="Printed titanium lattice brackets", description="Print them.",
            accept_terms=True))
        for stage in ("screening", "evaluation"):
            challenging.move_idea(session, esa, idea_id=idea.id, stage=stage)
        challenging.move_idea(session, esa, idea_id=idea.id, stage="selected", reason="Lightest by far.")
        return idea.id


def _as(browser, site, email):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(site, page, email)
    return page


def test_an_idea_becomes_a_project_that_slips_is_reviewed_closed_and_leaves_its_lessons(
        site, page, browser, selected_idea):
    sign_in(site, page, ESA_ADMIN)
    page.goto(f"{site}/ideas/{selected_idea}")
    page.get_by_role("link", name="Start a joint project from this idea").click()
    expect(page.locator("#title")).to_have_value("Printed titanium lattice brackets")
    start = date.today() - timedelta(days=60)
    page.get_by_label("Starts on").fill(start.isoformat())
    partners = page.get_by_role("combobox", name="Partner organisations")
    partners.fill("sintef")
    page.get_by_role("option", name=re.compile("SINTEF")).first.click()
    page.get_by_label("Bracket IP agreement").check()
    page.get_by_label("A milestone or deliverable is late by more than").check()
    page.get_by_role("button", name="Start the project").click()
    expect(page.get_by_role("status")).to_contain_text("Project started")
    project_url = page.url
    parties = page.locator("#parties")
    expect(parties).to_contain_text("FRAUNHOFER")
    expect(parties).to_contain_text("SINTEF")
    expect(page.locator("#ip")).to_contain_text("Bracket IP agreement")
    # Background IP, registered by the lead.
    page.get_by_role("link", name="Register background IP").click()
    page.get_by_label("What your organisation brings in").fill("Lattice design software")
    page.get_by_label("On what terms the others may use it").fill("royalty-free, for the project only")
    page.get_by_role("button", name="Add background ip").click()
    expect(page.locator("#ip")).to_contain_text("Lattice design software")
    # A milestone due 40 days ago, still planned: it has slipped.
    page.get_by_role("link", name="Add a milestone or deliverable").click()
    page.get_by_label("Title").fill("First flight bracket printed")
    page.get_by_label("Due on").fill((start + timedelta(days=20)).isoformat())
    page.get_by_role("button", name="Add milestone or deliverable").click()
    expect(page.locator("#milestones")).to_contain_text("40 days late")
    # The daily check raises the review and tells every party's administrators.
    with transaction(site.sessions) as session:
        assert exits.check_all(session, today=date.today())["reviews_raised"] == 1
    for email in ("fh-admin@fraunhofer.example.org", "sintef-admin@sintef.example.org"):
        other = _as(browser, site, email)
        other.goto(f"{site}/inbox")
        expect(other.locator("main")).to_contain_text("Exit review for “Printed titanium lattice brackets”")
        other.goto(project_url)
        expect(other.locator("#review")).to_contain_text("First flight bracket printed")
        other.context.close()
    outsider = _as(browser, site, "third@third.example.org")
    outsider.goto(f"{site}/inbox")
    expect(outsider.locator("main")).not_to_contain_text("Exit review")
    # The lead decides: change course, then close with the lessons learned.
    page.goto(project_url)
    expect(page.locator("#review")).to_contain_text("40 days late")
    page.get_by_label("Continue with changes").check()
    page.get_by_label("What you agreed with the partners").fill("New printer booked.")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("status")).to_contain_text("Review decided")
    page.get_by_text("Record the outcome and close").click()
    page.get_by_label("Outcome").select_option("partly")
    page.get_by_label("Lessons learned").fill("Book printer time before the kick-off.\n\n"
                                               "Agree lattice test coupons with every partner.")
    page.get_by_role("button", name="Close the project").click()
    expect(page.get_by_role("status")).to_contain_text("Project closed")
    expect(page.locator("#outcome")).to_contain_text("Partly")
    # The lessons are knowledge items of the two partners and the lead, and of no one else.
    for email in ("sintef@sintef.example.org", "fh-admin@fraunhofer.example.org"):
        reader = _as(browser, site, email)
        reader.goto(f"{site}/knowledge?q=printer+time")
        expect(reader.locator(".search-hits li")).to_have_count(1)
        reader.locator(".search-hits a").first.click()
        expect(reader.locator(".lead")).to_contain_text("Lesson learned")
        lesson_url = reader.url
        reader.context.close()
    lesson = lesson_url.rsplit("/", 1)[1]
    outsider.goto(f"{site}/knowledge?q=printer+time")
    expect(outsider.locator("main")).to_contain_text("Nothing you may read")
    for path in (f"/knowledge/{lesson}", f"/knowledge/{lesson}/history", f"/knowledge/{lesson}/edit",
                 f"/api/v1/knowledge/{lesson}", f"/api/v1/knowledge/{lesson}/versions",
                 f"/api/v1/knowledge/{lesson}/diff?old=1&new=1", f"/api/v1/knowledge/{lesson}/related",
                 project_url.removeprefix(site), "/api/v1/joint-projects/" + project_url.rsplit("/", 1)[1]):
        assert outsider.request.get(f"{site}{path}").status == 404, path
    found = outsider.request.get(f"{site}/api/v1/knowledge?q=printer+time").json()
    assert found["total"] == 0 and found["hits"] == []
    outsider.context.close()
    visitor = browser.new_context().new_page()
    assert visitor.request.get(f"{site}/api/v1/knowledge?q=printer+time").json()["total"] == 0
    assert visitor.request.get(f"{site}/api/v1/knowledge/{lesson}").status in (401, 404)
    visitor.context.close()
    # The idea says what it became.
    page.goto(f"{site}/ideas/{selected_idea}")
    expect(page.locator("[data-became-project]")).to_contain_text("Printed titanium lattice brackets")
