from tests.factories import (
    bearer,
    make_organisation,
    make_project,
    make_relationship,
    make_user,
)


def test_list_filters_by_text_country_kind_and_sme_with_pagination(client, session):
    make_organisation(session, name="Alpha Coatings GmbH", country="DE", is_sme=True)
    make_organisation(session, name="Alpha University", country="FR", kind="higher_education")
    make_organisation(session, name="Beta Labs", country="EL", kind="research_organisation")
    session.commit()

    body = client.get("/api/v1/orgs", params={"q": "alpha"}).json()
    assert [o["name"] for o in body["items"]] == ["Alpha Coatings GmbH", "Alpha University"]
    assert body["total"] == 2
    assert client.get("/api/v1/orgs", params={"q": "alpha", "country": "fr"}).json()["total"] == 1
    assert client.get("/api/v1/orgs", params={"country": "GR"}).json()["items"][0]["name"] == "Beta Labs"
    assert client.get("/api/v1/orgs", params={"sme": True}).json()["total"] == 1
    assert client.get("/api/v1/orgs", params={"kind": "higher_education"}).json()["total"] == 1
    page2 = client.get("/api/v1/orgs", params={"per_page": 2, "page": 2}).json()
    assert page2["items"][0]["name"] == "Beta Labs" and page2["page"] == 2


def test_search_treats_wildcards_literally(client, session):
    make_organisation(session, name="100% Green Ltd")
    make_organisation(session, name="Plain Ltd")
    session.commit()
    assert client.get("/api/v1/orgs", params={"q": "%"}).json()["total"] == 1
    assert client.get("/api/v1/orgs", params={"q": "_"}).json()["total"] == 0


def test_text_search_counts_up_to_a_limit_then_says_more(client, session, monkeypatch):
    from innonet.organisations import service

    monkeypatch.setattr(service, "SEARCH_COUNT_LIMIT", 26)
    for n in range(30):
        make_organisation(session, name=f"Widespread Word {n:02}", country="DE" if n < 2 else "FR")
    make_organisation(session, name="Elsewhere")
    session.commit()

    body = client.get("/api/v1/orgs", params={"q": "widespread", "per_page": 10}).json()
    assert (body["total"], body["total_capped"], len(body["items"])) == (26, True, 10)
    narrowed = client.get("/api/v1/orgs", params={"q": "widespread", "country": "DE"}).json()
    assert (narrowed["total"], narrowed["total_capped"]) == (2, False)
    everything = client.get("/api/v1/orgs").json()  # no text: counted exactly
    assert (everything["total"], everything["total_capped"]) == (31, False)

    first = client.get("/orgs", params={"q": "widespread"}).text
    assert "More than 26 organisations" in first and "Page 1 of 2+" in first and 'rel="next"' in first
    last = client.get("/orgs", params={"q": "widespread", "page": 2}).text
    assert "<mark>Widespread</mark> Word 29" in last and 'rel="next"' not in last
    projects = client.get("/api/v1/projects", params={"q": "nothing like it"}).json()
    assert (projects["total"], projects["total_capped"]) == (0, False)


def test_detail_lists_partners_by_shared_projects_and_projects(client, session):
    sme, uni, lab = (make_organisation(session, name=n) for n in ("SME", "Uni", "Lab"))
    make_project(session, sme, uni, acronym="ONE")
    make_project(session, sme, uni, lab, acronym="TWO")
    make_relationship(session, sme, lab, kind="research_partner", visibility="public")
    session.commit()

    detail = client.get(f"/api/v1/orgs/{sme.external_id}").json()
    assert [(p["organisation"]["name"], p["shared_projects"], p["relationship_kinds"])
            for p in detail["partners"]] == [("Uni", 2, []), ("Lab", 1, ["research_partner"])]
    assert detail["partner_count"] == 2 and detail["project_count"] == 2
    assert {p["project"]["acronym"] for p in detail["projects"]} == {"ONE", "TWO"}
    assert detail["relationships"][0]["partner"]["name"] == "Lab"

    network = client.get(f"/api/v1/orgs/{sme.external_id}/network").json()
    weights = {(e["source"], e["target"]): e["weight"] for e in network["edges"]}
    assert weights[(sme.external_id, uni.external_id)] == 2
    assert weights[(uni.external_id, lab.external_id)] == 1
    assert len(network["nodes"]) == 3


def test_unknown_organisation_is_a_json_404(client):
    response = client.get("/api/v1/orgs/NOPE")
    assert response.status_code == 404
    assert response.json() == {"error": {"status": 404, "message": "No organisation with id 'NOPE'.",
                                         "problems": []}}


def test_create_and_patch_validate_each_field(client, session):
    client.headers.update(bearer(session, make_user(session, is_platform_admin=True)))
    session.commit()
    created = client.post("/api/v1/orgs", json={"name": "Acme", "country": "UK", "pic": "123456789"})
    assert created.status_code == 201
    assert created.json()["country"] == "GB" and created.json()["external_id"] == "123456789"

    bad = client.post("/api/v1/orgs", json={"name": "", "country": "XX", "website": "not a url"})
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["error"]["problems"]} == {"name", "country", "website"}

    clash = client.post("/api/v1/orgs", json={"name": "Other", "pic": "123456789"})
    assert clash.status_code == 409

    patched = client.patch("/api/v1/orgs/123456789", json={"city": "Leeds", "is_sme": True})
    assert patched.json()["city"] == "Leeds" and patched.json()["name"] == "Acme"
    assert client.patch("/api/v1/orgs/123456789", json={"kind": "alien"}).status_code == 422


def test_pagination_bounds_are_named(client):
    response = client.get("/api/v1/orgs", params={"per_page": 0})
    assert response.status_code == 422
    assert response.json()["error"]["problems"][0]["field"] == "per_page"


def test_the_directory_finds_by_city_description_and_project_words_and_marks_them(client, session):
    make_organisation(session, name="Graz Coatings GmbH", city="Graz")
    make_organisation(session, name="Acme Films", city="Lyon",
                      description="We extrude biodegradable barrier films for food packaging.")
    nordic = make_organisation(session, name="Nordic Labs", city="Oslo")
    make_project(session, nordic, acronym="HYPACK", title="Hydrogen tanks for trucks")
    session.commit()

    def names(q):
        page = client.get("/orgs", params={"q": q})
        assert page.status_code == 200
        return page.text

    by_city = names("graz")
    assert "<mark>Graz</mark> Coatings GmbH" in by_city
    by_description = names("barrier films")  # both words, found in the description
    assert "Acme <mark>Films</mark>" in by_description and "Graz" not in by_description
    assert "Description: We extrude biodegradable <mark>barrier</mark> <mark>films</mark>" in by_description
    by_project = names("hydrogen oslo")  # one word in a project, one in the city
    assert "Nordic Labs" in by_project
    assert "City: <mark>Oslo</mark>" in by_project or "Project: HYPACK – <mark>Hydrogen</mark>" in by_project
    assert "Project: HYPACK – <mark>Hydrogen</mark> tanks for trucks" in names("hydrogen")
    assert "No organisation matches" in names("hydrogen lyon")
    hostile = names("<script>x</script> graz")
    assert "<script>x" not in hostile
