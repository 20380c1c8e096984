"""The innovation workspace in a real browser: a challenge posed to two named partners
under an NDA (the second proposed by the solver routing), ideas submitted by their staff
(one supports the similar idea shown while typing), a comment with a mention, a duplicate
merged, evaluators scoring blind, the gatekeeper selecting one with a reason that reaches
the author's inbox; a third organisation sees none of it; every page fits a phone."""

from datetime import date

import pytest
from playwright.sync_api import expect

from innonet.accounts import service as accounts
from innonet.challenges import service as challenges
from innonet.challenges.schemas import ChallengeIn, IdeaIn
from innonet.db import transaction
from innonet.organisations import service as organisations
from innonet.roles import Viewer, operator
from innonet.sharing import service as sharing
from innonet.sharing.schemas import AgreementIn
from tests.e2e.conftest import ESA, ESA_ADMIN, FRAUNHOFER, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser
SINTEF = "910945140"  # SINTEF in the demo data: the finder proposes it for the problem below
THIRD = "999993953"  # another organisation of the demo data, not invited
PEOPLE = {"fh1@fraunhofer.example.org": FRAUNHOFER, "fh2@fraunhofer.example.org": FRAUNHOFER,
          "sintef@sintef.example.org": SINTEF, "third@third.example.org": THIRD,
          "evaluator@esa.example.org": ESA}
RECOMMENDATIONS_WAIT = 120_000  # the first search of the data learns the finder's ranker


@pytest.fixture(scope="module")
def people(site):
    with transaction(site.sessions) as session:
        for email, external_id in PEOPLE.items():
            organisation = organisations.get_organisation(session, external_id=external_id)
            accounts.set_membership(session, user=accounts.create_user(
                session, email=email, password=PASSWORD, name=email.split("@")[0].upper()),
                organisation_id=organisation.id, role="member")
        nda = sharing.create_agreement(session, operator(date.today()), data=AgreementIn(
            owner=ESA, parties=[FRAUNHOFER, SINTEF], kind="nda", title="Brackets NDA", status="in_force"))
        return nda.id


def _as(browser, site, email, width=1280):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(site, page, email)
    return page


def _fits(page):
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, (page.url, overflow)


