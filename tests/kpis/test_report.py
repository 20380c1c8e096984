"""The quarterly report (PDF, CSV, HTML) from the API and the command line, with the same
figures as the API's KPIs; the cluster's KPIs withheld below three consenting members."""

import csv
import io
import shutil
import subprocess
from datetime import date

import pytest
from pypdf import PdfReader

from innonet.accounts import service as accounts
from innonet.db import transaction
from innonet.kpis import network_figures
from innonet.kpis.report import shown
from innonet.sharing import service as sharing
from tests.conftest import skip_or_fail
from tests.factories import OPERATOR, bearer, make_organisation, make_project, make_user
from tests.test_cli import run

SALES = {"year": 2025, "turnover": 4_000_000, "new_to_market": 500_000, "new_to_firm": 700_000}


@pytest.fixture
def acme(session):
    acme = make_organisation(session, name="Acme Coatings", country="DE")
    uni = make_organisation(session, name="Uni", country="FI", kind="higher_education")
    lab = make_organisation(session, name="Lab", country="FR", kind="research_organisation")
    make_project(session, acme, uni, start_date=date(2024, 3, 1), end_date=date(2025, 6, 30))
    make_project(session, acme, lab, uni, start_date=date(2025, 1, 1), end_date=date(2026, 12, 31))
    network_figures.refresh(session, this_year=2025)
    member = make_user(session, acme)
    h = bearer(session, member)
    session.commit()
    return {"org": acme, "h": h, "member": member, "outsider": bearer(session, make_user(session, uni))}


def _kpis(client, acme, period="2025"):
    return client.get(f"/api/v1/orgs/{acme['org'].external_id}/kpis", params={"period": period},
                      headers=acme["h"]).json()


def test_the_pdf_report_renders_and_holds_the_apis_figures(client, acme, tmp_path):
    base = f"/api/v1/orgs/{acme['org'].external_id}"
    assert client.put(f"{base}/sales", json=SALES, headers=acme["h"]).status_code == 200
    assert client.put(f"{base}/kpis/country_hhi/target", json={"target": 0.2}, headers=acme["h"]).status_code == 200
    answer = client.get(f"{base}/report", params={"period": "2025", "format": "pdf"}, headers=acme["h"])
    assert answer.status_code == 200, answer.text
    assert answer.content.startswith(b"%PDF")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(answer.content)
    pages = len(PdfReader(io.BytesIO(answer.content)).pages)
    if shutil.which("pdftoppm") is None:
        skip_or_fail("pdftoppm is not installed (apt-get install poppler-utils)")
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page-*.png"))) == pages >= 1
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages)
    text = " ".join(text.split())
    figures = {k["kpi"]: k for k in _kpis(client, acme)["kpis"]}
    assert figures["innovative_sales_share"]["value"] == pytest.approx(0.3)
    for k in figures.values():
        assert f"{k['label']} {k['period']} {shown(k['value'], k['unit'])}" in text, (k["kpi"], text[:3000])
    assert "Acme Coatings: quarterly report 2025" in text


def test_the_csv_and_html_reports_hold_the_apis_figures(client, acme):
    base = f"/api/v1/orgs/{acme['org'].external_id}"
    client.put(f"{base}/sales", json=SALES, headers=acme["h"])
    answer = client.get(f"{base}/report", params={"period": "2025", "format": "csv"}, headers=acme["h"])
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = {row[1]: row for row in csv.reader(io.StringIO(answer.text))}
    for k in _kpis(client, acme)["kpis"]:
        value = rows[k["kpi"]][4]
        assert (value == "") if k["value"] is None else float(value) == pytest.approx(k["value"]), k["kpi"]
    page = client.get(f"{base}/report", params={"period": "2025"}, headers=acme["h"])
    assert page.status_code == 200 and "Share of innovative sales" in page.text and "30.0 %" in page.text
    bad = client.get(f"{base}/report", params={"format": "docx"}, headers=acme["h"])
    assert bad.status_code == 422 and "format" in bad.text
    assert client.get(f"{base}/report", headers=acme["outsider"]).status_code == 403


