"""Partner recommendations through the API: factors, reasons, introductions, filters,
weights, bad input, and what a viewer may not see."""

import csv
import io
import json
from datetime import date

import pytest
from sqlalchemy import select

from innonet.config import PREPARED_DIR
from innonet.db import transaction
from innonet.matching import finder as finders
from innonet.matching import service
from innonet.matching.factors import FACTORS
from innonet.matching.models import RankerModel
from innonet.matching.schemas import NeedQuery, Recommendations
from innonet.network import service as network
from innonet.network.models import StoredAnalysis
from innonet.organisations import service as organisations
from tests.factories import (
    OPERATOR,
    bearer,
    make_organisation,
    make_project,
    make_relationship,
    make_user,
)

NEED = "barrier coating from cellulose for food packaging"


@pytest.fixture
def world(session):
    """An SME in food packaging; a university it works with; a research organisation two
    steps away (through the university) that knows barrier coatings; an Italian SME and a
    Polish company with the same know-how but no tie; a competitor; and a company tied to
    the SME's partner only through a private relationship."""
    org = {}

    def add(key, **fields):
        org[key] = make_organisation(session, external_id=key, name=key.title(), **fields)

    add("sme", country="AT", is_sme=True, sectors="packaging; food",
        values_statement="circular economy and fair sourcing",
        needs="cellulose barrier coating")
    add("university", kind="higher_education", country="DE", is_sme=False)
    add("research", kind="research_organisation", country="FR", is_sme=False,
        capabilities="barrier coating, cellulose nanofibres")
    add("italian", country="IT", is_sme=True, sectors="packaging",
        values_statement="circular economy")
    add("polish", country="PL", is_sme=False)
    add("rival", country="AT", is_sme=True, sectors="Packaging")
    add("hidden", country="ES", is_sme=True)
    add("friend", country="SE", is_sme=False)
    projects = [
        ("sme", "university", "Biodegradable packaging film for food", 2019),
        ("university", "research", "Cellulose nanofibres as barrier coating", 2020),
        ("italian", "polish", "Barrier coating for paper food packaging", 2021),
        ("rival", "polish", "Packaging film recycling", 2021),
        ("hidden", "polish", "Cellulose coating lines", 2022),
        ("sme", "friend", "Food packaging film pilot line", 2022),
    ]
    for number, (a, b, title, year) in enumerate(projects):
        make_project(session, org[a], org[b], external_id=f"RP-{number}", title=title,
                     start_date=date(year, 1, 1), end_date=date(year + 2, 12, 31))
    make_relationship(session, org["friend"], org["hidden"], kind="supplier",
                      visibility="private")
    make_relationship(session, org["sme"], org["rival"], kind="competitor",
                      visibility="public")
    session.flush()
    return org


def by_id(answer) -> dict:
    return {r["external_id"]: r for r in answer["results"]}


def test_every_recommendation_is_explained(client, world):
    response = client.get("/api/v1/orgs/sme/recommendations", params={"need": NEED, "k": 10})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["need_source"] == "need" and answer["need"] == NEED
    # Asked again (the walk now comes from the finder's memory): the same answer.
    assert client.get("/api/v1/orgs/sme/recommendations",
                      params={"need": NEED, "k": 10}).json() == answer
    found = by_id(answer)
    assert "sme" not in found
    scores = [r["score"] for r in answer["results"]]
    assert scores == sorted(scores, reverse=True)
    assert [r["rank"] for r in answer["results"]] == list(range(1, len(scores) + 1))
    for result in answer["results"]:
        assert [f["name"] for f in result["factors"]] == list(FACTORS)
        assert all(0 <= f["score"] <= 1 and f["reason"] for f in result["factors"])
    research = found["research"]
    factor = {f["name"]: f for f in research["factors"]}
    assert "barrier" in factor["capability_fit"]["reason"]
    assert "Two steps away: University can introduce you" in factor["proximity"]["reason"]
    assert [step["external_id"] for step in research["introduction_path"]] == \
        ["sme", "university", "research"]
    assert "A research organisation beside a company" in factor["complementarity"]["reason"]
    assert "Kogut–Singh distance" in factor["cultural_closeness"]["reason"]
    assert "A new country for you (France)" in factor["diversification"]["reason"]
    # The Swedish partner's only project shares "food" and "packaging", not the coating.
    assert factor["capability_fit"]["score"] > \
        {f["name"]: f for f in found["friend"]["factors"]}["capability_fit"]["score"]
    # An existing partner may come back, marked as such, unless new partners only.
    assert found["university"]["already_partner"]
    panel = found["italian"]["due_diligence"]
    assert panel["projects"] == 1 and panel["first_year"] == 2021
    assert panel["has_pic"] is False and "PIC or VAT number" in panel["missing"]
    italian = {f["name"]: f for f in found["italian"]["factors"]}
    assert italian["alignment"]["score"] > 0
    assert "packaging" in italian["alignment"]["reason"]


