"""Warm introductions end to end through the API: asked, seen only by the three
organisations (the target once introduced), answered, told, audited and rate-limited;
and the shortlist of a need."""

import httpx
import pytest
from sqlalchemy import func, select

from innonet.accounts import service as accounts
from innonet.db import transaction
from innonet.introductions import service as introducing
from innonet.introductions.models import IntroductionRequest
from innonet.introductions.schemas import IntroductionIn
from innonet.matching import service as matching
from innonet.matching.models import ShortlistEntry
from innonet.matching.schemas import NeedIn
from innonet.sharing.models import AuditEvent
from tests.factories import OPERATOR, bearer, make_organisation, make_project, make_user, sign_in
from tests.test_concurrency import live, run_together  # noqa: F401 (fixture)


@pytest.fixture
def trio(session):
    """Alpha wants to meet Gamma; Beta has worked with both."""
    alpha, beta, gamma = (make_organisation(session, name=n) for n in ("Alpha", "Beta", "Gamma"))
    make_project(session, alpha, beta)
    make_project(session, beta, gamma)
    users = {"alpha": make_user(session, alpha, name="Ada Alpha"), "beta": make_user(session, beta),
             "gamma": make_user(session, gamma), "outsider": make_user(session, make_organisation(session))}
    headers = {side: bearer(session, user) for side, user in users.items()}
    session.commit()
    return {"alpha": alpha, "beta": beta, "gamma": gamma, "users": users, "headers": headers}


def _ask(client, trio, **changes):
    body = {"asker": trio["alpha"].external_id, "introducer": trio["beta"].external_id,
            "target": trio["gamma"].external_id, "note": "We make bio-based coatings."} | changes
    return client.post("/api/v1/introductions", json=body, headers=trio["headers"]["alpha"])


def _inbox(client, session, user) -> str:
    client.cookies.clear()
    sign_in(client, session, user)
    session.commit()
    text = client.get("/inbox").text
    client.cookies.clear()
    return text


def test_an_introduction_is_asked_answered_and_seen_only_by_its_three_organisations(client, session, trio):
    asked = _ask(client, trio)
    assert asked.status_code == 201, asked.text
    request_id, h = asked.json()["id"], trio["headers"]
    assert asked.json()["asker_contact"] == f"Ada Alpha <{trio['users']['alpha'].email}>"
    assert "Alpha asks you to introduce them to Gamma." in _inbox(client, session, trio["users"]["beta"])
    # The target does not know of the request before the introduction is made.
    assert client.get(f"/api/v1/introductions/{request_id}", headers=h["gamma"]).status_code == 404
    assert client.get(f"/api/v1/introductions/{request_id}", headers=h["outsider"]).status_code == 404
    assert client.get("/api/v1/introductions", headers=h["gamma"]).json() == []
    # Only the introducer answers.
    assert client.post(f"/api/v1/introductions/{request_id}/accept", headers=h["alpha"],
                       json={"contact": "me"}).status_code == 403
    accepted = client.post(f"/api/v1/introductions/{request_id}/accept", headers=h["beta"],
                           json={"contact": "Grace Gamma <grace@gamma.example>", "reply": "Meet!"})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"

    seen_by_asker = client.get(f"/api/v1/introductions/{request_id}", headers=h["alpha"]).json()
    assert (seen_by_asker["your_side"], seen_by_asker["target_contact"], seen_by_asker["reply"]) == (
        "asker", "Grace Gamma <grace@gamma.example>", "Meet!")
    seen_by_target = client.get(f"/api/v1/introductions/{request_id}", headers=h["gamma"]).json()
    assert seen_by_target["your_side"] == "target"
    assert seen_by_target["note"] == "We make bio-based coatings."
    assert seen_by_target["asker_contact"].startswith("Ada Alpha")
    assert "Beta introduced you to Gamma" in _inbox(client, session, trio["users"]["alpha"])
    assert "Beta introduced Alpha to you" in _inbox(client, session, trio["users"]["gamma"])
    # Answered once only.
    assert client.post(f"/api/v1/introductions/{request_id}/decline",
                       headers=h["beta"]).status_code == 409
    audited = session.scalars(select(AuditEvent.owner_id).where(
        AuditEvent.item_type == "introduction", AuditEvent.item_id == request_id,
        AuditEvent.action == "update")).all()
    assert sorted(audited) == sorted([trio["alpha"].id, trio["beta"].id, trio["gamma"].id])


def test_a_declined_request_tells_the_asker_only_not_now(client, session, trio):
    request_id = _ask(client, trio).json()["id"]
    declined = client.post(f"/api/v1/introductions/{request_id}/decline", headers=trio["headers"]["beta"])
    assert declined.status_code == 200
    seen = client.get(f"/api/v1/introductions/{request_id}", headers=trio["headers"]["alpha"]).json()
    assert (seen["status"], seen["target_contact"], seen["reply"]) == ("declined", None, None)
    assert "Your request for an introduction to Gamma: not now." in _inbox(
        client, session, trio["users"]["alpha"])
    # Declined, the target never learns of it; the asker may ask again.
    assert client.get(f"/api/v1/introductions/{request_id}", headers=trio["headers"]["gamma"]).status_code == 404
    assert _ask(client, trio).status_code == 201


