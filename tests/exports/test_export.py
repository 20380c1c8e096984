"""Export my data: one ZIP per organisation, for its admins (a job on the web, a command
on the server), with every table as CSV and JSON, no secrets, and a template that imports."""

import csv
import io
import json
import zipfile

from typer.testing import CliRunner

from innonet.accounts import service as accounts
from innonet.cli import app as cli
from innonet.db import make_engine, make_session_factory, migrate, transaction
from innonet.imports import template
from innonet.matching import service as matching
from innonet.matching.schemas import NeedIn
from innonet.organisations import service as organisations
from innonet.sharing import service as sharing
from innonet.sharing.schemas import AgreementIn
from tests.factories import (
    OPERATOR,
    PASSWORD,
    bearer,
    make_organisation,
    make_project,
    make_relationship,
    make_user,
    sign_in,
)

TABLES = ("organisation", "relationships", "project_partners", "needs", "shortlists", "agreements",
          "agreement_documents", "members", "shares", "consent", "introductions", "audit_log")


def _world(session):
    alpha, beta, gamma = (make_organisation(session, name=n) for n in ("Alpha", "Beta", "Gamma"))
    make_project(session, alpha, beta, external_id="P-EXPORT", acronym="EXPO")
    nda = sharing.create_agreement(session, OPERATOR, data=AgreementIn(
        owner=alpha.external_id, parties=[beta.external_id], kind="nda", title="NDA A-B",
        status="in_force", documents=[{"title": "Signed NDA", "filename": "nda.pdf"}]))
    make_relationship(session, alpha, gamma, kind="customer", notes="=SUM(A1) secret terms")
    make_relationship(session, alpha, beta, kind="supplier", visibility="partners",
                      shared_with=[beta.external_id], agreement=nda.id)
    make_relationship(session, beta, gamma, kind="supplier", notes="Beta's own private note")
    need = matching.create_need(session, OPERATOR, data=NeedIn(
        organisation=alpha.external_id, title="Coating partner", description="barrier coatings"))
    matching.add_to_shortlist(session, OPERATOR, need_id=need.id, partner=gamma.external_id)
    admin, member = make_user(session, alpha, "admin", name="Ada"), make_user(session, alpha)
    return alpha, beta, admin, member


def _tables(archive: zipfile.ZipFile) -> dict[str, list[dict]]:
    tables = {}
    for name in TABLES:
        reader = csv.DictReader(io.StringIO(archive.read(f"{name}.csv").decode()))
        rows = list(reader)
        as_json = json.loads(archive.read(f"{name}.json"))
        # The same records both ways: as many, with the same fields.
        assert len(as_json) == len(rows) and all(list(r) == reader.fieldnames for r in as_json), name
        tables[name] = rows
    return tables


def test_an_admin_downloads_the_zip_from_the_members_page(client, session):
    alpha, beta, admin, member = _world(session)
    token = sign_in(client, session, admin)
    session.commit()
    assert "Export our data" in client.get(f"/orgs/{alpha.external_id}/members").text
    job_page = client.post(f"/orgs/{alpha.external_id}/export", data={"csrf_token": token})
    assert job_page.status_code == 200 and "Download the ZIP" in job_page.text
    job_id = job_page.url.path.rsplit("/", 1)[1]
    download = client.get(f"/jobs/{job_id}/file")
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    names = set(archive.namelist())
    assert {"README.md", "network-template.csv"} | {f"{t}.{e}" for t in TABLES for e in ("csv", "json")} == names
    tables = _tables(archive)
    readme = archive.read("README.md").decode()
    assert "# Data of Alpha" in readme and "| relationships.csv, relationships.json |" in readme

    assert [r["name"] for r in tables["organisation"]] == ["Alpha"]
    assert sorted((r["partner_name"], r["visibility"]) for r in tables["relationships"]) == [
        ("Beta", "partners"), ("Gamma", "private")]
    assert "'=SUM(A1) secret terms" in {r["notes"] for r in tables["relationships"]}  # no formula
    assert "Beta's own private note" not in download.content.decode("latin-1")  # not Alpha's
    assert [(r["acronym"], r["partner_name"]) for r in tables["project_partners"]] == [("EXPO", "Beta")]
    assert [(r["need_title"], r["organisation_name"]) for r in tables["shortlists"]] == [("Coating partner", "Gamma")]
    assert [(r["title"], r["in_force"], r["parties"]) for r in tables["agreements"]] == [
        ("NDA A-B", "True", f"{alpha.external_id} {beta.external_id}")]
    assert [r["filename"] for r in tables["agreement_documents"]] == ["nda.pdf"]
    assert sorted(r["email"] for r in tables["members"]) == sorted([admin.email, member.email])
    assert [(r["item_type"], r["organisation_name"]) for r in tables["shares"]] == [("relationship", "Beta")]
    assert tables["consent"][0]["cluster_consent"] == "False"
    assert any(r["action"] == "create" for r in tables["audit_log"])
    # No secret of any kind leaves: password hashes, session or token digests.
    text = b"".join(archive.read(n) for n in names).decode()
    assert "argon2" not in text and PASSWORD not in text and "token" not in tables["members"][0]

    # The export is in the audit log; members who are not admins may not export.
    assert "all the organisation&#39;s data" in client.get(f"/orgs/{alpha.external_id}/audit").text
    client.cookies.clear()
    token = sign_in(client, session, member)
    session.commit()
    assert client.post(f"/orgs/{alpha.external_id}/export", data={"csrf_token": token},
                       follow_redirects=False).status_code == 403


