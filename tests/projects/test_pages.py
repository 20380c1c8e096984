"""The joint project pages: starting one from the form, adding and changing items with
bad input shown next to its field, the exit review and closing, leaving."""

import html
import re
from datetime import date, timedelta

from tests.factories import form_token, make_organisation, make_user, sign_in
from tests.projects.test_projects import _add, _ext, _project, team  # noqa: F401 (fixture)


def _post(client, url, data):
    return client.post(url, data=data | {"csrf_token": form_token(client)}, follow_redirects=False)


def test_starting_a_project_from_the_form(client, session, team):  # noqa: F811
    sign_in(client, session, team["users"]["lead_admin"])
    session.commit()
    form = client.get("/joint-projects/new")
    assert form.status_code == 200 and "Exit criteria, checked every day" in form.text
    start = date.today().isoformat()
    refused = _post(client, "/joint-projects/new", {
        "title": "Pilot", "start_date": start, "end_date": (date.today() - timedelta(days=1)).isoformat(),
        "parties": _ext(team, "Partner"), "foreground_rule": "joint", "visibility": "private"})
    assert refused.status_code == 422 and "the project ends before it starts" in refused.text
    assert 'value="Pilot"' in refused.text  # what was typed stays
    made = _post(client, "/joint-projects/new", {
        "title": "Pilot", "start_date": start, "parties": f"{_ext(team, 'Partner')} {_ext(team, 'Advisor')}",
        "party_role": "partner", "foreground_rule": "joint", "visibility": "private",
        "agreements": str(team["ip"].id), "exit_late_days_on": "on", "exit_late_days": "10"})
    assert made.status_code == 303, made.text
    page = client.get(made.headers["location"]).text
    assert "Pilot" in page and "Partner" in page and "Advisor" in page and "Pilot IP agreement" in page
    assert "more than 10 days late" in page
    assert client.get("/joint-projects").text.count('data-project="') == 1


def test_items_are_added_and_changed_on_their_forms(client, session, team):  # noqa: F811
    project = _project(client, team)
    sign_in(client, session, team["users"]["partner"])
    session.commit()
    base = f"/joint-projects/{project['id']}"
    assert client.get(f"{base}/items/milestones/new").status_code == 200
    assert client.get(f"{base}/items/nonsense/new").status_code == 404
    early = (date.fromisoformat(project["start_date"]) - timedelta(days=3)).isoformat()
    refused = _post(client, f"{base}/items/milestones/new", {"kind": "milestone", "title": "Samples",
                                                             "due_on": early, "status": "planned"})
    assert refused.status_code == 422 and "due before the project starts" in refused.text
    assert 'aria-invalid="true"' in refused.text and 'value="Samples"' in refused.text
    no_r = _post(client, f"{base}/items/work-packages/new", {"code": "WP1", "title": "Chemistry"})
    assert no_r.status_code == 422 and "responsible" in no_r.text
    due = (date.today() - timedelta(days=2)).isoformat()
    made = _post(client, f"{base}/items/milestones/new", {
        "kind": "deliverable", "title": "Samples <script>alert(1)</script>", "due_on": due, "status": "planned",
        "audience": [_ext(team, "Lead")]})
    assert made.status_code == 303
    page = client.get(base).text
    assert "2 days late" in page and "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert "Only " in page  # narrowed to the lead (and the partner who recorded it)
    item = _add(client, team, project, "risks", {"title": "Supply"}, who="partner")
    edit = client.get(f"{base}/items/risks/{item['id']}/edit")
    assert edit.status_code == 200 and 'value="Supply"' in edit.text
    saved = _post(client, f"{base}/items/risks/{item['id']}/edit", {
        "title": "Supply of binder", "likelihood": "4", "impact": "5", "status": "open"})
    assert saved.status_code == 303
    assert "4 × 5 = <strong>20</strong>" in client.get(base).text
    assert _post(client, f"{base}/items/risks/{item['id']}/delete", {}).status_code == 303
    risks = client.get(base).text.split('id="risks"')[1].split("</section>")[0]
    assert "Supply of binder" not in risks and "No risk recorded yet" in risks


