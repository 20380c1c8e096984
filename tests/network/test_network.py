"""The network built from the database: links, cache, visibility, API, exports, command."""

import io
import json
from datetime import date

import igraph as ig
import networkx as nx
import pytest
from typer.testing import CliRunner

from innonet.cli import app as cli_app
from innonet.collaborations import service as collaborations
from innonet.errors import InvalidInput
from innonet.network import service
from innonet.roles import Viewer
from tests.conftest import CONSORTIA
from tests.factories import (
    OPERATOR,
    bearer,
    make_organisation,
    make_project,
    make_relationship,
    make_user,
)

VISITOR = Viewer(today=date.today(), channel="api")


@pytest.fixture
def network(session):
    """A small real-shaped network: an SME with a supplier, a customer, a university, and
    a private tie of another firm that only that firm's members may see."""
    sme = make_organisation(session, name="Acme SME", external_id="N-SME", country="AT",
                            is_sme=True)
    supplier = make_organisation(session, name="Steel Supplier", external_id="N-SUP", country="DE")
    customer = make_organisation(session, name="Big Customer", external_id="N-CUS", country="DE")
    university = make_organisation(session, name="Tech University", external_id="N-UNI",
                                   country="DE", kind="higher_education")
    rival = make_organisation(session, name="Rival Firm", external_id="N-RIV", country="FR")
    secret_partner = make_organisation(session, name="Secret Partner", external_id="N-SEC",
                                       country="IT")
    loner = make_organisation(session, name="Loner", external_id="N-LONE", country="AT")
    make_project(session, sme, university, customer, external_id="N-P1",
                 start_date=date(2019, 1, 1), end_date=date(2021, 12, 31))
    make_project(session, sme, university, external_id="N-P2",
                 start_date=date(2022, 3, 1), end_date=date(2024, 2, 28))
    make_project(session, rival, university, external_id="N-P3",
                 start_date=date(2020, 1, 1), end_date=date(2020, 12, 31))
    make_relationship(session, sme, supplier, kind="supplier", visibility="public",
                      strength=5, start_date=date(2018, 1, 1))
    make_relationship(session, sme, customer, kind="customer", visibility="public")
    make_relationship(session, rival, secret_partner, kind="research_partner",
                      visibility="private")
    session.flush()
    return {o.external_id: o for o in (sme, supplier, customer, university, rival,
                                       secret_partner, loner)}


def edges_of(result):
    G = result.graph
    names = G.vs["external_id"]
    return {tuple(sorted((names[e.source], names[e.target]))): e for e in G.es}


def test_links_combine_shared_projects_and_visible_relationships(session, network):
    result = service.analysis(session, VISITOR)
    edges = edges_of(result)
    assert edges[("N-SME", "N-UNI")]["projects"] == 2
    assert edges[("N-SME", "N-UNI")]["weight"] == 2
    assert (edges[("N-SME", "N-UNI")]["first_year"], edges[("N-SME", "N-UNI")]["last_year"]) \
        == (2019, 2024)
    # A shared project and a recorded relationship of default strength: 1 + 3/3.
    assert edges[("N-CUS", "N-SME")]["weight"] == pytest.approx(2.0)
    assert edges[("N-SME", "N-SUP")]["weight"] == pytest.approx(5 / 3)
    assert edges[("N-SME", "N-SUP")]["last_year"] is None  # ongoing
    assert ("N-RIV", "N-SEC") not in edges  # private to Rival Firm
    assert result.graph.vcount() == 7


def test_time_window_keeps_projects_starting_in_those_years(session, network):
    result = service.analysis(session, VISITOR, since=2022, until=2022)
    edges = edges_of(result)
    assert edges[("N-SME", "N-UNI")]["projects"] == 1
    assert ("N-RIV", "N-UNI") not in edges
    with pytest.raises(InvalidInput, match="since"):
        service.analysis(session, VISITOR, since=2023, until=2022)


