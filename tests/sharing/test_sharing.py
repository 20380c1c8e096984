"""Selective openness end to end: partners-only records gated by agreements, with time
under the test's control; cluster consent; the audit log."""

import csv
import io
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from innonet.sharing import service as sharing
from innonet.sharing.models import AuditEvent
from innonet.sharing.schemas import AgreementIn
from tests.factories import (
    OPERATOR,
    bearer,
    make_organisation,
    make_project,
    make_relationship,
    make_user,
    sign_in,
)

SECRET = "Crown jewel: the barrier recipe"


@pytest.fixture
def shared(session, clock):
    """B shares a relationship with A only while their NDA is in force (until the end of 2026)."""
    clock.today = date(2026, 6, 1)
    a, b, c = (make_organisation(session, name=n) for n in ("Alpha", "Beta", "Gamma"))
    make_project(session, a, b, c)
    nda = sharing.create_agreement(session, OPERATOR, data=AgreementIn(
        owner=b.external_id, parties=[a.external_id], kind="nda", title="NDA A–B",
        status="in_force", start_date=date(2026, 1, 1), end_date=date(2026, 12, 31)))
    rel = make_relationship(session, b, c, kind="supplier", notes=SECRET, visibility="partners",
                            shared_with=[a.external_id], agreement=nda.id)
    a_member, b_admin = make_user(session, a), make_user(session, b, "admin")
    session.commit()
    return {"a": a, "b": b, "c": c, "nda": nda, "rel": rel, "a_member": a_member, "b_admin": b_admin}


def _every_path(client, session, world) -> dict[str, str]:
    """What A's member gets on each path that can show B's relationship."""
    a, b = world["a"], world["b"]
    headers = bearer(session, world["a_member"], "read")
    session.commit()
    api = {
        "api item": client.get(f"/api/v1/relationships/{world['rel'].id}", headers=headers),
        "api list": client.get("/api/v1/relationships", headers=headers),
        "api organisation": client.get(f"/api/v1/orgs/{b.external_id}", headers=headers),
        "graph json": client.get(f"/api/v1/orgs/{a.external_id}/network", headers=headers),
    }
    sign_in(client, session, world["a_member"])
    session.commit()
    pages = {
        "page": client.get(f"/orgs/{b.external_id}"),
        "export": client.get(f"/orgs/{b.external_id}/export.csv"),
        "search": client.get("/orgs", params={"q": "Beta"}),
    }
    client.cookies.clear()
    return {name: r.text for name, r in (api | pages).items()} | {
        "api item status": str(api["api item"].status_code)}


def test_partner_sees_the_record_only_while_the_agreement_is_in_force(client, session, clock, shared):
    seen = _every_path(client, session, shared)
    assert seen["api item status"] == "200"
    for path in ("api item", "api list", "api organisation", "page", "export"):
        assert SECRET in seen[path], path
    assert '"visibility":"partners"' in seen["api item"]
    assert _kinds_between(seen["graph json"], shared["b"], shared["c"]) == ["supplier"]

    clock.today = date(2027, 1, 1)  # the day after the NDA ends
    seen = _every_path(client, session, shared)
    assert seen["api item status"] == "404"
    assert all(SECRET not in text for text in seen.values())
    assert _kinds_between(seen["graph json"], shared["b"], shared["c"]) == []


def _kinds_between(graph_json: str, one, two) -> list[str]:
    """Relationship kinds on the drawn link between two organisations (shared projects link them)."""
    edges = json.loads(graph_json)["edges"]
    pair = {one.external_id, two.external_id}
    return [k for e in edges if {e["source"], e["target"]} == pair for k in e["relationship_kinds"]]


def test_terminating_the_agreement_ends_access_at_once(client, session, shared):
    headers = bearer(session, shared["b_admin"])
    session.commit()
    url = f"/api/v1/relationships/{shared['rel'].id}"
    reader = bearer(session, shared["a_member"], "read")
    session.commit()
    assert client.get(url, headers=reader).status_code == 200
    ended = client.patch(f"/api/v1/agreements/{shared['nda'].id}", json={"status": "terminated"},
                         headers=headers)
    assert ended.status_code == 200 and ended.json()["in_force"] is False
    assert client.get(url, headers=reader).status_code == 404
    assert client.get(url, headers=headers).json()["notes"] == SECRET  # the owner still sees it