def test_empty_need_uses_the_stated_needs_then_the_profile(client, world, session):
    answer = client.get("/api/v1/orgs/sme/recommendations").json()
    assert answer["need_source"] == "stated_needs"
    assert answer["need"] == "cellulose barrier coating" and answer["results"]
    answer = client.get("/api/v1/orgs/university/recommendations", params={"need": " "}).json()
    assert answer["need_source"] == "profile" and answer["results"]


def test_filters_presets_and_weights(client, world):
    def post(**body):
        response = client.post("/api/v1/orgs/sme/recommendations", json={"need": NEED, **body})
        assert response.status_code == 200, response.text
        return response.json()["results"]

    assert {r["kind"] for r in post(kinds=["company"])} == {"company"}
    assert {r["kind"] for r in post(preset="research_partner")} <= \
        {"higher_education", "research_organisation"}
    assert "FR" not in {r["country"] for r in post(excluded_countries=["fr"])}
    assert all(r["is_sme"] for r in post(sme_only=True))
    assert "rival" in {r["external_id"] for r in post()}
    # Recorded as a competitor, and a company with a stated sector in common.
    without = {r["external_id"] for r in post(exclude_competitors=True)}
    assert "rival" not in without and "italian" not in without and "research" in without
    assert "university" not in {r["external_id"] for r in post(new_partners_only=True)}
    first = post(preferred_countries=["PL"])
    assert first[0]["country"] == "PL" and first[0]["preferred_country"]
    # Only cultural closeness counts: the Austrian rival first, then the German university.
    only_culture = post(weights={name: 0 for name in FACTORS} | {"cultural_closeness": 1})
    closeness = [next(f["score"] for f in r["factors"] if f["name"] == "cultural_closeness")
                 for r in only_culture]
    assert closeness == sorted(closeness, reverse=True)
    assert [r["country"] for r in only_culture[:2]] == ["AT", "DE"]


@pytest.mark.parametrize(("body", "field"), [
    ({"k": 0}, "k"), ({"k": 201}, "k"), ({"weights": {"capability_fit": -1}},
                                         "weights.capability_fit"),
    ({"weights": {name: 0 for name in FACTORS}}, "weights"),
    ({"weights": {"luck": 1}}, "weights.luck"), ({"kinds": ["pirate"]}, "kinds.0"),
    ({"preferred_countries": ["XX"]}, "preferred_countries"),
])
def test_bad_input_names_the_field(client, world, body, field):
    response = client.post("/api/v1/orgs/sme/recommendations", json=body)
    assert response.status_code == 422
    assert field in [p["field"] for p in response.json()["error"]["problems"]]


def test_unknown_organisation_and_bad_k(client, world):
    assert client.get("/api/v1/orgs/nobody/recommendations").status_code == 404
    assert client.post("/api/v1/orgs/nobody/recommendations", json={}).status_code == 404
    response = client.get("/api/v1/orgs/sme/recommendations", params={"k": 500})
    assert response.status_code == 422
    assert [p["field"] for p in response.json()["error"]["problems"]] == ["k"]


def test_private_ties_shape_only_the_answers_of_who_may_see_them(client, world, session):
    visitor = by_id(client.get("/api/v1/orgs/sme/recommendations",
                               params={"need": NEED, "k": 50}).json())
    assert "Friend" not in str(visitor["hidden"])
    assert [s["external_id"] for s in visitor["hidden"]["introduction_path"]] != \
        ["sme", "friend", "hidden"]
    answer = service.recommendations(session, OPERATOR, external_id="sme",
                                     query=NeedQuery(need=NEED, k=50))
    assert isinstance(answer, Recommendations)  # a typed answer, as the API documents it
    operator = by_id(answer.model_dump())
    assert [s["external_id"] for s in operator["hidden"]["introduction_path"]] == \
        ["sme", "friend", "hidden"]


