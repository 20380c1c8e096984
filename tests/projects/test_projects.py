"""Joint projects through the API: who sees them and their items, parties and people,
RACI and milestones with bad input refused, the IP register, exit criteria checked by the
daily job, reviews and closing."""

import logging
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from innonet.accounts import service as accounts
from innonet.accounts.models import Notification
from innonet.projects import exits
from innonet.projects import service as projects
from innonet.projects.models import ExitCriterion, JointProject, Milestone, ProjectReview
from innonet.sharing import service as sharing
from innonet.sharing.schemas import AgreementIn
from tests.factories import OPERATOR, bearer, make_organisation, make_user, sign_in
from tests.test_concurrency import live, run_together  # noqa: F401 (fixture)


@pytest.fixture
def team(session):
    """Lead runs a project with Partner and Advisor; Outsider is none of it."""
    orgs = {n: make_organisation(session, name=n, country=c) for n, c in
            (("Lead", "DE"), ("Partner", "FI"), ("Advisor", "PT"), ("Outsider", "FR"))}
    users = {"lead_admin": make_user(session, orgs["Lead"], role="admin", name="Lena Lead"),
             "lead": make_user(session, orgs["Lead"], name="Leo Lead"),
             "partner_admin": make_user(session, orgs["Partner"], role="admin", name="Paula Partner"),
             "partner": make_user(session, orgs["Partner"], name="Pekka Partner"),
             "guest": make_user(session, orgs["Partner"], role="guest", name="Gina Guest"),
             "advisor": make_user(session, orgs["Advisor"], name="Ana Advisor"),
             "outsider": make_user(session, orgs["Outsider"], name="Otto Outsider")}
    ip = sharing.create_agreement(session, OPERATOR, data=AgreementIn(
        owner=orgs["Lead"].external_id, parties=[orgs["Partner"].external_id], kind="ip_agreement",
        title="Pilot IP agreement", status="in_force", end_date=date.today() + timedelta(days=400)))
    headers = {k: bearer(session, u) for k, u in users.items()}
    session.commit()
    return {"orgs": orgs, "users": users, "h": headers, "ip": ip}


def _ext(team, name):
    return team["orgs"][name].external_id


def _project(client, team, **changes):
    body = {"organisation": _ext(team, "Lead"), "title": "Bio-based barrier coating",
            "summary": "Replace the *PFAS* coating.", "start_date": str(date.today() - timedelta(days=30)),
            "end_date": str(date.today() + timedelta(days=365)),
            "parties": [{"organisation": _ext(team, "Partner"), "role": "partner"},
                        {"organisation": _ext(team, "Advisor"), "role": "advisor"}],
            "agreements": [team["ip"].id], "foreground_rule": "joint"} | changes
    made = client.post("/api/v1/joint-projects", json=body, headers=team["h"]["lead"])
    assert made.status_code == 201, made.text
    return made.json()


def _add(client, team, project, path, body, who="lead", status=201):
    made = client.post(f"/api/v1/joint-projects/{project['id']}/{path}", json=body, headers=team["h"][who])
    assert made.status_code == status, made.text
    return made.json()


def test_parties_see_the_project_outsiders_and_uninvited_guests_do_not(client, team):
    project = _project(client, team)
    h = team["h"]
    assert [(p["organisation"]["name"], p["role"]) for p in project["parties"]] == [
        ("Lead", "lead"), ("Partner", "partner"), ("Advisor", "advisor")]
    assert project["agreements"][0]["title"] == "Pilot IP agreement" and project["agreements"][0]["in_force"]
    url = f"/api/v1/joint-projects/{project['id']}"
    for who in ("lead", "partner", "advisor"):
        assert client.get(url, headers=h[who]).status_code == 200
        assert [p["id"] for p in client.get("/api/v1/joint-projects", headers=h[who]).json()] == [project["id"]]
    for who in ("outsider", "guest"):
        assert client.get(url, headers=h[who]).status_code == 404
        assert client.get(f"{url}/activity", headers=h[who]).status_code == 404
        assert client.get("/api/v1/joint-projects", headers=h[who]).json() == []
    assert client.get(url).status_code in (401, 404)
    # Named on the project, the guest sees it (and only then).
    named = client.post(f"{url}/people", json={"email": team["users"]["guest"].email,
                                                "organisation": _ext(team, "Partner"), "title": "lab technician"},
                        headers=h["partner_admin"])
    assert named.status_code == 200, named.text
    assert client.get(url, headers=h["guest"]).status_code == 200
    # The partners were told.
    activity = client.get(f"{url}/activity", headers=h["partner"]).json()
    assert [e["kind"] for e in activity][-1] == "created"


