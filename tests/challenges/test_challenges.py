"""Challenges and ideas through the API: who reads what, terms, support, ratings,
discussion, the stage-gate, merging and similar ideas."""

import json
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from innonet.accounts import service as accounts
from innonet.accounts.models import Notification
from innonet.challenges import service
from innonet.challenges.models import Assignment, Follow, Rating, Vote
from innonet.challenges.schemas import ChallengeIn, IdeaIn
from innonet.db import transaction
from innonet.roles import Viewer
from innonet.sharing import service as sharing
from innonet.sharing.schemas import AgreementIn
from tests.factories import OPERATOR, bearer, form_token, make_organisation, make_user, sign_in
from tests.test_concurrency import live, run_together  # noqa: F401 (fixture)


@pytest.fixture
def circle(session):
    """Owner poses challenges; Partner and Second are named partners; Outsider is none."""
    orgs = {n: make_organisation(session, name=n) for n in ("Owner", "Partner", "Second", "Outsider")}
    users = {"owner": make_user(session, orgs["Owner"], name="Olga Owner"),
             "admin": make_user(session, orgs["Owner"], role="admin", name="Ada Admin"),
             "partner": make_user(session, orgs["Partner"], name="Pia Partner"),
             "partner2": make_user(session, orgs["Partner"], name="Pat Partner"),
             "second": make_user(session, orgs["Second"], name="Sam Second"),
             "outsider": make_user(session, orgs["Outsider"], name="Otto Outsider")}
    headers = {k: bearer(session, u) for k, u in users.items()}
    session.commit()
    return {"orgs": orgs, "users": users, "h": headers}


def _challenge(client, circle, **changes):
    body = {"organisation": circle["orgs"]["Owner"].external_id, "title": "Lighter pallets",
            "problem": "Our wooden pallets are too heavy for **air freight**.",
            "sought": "Materials or designs", "cover_text": "We look for lighter pallets.",
            "tags": ["Logistics", "materials"], "visibility": "partners",
            "shared_with": [circle["orgs"]["Partner"].external_id, circle["orgs"]["Second"].external_id],
            "criteria": [{"name": "Feasibility"}, {"name": "Impact"}]} | changes
    made = client.post("/api/v1/challenges", json=body, headers=circle["h"]["owner"])
    assert made.status_code == 201, made.text
    opened = client.patch(f"/api/v1/challenges/{made.json()['id']}", json={"state": "open"},
                          headers=circle["h"]["owner"])
    assert opened.status_code == 200, opened.text
    return opened.json()


def _idea(client, circle, who, challenge, title="Carbon fibre pallet", description="A pallet of recycled carbon fibre.",
          **changes):
    body = {"challenge": challenge["id"], "title": title, "description": description,
            "accept_terms": True} | changes
    made = client.post("/api/v1/ideas", json=body, headers=circle["h"][who])
    assert made.status_code == 201, made.text
    return made.json()


def test_only_the_circle_reads_a_challenge_and_its_ideas(client, circle):
    challenge = _challenge(client, circle)
    assert challenge["tags"] == ["logistics", "materials"]
    idea = _idea(client, circle, "partner", challenge)
    h = circle["h"]
    for who in ("owner", "partner", "second"):
        assert client.get(f"/api/v1/challenges/{challenge['id']}", headers=h[who]).status_code == 200
        assert client.get(f"/api/v1/ideas/{idea['id']}", headers=h[who]).status_code == 200
        assert [i["id"] for i in client.get(f"/api/v1/ideas?challenge={challenge['id']}",
                                            headers=h[who]).json()] == [idea["id"]]
    # The third organisation sees none of it, on any route, nor in similar ideas.
    for url in (f"/api/v1/challenges/{challenge['id']}", f"/api/v1/ideas/{idea['id']}",
                f"/api/v1/ideas/{idea['id']}/comments", f"/api/v1/ideas/{idea['id']}/history",
                f"/api/v1/ideas?challenge={challenge['id']}"):
        assert client.get(url, headers=h["outsider"]).status_code == 404, url
        assert client.get(url).status_code in (401, 404), url
    assert client.get("/api/v1/challenges", headers=h["outsider"]).json() == []
    assert client.get("/api/v1/ideas", headers=h["outsider"]).json() == []
    similar = client.post("/api/v1/ideas/similar", json={"text": "carbon fibre pallet"}, headers=h["outsider"])
    assert similar.status_code == 200 and similar.json() == []
    assert client.put(f"/api/v1/ideas/{idea['id']}/support", headers=h["outsider"]).status_code == 404


def test_a_draft_is_for_the_owner_and_an_open_call_shows_its_cover_to_everyone(client, circle):
    h = circle["h"]
    draft = client.post("/api/v1/challenges", json={
        "organisation": circle["orgs"]["Owner"].external_id, "title": "Secret", "problem": "P",
        "visibility": "public"}, headers=h["owner"]).json()
    assert client.get(f"/api/v1/challenges/{draft['id']}", headers=h["partner"]).status_code == 404
    call = _challenge(client, circle, title="Open call", open_call=True, submissions="confidential",
                      shared_with=[circle["orgs"]["Partner"].external_id])
    cover = client.get(f"/api/v1/challenges/{call['id']}").json()
    assert cover["brief_visible"] is False and cover["problem"] is None
    assert cover["cover_text"] == "We look for lighter pallets." and cover["may_submit"] is False
    outsider_view = client.get(f"/api/v1/challenges/{call['id']}", headers=h["outsider"]).json()
    assert outsider_view["brief_visible"] is False and outsider_view["may_submit"] is True
    # Anyone with an account submits to an open call; confidential ideas stay with the owner
    # and their authors' organisation.
    idea = _idea(client, circle, "outsider", call)
    assert client.get(f"/api/v1/ideas/{idea['id']}", headers=h["owner"]).status_code == 200
    assert client.get(f"/api/v1/ideas/{idea['id']}", headers=h["partner"]).status_code == 404
    assert client.get(f"/api/v1/ideas?challenge={call['id']}", headers=h["partner"]).json() == []