def test_a_challenge_under_an_nda_from_idea_to_decision(site, page, browser, people):
    sign_in(site, page, ESA_ADMIN)
    page.goto(f"{site}/challenges")
    page.get_by_role("button", name="Pose a challenge").click()
    page.locator("#title").fill("Lighter satellite brackets")
    page.get_by_label("The problem").fill(
        "Our **aluminium brackets** are too heavy.\n\n- 30 % lighter\n- same stiffness")
    page.get_by_label("What we look for").fill("Materials, designs, additive manufacturing")
    page.get_by_label("What we offer in return").fill("A flight test. <script>alert(1)</script>")
    page.get_by_label("Criteria everyone may rate").fill("Impact")
    page.get_by_label("Criteria, weights and scales").fill("Feasibility | 2 | 5\nFit | 1 | 10")
    page.get_by_label("Blind evaluation").check()
    page.get_by_label("Visibility").select_option("partners")
    share = page.get_by_role("combobox", name="Share with (partners only)")
    share.fill("fraunhofer gesellschaft")
    page.get_by_role("option", name="FRAUNHOFER GESELLSCHAFT").first.click()
    page.get_by_label("Only while this agreement is in force").select_option(str(people))
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_role("status")).to_contain_text("Challenge saved as a draft")
    # Markdown is shown; the script is text and never runs (the page fixture fails on any error).
    expect(page.locator(".markdown strong")).to_have_text("aluminium brackets")
    expect(page.locator("#brief-h").locator("xpath=..")).to_contain_text("<script>alert(1)</script>")
    challenge_url = page.url
    # The solver routing proposes organisations with its reasons; SINTEF is invited from there.
    page.get_by_role("link", name="See who could solve it").click(timeout=RECOMMENDATIONS_WAIT)
    expect(page.locator("li.partner").first).to_be_visible(timeout=RECOMMENDATIONS_WAIT)
    page.get_by_label("Invite SINTEF AS").check()
    page.get_by_role("button", name="Invite the organisations ticked").click()
    expect(page.get_by_role("status")).to_contain_text("Invited 1 organisation")
    page.goto(challenge_url)
    page.get_by_role("button", name="Open for ideas").click()
    expect(page.get_by_role("status")).to_contain_text("now open")

    # Fraunhofer's first member submits an idea, on a phone.
    fh1 = _as(browser, site, "fh1@fraunhofer.example.org", width=390)
    fh1.goto(challenge_url)
    _fits(fh1)
    fh1.get_by_role("link", name="Submit an idea").click()
    fh1.locator("#title").fill("Topology-optimised titanium bracket")
    fh1.locator("#description").fill("A printed titanium bracket, topology optimised, 40 % lighter.")
    fh1.get_by_label("I accept these terms").check()
    _fits(fh1)
    fh1.get_by_role("button", name="Submit idea").click()
    expect(fh1.get_by_role("status")).to_contain_text("Idea submitted")
    first_idea = fh1.url
    _fits(fh1)

    # SINTEF's member, told of the invitation, starts the same idea, sees it while typing
    # and supports it instead.
    cnrs = _as(browser, site, "sintef@sintef.example.org")
    cnrs.goto(f"{site}/inbox")
    expect(cnrs.locator(".inbox")).to_contain_text("invites you to contribute ideas")
    cnrs.goto(challenge_url)
    cnrs.get_by_role("link", name="Submit an idea").click()
    cnrs.locator("#title").fill("Lighter printed titanium bracket")
    similar = cnrs.locator("#similar")
    expect(similar).to_contain_text("Topology-optimised titanium bracket")
    similar.get_by_role("button", name="Support this instead").click()
    expect(cnrs.get_by_role("status")).to_contain_text("You support this idea")
    expect(cnrs.locator(".lead")).to_contain_text("1 supporter")

    # Fraunhofer's second member writes a duplicate anyway; a comment mentions ESA's admin.
    fh2 = _as(browser, site, "fh2@fraunhofer.example.org")
    fh2.goto(challenge_url)
    fh2.get_by_role("link", name="Submit an idea").click()
    fh2.locator("#title").fill("Titanium bracket made by 3D printing")
    fh2.locator("#description").fill("Print the bracket in titanium.")
    fh2.get_by_label("I accept these terms").check()
    fh2.get_by_role("button", name="Submit idea").click()
    expect(fh2.get_by_role("status")).to_contain_text("Idea submitted")
    duplicate = fh2.url
    fh2.goto(first_idea)
    fh2.get_by_label("Your comment").fill(f"Could @{ESA_ADMIN} share the loads?")
    fh2.get_by_role("button", name="Post comment").click()
    expect(fh2.locator("#discussion")).to_contain_text("share the loads")

    # ESA's admin reads the mention, merges the duplicate and decides with a reason.
    page.goto(f"{site}/inbox")
    expect(page.locator(".inbox")).to_contain_text("mentioned you on the idea")
    page.goto(first_idea)
    page.get_by_label("Merge this duplicate into this idea").select_option(label="#" + duplicate.rsplit("/", 1)[1]
                                                                           + " Titanium bracket made by 3D printing")
    page.get_by_role("button", name="Merge").click()
    expect(page.get_by_role("status")).to_contain_text("Merged")
    expect(page.locator(".markdown").first).to_contain_text("40 % lighter")
    for stage in ("screening", "evaluation"):
        page.get_by_label("Move to").select_option(stage)
        page.get_by_role("button", name="Move").click()
        expect(page.get_by_role("status")).to_contain_text("Stage changed")

    # The team: ESA's evaluator and SINTEF's member score blind what they are assigned.
    page.goto(challenge_url)
    page.get_by_role("link", name="Evaluation board").click()
    page.get_by_label("Evaluators of Evaluation").fill("evaluator@esa.example.org sintef@sintef.example.org")
    page.get_by_role("button", name="Save the team").click()
    expect(page.get_by_role("status")).to_contain_text("Team saved")
    page.get_by_role("button", name="Assign the ideas in Evaluation to its evaluators").click()
    expect(page.get_by_role("status")).to_contain_text("2 assignments made")
    for email, feasibility, fit in (("evaluator@esa.example.org", "5", "9"), ("sintef@sintef.example.org", "2", "3")):
        evaluator = _as(browser, site, email, width=390)
        evaluator.goto(f"{site}/inbox")
        evaluator.get_by_role("link", name="your evaluation").first.click()
        card = evaluator.locator("li.card", has_text="Topology-optimised titanium bracket")
        card.get_by_label("Feasibility").select_option(feasibility)
        card.get_by_label("Fit").select_option(fit)
        card.get_by_role("button", name="Save my scores").click()
        expect(evaluator.get_by_role("status")).to_contain_text("Scores saved")
        _fits(evaluator)
        evaluator.goto(first_idea)
        expect(evaluator.locator("main")).to_contain_text("authors are hidden for blind evaluation")
        expect(evaluator.locator("main")).not_to_contain_text("FH1")
        evaluator.context.close()
    page.reload()
    row = page.locator("tr", has_text="Topology-optimised titanium bracket")
    # ESA: (2·4/4 + 8/9)/3 = 96.3; SINTEF: (2·1/4 + 2/9)/3 = 24.1; mean 60.2, spread 72.2
    expect(row).to_contain_text("2 of 2")
    expect(row).to_contain_text("60.2")
    expect(row).to_contain_text("evaluators disagree")
    page.get_by_role("link", name="Topology-optimised titanium bracket").click()
    page.get_by_label("Move to").select_option("selected")
    page.get_by_role("button", name="Move").click()
    expect(page.get_by_role("alert")).to_contain_text("say why")
    page.get_by_label("Move to").select_option("selected")
    page.get_by_label("Why").fill("Lightest design, and Fraunhofer can print it.")
    page.get_by_role("button", name="Move").click()
    expect(page.locator(".notice")).to_contain_text("Lightest design")

    # The duplicate's page says where it went; the author reads the decision in the inbox.
    fh2.goto(duplicate)
    expect(fh2.get_by_role("status")).to_contain_text("was merged into this idea")
    assert fh2.url == first_idea
    fh1.goto(f"{site}/inbox")
    expect(fh1.locator(".inbox")).to_contain_text("Lightest design, and Fraunhofer can print it.")
    _fits(fh1)

    # A third organisation sees none of it: not the challenge, the ideas, nor the list.
    third = _as(browser, site, "third@third.example.org")
    for url in (challenge_url, first_idea, duplicate):
        assert third.goto(url).status == 404, url
    third.goto(f"{site}/challenges")
    expect(third.locator("main")).not_to_contain_text("Lighter satellite brackets")
    for other in (fh1, cnrs, fh2, third):
        other.context.close()