def test_a_narrowed_item_is_seen_only_by_its_audience_and_its_recorder(client, team):
    project = _project(client, team)
    h = team["h"]
    wp = _add(client, team, project, "work-packages", {
        "code": "WP1", "title": "Coating chemistry", "description": "Recipe notes: secret binder",
        "responsible": [_ext(team, "Partner")], "consulted": [_ext(team, "Advisor")],
        "audience": [_ext(team, "Partner")]})
    assert wp["fields"]["accountable"] == _ext(team, "Lead") and wp["fields"]["responsible"] == [_ext(team, "Partner")]
    assert {o["name"] for o in wp["audience"]} == {"Lead", "Partner"}
    url = f"/api/v1/joint-projects/{project['id']}"
    seen = {who: [i["id"] for i in client.get(url, headers=h[who]).json()["items"]["work_package"]]
            for who in ("lead", "partner", "advisor")}
    assert seen == {"lead": [wp["id"]], "partner": [wp["id"]], "advisor": []}
    # Nor does its title reach the advisor through the activity log, nor can it be changed blindly.
    assert "Coating chemistry" not in client.get(f"{url}/activity", headers=h["advisor"]).text
    assert client.patch(f"{url}/work-packages/{wp['id']}", json={"title": "x"}, headers=h["advisor"]).status_code == 404
    # Only the party that recorded it widens it: the partner in its audience may not.
    refused = client.patch(f"{url}/work-packages/{wp['id']}", json={"audience": []}, headers=h["partner"])
    assert refused.status_code == 403, refused.text
    assert client.get(url, headers=h["advisor"]).json()["items"]["work_package"] == []
    retitled = client.patch(f"{url}/work-packages/{wp['id']}", json={"title": "Binder trials"}, headers=h["partner"])
    assert retitled.status_code == 200 and {o["name"] for o in retitled.json()["audience"]} == {"Lead", "Partner"}
    changed = client.patch(f"{url}/work-packages/{wp['id']}", json={"audience": []}, headers=h["lead"])
    assert changed.status_code == 200 and changed.json()["audience"] is None
    assert client.get(url, headers=h["advisor"]).json()["items"]["work_package"][0]["id"] == wp["id"]
    # The events of its narrowed past (the widening too) keep their audience: its old title
    # never reaches the advisor, who reads the item as it is now.
    assert "Coating chemistry" not in client.get(f"{url}/activity", headers=h["advisor"]).text
    assert "Coating chemistry" in client.get(f"{url}/activity", headers=h["partner"]).text


def test_events_of_a_narrowed_item_keep_its_audience_after_it_changes_or_is_deleted(client, team):
    project = _project(client, team)
    h, url = team["h"], f"/api/v1/joint-projects/{project['id']}"
    risk = _add(client, team, project, "risks", {"title": "Supplier X may fold", "audience": [_ext(team, "Partner")]})
    assert client.patch(f"{url}/risks/{risk['id']}", json={"title": "Supplier X folds"},
                        headers=h["lead"]).status_code == 200
    assert client.delete(f"{url}/risks/{risk['id']}", headers=h["lead"]).status_code == 204
    for who, sees in (("lead", True), ("partner", True), ("advisor", False)):
        activity = client.get(f"{url}/activity", headers=h[who])
        assert ("Supplier X" in activity.text) is sees, (who, activity.text)


def test_bad_items_are_refused_naming_the_field(client, team):
    project = _project(client, team)
    start = date.fromisoformat(project["start_date"])
    cases = [
        ("work-packages", {"code": "WP2", "title": "No one", "responsible": []}, "responsible"),
        ("work-packages", {"code": "WP2", "title": "Stranger", "responsible": [_ext(team, "Outsider")]},
         "responsible"),
        ("milestones", {"title": "Too early", "due_on": str(start - timedelta(days=1))}, "due_on"),
        ("milestones", {"title": "Whose?", "due_on": str(start), "owner_person": "nobody@example.org"},
         "owner_person"),
        ("results", {"title": "Alone", "owners": [_ext(team, "Lead")]}, "owners"),
        ("risks", {"title": "Scale", "likelihood": 9}, "likelihood"),
    ]
    for path, body, field in cases:
        refused = _add(client, team, project, path, body, status=422)
        assert refused["error"]["problems"][0]["field"] == field, (path, refused)
    # Nothing was half-written.
    view = client.get(f"/api/v1/joint-projects/{project['id']}", headers=team["h"]["lead"]).json()
    assert all(items == [] for items in view["items"].values())
    assert _add(client, team, project, "milestones", {"title": "x", "due_on": str(start)}, who="outsider",
                status=404)