@pytest.mark.database_independent
def test_recommend_command(database_url):
    from typer.testing import CliRunner

    from innonet.cli import app as cli_app
    from tests.conftest import CONSORTIA
    from tests.matching.test_recommend_batch import partners_in_consortia

    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli_app, ["--db", database_url, *map(str, args)])

    imported = run("import", "dashboard", CONSORTIA)
    assert imported.exit_code == 0 and "run `innonet train-rankers`" in imported.output
    assert "train-rankers" not in run("import", "dashboard", CONSORTIA, "--dry-run").output
    asker = "999984059"  # Fraunhofer, in many of the 2021 consortia
    result = run("recommend", "--org", asker, "--need", "hydrogen fuel cells", "--k", 4,
                 "--format", "json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert len(answer["results"]) == 4 and answer["need"] == "hydrogen fuel cells"
    assert asker not in {r["external_id"] for r in answer["results"]}
    result = run("recommend", "--org", asker, "--k", 3, "--format", "csv", "--new-only")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:6] == ["rank", "partner_id", "name", "kind", "country", "score"]
    assert [row[0] for row in rows[1:]] == ["1", "2", "3"]
    assert not {row[1] for row in rows[1:]} & partners_in_consortia()[asker]
    result = run("recommend", "--org", "nobody")
    assert result.exit_code == 1 and "No organisation with id 'nobody'" in result.output
    result = run("recommend", "--org", asker, "--k", 0)
    assert result.exit_code == 1 and "k:" in result.output


def test_a_stored_need_is_private_until_shared_and_searches_with_its_filters(client, world,
                                                                              session):
    member = make_user(session, world["sme"], "member")
    headers = bearer(session, member)
    body = {"organisation": "sme", "title": "Barrier coating", "description": NEED,
            "partner_kinds": ["research_organisation", "higher_education"],
            "excluded_countries": ["de"]}
    response = client.post("/api/v1/needs", json=body, headers=headers)
    assert response.status_code == 201, response.text
    need = response.json()
    assert need["visibility"] == "private" and need["excluded_countries"] == ["DE"]
    path = f"/api/v1/needs/{need['id']}"
    assert client.get(path).status_code == 404  # a visitor: as if it did not exist
    assert client.get("/api/v1/orgs/sme/needs").json() == []
    assert client.get(path, headers=headers).json()["title"] == "Barrier coating"
    answer = client.get(f"{path}/recommendations", headers=headers, params={"k": 5}).json()
    assert answer["need"] == f"Barrier coating. {NEED}"
    assert answer["results"] and all(r["kind"] in {"research_organisation", "higher_education"}
                                     and r["country"] != "DE" for r in answer["results"])
    assert client.get(f"{path}/recommendations").status_code == 404

    changed = client.patch(path, json={"visibility": "public", "title": "Coatings"},
                           headers=headers)
    assert changed.status_code == 200 and changed.json()["title"] == "Coatings"
    assert [n["id"] for n in client.get("/api/v1/orgs/sme/needs").json()] == [need["id"]]
    assert client.patch(path, json={"title": ""}, headers=headers).status_code == 422
    assert client.delete(path, headers=headers).status_code == 204
    assert client.get(path, headers=headers).status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"title": ""}, "title"), ({"title": "x", "preferred_countries": ["XX"]},
                               "preferred_countries"),
    ({"title": "x", "partner_kinds": ["pirate"]}, "partner_kinds.0"),
    ({"title": "x", "visibility": "partners"}, "shared_with"),
])
def test_a_bad_need_names_the_field_and_writes_nothing(client, world, session, body, field):
    headers = bearer(session, make_user(session, world["sme"], "member"))
    response = client.post("/api/v1/needs", json={"organisation": "sme", **body},
                           headers=headers)
    assert response.status_code == 422
    assert field in [p["field"] for p in response.json()["error"]["problems"]]
    assert client.get("/api/v1/orgs/sme/needs", headers=headers).json() == []


def test_stated_goals_count_for_alignment(client, world, session):
    for key in ("sme", "research"):
        organisations.update_organisation(session, OPERATOR, external_id=key,
                                          changes={"goals": "Carbon-neutral packaging by 2030"})
    session.flush()
    found = by_id(client.get("/api/v1/orgs/sme/recommendations",
                             params={"need": NEED, "k": 10}).json())
    alignment = next(f for f in found["research"]["factors"] if f["name"] == "alignment")
    assert alignment["score"] > 0 and "carbon-neutral" in alignment["reason"]


