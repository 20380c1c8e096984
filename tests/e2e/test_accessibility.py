"""axe-core (vendored in tests/e2e/vendor, MPL-2.0) on every page, signed out and in, at a
desktop and a phone width: no serious or critical violation of WCAG 2.1 A and AA."""

import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from innonet.accounts import service as accounts
from innonet.challenges import evaluation as evaluating
from innonet.challenges import service as challenging
from innonet.challenges.schemas import ChallengeIn, CommentIn, IdeaIn
from innonet.collaborations import service as collaborations
from innonet.db import transaction
from innonet.introductions import service as introducing
from innonet.introductions.schemas import IntroductionIn
from innonet.knowledge import service as knowing
from innonet.knowledge.schemas import KnowledgeIn, KnowledgePatch
from innonet.organisations import service as organisations
from innonet.projects import exits
from innonet.projects import service as projecting
from innonet.projects.api import ITEM_PATHS
from innonet.projects.schemas import ITEM_INPUTS, ProjectIn
from innonet.roles import operator
from tests.e2e.conftest import ESA, ESA_ADMIN, FRAUNHOFER, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser
AXE = (Path(__file__).parent / "vendor" / "axe-4.10.3.min.js").read_text(encoding="utf-8")
PROJECT = "101037564"  # a project of the demo data with 59 partners
PUBLIC = ["/", "/orgs", "/orgs?q=fraunhofer+hydrogen", f"/orgs/{FRAUNHOFER}",
          f"/orgs/{FRAUNHOFER}/diagnosis", f"/orgs/{FRAUNHOFER}/partners?need=hydrogen+fuel+cells",
          "/network", "/network/report", "/projects", f"/projects/{PROJECT}", "/methods",
          "/login", "/password/forgot", "/api/docs", "/challenges"]
SIGNED_IN = ["/account", "/inbox", "/introductions", "/agreements", "/jobs", "/imports",
             "/orgs/new", f"/orgs/{ESA}/edit", f"/orgs/{ESA}/members", f"/orgs/{ESA}/audit",
             f"/orgs/{ESA}/relationships/new", f"/orgs/{ESA}/partners?need=satellite+navigation"]


def open_settled(page, url: str, quiet: float = 0.25, limit: float = 15.0) -> None:
    """Open ``url`` and wait until what its scripts fetch has come (fragments, the graph,
    the API document): no request in flight for ``quiet`` seconds. Playwright's
    "networkidle" waits half a second on every page, most of this test's time."""
    pending = set()
    listeners = {"request": lambda r: pending.add(r), "requestfinished": lambda r: pending.discard(r),
                 "requestfailed": lambda r: pending.discard(r)}
    for event, listener in listeners.items():
        page.on(event, listener)
    try:
        page.goto(url)
        start = quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < quiet:
            page.wait_for_timeout(25)  # lets the events of the requests arrive
            if pending:
                quiet_since = time.monotonic()
            assert time.monotonic() - start < limit, f"{url} kept fetching: {[r.url for r in pending]}"
    finally:
        for event, listener in listeners.items():
            page.remove_listener(event, listener)


def serious_violations(page) -> list[str]:
    """What axe finds that is serious or critical, as "rule: where" lines."""
    page.evaluate(AXE)  # evaluated by the browser's tools, not by the page: no CSP applies
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return result.violations.filter(v => ['serious', 'critical'].includes(v.impact))
            .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
    }""")
    return found


@pytest.fixture(scope="module")
def introduction(site) -> int:
    """ESA asks Fraunhofer (which has a member) to introduce it to a partner of Fraunhofer's."""
    with transaction(site.sessions) as session:
        fraunhofer = organisations.get_organisation(session, external_id=FRAUNHOFER)
        accounts.set_membership(session, user=accounts.create_user(
            session, email="fraunhofer@example.org", password=PASSWORD),
            organisation_id=fraunhofer.id, role="member")
        partner = next(iter(collaborations.shared_project_counts(session, organisation_id=fraunhofer.id)))
        target = organisations.organisations_by_id(session, ids=[partner])[partner]
        return introducing.request_introduction(session, operator(date.today()), data=IntroductionIn(
            asker=ESA, introducer=FRAUNHOFER, target=target.external_id,
            note="We look for partners in satellite navigation.")).id