def test_the_ip_register_follows_the_foreground_rule(client, team):
    project = _project(client, team, foreground_rule="assignment", assignee=_ext(team, "Lead"))
    assert "assign" in project["foreground_meaning"]
    background = _add(client, team, project, "background-ip", {
        "title": "Binder patent EP123", "terms": "royalty-free for the project only"}, who="partner")
    assert background["organisation"]["name"] == "Partner"
    result = _add(client, team, project, "results", {"title": "Coated paper prototype"}, who="partner")
    assert result["fields"]["owners"] == [_ext(team, "Lead")]
    refused = _add(client, team, project, "results", {"title": "Mine", "owners": [_ext(team, "Partner")]},
                   who="partner", status=422)
    assert refused["error"]["problems"][0]["field"] == "owners"
    no_assignee = client.post("/api/v1/joint-projects", headers=team["h"]["lead"], json={
        "organisation": _ext(team, "Lead"), "title": "T", "start_date": "2026-01-01",
        "foreground_rule": "assignment"})
    assert no_assignee.status_code == 422 and no_assignee.json()["error"]["problems"][0]["field"] == "assignee"
    assert client.get("/api/v1/joint-projects", headers=team["h"]["lead"]).json()[0]["id"] == project["id"]


def test_a_removed_party_loses_access_at_once(client, session, team):
    project = _project(client, team)
    url = f"/api/v1/joint-projects/{project['id']}"
    h = team["h"]
    client.post(f"{url}/people", json={"email": team["users"]["guest"].email, "organisation": _ext(team, "Partner")},
                headers=h["partner_admin"])
    assert client.delete(f"{url}/parties/{_ext(team, 'Partner')}", headers=h["partner"]).status_code == 403
    assert client.delete(f"{url}/parties/{_ext(team, 'Partner')}", headers=h["lead_admin"]).status_code == 204
    for who in ("partner", "partner_admin", "guest"):
        assert client.get(url, headers=h[who]).status_code == 404, who
    assert client.get(url, headers=h["advisor"]).status_code == 200
    # A party's own administrator may leave.
    assert client.delete(f"{url}/parties/{_ext(team, 'Advisor')}", headers=h["advisor"]).status_code == 403
    advisor_admin = bearer(session, make_user(session, team["orgs"]["Advisor"], role="admin"))
    session.commit()
    assert client.delete(f"{url}/parties/{_ext(team, 'Advisor')}", headers=advisor_admin).status_code == 204
    assert client.get(url, headers=h["advisor"]).status_code == 404
    assert [p["organisation"]["name"] for p in client.get(url, headers=h["lead"]).json()["parties"]] == ["Lead"]