def test_the_cache_is_reused_and_never_stale_after_an_edit_or_an_import(session, network):
    first = service.analysis(session, VISITOR)
    assert service.analysis(session, VISITOR) is first
    before = service.diagnosis(session, VISITOR, external_id="N-LONE")
    assert before.partners == 0
    # An edit through the service (ORM flush) ...
    make_relationship(session, network["N-LONE"], network["N-SME"], kind="consultant",
                      visibility="public")
    session.flush()
    after = service.diagnosis(session, VISITOR, external_id="N-LONE")
    assert after.partners == 1
    assert after.portfolio["by_category"][0]["category"] == "customers"  # inverse kind
    # ... and an import through bulk statements (no flush of objects).
    project_id = collaborations.upsert_projects(
        session, records=[{"external_id": "N-P9", "start_date": date(2023, 1, 1)}]) and \
        collaborations.project_ids(session)["N-P9"]
    collaborations.upsert_participations(session, records=[
        {"project_id": project_id, "organisation_id": network[o].id, "role": "participant"}
        for o in ("N-LONE", "N-RIV")])
    imported = service.diagnosis(session, VISITOR, external_id="N-LONE")
    assert imported.partners == 2
    # An edit of a relationship's strength changes the weight too.
    rel = collaborations.list_relationships(session, OPERATOR,
                                            organisation_id=network["N-LONE"].id)[0]
    collaborations.update_relationship(session, OPERATOR, relationship_id=rel.id,
                                       changes={"strength": 1})
    edges = edges_of(service.analysis(session, VISITOR))
    assert edges[("N-LONE", "N-SME")]["weight"] == pytest.approx(1 / 3)


def test_private_relationships_stay_private_in_every_output(session, client, network):
    insider = make_user(session, network["N-RIV"], "member")
    outsider = make_user(session, network["N-SME"], "admin")
    session.commit()
    for user, sees in ((insider, True), (outsider, False), (None, False)):
        headers = bearer(session, user) if user else {}
        session.commit()
        diagnosis = client.get("/api/v1/orgs/N-RIV/diagnosis", headers=headers).json()
        assert diagnosis["partners"] == (2 if sees else 1)
        countries = {c["country"] for c in diagnosis["geography"]["countries"]}
        assert ("IT" in countries) is sees
        graph = client.get("/api/v1/network/graph?view=organisations",
                           headers=headers).json()
        links = {tuple(sorted((l["source"], l["target"]))) for l in graph["links"]}
        assert (("N-RIV", "N-SEC") in links) is sees
        report = client.get("/api/v1/network/report", headers=headers).json()
        assert report["size"]["links"] == (6 if sees else 5)
        exported = client.get("/api/v1/network/export?format=graphml", headers=headers)
        H = nx.read_graphml(io.BytesIO(exported.content))
        assert H.has_edge("N-RIV", "N-SEC") is sees
        secret = client.get("/api/v1/orgs/N-SEC/diagnosis", headers=headers).json()
        assert secret["partners"] == (1 if sees else 0)


def test_cluster_managers_count_consenting_members_private_ties_only_in_the_report(
        session, client, network):
    manager = make_user(session, is_cluster_manager=True)
    headers = bearer(session, manager)
    session.commit()
    assert client.get("/api/v1/network/report", headers=headers).json()["size"]["links"] == 5
    network["N-RIV"].cluster_consent_at = network["N-RIV"].created_at
    session.commit()
    # Its private tie is to N-SEC, which has not consented: the tie says something about
    # N-SEC too, so it is not counted yet.
    assert client.get("/api/v1/network/report", headers=headers).json()["size"]["links"] == 5
    network["N-SEC"].cluster_consent_at = network["N-SEC"].created_at
    session.commit()
    assert client.get("/api/v1/network/report", headers=headers).json()["size"]["links"] == 6
    graph = client.get("/api/v1/network/graph?view=organisations", headers=headers).json()
    assert ("N-RIV", "N-SEC") not in {(l["source"], l["target"]) for l in graph["links"]}