def test_the_workspace_pages_fit_a_phone(site, browser, people):
    """Every page of the workspace as ESA's admin at 390 px: nothing scrolls sideways."""
    with transaction(site.sessions) as session:  # an open challenge of ESA's with an idea
        user = accounts.get_user(session, email=ESA_ADMIN)
        admin = Viewer(today=date.today(), user_id=user.id, email=user.email, can_write=True,
                       roles=accounts.roles_of(session, user_id=user.id))
        posed = challenges.create_challenge(session, admin, data=ChallengeIn(
            organisation=ESA, title="Lighter antenna reflectors for small satellites",
            problem="Reflectors under 2 kg that survive launch loads."))
        posed.state = "open"
        challenges.submit_idea(session, admin, data=IdeaIn(
            challenge=posed.id, title="Carbon-fibre mesh", description="A knitted mesh on a foldable frame.",
            accept_terms=True))
        challenge = f"/challenges/{posed.id}"
    phone = _as(browser, site, ESA_ADMIN, width=390)
    try:
        idea = None
        for path in ("/challenges", challenge, f"{challenge}/edit", f"{challenge}/evaluation",
                     f"{challenge}/dashboard", f"{challenge}/solvers", f"/orgs/{ESA}/ideas",
                     f"/orgs/{ESA}/ideas/new", f"/orgs/{ESA}/webhooks", "/account", "/inbox"):
            phone.goto(f"{site}{path}", timeout=RECOMMENDATIONS_WAIT)
            _fits(phone)
            if path == challenge and phone.locator("table a").count():
                idea = phone.locator("table a").first.get_attribute("href")
        if idea:
            phone.goto(f"{site}{idea}")
            _fits(phone)
    finally:
        phone.context.close()