def test_the_command_line_writes_the_same_report(fresh_sessions, database_url, tmp_path):
    with transaction(fresh_sessions) as session:
        acme = make_organisation(session, name="Acme Coatings", external_id="ACME")
        uni = make_organisation(session, name="Uni", external_id="UNI", kind="higher_education", country="FI")
        make_project(session, acme, uni, start_date=date(2025, 1, 1), end_date=date(2025, 12, 31))
        network_figures.refresh(session, this_year=2025)
    csv_text = run(database_url, "report", "--org", "ACME", "--period", "2025", "--format", "csv").stdout
    assert "network,partners,Partners,2025,1.0,count" in csv_text
    pdf = tmp_path / "acme.pdf"
    run(database_url, "report", "--org", "ACME", "--period", "2025Q4", "--format", "pdf", "--output", pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    bad = run(database_url, "report", "--org", "ACME", "--period", "2025Q7", ok=False)
    assert bad.exit_code == 1 and "period" in bad.output
    assert run(database_url, "report", "--period", "2025", ok=False).exit_code == 2
    # The cluster's: nobody consents, so every figure is empty and the network withheld.
    cluster = run(database_url, "report", "--cluster", "--period", "2025", "--format", "csv").stdout
    assert "network,partners,Partners,2025,,count,,,0" in cluster and "cluster_network" not in cluster


def test_a_cluster_kpi_made_of_fewer_than_three_consenting_members_shows_nothing(client, session):
    manager = make_user(session, is_cluster_manager=True)
    members = [make_organisation(session, name=f"Member {n}") for n in range(3)]
    people = [make_user(session, m) for m in members]
    h = {"manager": bearer(session, manager), **{n: bearer(session, p) for n, p in enumerate(people)}}
    session.commit()
    for n, (member, share) in enumerate(zip(members, (100_000, 400_000, 900_000))):
        assert client.put(f"/api/v1/orgs/{member.external_id}/sales", headers=h[n], json={
            "year": 2025, "turnover": 1_000_000, "new_to_market": share, "new_to_firm": 0}).status_code == 200
    for member in members[:2]:
        sharing.set_cluster_consent(session, OPERATOR, organisation=member, consent=True)
    session.commit()

    def sales_share():
        found = client.get("/api/v1/cluster/kpis", params={"period": "2025"}, headers=h["manager"])
        assert found.status_code == 200, found.text
        return next(k for k in found.json()["kpis"] if k["kpi"] == "new_to_market_share"), found

    withheld, found = sales_share()
    assert withheld["value"] is None and withheld["withheld"] and withheld["contributors"] == 2
    assert "0.1" not in found.text.replace("0.152", "") and "0.4" not in found.text  # neither member's figure
    assert found.json()["network"] == []
    report = client.get("/api/v1/cluster/report", params={"period": "2025", "format": "csv"}, headers=h["manager"])
    assert ",new_to_market_share,Share of sales new to the market,2025,,share,,,2" in report.text
    sharing.set_cluster_consent(session, OPERATOR, organisation=members[2], consent=True)
    session.commit()
    shown_now, _ = sales_share()
    assert shown_now["value"] == pytest.approx(0.4) and not shown_now["withheld"]  # the median of three
    assert client.get("/api/v1/cluster/kpis", headers=h[0]).status_code == 403


def test_a_report_pdf_is_read_by_its_starter_while_a_member_only_and_is_audited(client, session, acme):
    base = f"/api/v1/orgs/{acme['org'].external_id}"
    assert client.put(f"{base}/sales", json=SALES, headers=acme["h"]).status_code == 200
    started = client.get(f"{base}/report", params={"period": "2025", "format": "pdf"}, headers=acme["h"],
                         follow_redirects=False)
    assert started.status_code == 303, started.text
    url = started.headers["location"]
    platform_admin = make_user(session, is_platform_admin=True)
    admin = make_user(session, acme["org"], role="admin")
    session.commit()
    for who in (platform_admin, admin):
        denied = client.get(url, headers=bearer(session, who))
        assert denied.status_code in (403, 404) and not denied.content.startswith(b"%PDF"), who.email
    assert client.get(url, headers=acme["h"]).content.startswith(b"%PDF")
    assert any((e.detail or "").startswith("download: the quarterly report")
               for e in sharing.audit_events(session, OPERATOR, organisation_id=acme["org"].id))
    # Once no longer a member, the report they started is not theirs to read.
    accounts.set_membership(session, user=acme["member"], organisation_id=acme["org"].id, role="guest")
    session.commit()
    assert client.get(url, headers=acme["h"]).status_code == 403


def test_members_whose_figure_is_zero_do_not_make_up_a_cluster_figure(client, session):
    """With A, E and F consenting and only A's people writing ideas, the cluster's ideas
    submitted would be A's own figure: it is withheld; a year in which one member had
    partners is withheld from the network series, the CSV and the page."""
    manager = make_user(session, is_cluster_manager=True)
    members = [make_organisation(session, name=f"Zero {n}") for n in "AEF"]
    outside = make_organisation(session, name="Outside")
    make_project(session, members[0], outside, start_date=date(2025, 2, 1), end_date=date(2025, 11, 30))
    network_figures.refresh(session, this_year=2025)
    writer = make_user(session, members[0])
    for member in members:
        sharing.set_cluster_consent(session, OPERATOR, organisation=member, consent=True)
    h = {"manager": bearer(session, manager), "writer": bearer(session, writer)}
    session.commit()
    for n in range(3):
        assert client.post("/api/v1/ideas", headers=h["writer"], json={
            "title": f"Idea {n}", "description": "Lighter pallets"}).status_code == 201
    quarter = f"{date.today().year}Q{(date.today().month - 1) // 3 + 1}"
    found = client.get("/api/v1/cluster/kpis", params={"period": quarter}, headers=h["manager"]).json()
    ideas = next(k for k in found["kpis"] if k["kpi"] == "ideas_submitted")
    assert ideas["value"] is None and ideas["withheld"] and ideas["contributors"] == 1, ideas
    assert all(p["value"] is None for p in ideas["trend"])
    yearly = client.get("/api/v1/cluster/kpis", params={"period": "2025"}, headers=h["manager"]).json()
    year = next(n for n in yearly["network"] if n["year"] == 2025)
    assert year == {"year": 2025, "withheld": True, "members_with_partners": None, "partners": None,
                    "links_among_members": None}
    report = client.get("/api/v1/cluster/report", params={"period": "2025", "format": "csv"}, headers=h["manager"])
    assert "cluster_network,partners,partners,2025,,count" in report.text
    page = client.get("/api/v1/cluster/report", params={"period": "2025", "format": "html"}, headers=h["manager"])
    assert "withheld: fewer than 3 members had partners" in page.text