def test_exit_criteria_raise_one_review_for_every_partys_admins(client, session, team):
    project = _project(client, team, exit_criteria=[
        {"kind": "milestone_late", "days": 7}, {"kind": "kpi_below", "kpi": "milestones_on_time", "threshold": 50},
        {"kind": "agreement_expiring", "days": 30}, {"kind": "inactive", "days": 60}])
    start = date.fromisoformat(project["start_date"])
    refused = client.put(f"/api/v1/joint-projects/{project['id']}/exit-criteria", headers=team["h"]["lead_admin"],
                         json={"exit_criteria": [{"kind": "kpi_below", "kpi": "milestones_on_time"}]})
    problem = refused.json()["error"]["problems"][0]
    assert refused.status_code == 422 and problem["field"] == "exit_criteria.0" and "kpi" in problem["message"]
    today = date.today()
    exits.check_all(session, today=today)
    session.commit()
    states = {c.kind: (c.state, c.evidence) for c in session.scalars(select(ExitCriterion))}
    assert states["milestone_late"][0] == "unknown" and "no milestone" in states["milestone_late"][1]
    assert states["kpi_below"][0] == "unknown" and "was due yet" in states["kpi_below"][1]
    assert states["agreement_expiring"][0] == "ok" and states["inactive"][0] == "ok"
    # A milestone slips: due ten days ago, still planned.
    _add(client, team, project, "milestones", {"title": "Pilot line running", "due_on": str(start + timedelta(days=5)),
                                               "owner": _ext(team, "Partner")})
    _add(client, team, project, "milestones", {"title": "Secret sample", "due_on": str(start + timedelta(days=6)),
                                               "audience": [_ext(team, "Lead")]})
    summary = exits.check_all(session, today=today)
    session.commit()
    assert summary == {"projects_checked": 1, "reviews_raised": 1}
    review = session.scalar(select(ProjectReview))
    assert "“Pilot line running”" in review.evidence and "Secret sample" not in review.evidence
    assert "milestones and deliverables done by their due date: 0 %" in review.evidence.casefold()
    told = {n.user_id for n in session.scalars(select(Notification).where(Notification.kind == "exit_review"))}
    assert told == {team["users"]["lead_admin"].id, team["users"]["partner_admin"].id}
    # Checked again the next day: the same review stays, nothing new.
    assert exits.check_all(session, today=today + timedelta(days=1))["reviews_raised"] == 0
    view = client.get(f"/api/v1/joint-projects/{project['id']}", headers=team["h"]["partner"]).json()
    assert view["review_open"] and not view["may_manage"]
    assert client.post(f"/api/v1/joint-projects/{project['id']}/review", json={"decision": "continue"},
                       headers=team["h"]["partner_admin"]).status_code == 403
    decided = client.post(f"/api/v1/joint-projects/{project['id']}/review",
                          json={"decision": "change", "note": "New pilot date agreed."},
                          headers=team["h"]["lead_admin"])
    assert decided.status_code == 200 and not decided.json()["review_open"]
    # The same cause is not raised again after the decision; a new one is.
    session.expire_all()
    assert exits.check_all(session, today=today + timedelta(days=2))["reviews_raised"] == 0


def test_closing_records_the_outcome_and_freezes_the_project(client, team):
    project = _project(client, team)
    url = f"/api/v1/joint-projects/{project['id']}"
    body = {"outcome": "partly", "results_summary": "A prototype.", "lessons": "Agree sample sizes early.\n\n"
            "Name one contact per party."}
    assert client.post(f"{url}/close", json=body, headers=team["h"]["lead"]).status_code == 403
    closed = client.post(f"{url}/close", json=body, headers=team["h"]["lead_admin"])
    assert closed.status_code == 200 and closed.json()["state"] == "closed" and closed.json()["outcome"] == "partly"
    late = _add(client, team, project, "risks", {"title": "Too late"}, status=409)
    assert "closed" in late["error"]["message"]
    assert client.post(f"{url}/close", json=body, headers=team["h"]["lead_admin"]).status_code == 409


def test_a_project_can_start_from_a_selected_idea_once(client, session, team):
    h = team["h"]
    challenge = client.post("/api/v1/challenges", headers=h["lead"], json={
        "organisation": _ext(team, "Lead"), "title": "Barrier coating", "problem": "PFAS-free barrier",
        "visibility": "partners", "shared_with": [_ext(team, "Partner")]}).json()
    client.patch(f"/api/v1/challenges/{challenge['id']}", json={"state": "open"}, headers=h["lead"])
    idea = client.post("/api/v1/ideas", headers=h["partner"], json={
        "challenge": challenge["id"], "title": "Chitosan layer", "description": "From shrimp shells.",
        "accept_terms": True}).json()
    body = {"organisation": _ext(team, "Lead"), "title": "Chitosan coating pilot", "start_date": str(date.today()),
            "idea": idea["id"]}
    early = client.post("/api/v1/joint-projects", json=body, headers=h["lead"])
    assert early.status_code == 422 and early.json()["error"]["problems"][0]["field"] == "idea"
    for stage in ("screening", "evaluation"):
        client.post(f"/api/v1/ideas/{idea['id']}/stage", json={"stage": stage}, headers=h["lead"])
    client.post(f"/api/v1/ideas/{idea['id']}/stage", json={"stage": "selected", "reason": "Cheapest"},
                headers=h["lead_admin"])
    made = client.post("/api/v1/joint-projects", json=body, headers=h["lead"])
    assert made.status_code == 201, made.text
    project = made.json()
    assert project["origin"] == "idea" and project["challenge"] == challenge["id"]
    assert project["evaluation"]["decision"] == "Selected" and project["evaluation"]["reason"] == "Cheapest"
    assert [p["organisation"]["name"] for p in project["parties"]] == ["Lead", "Partner"]
    assert [p["name"] for p in project["people"]] == ["Pekka Partner"]
    assert client.post("/api/v1/joint-projects", json=body, headers=h["lead"]).status_code == 409
    found = client.get(f"/api/v1/joint-projects?idea={idea['id']}", headers=h["partner"]).json()
    assert [p["id"] for p in found] == [project["id"]]