def test_stored_rankers_serve_the_same_history_without_learning_again(world, session, sessions):
    learned = service.train_rankers(sessions)
    assert set(learned) == {"new_partners", "consortium"}
    stored = session.scalars(select(RankerModel.question)).all()
    assert sorted(stored) == ["consortium", "new_partners"]
    digest = service.finder(session).digest
    # A new process: nothing learned in memory, nothing cached.
    finders._learned.clear()
    finders._cache.clear()
    fresh = service.finder(session)
    assert fresh.digest == digest and set(fresh._models) == {"new_partners", "consortium"}
    # A profile change keeps the history, so the stored rankers still serve it.
    organisations.update_organisation(session, OPERATOR, external_id="sme",
                                      changes={"city": "Graz"})
    session.flush()
    assert service.finder(session) is not fresh and service.finder(session).digest == digest
    # A new project changes the history: the stored rankers no longer apply.
    make_project(session, world["sme"], world["polish"], external_id="RP-new",
                 title="Paper coatings", start_date=date(2023, 1, 1))
    session.flush()
    assert service.finder(session).digest != digest
    assert service.finder(session)._models == {}



def test_a_new_process_answers_from_the_prepared_finder_of_the_same_data(world, session, tmp_path):
    session.info[PREPARED_DIR] = tmp_path
    finders._cache.clear()
    built = service.finder(session)
    [kept] = tmp_path.glob("finder-*.pickle")
    query = NeedQuery(need=NEED, k=5)
    answer = service.recommendations(session, OPERATOR, external_id="sme", query=query)
    # A new process: nothing in memory; the file is read (not built and written again).
    finders._cache.clear()
    read = service.finder(session)
    assert read is not built and kept.stat().st_ino == next(tmp_path.glob("finder-*.pickle")).stat().st_ino
    assert (read.digest, read.external_ids, read.history.m) == (built.digest, built.external_ids, built.history.m)
    assert service.recommendations(session, OPERATOR, external_id="sme", query=query) == answer
    # A damaged file is built again and replaced.
    kept.write_bytes(b"not a finder")
    finders._cache.clear()
    assert service.finder(session).digest == built.digest
    [replaced] = tmp_path.glob("finder-*.pickle")
    assert replaced.read_bytes() != b"not a finder"
    # New data: a new file, and only the newest is kept.
    make_project(session, world["sme"], world["polish"], external_id="RP-new", title="Paper coatings",
                 start_date=date(2023, 1, 1))
    session.flush()
    assert service.finder(session).digest != built.digest
    [newest] = tmp_path.glob("finder-*.pickle")
    assert newest.name != replaced.name


def test_a_command_reads_the_network_analysis_stored_for_it(world, sessions):
    network.store_public_analysis(sessions, date.today())
    network.store_public_analysis(sessions, date.today())  # stored already: nothing added
    with transaction(sessions, writes=False) as session:
        [stored] = session.scalars(select(StoredAnalysis)).all()
        found = network.analysis(session, OPERATOR)  # no job queue, as in a command
        assert stored.since is None and stored.until is None
        assert set(found.vertex_of) == {o.id for o in world.values()}


def test_one_consortium_fills_at_most_three_of_the_first_ten(client, session):
    asker = make_organisation(session, external_id="asker", name="Asker", country="AT")
    consortium = [make_organisation(session, external_id=f"c{i}", name=f"Consortium {i}",
                                    country="DE") for i in range(8)]
    others = [make_organisation(session, external_id=f"o{i}", name=f"Other {i}", country="FR")
              for i in range(8)]
    make_project(session, *consortium, external_id="BIG", title="Solid oxide fuel cells for ships",
                 start_date=date(2021, 1, 1))
    for i, other in enumerate(others):
        make_project(session, other, others[(i + 1) % 8], external_id=f"SMALL-{i}",
                     title=f"Fuel cells for {['buses', 'trains', 'drones', 'forklifts'][i % 4]}",
                     start_date=date(2020 + i % 2, 1, 1))
    make_project(session, asker, others[0], external_id="OWN", title="Electric ferries",
                 start_date=date(2020, 1, 1))
    session.commit()
    # Only the fit counts: the eight members of the one project on solid oxide cells fit best.
    body = {"need": "solid oxide fuel cells for ships", "k": 16,
            "weights": {name: 0 for name in FACTORS} | {"capability_fit": 1}}

    def first_ten(**options):
        answer = client.post("/api/v1/orgs/asker/recommendations", json=body | options)
        assert answer.status_code == 200, answer.text
        return [r["external_id"] for r in answer.json()["results"][:10]]

    unlimited = first_ten(max_per_project=0)
    assert sorted(unlimited[:8]) == [f"c{i}" for i in range(8)]
    limited = first_ten()
    assert len([key for key in limited if key.startswith("c")]) == 3
    assert limited[:3] == unlimited[:3]  # the best of them keep their place
    bad = client.post("/api/v1/orgs/asker/recommendations", json=body | {"max_per_project": 11})
    assert bad.status_code == 422