def test_terms_must_be_accepted_in_their_current_version(client, session, circle):
    challenge = _challenge(client, circle, ip_terms="licence")
    h = circle["h"]
    assert challenge["terms"]["version"] == 1 and not challenge["terms"]["accepted"]
    body = {"challenge": challenge["id"], "title": "T", "description": "D"}
    refused = client.post("/api/v1/ideas", json=body, headers=h["partner"])
    assert refused.status_code == 422 and refused.json()["error"]["problems"][0]["field"] == "accept_terms"
    client.patch(f"/api/v1/challenges/{challenge['id']}", json={"ip_terms": "assignment"}, headers=h["owner"])
    stale = client.post("/api/v1/ideas", json=body | {"accept_terms": True, "terms_version": 1}, headers=h["partner"])
    assert stale.status_code == 409 and "version 2" in stale.json()["error"]["message"]
    assert client.post("/api/v1/ideas", json=body | {"accept_terms": True, "terms_version": 2},
                       headers=h["partner"]).status_code == 201
    again = client.get(f"/api/v1/challenges/{challenge['id']}", headers=h["partner"]).json()
    assert again["terms"] == again["terms"] | {"version": 2, "accepted": True, "ip_terms": "assignment"}


def test_closed_challenge_refuses_ideas(client, circle, clock):
    challenge = _challenge(client, circle, closes_on=str(date.today() + timedelta(days=3)))
    client.patch(f"/api/v1/challenges/{challenge['id']}", json={"state": "closed"}, headers=circle["h"]["owner"])
    late = client.post("/api/v1/ideas", json={"challenge": challenge["id"], "title": "T", "description": "D",
                                              "accept_terms": True}, headers=circle["h"]["partner"])
    assert late.status_code == 409 and "not open" in late.json()["error"]["message"]


def test_support_ratings_and_follow_count_once_per_person(client, session, circle):
    challenge = _challenge(client, circle)
    idea = _idea(client, circle, "partner", challenge)
    h, url = circle["h"], f"/api/v1/ideas/{idea['id']}"
    for _ in range(3):
        assert client.put(f"{url}/support", headers=h["second"]).status_code == 204
    assert client.get(url, headers=h["second"]).json()["supporters"] == 1
    assert client.delete(f"{url}/support", headers=h["second"]).status_code == 204
    assert client.get(url, headers=h["second"]).json()["supporters"] == 0
    criterion = challenge["criteria"][0]["id"]
    for value in (4, 2):
        rated = client.put(f"{url}/ratings", json={"criterion": criterion, "value": value}, headers=h["second"])
        assert rated.status_code == 204
    view = client.get(url, headers=h["second"]).json()
    assert view["ratings"]["Feasibility"] == 2 and view["your_ratings"] == {"Feasibility": 2}
    out_of_scale = client.put(f"{url}/ratings", json={"criterion": criterion, "value": 6}, headers=h["second"])
    assert out_of_scale.status_code == 422 and out_of_scale.json()["error"]["problems"][0]["field"] == "value"
    assert "1 to 5" in out_of_scale.json()["error"]["message"]
    wrong = client.put(f"{url}/ratings", json={"criterion": 999999, "value": 3}, headers=h["second"])
    assert wrong.status_code == 422 and wrong.json()["error"]["problems"][0]["field"] == "criterion"
    assert session.scalar(select(func.count()).select_from(Rating)) == 1


def test_comments_thread_mention_and_tell_followers(client, session, circle):
    challenge = _challenge(client, circle)
    idea = _idea(client, circle, "partner", challenge)
    h, users = circle["h"], circle["users"]
    first = client.post(f"/api/v1/ideas/{idea['id']}/comments", headers=h["second"], json={
        "body": f"Ask @{users['owner'].email} and @{users['outsider'].email} about weight."})
    assert first.status_code == 201, first.text
    answer = client.post(f"/api/v1/ideas/{idea['id']}/comments", headers=h["owner"],
                         json={"body": "About 40 % lighter.", "parent": first.json()["id"]})
    assert answer.json()["parent"] == first.json()["id"]
    edited = client.patch(f"/api/v1/comments/{answer.json()['id']}", headers=h["owner"],
                          json={"body": "About 45 % lighter."})
    assert edited.json()["edited_at"] is not None
    assert client.patch(f"/api/v1/comments/{answer.json()['id']}", headers=h["second"],
                        json={"body": "x"}).status_code == 403
    too_long = client.post(f"/api/v1/ideas/{idea['id']}/comments", headers=h["owner"], json={"body": "x" * 5001})
    assert too_long.status_code == 422 and "5,000" in too_long.text
    assert too_long.json()["error"]["problems"][0]["field"] == "body"
    told = {(n.user_id, n.kind) for n in session.scalars(select(Notification).where(Notification.user_id.is_not(None)))}
    # The owner was mentioned; the outsider may not read the idea, so is not told; the
    # author follows their idea and hears of both comments.
    assert (users["owner"].id, "mention") in told
    assert not any(u == users["outsider"].id for u, _ in told)
    assert (users["partner"].id, "comment") in told
    assert [c["body"] for c in client.get(f"/api/v1/ideas/{idea['id']}/comments", headers=h["partner"]).json()] == [
        first.json()["body"], "About 45 % lighter."]