def test_a_project_from_a_recommendation_adds_the_partner(client, team):
    project = _project(client, team, parties=[], agreements=[], recommended_partner=_ext(team, "Advisor"))
    assert project["origin"] == "recommendation"
    assert [(p["organisation"]["name"], p["role"]) for p in project["parties"]] == [("Lead", "lead"),
                                                                                    ("Advisor", "partner")]


def test_the_daily_check_finds_an_idle_project(session, client, team):
    project = _project(client, team, exit_criteria=[{"kind": "inactive", "days": 30}])
    row = session.get(JointProject, project["id"])
    row.last_activity_at = datetime.now(UTC) - timedelta(days=45)
    session.commit()
    assert exits.check_all(session, today=date.today())["reviews_raised"] == 1
    assert "45 days ago" in session.scalar(select(ProjectReview.evidence))


def test_concurrent_writes_all_land_and_one_close_wins(live):  # noqa: F811
    """On a running server (SQLite and PostgreSQL): items added by both parties at once all
    land, a party added five times at once is added once, and of ten closes one wins."""
    lead_admin, partner_admin, *members = live.users
    with httpx.Client(base_url=live.url, timeout=60) as http:
        made = http.post("/api/v1/joint-projects", headers=live.token(lead_admin), json={
            "organisation": live.orgs[0], "title": "Race", "start_date": str(date.today()),
            "parties": [{"organisation": live.orgs[1]}]})
        assert made.status_code == 201, made.text
        base = f"/api/v1/joint-projects/{made.json()['id']}"
        writers = [live.token(u) for u in [partner_admin, *members[:9]]]
        calls = [lambda h=h, n=n: http.post(f"{base}/milestones", headers=h, json={
            "title": f"M{n}", "due_on": str(date.today() + timedelta(days=n))}) for n, h in enumerate(writers)]
        calls += [lambda h=h, n=n: http.post(f"{base}/risks", headers=h, json={"title": f"R{n}"})
                  for n, h in enumerate(writers)]
        admin = live.token(lead_admin)
        calls += [lambda: http.post(f"{base}/parties", headers=admin, json={"organisation": live.orgs[2]})] * 5
        answers = run_together(calls)
        assert sorted(a.status_code for a in answers) == [200] + [201] * 20 + [409] * 4, \
            [a.text[:200] for a in answers if a.status_code >= 500]
        view = http.get(base, headers=admin).json()
        assert len(view["items"]["milestone"]) == 10 and len(view["items"]["risk"]) == 10
        assert [p["organisation"]["external_id"] for p in view["parties"]] == live.orgs[:3]
        closes = run_together([lambda: http.post(f"{base}/close", headers=admin, json={"outcome": "partly"})] * 10)
        assert sorted(a.status_code for a in closes) == [200] + [409] * 9


def test_changing_the_project_keeps_its_milestones_inside_it(client, team):
    project = _project(client, team)
    _add(client, team, project, "milestones", {"title": "Kick-off", "due_on": project["start_date"]})
    url = f"/api/v1/joint-projects/{project['id']}"
    later = str(date.fromisoformat(project["start_date"]) + timedelta(days=5))
    refused = client.patch(url, json={"start_date": later}, headers=team["h"]["lead_admin"])
    assert refused.status_code == 422 and refused.json()["error"]["problems"][0]["field"] == "start_date"
    assert client.patch(url, json={"title": "Renamed"}, headers=team["h"]["lead"]).status_code == 403
    changed = client.patch(url, json={"title": "Renamed", "visibility": "network"}, headers=team["h"]["lead_admin"])
    assert changed.status_code == 200 and changed.json()["visibility"] == "network"
    assert client.get(url, headers=team["h"]["outsider"]).json()["title"] == "Renamed"
    assert client.get(url, headers=team["h"]["guest"]).status_code == 404  # guests are not network members