def test_private_relationships_stay_with_their_owner(client, session):
    a, b, c = (make_organisation(session, name=n) for n in ("Alpha", "Beta", "Gamma"))
    make_project(session, a, b)
    make_relationship(session, b, c, notes=SECRET)  # private by default
    a_member, b_member = make_user(session, a), make_user(session, b)
    session.commit()
    outsider, insider = bearer(session, a_member, "read"), bearer(session, b_member, "read")
    session.commit()
    for path in (f"/api/v1/orgs/{b.external_id}", "/api/v1/relationships",
                 f"/api/v1/orgs/{b.external_id}/network", f"/api/v1/orgs/{a.external_id}/network"):
        assert SECRET not in client.get(path, headers=outsider).text
        assert c.external_id not in client.get(path, headers=outsider).text
    assert client.get("/api/v1/stats", headers=outsider).json()["relationships"] == 0
    assert client.get("/api/v1/stats", headers=insider).json()["relationships"] == 1
    assert SECRET in client.get(f"/api/v1/orgs/{b.external_id}", headers=insider).text


@pytest.mark.parametrize(("sharing_fields", "field"), [
    ({"visibility": "partners"}, "shared_with"),
    ({"visibility": "network", "shared_with": ["OTHER"]}, "visibility"),
    ({"visibility": "partners", "shared_with": ["NO-SUCH-ORG"]}, "shared_with"),
    ({"visibility": "partners", "shared_with": ["SELF"]}, "shared_with"),
    ({"visibility": "partners", "shared_with": ["OTHER"], "agreement": 999999}, "agreement"),
    ({"visibility": "secret"}, "visibility"),
])
def test_bad_sharing_is_refused_naming_the_field(client, session, sharing_fields, field):
    a, b = make_organisation(session), make_organisation(session)
    headers = bearer(session, make_user(session, a))
    session.commit()
    names = {"SELF": a.external_id, "OTHER": b.external_id}
    body = {"organisation": a.external_id, "partner": b.external_id, "kind": "customer"} | {
        k: [names.get(v, v) for v in value] if isinstance(value, list) else value
        for k, value in sharing_fields.items()}
    response = client.post("/api/v1/relationships", json=body, headers=headers)
    assert response.status_code == 422
    assert field in {p.get("field") for p in response.json()["error"]["problems"]}
    assert client.get("/api/v1/relationships", headers=headers).json() == []  # nothing half-written


def test_cluster_manager_counts_only_consenting_organisations(client, session):
    a, b, partner = (make_organisation(session, name=n, country=cc)
                     for n, cc in (("Alpha", "DE"), ("Beta", "FR"), ("Partner", "IT")))
    make_relationship(session, a, partner, kind="supplier", notes=SECRET)
    make_relationship(session, b, partner, kind="customer", notes=SECRET)
    manager, a_admin = make_user(session, is_cluster_manager=True), make_user(session, a, "admin")
    session.commit()
    manager_headers, admin_headers = bearer(session, manager, "read"), bearer(session, a_admin)
    session.commit()
    summary = client.get("/api/v1/cluster/summary", headers=manager_headers).json()
    assert summary["consenting_organisations"] == 0 and summary["relationships"] == 0

    consent = client.put(f"/api/v1/orgs/{a.external_id}/cluster-consent", json={"consent": True},
                         headers=admin_headers)
    assert consent.status_code == 200 and consent.json()["consent"] is True
    # Alpha's private tie is to Partner, which has not consented: not counted yet.
    summary = client.get("/api/v1/cluster/summary", headers=manager_headers)
    assert summary.json()["relationships_by_kind"]["supplier"] == 0
    partner.cluster_consent_at = partner.created_at
    session.commit()
    summary = client.get("/api/v1/cluster/summary", headers=manager_headers)
    assert summary.json()["relationships_by_kind"]["supplier"] == 1
    assert summary.json()["relationships_by_kind"]["customer"] == 0  # Beta did not consent
    assert summary.json()["partner_countries"] == [{"country": "IT", "relationships": 1}]
    assert SECRET not in summary.text
    # Consent is for aggregates only: the manager still cannot read the private record.
    assert SECRET not in client.get(f"/api/v1/orgs/{a.external_id}", headers=manager_headers).text


def test_audit_log_records_reads_and_changes_for_the_owners_admins(client, session, shared):
    reader = bearer(session, shared["a_member"], "read")
    admin = bearer(session, shared["b_admin"])
    session.commit()
    client.get(f"/api/v1/relationships/{shared['rel'].id}", headers=reader)
    client.patch(f"/api/v1/relationships/{shared['rel'].id}", json={"strength": 5}, headers=admin)
    events = client.get(f"/api/v1/orgs/{shared['b'].external_id}/audit", headers=admin).json()
    assert [(e["actor"], e["action"], e["channel"]) for e in events[:2]] == [
        (shared["b_admin"].email, "update", "api"), (shared["a_member"].email, "read", "api")]
    assert events[1]["path"] == f"/api/v1/relationships/{shared['rel'].id}"
    assert client.get(f"/api/v1/orgs/{shared['b'].external_id}/audit", headers=reader).status_code == 403

    sign_in(client, session, shared["b_admin"])
    session.commit()
    download = client.get(f"/orgs/{shared['b'].external_id}/audit.csv")
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert {"read", "update"} <= {row["action"] for row in rows}
    assert set(rows[0]) == {"at", "actor", "action", "item_type", "item_id", "detail", "channel", "path"}