def test_the_workflow_allows_only_its_moves_and_decisions_need_a_gatekeeper_and_reason(client, session, circle):
    challenge = _challenge(client, circle)
    idea = _idea(client, circle, "partner", challenge)
    h, url = circle["h"], f"/api/v1/ideas/{idea['id']}/stage"
    jump = client.post(url, json={"stage": "selected"}, headers=h["owner"])
    assert jump.status_code == 409 and "'screening'" in jump.json()["error"]["message"]
    unknown = client.post(url, json={"stage": "heaven"}, headers=h["owner"])
    assert unknown.status_code == 422 and unknown.json()["error"]["problems"][0]["field"] == "stage"
    assert client.post(url, json={"stage": "screening"}, headers=h["partner"]).status_code == 403
    assert client.post(url, json={"stage": "screening"}, headers=h["owner"]).json()["stage"] == "screening"
    assert client.post(url, json={"stage": "evaluation"}, headers=h["owner"]).status_code == 200
    assert client.post(url, json={"stage": "selected", "reason": "Best"}, headers=h["owner"]).status_code == 403
    no_reason = client.post(url, json={"stage": "selected"}, headers=h["admin"])
    assert no_reason.status_code == 422 and no_reason.json()["error"]["problems"][0]["field"] == "reason"
    decided = client.post(url, json={"stage": "selected", "reason": "Lightest and cheapest."}, headers=h["admin"])
    assert decided.status_code == 200 and decided.json()["stage_name"] == "Selected"
    events = client.get(f"/api/v1/ideas/{idea['id']}/history", headers=h["partner"]).json()
    assert [e["kind"] for e in events] == ["submitted", "stage", "stage", "decision"]
    assert events[-1]["reason"] == "Lightest and cheapest." and events[-1]["who"] == "Ada Admin"
    decision = session.scalar(select(Notification).where(Notification.user_id == circle["users"]["partner"].id,
                                                         Notification.kind == "decision"))
    assert "Lightest and cheapest." in decision.message


def test_merging_moves_support_ratings_comments_and_authors_without_double_counting(client, session, circle):
    challenge = _challenge(client, circle)
    h = circle["h"]
    keep = _idea(client, circle, "partner", challenge)
    dup = _idea(client, circle, "second", challenge, title="Pallet of carbon fibre")
    criterion = challenge["criteria"][0]["id"]
    for who in ("owner", "partner2"):  # partner2 supports and rates both
        client.put(f"/api/v1/ideas/{dup['id']}/support", headers=h[who])
        client.put(f"/api/v1/ideas/{dup['id']}/ratings", json={"criterion": criterion, "value": 5}, headers=h[who])
    client.put(f"/api/v1/ideas/{keep['id']}/support", headers=h["partner2"])
    client.put(f"/api/v1/ideas/{keep['id']}/ratings", json={"criterion": criterion, "value": 1}, headers=h["partner2"])
    client.post(f"/api/v1/ideas/{dup['id']}/comments", json={"body": "Same as the other?"}, headers=h["owner"])
    assert client.post(f"/api/v1/ideas/{keep['id']}/merge", json={"duplicate": dup["id"]},
                       headers=h["partner"]).status_code == 403
    merged = client.post(f"/api/v1/ideas/{keep['id']}/merge", json={"duplicate": dup["id"], "reason": "Same idea"},
                         headers=h["owner"])
    assert merged.status_code == 200, merged.text
    view = merged.json()
    assert view["supporters"] == 2 and view["comments"] == 1
    assert view["ratings"]["Feasibility"] == 3  # owner's 5 moved; partner2 keeps the 1 given here
    assert {a["name"] for a in view["authors"]} == {"Pia Partner", "Sam Second"}
    assert session.scalar(select(func.count()).select_from(Vote).where(Vote.idea_id == dup["id"])) == 0
    assert session.scalar(select(func.count()).select_from(Follow).where(Follow.idea_id == keep["id"])) >= 2
    gone = client.get(f"/api/v1/ideas/{dup['id']}", headers=h["second"]).json()
    assert gone["merged_into"] == keep["id"]
    assert client.put(f"/api/v1/ideas/{dup['id']}/support", headers=h["second"]).status_code == 409
    listed = client.get(f"/api/v1/ideas?challenge={challenge['id']}", headers=h["owner"]).json()
    assert [i["id"] for i in listed] == [keep["id"]]
    again = client.post(f"/api/v1/ideas/{keep['id']}/merge", json={"duplicate": dup["id"]}, headers=h["owner"])
    assert again.status_code == 409