@pytest.fixture(scope="module")
def workspace(site) -> list[str]:
    """An open challenge of ESA's for the whole network, with an idea, a comment and ratings."""
    with transaction(site.sessions) as session:
        admin = accounts.get_user(session, email=ESA_ADMIN)
        writer = accounts.viewer_of(session, user_id=admin.id, today=date.today(), channel="page")
        challenge = challenging.create_challenge(session, writer, data=ChallengeIn(
            organisation=ESA, title="Lighter brackets", problem="Our brackets are **too heavy**.",
            visibility="network", criteria=[{"name": "Impact"}, {"name": "Feasibility", "stage": "evaluation"}]))
        challenge.state = "open"
        idea = challenging.submit_idea(session, writer, data=IdeaIn(
            challenge=challenge.id, title="Printed titanium", description="Print them.", accept_terms=True))
        challenging.add_comment(session, writer, idea_id=idea.id, data=CommentIn(body="Loads?"))
        for stage in ("screening", "evaluation"):
            challenging.move_idea(session, writer, idea_id=idea.id, stage=stage)
        evaluating.set_team(session, writer, challenge_id=challenge.id, gatekeepers=[],
                            evaluators={"evaluation": [ESA_ADMIN]})
        evaluating.assign(session, writer, challenge_id=challenge.id, stage="evaluation")
        c = f"/challenges/{challenge.id}"
        return ["/challenges", "/challenges/new", c, f"{c}/edit", f"{c}/ideas/new", f"{c}/evaluation",
                f"{c}/dashboard", f"{c}/solvers", f"/ideas/{idea.id}", f"/ideas/{idea.id}/edit",
                f"/orgs/{ESA}/ideas", f"/orgs/{ESA}/ideas/new", f"/orgs/{ESA}/webhooks"]


@pytest.fixture(scope="module")
def joint_project(site) -> list[str]:
    """ESA leads a project with Fraunhofer: an item of each kind, one narrowed, a criterion met."""
    with transaction(site.sessions) as session:
        admin = accounts.get_user(session, email=ESA_ADMIN)
        writer = accounts.viewer_of(session, user_id=admin.id, today=date.today(), channel="page")
        start = date.today() - timedelta(days=60)
        project = projecting.create_project(session, writer, data=ProjectIn(
            organisation=ESA, title="Printed brackets pilot", summary="Print **lighter** brackets.",
            start_date=start, end_date=start + timedelta(days=300), parties=[{"organisation": FRAUNHOFER}],
            exit_criteria=[{"kind": "milestone_late", "days": 7}]))
        items = {}
        for item_type, body in (
                ("work_package", {"code": "WP1", "title": "Design", "responsible": [FRAUNHOFER],
                                  "start_date": start, "end_date": start + timedelta(days=90)}),
                ("milestone", {"title": "First print", "due_on": start + timedelta(days=30)}),
                ("risk", {"title": "Porosity", "audience": [ESA]}),
                ("decision", {"title": "Titanium", "decided_on": start}),
                ("background_ip", {"title": "Lattice design software"}),
                ("result", {"title": "Bracket design", "owners": [ESA, FRAUNHOFER]})):
            items[item_type] = projecting.add_item(session, writer, project_id=project.id, item_type=item_type,
                                                   data=ITEM_INPUTS[item_type].model_validate(body)).id
        exits.check_all(session, today=date.today())
        item = knowing.create_item(session, writer, data=KnowledgeIn(
            organisation=ESA, kind="lesson", title="Print brackets upright", body="Less **support** material.",
            links=[{"type": "project", "id": str(project.id)}], tags=["printing"]))
        knowing.update_item(session, writer, item_id=item.id, changes=KnowledgePatch(version=1, body="Less support."))
        p, k = f"/joint-projects/{project.id}", f"/knowledge/{item.id}"
        return ["/knowledge", "/knowledge?q=brackets+support", "/knowledge/new", k, f"{k}/edit", f"{k}/history",
                "/joint-projects", "/joint-projects/new", p, f"{p}/edit", f"{p}/health",
                f"/orgs/{ESA}/kpis", f"/orgs/{ESA}/partnerships/{FRAUNHOFER}", f"/orgs/{ESA}/report",
                *(f"{p}/items/{kind}/new" for kind in ITEM_PATHS.values()),
                *(f"{p}/items/{ITEM_PATHS[t]}/{i}/edit" for t, i in items.items())]


@pytest.mark.parametrize("width", [1280, 390])
def test_no_page_has_a_serious_accessibility_problem(site, page, width, introduction, workspace, joint_project):
    page.set_viewport_size({"width": width, "height": 900})
    problems = {}
    # Signed out; as ESA's admin; as the member of Fraunhofer who is asked to introduce.
    for who, paths in ((None, PUBLIC), (ESA_ADMIN, SIGNED_IN + [f"/introductions/{introduction}"] + workspace
                                        + joint_project),
                       ("fraunhofer@example.org", [f"/introductions/{introduction}", "/inbox"])):
        if who:
            page.context.clear_cookies()
            sign_in(site, page, who)
        for path in paths:
            open_settled(page, f"{site}{path}")
            if found := serious_violations(page):
                problems[f"{who or 'visitor'} {path}"] = found
    assert problems == {}, "\n".join(f"{path}: {found}" for path, found in problems.items())