def test_diagnosis_of_an_sme(session, client, network):
    answer = client.get("/api/v1/orgs/N-SME/diagnosis")
    assert answer.status_code == 200
    d = answer.json()
    assert d["partners"] == 3
    by_category = {c["category"]: c["partners"] for c in d["portfolio"]["by_category"]}
    assert by_category["suppliers"] == 1 and by_category["customers"] == 1
    assert by_category["universities"] == 1
    assert d["portfolio"]["breadth"] == 3
    assert d["portfolio"]["diversity"] == pytest.approx(1 - 3 * (1 / 3) ** 2)
    geo = d["geography"]
    assert geo["home_country"] == "AT" and geo["domestic_share"] == 0.0
    assert geo["largest_country"] == "DE" and geo["largest_country_share"] == 1.0
    assert geo["hhi"] == 1.0 and geo["concentration"] == "high"
    codes = {f["code"]: f for f in d["findings"]}
    assert codes["country_concentration"]["figure"] == 1.0
    assert "100% of your partners are in one country (DE)" in codes["country_concentration"]["text"]
    assert d["network_type"]["evidence"]["partners"] == 3
    assert d["metrics"]["degree"] == 3
    years = {y["year"]: y for y in d["dynamics"]["years"]}
    assert years[2018]["new"] == 1 and years[2019]["new"] == 2


def test_value_chain_network_type(session, network):
    sme = network["N-SME"]
    for n in range(3):
        partner = make_organisation(session, name=f"Part supplier {n}", country="AT")
        make_relationship(session, sme, partner, kind="supplier", visibility="public")
    session.flush()
    d = service.diagnosis(session, VISITOR, external_id="N-SME")
    assert d.network_type["type"] == "value chain"
    assert "customers or suppliers" in d.network_type["reason"]


def test_bad_input_unknown_organisation_no_partners_and_empty_database(session, client):
    missing = client.get("/api/v1/orgs/NOPE/diagnosis")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "No organisation with id 'NOPE'."
    assert client.get("/orgs/NOPE/diagnosis").status_code == 404
    empty = client.get("/api/v1/network/report")
    assert empty.status_code == 200
    assert empty.json()["size"]["organisations"] == 0 and empty.json()["hubs"] == []
    assert client.get("/api/v1/network/graph").json()["nodes"] == []
    assert client.get("/network/report").status_code == 200
    make_organisation(session, name="Alone", external_id="N-ALONE")
    session.commit()
    alone = client.get("/api/v1/orgs/N-ALONE/diagnosis").json()
    assert alone["partners"] == 0
    assert [f["code"] for f in alone["findings"]] == ["no_partners"]
    wrong = client.get("/api/v1/network/export?format=pdf")
    assert wrong.status_code == 422 and "format" in wrong.text
    window = client.get("/api/v1/network/report?since=2020&until=2019")
    assert window.status_code == 422
    assert window.json()["error"]["problems"][0]["field"] == "since"


def test_exports_read_back_by_networkx_and_igraph(session, client, network, tmp_path):
    result = service.analysis(session, VISITOR)
    expected = {pair: edge["weight"] for pair, edge in edges_of(result).items()}
    for format, read in (("gexf", nx.read_gexf), ("graphml", nx.read_graphml)):
        content = client.get(f"/api/v1/network/export?format={format}").content
        path = tmp_path / f"network.{format}"
        path.write_bytes(content)
        H = read(path)
        assert sorted(H.nodes) == sorted(result.graph.vs["external_id"])
        got = {tuple(sorted((u, v))): d["weight"] for u, v, d in H.edges(data=True)}
        assert got == pytest.approx(expected)
        assert H.nodes["N-SME"]["degree"] == 3
    windowed = client.get("/api/v1/network/export?format=graphml&since=2022&until=2022")
    assert not nx.read_graphml(io.BytesIO(windowed.content)).has_edge("N-CUS", "N-UNI")
    G = ig.Graph.Read_GraphML(str(tmp_path / "network.graphml"))
    ids = G.vs["id"]
    got = {tuple(sorted((ids[e.source], ids[e.target]))): e["weight"] for e in G.es}
    assert got == pytest.approx(expected)


def test_networkx_graph_from_python(session, network):
    H = service.networkx_graph(session, VISITOR)
    assert H.number_of_nodes() == 7 and H.has_edge("N-SME", "N-UNI")
    assert H["N-SME"]["N-UNI"]["projects"] == 2
    assert H.nodes["N-SME"]["degree"] == 3 and H.nodes["N-SME"]["kind"] == "company"
    assert sum(nx.get_node_attributes(H, "pagerank").values()) == pytest.approx(1.0)