def test_the_cultural_briefing_compares_each_pair_of_countries_with_its_caveat(client, session, team):
    project = _project(client, team)  # Lead in Germany, Partner in Finland, Advisor in Portugal
    found = client.get(f"/api/v1/joint-projects/{project['id']}/briefing", headers=team["h"]["partner"]).json()
    assert found["countries"] == ["DE", "FI", "PT"] and found["missing"] == []
    pairs = {tuple(p["countries"]): p for p in found["pairs"]}
    assert set(pairs) == {("DE", "FI"), ("DE", "PT"), ("FI", "PT")}
    achievement = next(d for d in pairs["DE", "FI"]["dimensions"] if d["dimension"] == "mas")
    assert achievement["scores"] == {"DE": 66.0, "FI": 26.0} and achievement["higher"] == "DE"
    assert "how success is measured" in achievement["agree_on"]
    power = next(d for d in pairs["DE", "FI"]["dimensions"] if d["dimension"] == "pdi")
    assert power["agree_on"] is None  # 35 against 33: nothing to single out
    assert client.get(f"/api/v1/joint-projects/{project['id']}/briefing",
                      headers=team["h"]["outsider"]).status_code == 404
    from tests.factories import sign_in

    sign_in(client, session, team["users"]["advisor"])
    session.commit()
    page = client.get(f"/joint-projects/{project['id']}/briefing").text
    assert "national averages" in page and "never as a judgement of people" in page and "Portugal" in page


def test_a_guest_named_on_one_project_acts_for_nobody_on_another(client, team):
    h = team["h"]
    first, second = _project(client, team), _project(client, team, title="Second pilot", visibility="public")
    named = client.post(f"/api/v1/joint-projects/{first['id']}/people", headers=h["partner_admin"], json={
        "email": team["users"]["guest"].email, "organisation": _ext(team, "Partner")})
    assert named.status_code == 200, named.text
    _add(client, team, second, "decisions", {"title": "Price floor 4.20 EUR", "decided_on": str(date.today()),
                                             "audience": [_ext(team, "Partner")]})
    url = f"/api/v1/joint-projects/{second['id']}"
    assert client.get(url, headers=h["partner"]).json()["items"]["decision"] != []
    # The public project is readable, its item narrowed to the guest's organisation is not.
    seen = client.get(url, headers=h["guest"])
    assert seen.status_code == 200 and seen.json()["items"]["decision"] == []
    for path in (url, f"{url}/activity"):
        assert "Price floor" not in client.get(path, headers=h["guest"]).text, path


def test_a_linked_agreement_is_only_named_to_those_who_may_read_it(client, session, team):
    project = _project(client, team, visibility="public")
    h, ip = team["h"], team["ip"]
    url = f"/api/v1/joint-projects/{project['id']}"
    assert client.get(url, headers=h["partner"]).json()["agreements"][0]["title"] == "Pilot IP agreement"
    # The advisor (a party, not party to the agreement), outsiders and visitors learn only that one is linked.
    for who, headers in (("advisor", h["advisor"]), ("outsider", h["outsider"]), ("visitor", {})):
        assert client.get(f"/api/v1/agreements/{ip.id}", headers=headers).status_code in (401, 404), who
        for path in (url, f"{url}/health", f"{url}/activity"):
            answer = client.get(path, headers=headers)
            assert answer.status_code == 200, (who, path)
            assert "Pilot IP agreement" not in answer.text and "ip_agreement" not in answer.text, (who, path)
        linked = client.get(url, headers=headers).json()["agreements"]
        assert linked == [{"id": None, "kind": None, "title": None, "status": None, "start_date": None,
                           "end_date": None, "in_force": None, "readable": False}], who
    # Linking: an agreement of others reads exactly as one that does not exist.
    theirs = sharing.create_agreement(session, OPERATOR, data=AgreementIn(
        owner=team["orgs"]["Outsider"].external_id, parties=[team["orgs"]["Advisor"].external_id],
        kind="nda", title="Theirs", status="in_force"))
    session.commit()
    messages = []
    for agreement_id in (theirs.id, theirs.id + 1000):
        refused = client.put(f"{url}/agreements", json={"agreements": [agreement_id]}, headers=h["lead_admin"])
        assert refused.status_code == 422 and refused.json()["error"]["problems"][0]["field"] == "agreements"
        messages.append(refused.json()["error"]["problems"][0]["message"].replace(str(agreement_id), "N"))
    assert messages[0] == messages[1]
    # The exit check's evidence, read by every reader of the project, names no agreement.
    assert client.put(f"{url}/exit-criteria", headers=h["lead_admin"], json={"exit_criteria": [
        {"kind": "agreement_expiring", "days": 500}]}).status_code == 200
    exits.check_all(session, today=date.today())
    session.commit()
    evidence = session.scalar(select(ExitCriterion.evidence).where(ExitCriterion.project_id == project["id"]))
    assert evidence == "a linked agreement ends within 500 days", evidence
    for who, headers in (("advisor", h["advisor"]), ("visitor", {})):
        assert "Pilot IP agreement" not in client.get(url, headers=headers).text, who