def test_similar_ideas_come_from_what_the_author_may_read(client, session, circle):
    public = _challenge(client, circle, visibility="network", shared_with=[], title="Network")
    private = _challenge(client, circle, visibility="private", shared_with=[], title="Ours only")
    _idea(client, circle, "partner", public, title="Lightweight pallet from recycled carbon fibre",
          description="Pallets made of recycled carbon fibre weigh much less than wooden pallets.")
    _idea(client, circle, "partner", public, title="Staff canteen menu", description="More vegetarian dishes.")
    _idea(client, circle, "owner", private, title="Carbon fibre pallets for air freight",
          description="Pallets made of recycled carbon fibre.")
    found = client.post("/api/v1/ideas/similar", json={"text": "A pallet of recycled carbon fibre"},
                        headers=circle["h"]["second"]).json()
    assert [f["title"] for f in found] == ["Lightweight pallet from recycled carbon fibre"]
    both = client.post("/api/v1/ideas/similar", json={"text": "A pallet of recycled carbon fibre"},
                       headers=circle["h"]["owner"]).json()
    assert {f["title"] for f in both} == {"Lightweight pallet from recycled carbon fibre",
                                          "Carbon fibre pallets for air freight"}
    assert all(0 < f["similarity"] <= 1 for f in both)


def test_an_agreement_gates_the_brief_and_invitations_add_partners(client, session, circle):
    owner, partner, second = (circle["orgs"][n] for n in ("Owner", "Partner", "Second"))
    nda = sharing.create_agreement(session, OPERATOR, data=AgreementIn(
        owner=owner.external_id, parties=[partner.external_id], kind="nda", title="Pallet NDA", status="draft"))
    session.commit()
    challenge = _challenge(client, circle, shared_with=[partner.external_id], agreement=nda.id)
    h = circle["h"]
    assert client.get(f"/api/v1/challenges/{challenge['id']}", headers=h["partner"]).status_code == 404
    nda.status = "in_force"
    session.commit()
    assert client.get(f"/api/v1/challenges/{challenge['id']}", headers=h["partner"]).json()["brief_visible"]
    # Inviting an organisation that is not party to the NDA is refused with the reason.
    refused = client.post(f"/api/v1/challenges/{challenge['id']}/invitations",
                          json={"organisations": [second.external_id]}, headers=h["owner"])
    assert refused.status_code == 422 and "parties" in refused.text
    session.execute(sharing.AgreementParty.__table__.insert().values(agreement_id=nda.id, organisation_id=second.id))
    session.commit()
    invited = client.post(f"/api/v1/challenges/{challenge['id']}/invitations",
                          json={"organisations": [second.external_id]}, headers=h["owner"])
    assert invited.status_code == 200 and [o["name"] for o in invited.json()] == ["Second"]
    assert client.get(f"/api/v1/challenges/{challenge['id']}", headers=h["second"]).status_code == 200
    told = session.scalar(select(Notification).where(Notification.organisation_id == second.id,
                                                     Notification.kind == "challenge_invitation"))
    # The NDA is in force already: the invitation promises no wait for the details.
    assert "Lighter pallets" in told.message and "once the agreement is in force" not in told.message


def test_markdown_is_rendered_inert(client, circle):
    challenge = _challenge(client, circle)
    hostile = ("<script>alert(1)</script> [click](javascript:alert(2)) <iframe src='x'></iframe> "
               "![img](http://evil.example/x.png)")
    idea = _idea(client, circle, "partner", challenge, description=hostile)
    from innonet.text import markdown_html
    html = str(markdown_html(idea["description"]))
    assert "<script>" not in html and "<iframe" not in html and 'href="javascript' not in html
    assert "<img" not in html and "&lt;script&gt;" in html


def test_fifty_votes_of_one_person_at_once_end_as_one_vote(live):  # noqa: F811
    """A vote race on a running server (SQLite and PostgreSQL): one vote, no error."""
    with transaction(live.sessions) as session:
        user = accounts.get_user(session, email=live.users[2])
        org = next(iter(accounts.roles_of(session, user_id=user.id)))
        viewer = Viewer(today=date.today(), user_id=user.id, email=user.email, roles={org: "member"}, can_write=True)
        owner_external = live.orgs[0]
        challenge = service.create_challenge(session, viewer, data=ChallengeIn(
            organisation=owner_external, title="Race", problem="P"))
        challenge.state = "open"
        idea = service.submit_idea(session, viewer, data=IdeaIn(challenge=challenge.id, title="I", description="D",
                                                                accept_terms=True))
        idea_id = idea.id
    headers = live.token(live.users[3])
    with httpx.Client(base_url=live.url, timeout=60) as http:
        answers = run_together([lambda: http.put(f"/api/v1/ideas/{idea_id}/support", headers=headers)] * 50)
    assert [a.status_code for a in answers] == [204] * 50
    with transaction(live.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Vote).where(Vote.idea_id == idea_id)) == 1


