"""Partnership health and check-ins through the API, and the daily alerts: each cause
raised once for the right organisation's administrators with its suggested action, cleared
when it is gone."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from innonet.accounts.models import Notification
from innonet.kpis import alerts, network_figures
from innonet.kpis.models import Alert
from innonet.sharing import service as sharing
from innonet.sharing.schemas import AgreementIn
from tests.factories import OPERATOR, bearer, make_organisation, make_project, make_relationship, make_user

TODAY = date.today()
ANSWER = {"value": 4, "trust": 5, "communication": 4, "fairness": 3}


@pytest.fixture
def pair(session):
    """Acme and Uni run a joint project; each has an admin and a member; Rival is apart."""
    acme = make_organisation(session, name="Acme", country="DE")
    uni = make_organisation(session, name="Uni", country="FI", kind="higher_education")
    rival = make_organisation(session, name="Rival", country="DE")
    users = {"acme_admin": make_user(session, acme, role="admin"), "acme": make_user(session, acme),
             "uni_admin": make_user(session, uni, role="admin"), "uni": make_user(session, uni),
             "rival": make_user(session, rival, role="admin")}
    session.commit()
    return {"acme": acme, "uni": uni, "rival": rival, "users": users,
            "h": {k: bearer(session, u) for k, u in users.items()}}


def _joint_project(client, pair, **changes):
    made = client.post("/api/v1/joint-projects", headers=pair["h"]["acme_admin"], json={
        "organisation": pair["acme"].external_id, "title": "Coating pilot",
        "start_date": str(TODAY - timedelta(days=60)),
        "parties": [{"organisation": pair["uni"].external_id, "role": "partner"}]} | changes)
    assert made.status_code == 201, made.text
    return made.json()["id"]


def test_each_side_sees_the_others_check_in_only_after_giving_its_own(client, pair):
    project = _joint_project(client, pair)
    url = f"/api/v1/joint-projects/{project}/check-ins"
    h = pair["h"]
    first = client.post(url, json=ANSWER | {"value": 2, "comment": "Slow answers"}, headers=h["uni"])
    assert first.status_code == 201, first.text
    assert [a["own"] for a in first.json()["answers"]] == [True]
    # Acme has not answered: Uni's answer is hidden, only counted.
    waiting = client.get(f"/api/v1/joint-projects/{project}/health", headers=h["acme"]).json()
    assert waiting["check_ins"]["answers"] == []
    assert waiting["check_ins"]["waiting"][0]["answers"] == 1
    assert next(f for f in waiting["factors"] if f["factor"] == "checkin")["value"] is None
    both = client.post(url, json=ANSWER, headers=h["acme"])
    assert both.status_code == 201, both.text
    seen = {a["organisation"]: a for a in both.json()["answers"]}
    assert seen[pair["uni"].external_id]["comment"] == "Slow answers" and seen[pair["acme"].external_id]["own"]
    health = client.get(f"/api/v1/joint-projects/{project}/health", headers=h["acme"]).json()
    checkin = next(f for f in health["factors"] if f["factor"] == "checkin")
    assert checkin["value"] == pytest.approx(((4 + 5 + 4 + 3) / 4 + (2 + 5 + 4 + 3) / 4) / 2 / 4 - 0.25, abs=1e-3)
    # Once per quarter; outside the scale or in a quarter to come is refused naming the field.
    assert client.post(url, json=ANSWER, headers=h["acme_admin"]).status_code == 409
    for body, field in (({"trust": 6}, "trust"), ({"value": 0}, "value"), ({"fairness": "good"}, "fairness"),
                        ({"quarter": f"{TODAY.year + 1}Q1"}, "quarter"), ({"quarter": "2026Q9"}, "quarter")):
        bad = client.post(url, json=ANSWER | body, headers=h["uni_admin"])
        assert bad.status_code == 422 and field in bad.text, (body, bad.text)
    assert client.post(url, json=ANSWER, headers=h["rival"]).status_code == 404


def test_health_is_the_sum_of_its_factors_points_each_with_a_reason(client, session, pair):
    project = _joint_project(client, pair)
    late = client.post(f"/api/v1/joint-projects/{project}/milestones", headers=pair["h"]["acme"],
                       json={"title": "Pilot line runs", "due_on": str(TODAY - timedelta(days=20))})
    assert late.status_code == 201, late.text
    health = client.get(f"/api/v1/joint-projects/{project}/health", headers=pair["h"]["acme"]).json()
    factors = {f["factor"]: f for f in health["factors"]}
    assert factors["milestones"]["value"] == 0.0 and factors["recency"]["value"] == 1.0
    judged = [f for f in health["factors"] if f["points"] is not None]
    assert sum(f["most"] for f in judged) == pytest.approx(100, abs=0.5)
    assert health["score"] == round(sum(f["points"] for f in judged))
    assert all(f["reason"] for f in health["factors"])
    # The partnership between the two is listed with its health too, for each side's members only.
    listed = client.get(f"/api/v1/orgs/{pair['acme'].external_id}/partnerships", headers=pair["h"]["acme"]).json()
    assert [p["partner"] for p in listed] == [pair["uni"].external_id]
    assert listed[0]["projects"][0]["id"] == project
    assert client.get(f"/api/v1/orgs/{pair['acme'].external_id}/partnerships",
                      headers=pair["h"]["uni"]).status_code == 403
    missing = client.get(f"/api/v1/orgs/{pair['acme'].external_id}/partnerships/{pair['rival'].external_id}",
                         headers=pair["h"]["acme"])
    assert missing.status_code == 404


def _alerts(session, organisation):
    return {(a.kind, a.state): a for a in session.scalars(select(Alert).where(Alert.organisation_id == organisation.id))}


def test_a_decaying_partnership_alerts_the_organisations_admins_once_with_its_action(session, pair):
    acme, rival = pair["acme"], pair["rival"]
    make_relationship(session, acme, rival, kind="supplier")
    assert alerts.check_organisation(session, organisation=acme, today=TODAY) == 0
    later = TODAY + timedelta(days=220)
    assert alerts.check_organisation(session, organisation=acme, today=later) == 1
    alert = _alerts(session, acme)[("decay", "open")]
    assert alert.action_link == f"/orgs/{acme.external_id}/partners?preset=diversify_suppliers"
    assert alert.action_label == "Renew or replace: find partners like Rival"
    assert "6 months" in alert.evidence
    told = {n.user_id for n in session.scalars(select(Notification).where(Notification.kind == "partnership_alert"))}
    assert told == {pair["users"]["acme_admin"].id}
    # Raised once while the cause lasts; cleared when the partnership is active again.
    assert alerts.check_organisation(session, organisation=acme, today=later + timedelta(days=1)) == 0
    assert alerts.check_organisation(session, organisation=acme, today=TODAY) == 0
    assert ("decay", "cleared") in _alerts(session, acme)


def test_concentration_dependence_and_expiring_agreements_raise_alerts_with_finder_presets(session, pair):
    acme, rival = pair["acme"], pair["rival"]
    other = make_organisation(session, name="Other DE", country="DE")
    make_project(session, acme, rival, start_date=date(TODAY.year, 1, 1), end_date=date(TODAY.year, 12, 31))
    make_project(session, acme, rival, start_date=date(TODAY.year, 1, 1), end_date=date(TODAY.year, 12, 31))
    make_project(session, acme, other, start_date=date(TODAY.year, 1, 1), end_date=date(TODAY.year, 12, 31))
    network_figures.refresh(session, this_year=TODAY.year)
    sharing.create_agreement(session, OPERATOR, data=AgreementIn(
        owner=acme.external_id, parties=[rival.external_id], kind="nda", title="Pilot NDA", status="in_force",
        end_date=TODAY + timedelta(days=20)))
    alerts.check_organisation(session, organisation=acme, today=TODAY)
    found = _alerts(session, acme)
    concentration = found[("country_concentration", "open")]
    assert concentration.action_link == (f"/orgs/{acme.external_id}/partners?preset=new_market"
                                         "&excluded_countries=DE")
    assert "1.00" in concentration.evidence and "100% of them are in DE" in concentration.evidence
    dominant = found[("dominant_partner", "open")]
    assert "Rival holds 67%" in dominant.evidence
    expiring = found[("agreement_expiring", "open")]
    assert "20 days" in expiring.evidence and expiring.action_link.startswith("/agreements/")
    # Rival's own alerts are its own: the same agreement, nothing of Acme's network.
    alerts.check_organisation(session, organisation=rival, today=TODAY)
    assert ("agreement_expiring", "open") in _alerts(session, rival)


def test_a_low_check_in_alerts_the_sides_that_may_read_it(client, session, pair):
    project = _joint_project(client, pair)
    assert client.post(f"/api/v1/joint-projects/{project}/check-ins", json=ANSWER | {"trust": 1, "value": 1},
                       headers=pair["h"]["uni"]).status_code == 201
    alerts.check_organisation(session, organisation=pair["acme"], today=TODAY)
    alerts.check_organisation(session, organisation=pair["uni"], today=TODAY)
    assert ("low_checkin", "open") not in _alerts(session, pair["acme"])  # Acme has not answered: not shown yet
    low = _alerts(session, pair["uni"])[("low_checkin", "open")]
    assert low.action_link == f"/joint-projects/{project}#review"


def test_alerts_are_listed_and_dismissed_by_the_organisations_members(client, session, pair):
    acme = pair["acme"]
    alert = Alert(organisation_id=acme.id, kind="broker_lost", subject="network", title="Lost", evidence="e",
                  action_label="Find", action_link="/", raised_on=TODAY)
    session.add(alert)
    session.commit()
    base = f"/api/v1/orgs/{acme.external_id}/alerts"
    assert [a["id"] for a in client.get(base, headers=pair["h"]["acme"]).json()] == [alert.id]
    assert client.get(base, headers=pair["h"]["rival"]).status_code == 403
    assert client.post(f"{base}/{alert.id}/dismiss", headers=pair["h"]["rival"]).status_code == 403
    assert client.post(f"{base}/{alert.id}/dismiss", headers=pair["h"]["acme"]).json()["state"] == "dismissed"
    assert client.get(base, headers=pair["h"]["acme"]).json() == []


def test_check_ins_are_read_by_the_parties_members_only_whatever_the_projects_visibility(client, session, pair):
    """A visitor of a public project, a reader of a network one and a party's guest named on
    the project read no check-in, no comment and no count of answers waiting."""
    guest = make_user(session, pair["uni"], role="guest")
    session.commit()
    h = pair["h"] | {"guest": bearer(session, guest)}
    project = _joint_project(client, pair, visibility="public")
    added = client.post(f"/api/v1/joint-projects/{project}/people", headers=h["acme_admin"],
                        json={"email": guest.email, "organisation": pair["uni"].external_id})
    assert added.status_code == 200, added.text
    url = f"/api/v1/joint-projects/{project}/check-ins"
    marker = "B is unreliable, consider exit"
    assert client.post(url, json=ANSWER | {"comment": marker}, headers=h["acme"]).status_code == 201
    assert client.post(url, json=ANSWER | {"value": 1, "comment": "fine"}, headers=h["uni"]).status_code == 201
    for who, headers in (("visitor", {}), ("outsider", h["rival"]), ("guest", h["guest"])):
        answer = client.get(f"/api/v1/joint-projects/{project}/health", headers=headers)
        assert answer.status_code == 200, (who, answer.text)
        body = answer.json()
        assert body["check_ins"] == {"answers": [], "waiting": []}, who
        assert not body["may_answer"], who
        assert marker not in answer.text and "fine" not in answer.text, who
        checkin = next(f for f in body["factors"] if f["factor"] == "checkin")
        assert checkin["value"] is None and "parties' members" in checkin["reason"], who
        page = client.get(f"/joint-projects/{project}/health", headers=headers)
        assert marker not in page.text, who
    # The guest may not answer for the party either.
    assert client.post(url, json=ANSWER, headers=h["guest"]).status_code == 403
    # Both parties' members read both answers.
    for side in ("acme", "uni_admin"):
        seen = client.get(f"/api/v1/joint-projects/{project}/health", headers=h[side]).json()
        assert {a["comment"] for a in seen["check_ins"]["answers"]} == {marker, "fine"}, side