def test_graph_view_filters_and_aggregates(session, client, network):
    only_de = client.get("/api/v1/network/graph?country=DE&view=organisations").json()
    assert {n["country"] for n in only_de["nodes"]} == {"DE"}
    assert only_de["matched"] == 3
    universities = client.get("/api/v1/network/graph?kind=higher_education").json()
    assert [n["id"] for n in universities["nodes"]] == ["N-UNI"]
    found = client.get("/api/v1/network/graph?q=acme").json()
    assert [n["label"] for n in found["nodes"]] == ["Acme SME"]
    smes = client.get("/api/v1/network/graph?sme=true").json()
    assert [n["id"] for n in smes["nodes"]] == ["N-SME"]
    groups = client.get("/api/v1/network/graph?view=communities").json()
    assert groups["view"] == "communities"
    assert sum(n["organisations"] for n in groups["nodes"]) <= 7
    auto = client.get("/api/v1/network/graph?limit=2").json()
    assert auto["view"] == "communities"
    assert all(0 <= n["x"] <= 1000 and 0 <= n["y"] <= 1000 for n in only_de["nodes"])


def test_pages_show_the_diagnosis_report_and_explorer(client, network, session):
    session.commit()
    page = client.get("/orgs/N-SME/diagnosis")
    assert page.status_code == 200
    for text in ("Partner portfolio", "Countries of partners", "ego-network",
                 "in one country (DE)", "New and lost partners"):
        assert text in page.text
    windowed = client.get("/orgs/N-SME/diagnosis?since=2022&until=2022")
    assert 'value="2022"' in windowed.text and "Partner portfolio" in windowed.text
    assert client.get("/orgs/N-SME/diagnosis?since=2023&until=2022").status_code == 422
    report = client.get("/network/report")
    assert "Hubs" in report.text and "<svg" in report.text
    window = client.get("/network/report?since=2022&until=2022")
    assert 'href="/network/report.html?since=2022&amp;until=2022"' in window.text
    assert 'value="2022"' in window.text
    download = client.get("/network/report.html")
    assert download.headers["content-disposition"].startswith("attachment")
    assert "<style>" in download.text and "src=" not in download.text
    assert "explorer" in client.get("/network").text


runner = CliRunner()


@pytest.mark.slow
@pytest.mark.database_independent
def test_analyze_command(database_url, tmp_path):
    def run(*args):
        result = runner.invoke(cli_app, ["--db", database_url, *map(str, args)])
        return result

    empty = run("analyze", "--format", "json")
    assert empty.exit_code == 0, empty.output
    assert json.loads(empty.stdout) == {"organisations": [], "network": json.loads(
        empty.stdout)["network"]}
    assert run("import", "dashboard", CONSORTIA).exit_code == 0
    result = run("analyze", "--format", "json")
    data = json.loads(result.stdout)
    assert len(data["organisations"]) == 2016
    keys = {"external_id", "degree", "strength", "pagerank", "eigenvector", "betweenness",
            "closeness", "clustering", "constraint", "effective_size", "core_number",
            "community"}
    assert keys <= set(data["organisations"][0])
    assert data["network"]["size"]["organisations"] == 2016
    assert sum(o["pagerank"] for o in data["organisations"]) == pytest.approx(1.0)
    esa = next(o for o in data["organisations"] if o["name"] == "EUROPEAN SPACE AGENCY")
    md = run("analyze", "--org", esa["external_id"], "--format", "md")
    assert md.exit_code == 0 and md.stdout.startswith("# Network diagnosis: EUROPEAN SPACE AGENCY")
    html = tmp_path / "report.html"
    assert run("analyze", "--format", "html", "--out", html).exit_code == 0
    text = html.read_text()
    assert text.startswith("<!doctype html>") and "<svg" in text and "src=" not in text
    hub = max(data["organisations"], key=lambda o: o["degree"])
    diagnosis = tmp_path / "hub.html"
    assert run("analyze", "--org", hub["external_id"], "--format", "html", "--out",
               diagnosis).exit_code == 0
    text = diagnosis.read_text()
    assert "Partner portfolio" in text and text.count("<circle") > 1 and "src=" not in text
    gexf = tmp_path / "network.gexf"
    assert run("analyze", "--format", "gexf", "--out", gexf).exit_code == 0
    assert nx.read_gexf(gexf).number_of_nodes() == 2016
    missing = run("analyze", "--org", "NOPE")
    assert missing.exit_code == 1 and "No organisation with id 'NOPE'" in missing.stderr
    assert run("analyze", "--format", "pdf").exit_code == 2
