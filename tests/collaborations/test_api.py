import pytest

from tests.factories import bearer, make_organisation, make_project, make_user


@pytest.fixture
def pair(session, client):
    """Two organisations; the client sends a write token of a member of the first."""
    a, b = make_organisation(session, name="A"), make_organisation(session, name="B")
    client.headers.update(bearer(session, make_user(session, a)))
    session.commit()
    return a, b


def test_relationship_create_read_update_delete(client, pair):
    a, b = pair
    created = client.post("/api/v1/relationships", json={
        "organisation": a.external_id, "partner": b.external_id, "kind": "customer",
        "start_date": "2022-03-01", "strength": 4, "notes": "Buys our coatings"})
    assert created.status_code == 201, created.text
    rel = created.json()
    assert rel["source"] == "manual" and rel["partner"]["name"] == "B" and rel["direction"] == "mutual"
    assert rel["visibility"] == "private" and rel["shared_with"] == []

    assert client.get(f"/api/v1/relationships/{rel['id']}").json()["notes"] == "Buys our coatings"
    updated = client.patch(f"/api/v1/relationships/{rel['id']}", json={"strength": 2, "end_date": "2024-01-01"})
    assert updated.json()["strength"] == 2 and updated.json()["kind"] == "customer"
    assert [r["id"] for r in client.get("/api/v1/relationships", params={"org": b.external_id}).json()] == [rel["id"]]

    assert client.delete(f"/api/v1/relationships/{rel['id']}").status_code == 204
    assert client.get(f"/api/v1/relationships/{rel['id']}").status_code == 404


@pytest.mark.parametrize(("change", "field"), [
    ({"partner": "UNKNOWN"}, "partner"),
    ({"kind": "friend"}, "kind"),
    ({"strength": 9}, "strength"),
    ({"start_date": "2024-05-01", "end_date": "2023-01-01"}, "end_date"),
    ({"direction": "sideways"}, "direction"),
])
def test_invalid_relationship_is_rejected_naming_the_field(client, pair, change, field):
    a, b = pair
    body = {"organisation": a.external_id, "partner": b.external_id, "kind": "supplier"} | change
    response = client.post("/api/v1/relationships", json=body)
    assert response.status_code == 422
    assert field in {p.get("field") for p in response.json()["error"]["problems"]}
    assert client.get("/api/v1/relationships").json() == []


def test_self_and_duplicate_relationships_are_refused(client, pair):
    a, b = pair
    own = client.post("/api/v1/relationships", json={"organisation": a.external_id,
                                                     "partner": a.external_id, "kind": "other"})
    assert own.status_code == 422 and own.json()["error"]["problems"][0]["field"] == "partner"
    body = {"organisation": a.external_id, "partner": b.external_id, "kind": "supplier"}
    assert client.post("/api/v1/relationships", json=body).status_code == 201
    assert client.post("/api/v1/relationships", json=body).status_code == 409


def test_projects_list_and_detail(client, session, pair):
    a, b = pair
    make_project(session, a, b, external_id="101000001", acronym="COAT", title="Barrier coatings")
    session.commit()
    listing = client.get("/api/v1/projects", params={"q": "barrier"}).json()
    assert [p["acronym"] for p in listing["items"]] == ["COAT"]
    detail = client.get("/api/v1/projects/101000001").json()
    assert [(p["organisation"]["name"], p["role"]) for p in detail["participants"]] == [
        ("A", "coordinator"), ("B", "participant")]
    assert client.get("/api/v1/projects/999").status_code == 404


def test_openapi_document_lists_the_endpoints(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/v1/orgs", "/api/v1/orgs/{external_id}", "/api/v1/relationships",
                 "/api/v1/relationships/{relationship_id}", "/api/v1/projects",
                 "/api/v1/projects/{external_id}"):
        assert path in paths
    assert "Swagger" in client.get("/api/docs").text or "swagger-ui" in client.get("/api/docs").text