def test_the_command_line_exports_a_challenges_ideas_as_csv_and_json(fresh_sessions, database_url):
    from tests.test_cli import run

    with transaction(fresh_sessions) as fresh:
        owner = make_organisation(fresh, name="Exporter")
        author = make_user(fresh, owner, name="Eva Exporter")
        writer = accounts.viewer_of(fresh, user_id=author.id, today=date.today(), channel="api")
        challenge = service.create_challenge(fresh, writer, data=ChallengeIn(
            organisation=owner.external_id, title="Export me", problem="P", criteria=[{"name": "Impact"}]))
        challenge.state = "open"
        idea = service.submit_idea(fresh, writer, data=IdeaIn(challenge=challenge.id, title="=cmd|' /C calc'!A0",
                                                              description="D", accept_terms=True))
        service.rate(fresh, writer, idea_id=idea.id, criterion_id=service.criteria_of(
            fresh, challenge_ids=[challenge.id])[challenge.id][0].id, value=4)
        challenge_id = challenge.id
    lines = run(database_url, "challenges", "export", challenge_id).stdout.splitlines()
    assert lines[0].endswith(",rating: Impact")
    # A cell a spreadsheet would run as a formula is written as text.
    assert lines[1].startswith(f"{idea.id},'=cmd") and "Eva Exporter" in lines[1] and lines[1].endswith(",4.0")
    document = json.loads(run(database_url, "challenges", "export", challenge_id, "--format", "json").stdout)
    assert document["challenge"]["title"] == "Export me" and document["ideas"][0]["rating: Impact"] == 4.0
    missing = run(database_url, "challenges", "export", 999999, ok=False)
    assert missing.exit_code == 1 and "No challenge with id 999999" in missing.output


def test_evaluators_score_blind_what_they_are_assigned_and_a_named_gatekeeper_decides(client, session, circle):
    users, h = circle["users"], circle["h"]
    challenge = _challenge(client, circle, blind=True, submissions="confidential", criteria=[
        {"name": "Impact"}, {"name": "Feasibility", "stage": "evaluation", "weight": 3, "scale": 5},
        {"name": "Fit", "stage": "evaluation", "weight": 1, "scale": 10}])
    url = f"/api/v1/challenges/{challenge['id']}"
    ideas = [_idea(client, circle, "partner", challenge, title=f"Idea {n}") for n in range(3)]
    # The team: a partner's second person, Second's member and the owner's admin evaluate;
    # Second decides too. Under blind evaluation nobody scores their own organisation's ideas.
    refused = client.put(f"{url}/team", headers=h["owner"], json={"evaluators": {"evaluation": [
        users["outsider"].email]}})
    assert refused.status_code == 422 and refused.json()["error"]["problems"][0]["field"] == "evaluators.evaluation"
    team = client.put(f"{url}/team", headers=h["owner"], json={
        "gatekeepers": [users["second"].email],
        "evaluators": {"evaluation": [users["partner2"].email, users["second"].email, users["admin"].email]}})
    assert team.status_code == 200 and [p["name"] for p in team.json()["evaluators"]["evaluation"]] == [
        "Pat Partner", "Sam Second", "Ada Admin"]
    assert client.put(f"{url}/team", headers=h["partner"], json={}).status_code == 403
    for idea in ideas[:2]:
        for stage in ("screening", "evaluation"):
            client.post(f"/api/v1/ideas/{idea['id']}/stage", json={"stage": stage}, headers=h["owner"])
    # Partner's colleague is left out of its own organisation's two ideas.
    assert client.post(f"{url}/assignments", json={"stage": "evaluation"}, headers=h["owner"]).json() == {
        "assigned": 4, "left_out": 2}
    assert client.post(f"{url}/assignments", json={"stage": "evaluation"}, headers=h["owner"]).json() == {
        "assigned": 0, "left_out": 2}
    told = session.scalars(select(Notification.message).where(Notification.user_id == users["second"].id,
                                                              Notification.kind == "evaluation")).all()
    assert told == ["2 ideas of “Lighter pallets” await your evaluation (Evaluation)."]
    # Second reads the confidential ideas it is assigned, not the third, and not who wrote them.
    assert client.get(f"/api/v1/ideas/{ideas[2]['id']}", headers=h["second"]).status_code == 404
    seen = client.get(f"/api/v1/ideas/{ideas[0]['id']}", headers=h["second"]).json()
    assert seen["authors"] is not None  # Second is a gatekeeper too: gatekeepers know the authors
    blind = client.get(f"/api/v1/ideas/{ideas[0]['id']}", headers=h["partner2"])
    # partner2 is a colleague of the author: reads the idea as its organisation's, yet blind.
    assert blind.json()["authors"] is None
    assert all(e["who"] is None for e in client.get(f"/api/v1/ideas/{ideas[0]['id']}/history",
                                                     headers=h["partner2"]).json() if e["kind"] == "submitted")
    criteria = {c["name"]: c["id"] for c in challenge["criteria"]}
    # Scorecard criteria are for the assigned evaluators only.
    assert client.put(f"/api/v1/ideas/{ideas[0]['id']}/ratings", headers=h["partner"],
                      json={"criterion": criteria["Fit"], "value": 5}).status_code == 403
    assert client.put(f"/api/v1/ideas/{ideas[0]['id']}/ratings", headers=h["partner2"],
                      json={"criterion": criteria["Fit"], "value": 5}).status_code == 403
    scores = {("admin", 0): (5, 10), ("second", 0): (2, 1), ("admin", 1): (3, 4)}
    for (who, n), (feasibility, fit) in scores.items():
        for name, value in (("Feasibility", feasibility), ("Fit", fit)):
            answer = client.put(f"/api/v1/ideas/{ideas[n]['id']}/ratings", headers=h[who],
                                json={"criterion": criteria[name], "value": value})
            assert answer.status_code == 204, answer.text
    out_of_scale = client.put(f"/api/v1/ideas/{ideas[0]['id']}/ratings", headers=h["second"],
                              json={"criterion": criteria["Fit"], "value": 11})
    assert out_of_scale.status_code == 422 and "1 to 10" in out_of_scale.text
    board = client.get(f"{url}/evaluation?stage=evaluation", headers=h["owner"]).json()
    ranked = {i["id"]: i for i in board["ideas"]}
    # admin on idea 0: (3·4/4 + 1·9/9)/4 = 100; second: (3·1/4 + 0)/4 = 18.75 → 18.8
    first = ranked[ideas[0]["id"]]
    assert (first["scored"], first["score"], first["spread"]) == (2, 59.4, 81.2)
    second = ranked[ideas[1]["id"]]  # (3·2/4 + 3/9)/4 = 45.8, one evaluator so far
    assert (second["scored"], second["assigned"], second["score"], second["spread"]) == (1, 2, 45.8, None)
    assert [i["id"] for i in board["ideas"]] == [ideas[0]["id"], ideas[1]["id"]]
    assert client.get(f"{url}/evaluation", headers=h["partner2"]).json()["ideas"] == []
    assert client.get(f"{url}/evaluation", headers=h["partner"]).status_code == 403
    # The named gatekeeper decides.
    decided = client.post(f"/api/v1/ideas/{ideas[0]['id']}/stage", headers=h["second"],
                          json={"stage": "selected", "reason": "Highest score."})
    assert decided.status_code == 200 and decided.json()["stage"] == "selected"