def test_the_review_and_closing_on_the_page(client, session, team):  # noqa: F811
    from innonet.projects import exits

    project = _project(client, team, exit_criteria=[{"kind": "milestone_late", "days": 1}])
    _add(client, team, project, "milestones", {"title": "Pilot", "due_on": project["start_date"]})
    exits.check_all(session, today=date.today())
    session.commit()
    base = f"/joint-projects/{project['id']}"
    sign_in(client, session, team["users"]["partner"])
    session.commit()
    page = client.get(base).text
    assert "Review: continue, change or exit" in page and "record the decision after talking" in page
    assert "Close the project" not in page
    client.cookies.clear()
    sign_in(client, session, team["users"]["lead_admin"])
    session.commit()
    assert 'name="decision"' in client.get(base).text
    assert _post(client, f"{base}/review", {"decision": "nonsense"}).status_code == 422
    closed = _post(client, f"{base}/review", {"decision": "exit", "note": "The pilot line is not available."})
    assert closed.status_code == 303
    page = client.get(base).text
    assert "Stopped" in page and "The pilot line is not available." in page and "Add a risk" not in page


def test_a_party_leaves_from_the_page(client, session, team):  # noqa: F811
    project = _project(client, team)
    sign_in(client, session, team["users"]["partner_admin"])
    session.commit()
    base = f"/joint-projects/{project['id']}"
    assert "Leave the project" in client.get(base).text
    left = _post(client, f"{base}/parties/{_ext(team, 'Partner')}/remove", {})
    assert left.status_code == 303 and left.headers["location"] == "/joint-projects"
    assert client.get(base).status_code == 404


def test_a_personal_calendar_lists_my_milestones_until_revoked(client, session, team):  # noqa: F811
    project = _project(client, team)
    due = (date.today() + timedelta(days=10)).isoformat()
    _add(client, team, project, "milestones", {"title": "Pilot, line; running", "due_on": due,
                                               "owner": _ext(team, "Partner")})
    _add(client, team, project, "milestones", {"title": "Lead's own", "due_on": due})
    _add(client, team, project, "milestones", {"title": "Secret sample", "due_on": due, "owner": _ext(team, "Partner"),
                                               "audience": [_ext(team, "Lead")]}, who="lead")
    sign_in(client, session, team["users"]["partner"])
    session.commit()
    made = _post(client, "/joint-projects/calendar", {})
    assert made.status_code == 200
    url = made.text.split('id="calendar-url" type="text" readonly value="')[1].split('"')[0]
    path = url.removeprefix("http://testserver")
    client.cookies.clear()  # a calendar app has no session: the address is the key
    ics = client.get(path)
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    text = ics.text.replace("\r\n ", "")
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.count("BEGIN:VEVENT") == 1
    assert "SUMMARY:Milestone: Pilot\\, line\\; running (Bio-based barrier coating)" in text
    assert f"DTSTART;VALUE=DATE:{due.replace('-', '')}" in text and "Secret sample" not in text
    assert all(len(line.encode()) <= 75 for line in ics.text.split("\r\n"))
    sign_in(client, session, team["users"]["partner"])
    session.commit()
    assert _post(client, "/joint-projects/calendar/revoke", {}).status_code == 303
    assert client.get(path).status_code == 404


def _links_open(client, start: str) -> None:
    """Every link of the page at ``start`` to a page of innonet opens, and lands where its
    #anchor points."""
    page = client.get(start)
    assert page.status_code == 200, start
    for path, anchor in re.findall(r'href="(/[^"#]*)(#[^"]*)?"', page.text):
        if path.startswith(("/static/", "/api/")):
            continue
        target = client.get(html.unescape(path))
        assert target.status_code == 200, (start, path, target.status_code)
        assert not anchor or f'id="{anchor[1:]}"' in target.text, (start, path, anchor)


def test_the_project_pages_lead_only_to_pages_that_open(client, session, team):  # noqa: F811
    project = _project(client, team)
    sign_in(client, session, team["users"]["lead_admin"])
    session.commit()
    for start in ("/joint-projects", f"/joint-projects/{project['id']}"):
        _links_open(client, start)
    # A newcomer without a project is pointed to their organisation's partner finder.
    client.cookies.clear()
    newcomer = make_user(session, make_organisation(session, name="Newcomer"))
    sign_in(client, session, newcomer)
    session.commit()
    assert "partner finder</a>" in client.get("/joint-projects").text
    _links_open(client, "/joint-projects")