def test_the_command_writes_the_same_zip_and_its_template_imports_into_another_database(
        fresh_sessions, database_url, databases, tmp_path):
    with transaction(fresh_sessions) as session:
        alpha, *_ = _world(session)
        alpha_id = alpha.external_id
    out = tmp_path / "alpha.zip"
    done = CliRunner().invoke(cli, ["--db", database_url, "export", str(out), "--org", alpha_id])
    assert done.exit_code == 0, done.output
    assert f"Wrote {out}" in done.output and "relationships 2" in done.output
    archive = zipfile.ZipFile(out)
    assert len(_tables(archive)["relationships"]) == 2

    other = databases.new()
    engine = make_engine(other)
    migrate(engine)
    with transaction(make_session_factory(engine)) as session:
        report = template.import_template(session, OPERATOR, file=io.BytesIO(archive.read("network-template.csv")))
        assert report.skipped == []
        assert report.counts["relationships"] == (2, 0)
        assert organisations.get_organisation(session, external_id=alpha_id).name == "Alpha"
    engine.dispose()

    wrong = CliRunner().invoke(cli, ["--db", database_url, "export", str(tmp_path / "x.zip"),
                                     "--org", "NO-SUCH"])
    assert wrong.exit_code == 1 and "No organisation with id 'NO-SUCH'" in wrong.output
    assert not (tmp_path / "x.zip").exists() and not (tmp_path / "x.zip.partial").exists()


def test_the_zip_is_downloaded_by_its_starter_while_an_admin_only_and_each_download_is_audited(client, session):
    alpha, beta, admin, member = _world(session)
    other_admin = make_user(session, alpha, "admin")
    platform_admin = make_user(session, is_platform_admin=True)
    session.commit()
    started = client.post(f"/api/v1/orgs/{alpha.external_id}/export", headers=bearer(session, admin))
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    url = f"/api/v1/jobs/{job_id}/file"
    # Neither a platform admin nor another admin of the organisation downloads another's export.
    for who in (platform_admin, other_admin, member):
        denied = client.get(url, headers=bearer(session, who))
        assert denied.status_code in (403, 404), (who.email, denied.status_code)
        assert b"secret terms" not in denied.content
    mine = client.get(url, headers=bearer(session, admin))
    assert mine.status_code == 200 and zipfile.ZipFile(io.BytesIO(mine.content)).namelist()
    downloads = [e for e in sharing.audit_events(session, OPERATOR, organisation_id=alpha.id)
                 if (e.detail or "").startswith("download")]
    assert [(e.actor, e.action) for e in downloads] == [(admin.email, "export")]
    # An admin no longer: the export they started is theirs no more.
    accounts.set_membership(session, user=admin, organisation_id=alpha.id, role="member")
    session.commit()
    lost = client.get(url, headers=bearer(session, admin))
    assert lost.status_code == 403 and "no longer" in lost.json()["error"]["message"]