def test_concurrent_comments_ratings_follows_and_a_merge_during_votes_lose_nothing(live):  # noqa: F811
    """Every write path of ideas at once on a running server (SQLite and PostgreSQL): no
    error, nothing lost, nothing counted twice."""
    with transaction(live.sessions) as session:
        user = accounts.get_user(session, email=live.users[2])
        viewer = accounts.viewer_of(session, user_id=user.id, today=date.today(), channel="api")
        challenge = service.create_challenge(session, viewer, data=ChallengeIn(
            organisation=live.orgs[0], title="Race", problem="P", criteria=[{"name": "Impact"}]))
        challenge.state = "open"
        keep, dup = (service.submit_idea(session, viewer, data=IdeaIn(
            challenge=challenge.id, title=t, description="D", accept_terms=True)) for t in ("Keep", "Duplicate"))
        ids = keep.id, dup.id
        criterion = service.criteria_of(session, challenge_ids=[challenge.id])[challenge.id][0].id
    keep_id, dup_id = ids
    tokens = [live.token(email) for email in live.users[2:12]]
    with httpx.Client(base_url=live.url, timeout=60) as http:
        calls = [lambda n=n: http.post(f"/api/v1/ideas/{keep_id}/comments", headers=tokens[n % 2],
                                       json={"body": f"Comment {n}"}) for n in range(20)]
        calls += [lambda n=n: http.put(f"/api/v1/ideas/{keep_id}/ratings", headers=tokens[2],
                                       json={"criterion": criterion, "value": 1 + n % 5}) for n in range(10)]
        calls += [lambda: http.put(f"/api/v1/ideas/{keep_id}/follow", headers=tokens[3])] * 10
        answers = run_together(calls)
        assert sorted({a.status_code for a in answers}) == [201, 204]
        # Nine people support the duplicate while it is merged into the other idea.
        votes = [lambda t=t: http.put(f"/api/v1/ideas/{dup_id}/support", headers=t) for t in tokens[1:]]
        merge = [lambda: http.post(f"/api/v1/ideas/{keep_id}/merge", headers=tokens[0], json={"duplicate": dup_id})]
        raced = run_together(votes + merge)
        assert raced[-1].status_code == 200, raced[-1].text
        assert {a.status_code for a in raced[:-1]} <= {204, 409}  # before the merge, or told it went
        cast = sum(a.status_code == 204 for a in raced[:-1])
        view = http.get(f"/api/v1/ideas/{keep_id}", headers=tokens[0]).json()
    with transaction(live.sessions, writes=False) as session:
        from innonet.challenges.models import Comment, Follow, Idea

        count = {model.__name__: session.scalar(select(func.count()).select_from(model).where(
            model.idea_id == keep_id)) for model in (Comment, Rating, Vote)}
        follower = accounts.get_user(session, email=live.users[5])  # the one of tokens[3]
        follows = session.scalar(select(func.count()).select_from(Follow).where(
            Follow.idea_id == keep_id, Follow.user_id == follower.id))
        stored = session.get(Idea, keep_id)
        assert (stored.supporters, stored.comments) == (count["Vote"], count["Comment"])
    assert count == {"Comment": 20, "Rating": 1, "Vote": cast}
    assert view["supporters"] == cast and view["comments"] == 20
    assert follows == 1


def test_similar_ideas_follow_an_edited_text(client, circle):
    challenge = _challenge(client, circle, visibility="network", shared_with=[])
    idea = _idea(client, circle, "partner", challenge, title="Staff canteen menu", description="Vegetarian dishes.")
    ask = {"text": "pallets of recycled carbon fibre", "challenge": challenge["id"]}
    assert client.post("/api/v1/ideas/similar", json=ask, headers=circle["h"]["second"]).json() == []
    client.patch(f"/api/v1/ideas/{idea['id']}", headers=circle["h"]["partner"],
                 json={"title": "Pallets of recycled carbon fibre", "description": "Lighter than wood."})
    found = client.post("/api/v1/ideas/similar", json=ask, headers=circle["h"]["second"]).json()
    assert [f["id"] for f in found] == [idea["id"]]
    assert client.get(f"/api/v1/ideas/{idea['id']}", headers=circle["h"]["second"]).json()["edited_at"]