def test_one_page_view_is_one_event_per_record(client, session, shared):
    """C's network reads B's relationship with C for the ties and again for the partners:
    one read is logged per view."""
    headers = bearer(session, shared["a_member"], "read")
    session.commit()
    path = f"/api/v1/orgs/{shared['c'].external_id}/network"
    for _ in range(2):
        assert client.get(path, headers=headers).status_code == 200
    reads = session.scalars(select(AuditEvent).where(
        AuditEvent.item_type == "relationship", AuditEvent.item_id == shared["rel"].id,
        AuditEvent.action == "read")).all()
    assert [(e.actor, e.path) for e in reads] == [(shared["a_member"].email, path)] * 2


def test_agreements_shares_and_consent_are_logged_with_what_changed(client, session, shared):
    admin = bearer(session, shared["b_admin"])
    d = make_organisation(session, name="Delta")
    session.commit()
    b, nda = shared["b"].external_id, shared["nda"]
    client.patch(f"/api/v1/agreements/{nda.id}", headers=admin, json={"status": "terminated"})
    client.patch(f"/api/v1/relationships/{shared['rel'].id}", headers=admin,
                 json={"shared_with": [shared["a"].external_id, d.external_id], "agreement": None})
    client.put(f"/api/v1/orgs/{b}/cluster-consent", headers=admin, json={"consent": True})
    client.put(f"/api/v1/orgs/{b}/cluster-consent", headers=admin, json={"consent": True})  # no change
    events = client.get(f"/api/v1/orgs/{b}/audit", headers=admin,
                        params={"actor": shared["b_admin"].email.upper()}).json()
    assert [(e["item_type"], e["action"], e["detail"]) for e in events] == [
        ("organisation", "update", "cluster consent given"),
        ("relationship", "update",
         f"sharing: partners (Alpha) while agreement #{nda.id} is in force → partners (Alpha, Delta)"),
        ("agreement", "update", "status: in force → terminated"),
    ]
    # The other party to the agreement sees its change in its own log.
    a_admin = make_user(session, shared["a"], "admin")
    a_headers = bearer(session, a_admin)
    session.commit()
    theirs = client.get(f"/api/v1/orgs/{shared['a'].external_id}/audit", headers=a_headers,
                        params={"item_type": "agreement"}).json()
    assert [(e["action"], e["detail"]) for e in theirs][:1] == [("update", "status: in force → terminated")]


def test_the_audit_page_filters_by_actor_action_record_and_dates(client, session, shared):
    reader = bearer(session, shared["a_member"], "read")
    session.commit()
    client.get(f"/api/v1/relationships/{shared['rel'].id}", headers=reader)
    sign_in(client, session, shared["b_admin"])
    session.commit()
    url = f"/orgs/{shared['b'].external_id}/audit"
    today = date.today().isoformat()
    everything = client.get(url).text
    assert shared["a_member"].email in everything and "command line" in everything
    by_actor = client.get(url, params={"actor": shared["a_member"].email, "action": "read",
                                       "item_type": "relationship", "item_id": shared["rel"].id,
                                       "since": today, "until": today})
    assert by_actor.status_code == 200
    assert shared["a_member"].email in by_actor.text and "command line</td>" not in by_actor.text
    assert "(these filters)" in by_actor.text
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert "No event passes these filters." in client.get(url, params={"since": tomorrow}).text
    empty_boxes = client.get(url, params={"actor": "", "action": "", "item_type": "", "item_id": "",
                                          "since": "", "until": ""})
    assert empty_boxes.status_code == 200 and "command line" in empty_boxes.text
    for params, field in (({"action": "steal"}, "action"), ({"until": "2020-01-01", "since": today}, "until"),
                          ({"item_id": "0"}, "item_id"), ({"since": "yesterday"}, "since")):
        wrong = client.get(url, params=params)
        assert wrong.status_code == 422 and 'id="' + field + '-error"' in wrong.text, params
    csv_text = client.get(f"{url}.csv", params={"action": "read"}).text
    assert {row["action"] for row in csv.DictReader(io.StringIO(csv_text))} == {"read"}


def test_expired_agreement_shows_as_not_in_force(client, session, clock, shared):
    headers = bearer(session, shared["b_admin"], "read")
    session.commit()
    url = f"/api/v1/agreements/{shared['nda'].id}"
    assert client.get(url, headers=headers).json()["in_force"] is True
    clock.today = date(2026, 12, 31) + timedelta(days=1)
    assert client.get(url, headers=headers).json()["in_force"] is False