def test_dates_beyond_2200_are_refused_naming_the_field_and_a_calendar_token_never_reaches_the_log(
        client, session, team, caplog):
    h = team["h"]
    body = {"organisation": _ext(team, "Lead"), "title": "Far future", "start_date": str(date.today()),
            "end_date": "9999-12-31"}
    refused = client.post("/api/v1/joint-projects", json=body, headers=h["lead"])
    assert refused.status_code == 422 and refused.json()["error"]["problems"][0]["field"] == "end_date", refused.text
    assert "2200" in refused.text
    project = _project(client, team)
    for path, item, field in (("milestones", {"title": "Late", "due_on": "9999-12-31"}, "due_on"),
                              ("work-packages", {"code": "WP9", "title": "Long", "responsible": [_ext(team, "Lead")],
                                                 "end_date": "9999-12-31"}, "end_date"),
                              ("decisions", {"title": "Old", "decided_on": "1066-10-14"}, "decided_on")):
        answer = _add(client, team, project, path, item, status=422)
        assert answer["error"]["problems"][0]["field"] == field, answer
    for period in ("9999", "9999Q4", "1899"):
        for path in ("kpis", "report"):
            answer = client.get(f"/api/v1/orgs/{_ext(team, 'Lead')}/{path}", params={"period": period},
                                headers=h["lead"])
            assert answer.status_code == 422 and answer.json()["error"]["problems"][0]["field"] == "period", (
                path, period, answer.text)
    # A milestone stored before the bound (as old data may be) breaks no calendar, and the
    # calendar's secret address stays out of the log whatever happens.
    token = projects.create_calendar_feed(session, accounts.viewer_of(
        session, user_id=team["users"]["lead"].id, today=date.today(), channel="page"))
    session.add(Milestone(project_id=project["id"], organisation_id=team["orgs"]["Lead"].id,
                          owner_id=team["orgs"]["Lead"].id, title="Year 9999", due_on=date(9999, 12, 31),
                          planned_on=date(9999, 12, 31)))
    session.commit()
    caplog.set_level(logging.DEBUG)
    feed = client.get(f"/calendar/{token}.ics")
    assert feed.status_code == 200 and "BEGIN:VCALENDAR" in feed.text
    assert not [r for r in caplog.records if r.name.startswith("innonet") and token in r.getMessage()]
    sign_in(client, session, team["users"]["lead"])
    session.commit()
    page = client.get(f"/joint-projects/{project['id']}")
    assert page.status_code == 200 and "Year 9999" in page.text


@pytest.mark.parametrize("days", [40, 300, 305, 700, 3000])
def test_the_time_line_writes_only_the_month_labels_that_fit(days):
    from innonet.projects.overview import LABEL_ROOM, PHONE_LABEL_ROOM

    start = date(2026, 10, 9)
    project = JointProject(start_date=start, end_date=start + timedelta(days=days))
    found = projects.timeline(project, work_packages=[], milestones=[], today=start)
    for flag, room in (("label", LABEL_ROOM), ("phone_label", PHONE_LABEL_ROOM)):
        written = [t.at for t in found.ticks if getattr(t, flag)]
        assert written, f"no {flag} on a {days}-day project"
        # Each label starts at its tick and runs right: it ends before the next one and the axis.
        assert all(b - a >= room for a, b in zip(written, written[1:])) and written[-1] <= 100 - room
    assert all(t.label for t in found.ticks if t.phone_label)