def test_the_challenge_page_filters_ideas_by_stage_and_pages_them(client, session, circle):
    from tests.factories import sign_in

    challenge = _challenge(client, circle)
    ideas = [_idea(client, circle, "partner", challenge, title=f"Idea number {n}") for n in range(3)]
    client.post(f"/api/v1/ideas/{ideas[1]['id']}/stage", headers=circle["h"]["owner"], json={"stage": "screening"})
    sign_in(client, session, circle["users"]["second"])
    session.commit()
    page = client.get(f"/challenges/{challenge['id']}?stage=screening&order=supported").text
    assert "Idea number 1" in page and "Idea number 0" not in page and "Idea number 2" not in page
    everything = client.get(f"/challenges/{challenge['id']}?stage=nonsense&page=abc").text
    assert all(f"Idea number {n}" in everything for n in range(3))


def test_an_administrator_deletes_a_challenge_with_its_ideas_from_its_page(client, session, circle):
    from tests.factories import form_token, sign_in

    challenge = _challenge(client, circle)
    idea = _idea(client, circle, "partner", challenge)
    token = sign_in(client, session, circle["users"]["owner"])
    session.commit()
    assert "Delete this challenge" not in client.get(f"/challenges/{challenge['id']}").text
    refused = client.post(f"/challenges/{challenge['id']}/delete", data={"csrf_token": token}, follow_redirects=False)
    assert refused.status_code == 403
    client.cookies.clear()
    token = sign_in(client, session, circle["users"]["admin"])
    session.commit()
    assert "Delete this challenge" in client.get(f"/challenges/{challenge['id']}").text
    deleted = client.post(f"/challenges/{challenge['id']}/delete", data={"csrf_token": form_token(client)},
                          follow_redirects=False)
    assert deleted.status_code == 303 and deleted.headers["location"] == "/challenges"
    assert client.get(f"/api/v1/ideas/{idea['id']}", headers=circle["h"]["owner"]).status_code == 404


def _blind_evaluation(client, circle, **changes):
    """A blind, confidential challenge; Sam Second evaluates the ideas in 'evaluation', Pia wrote one."""
    users, h = circle["users"], circle["h"]
    challenge = _challenge(client, circle, blind=True, submissions="confidential", criteria=[
        {"name": "Feasibility", "stage": "evaluation"}], **changes)
    idea = _idea(client, circle, "partner", challenge, title="Pallet of flax")
    url = f"/api/v1/challenges/{challenge['id']}"
    assert client.put(f"{url}/team", headers=h["owner"], json={
        "evaluators": {"evaluation": [users["second"].email]}}).status_code == 200
    for stage in ("screening", "evaluation"):
        assert client.post(f"/api/v1/ideas/{idea['id']}/stage", json={"stage": stage}, headers=h["owner"]).status_code == 200
    assert client.post(f"{url}/assignments", json={"stage": "evaluation"}, headers=h["owner"]).json() == {"assigned": 1, "left_out": 0}
    return challenge, idea