@pytest.mark.parametrize(("changes", "status", "field"), [
    ({"introducer": "NO-SUCH-ORG"}, 422, "introducer"),
    ({"target": "x" * 65}, 422, "target"),
    ({"note": ""}, 422, "note"),
    ({"note": "n" * 1001}, 422, "note"),
    ({"note": "bell \x07"}, 422, "note"),
    ({"contact": "c" * 301}, 422, "contact"),
])
def test_bad_requests_name_their_field_and_write_nothing(client, session, trio, changes, status, field):
    answer = _ask(client, trio, **changes)
    assert answer.status_code == status
    assert [p["field"] for p in answer.json()["error"]["problems"]] == [field]
    assert client.get("/api/v1/introductions", headers=trio["headers"]["beta"]).json() == []


def test_requests_that_cannot_be_answered_are_refused_with_a_reason(client, session, trio):
    loner = make_organisation(session, name="Loner")
    silent = make_organisation(session, name="Silent")  # no members on the platform
    make_project(session, trio["alpha"], silent)
    session.commit()
    assert _ask(client, trio, introducer=trio["gamma"].external_id,
                target=trio["gamma"].external_id).json()["error"]["problems"][0]["field"] == "introducer"
    unrelated = _ask(client, trio, introducer=loner.external_id)
    assert unrelated.status_code == 422 and "neither you nor the target" in unrelated.text
    nobody = _ask(client, trio, introducer=silent.external_id)
    assert nobody.status_code == 409 and "contact them directly" in nobody.text
    # Only the asker's members may ask on its behalf.
    as_outsider = client.post("/api/v1/introductions", headers=trio["headers"]["outsider"], json={
        "asker": trio["alpha"].external_id, "introducer": trio["beta"].external_id,
        "target": trio["gamma"].external_id, "note": "hello"})
    assert as_outsider.status_code == 403


def test_an_organisation_may_ask_ten_times_a_day(client, session, trio):
    targets = [make_organisation(session, name=f"Target {n}") for n in range(11)]
    for target in targets:
        make_project(session, trio["beta"], target)
    session.commit()
    answers = [_ask(client, trio, target=t.external_id) for t in targets]
    assert [a.status_code for a in answers] == [201] * 10 + [429]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert "in the last 24 hours" in answers[-1].json()["error"]["message"]


def test_the_same_request_sent_at_once_is_stored_once(live):  # noqa: F811
    """Ten identical requests in a burst: one is stored, the others are told it waits."""
    with transaction(live.sessions) as session:
        alpha, beta, gamma = (make_organisation(session) for _ in range(3))
        make_project(session, alpha, beta, gamma)
        asker = make_user(session, alpha)
        make_user(session, beta)
        body = {"asker": alpha.external_id, "introducer": beta.external_id,
                "target": gamma.external_id, "note": "hello"}
    headers = live.token(asker.email)
    answers = run_together([lambda: httpx.post(f"{live.url}/api/v1/introductions", json=body,
                                               headers=headers, timeout=60)] * 10)
    assert sorted(a.status_code for a in answers) == [201] + [409] * 9
    assert live.count(select(func.count()).select_from(IntroductionRequest)) == 1


def test_a_shortlist_keeps_each_partner_once_and_follows_the_need(client, session, trio):
    need = matching.create_need(session, OPERATOR, data=NeedIn(
        organisation=trio["alpha"].external_id, title="Coating partner"))
    session.commit()
    h = trio["headers"]
    url = f"/api/v1/needs/{need.id}/shortlist"
    assert client.put(f"{url}/{trio['gamma'].external_id}", headers=h["alpha"]).status_code == 204
    assert client.put(f"{url}/{trio['gamma'].external_id}", headers=h["alpha"]).status_code == 204
    assert client.put(f"{url}/{trio['alpha'].external_id}", headers=h["alpha"]).status_code == 422
    assert client.put(f"{url}/NO-SUCH", headers=h["alpha"]).status_code == 404
    # Another organisation may not see a private need's shortlist, nor change it.
    assert client.get(url, headers=h["beta"]).status_code == 404
    assert client.put(f"{url}/{trio['beta'].external_id}", headers=h["beta"]).status_code == 404
    assert [e["organisation"]["name"] for e in client.get(url, headers=h["alpha"]).json()] == ["Gamma"]
    assert client.delete(f"{url}/{trio['gamma'].external_id}", headers=h["alpha"]).status_code == 204
    assert client.delete(f"{url}/{trio['gamma'].external_id}", headers=h["alpha"]).status_code == 404
    assert client.get(url, headers=h["alpha"]).json() == []


def test_a_pending_request_is_hidden_from_the_target_in_every_list(session, trio):
    made = introducing.request_introduction(session, OPERATOR, data=IntroductionIn(
        asker=trio["alpha"].external_id, introducer=trio["beta"].external_id,
        target=trio["gamma"].external_id, note="hi"))
    gamma_viewer = accounts.viewer_of(session, user_id=trio["users"]["gamma"].id,
                                      today=OPERATOR.today, channel="api")
    assert introducing.list_introductions(session, gamma_viewer) == []
    assert introducing.introduction_view(session, gamma_viewer, requests=[made]) == []


def test_the_same_partner_shortlisted_at_once_is_kept_once(live):  # noqa: F811
    with transaction(live.sessions) as session:
        alpha, gamma = make_organisation(session), make_organisation(session)
        member = make_user(session, alpha)
        need = matching.create_need(session, OPERATOR, data=NeedIn(
            organisation=alpha.external_id, title="Coating partner"))
        url = f"{live.url}/api/v1/needs/{need.id}/shortlist/{gamma.external_id}"
    headers = live.token(member.email)
    answers = run_together([lambda: httpx.put(url, headers=headers, timeout=60)] * 10)
    assert [a.status_code for a in answers] == [204] * 10
    assert live.count(select(func.count()).select_from(ShortlistEntry)) == 1