def test_blind_evaluation_never_names_an_author_to_an_evaluator(client, session, circle):
    users, h = circle["users"], circle["h"]
    challenge, idea = _blind_evaluation(client, circle)
    evaluator = users["second"]
    assert client.put(f"/api/v1/ideas/{idea['id']}/follow", headers=h["second"]).status_code == 204
    edited = client.patch(f"/api/v1/ideas/{idea['id']}", json={"title": "Pallet of flax fibre"}, headers=h["partner"])
    assert edited.status_code == 200, edited.text
    comment = client.post(f"/api/v1/ideas/{idea['id']}/comments", headers=h["partner"],
                          json={"body": f"@{evaluator.email} see the flax data"})
    assert comment.status_code == 201, comment.text
    assert client.post(f"/api/v1/ideas/{idea['id']}/comments", headers=h["partner"],
                       json={"body": "Another note"}).status_code == 201
    author, organisation = users["partner"], circle["orgs"]["Partner"]
    secrets = (author.name, author.email, organisation.name, organisation.external_id)
    for path in (f"/api/v1/ideas/{idea['id']}", f"/api/v1/ideas/{idea['id']}/history",
                 f"/api/v1/ideas/{idea['id']}/comments", f"/api/v1/challenges/{challenge['id']}/evaluation"):
        answer = client.get(path, headers=h["second"])
        assert answer.status_code == 200, (path, answer.text)
        assert not [s for s in secrets if s in answer.text], (path, answer.text)
    sign_in(client, session, evaluator)
    session.commit()
    for path in (f"/ideas/{idea['id']}", "/inbox", f"/challenges/{challenge['id']}/evaluation?stage=evaluation"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert not [s for s in secrets if s in page.text], path
    client.cookies.clear()
    told = session.scalars(select(Notification.message).where(Notification.user_id == evaluator.id)
                           .order_by(Notification.id)).all()
    assert "An author mentioned you on the idea “Pallet of flax fibre”." in told
    assert "An author commented on “Pallet of flax fibre”." in told
    # The owner's team, who may know the authors, read them.
    history = client.get(f"/api/v1/ideas/{idea['id']}/history", headers=h["owner"]).json()
    assert any(e["who"] == author.name for e in history if e["kind"] == "edited")


@pytest.mark.parametrize("withdrawn", ["removed from the team", "NDA terminated"])
def test_an_evaluators_access_ends_with_their_place_on_the_team_or_the_agreement(client, session, circle, withdrawn):
    users, h = circle["users"], circle["h"]
    owner, partner, second = (circle["orgs"][n] for n in ("Owner", "Partner", "Second"))
    nda = sharing.create_agreement(session, OPERATOR, data=AgreementIn(
        owner=owner.external_id, parties=[partner.external_id, second.external_id], kind="nda",
        title="Pallet NDA", status="in_force"))
    session.commit()
    challenge, idea = _blind_evaluation(client, circle, agreement=nda.id)
    criterion = challenge["criteria"][0]["id"]
    url = f"/api/v1/ideas/{idea['id']}"
    assert client.get(url, headers=h["second"]).status_code == 200
    if withdrawn == "NDA terminated":
        assert client.patch(f"/api/v1/agreements/{nda.id}", json={"status": "terminated"},
                            headers=bearer(session, make_user(session, owner, role="admin"))).status_code == 200
    else:
        assert client.put(f"/api/v1/challenges/{challenge['id']}/team", headers=h["owner"],
                          json={"evaluators": {}}).status_code == 200
    for method, path, body in (("GET", url, None), ("PUT", f"{url}/ratings", {"criterion": criterion, "value": 5}),
                               ("POST", f"{url}/comments", {"body": "Still here"}), ("PUT", f"{url}/support", None),
                               ("GET", f"/api/v1/challenges/{challenge['id']}/evaluation", None)):
        answer = client.request(method, path, json=body, headers=h["second"])
        assert answer.status_code in (403, 404), (withdrawn, method, path, answer.status_code)
        assert "Pallet of flax" not in answer.text
    assert session.scalar(select(func.count()).select_from(Rating)) == 0


def test_nobody_evaluates_an_idea_they_wrote(client, session, circle):
    """A co-author on the evaluator team is never assigned the idea, cannot score it, and an
    assignment made before counts for nothing; the ranking says when fewer than two
    independent scores stand behind an idea."""
    users, h = circle["users"], circle["h"]
    challenge = _challenge(client, circle, criteria=[{"name": "Feasibility", "stage": "evaluation"}])
    url = f"/api/v1/challenges/{challenge['id']}"
    # Second is asked to co-write Partner's idea (not yet confirmed: a conflict all the same).
    idea = _idea(client, circle, "partner", challenge, co_authors=[users["second"].email])
    for stage in ("screening", "evaluation"):
        client.post(f"/api/v1/ideas/{idea['id']}/stage", json={"stage": stage}, headers=h["owner"])
    client.put(f"{url}/team", headers=h["owner"], json={"evaluators": {"evaluation": [
        users["second"].email, users["admin"].email]}})
    made = client.post(f"{url}/assignments", json={"stage": "evaluation"}, headers=h["owner"])
    assert made.json() == {"assigned": 1, "left_out": 1}
    assert session.scalars(select(Assignment.user_id).where(Assignment.idea_id == idea["id"])).all() == [
        users["admin"].id]
    feasibility = challenge["criteria"][0]["id"]
    refused = client.put(f"/api/v1/ideas/{idea['id']}/ratings", headers=h["second"],
                         json={"criterion": feasibility, "value": 5})
    assert refused.status_code == 403 and "you wrote it" in refused.json()["error"]["message"]
    # An assignment made before the rule (or before Second was asked) counts for nothing.
    session.add(Assignment(idea_id=idea["id"], stage="evaluation", user_id=users["second"].id,
                           assigned_at=datetime.now(UTC)))
    session.commit()
    board = client.get(f"{url}/evaluation?stage=evaluation", headers=h["owner"]).json()
    assert [(i["assigned"], i["scored"]) for i in board["ideas"]] == [(1, 0)]
    sign_in(client, session, users["owner"])
    session.commit()
    page = client.get(f"/challenges/{challenge['id']}/evaluation?stage=evaluation")
    assert "fewer than two independent scores" in page.text
    flash = client.post(f"/challenges/{challenge['id']}/assignments?stage=evaluation",
                        data={"csrf_token": form_token(client)}, follow_redirects=False)
    assert "1 idea and evaluator pair left out for a conflict of interest" in client.get(
        flash.headers["location"]).text


def test_the_challenge_team_is_told_of_each_new_idea(client, session, circle):
    """Each new idea reaches the owner's people (inbox and digest), never its own author,
    and never says who wrote it: the evaluation may be blind."""
    users = circle["users"]
    challenge = _challenge(client, circle, blind=True)
    idea = _idea(client, circle, "partner", challenge, title="Flax pallet")
    told = session.execute(select(Notification.user_id, Notification.message, Notification.link).where(
        Notification.kind == "idea_submitted")).all()
    assert sorted(u for u, _, _ in told) == sorted([users["owner"].id, users["admin"].id])
    assert {(m, link) for _, m, link in told} == {
        ("A new idea for “Lighter pallets”: “Flax pallet”.", f"/ideas/{idea['id']}")}
    sign_in(client, session, users["admin"])
    session.commit()
    inbox = client.get("/inbox").text
    assert "A new idea for “Lighter pallets”: “Flax pallet”." in inbox and users["partner"].name not in inbox
