"""Hostile input gets a clear 4xx naming the field, never a 500, on both databases."""

import gzip
import io
import logging
import re
import xml.dom.minidom
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook
from pydantic import ValidationError
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from innonet.accounts.models import LoginFailure
from innonet.db import describe_error, integrity_problem
from innonet.errors import InvalidInput
from innonet.imports import service as imports
from innonet.imports import template
from innonet.organisations.models import Organisation
from innonet.roles import operator
from innonet.text import TEXT_LIMITS, markdown_html
from tests.factories import (
    PASSWORD,
    bearer,
    make_organisation,
    make_relationship,
    make_user,
    sign_in,
)

OPERATOR = operator(date.today())


def problem_fields(answer) -> list:
    return [p.get("field") for p in answer.json()["error"]["problems"]]


@pytest.fixture
def member(session):
    organisation, partner = make_organisation(session), make_organisation(session)
    user = make_user(session, organisation, role="admin")
    session.commit()
    return organisation, partner, user


def test_nul_bytes_in_paths_queries_and_forms_are_refused_by_name(client, session, member):
    organisation, _, user = member
    answer = client.get("/api/v1/orgs/%00")
    assert answer.status_code == 422 and problem_fields(answer) == ["external_id"]
    answer = client.get("/api/v1/orgs?q=%00")
    assert answer.status_code == 422 and problem_fields(answer) == ["q"]
    assert client.get("/orgs/%00").status_code == 422
    token = client.get("/login") and client.cookies["innonet_csrf"]
    answer = client.post("/login", data={"email": "a\x00@example.org", "password": "x",
                                         "csrf_token": token})
    assert answer.status_code == 422 and "email" in answer.text
    csrf = sign_in(client, session, user)
    session.commit()
    answer = client.post(f"/orgs/{organisation.external_id}/relationships/new",
                         data={"csrf_token": csrf, "partner": "x", "kind": "supplier",
                               "notes": "private\x00notes"})
    assert answer.status_code == 422 and "notes" in answer.text


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x1b"])
def test_control_characters_in_json_are_refused_by_name(client, session, member, character):
    headers = bearer(session, member[2])
    session.commit()
    answer = client.post("/api/v1/orgs", json={"name": f"Evil{character}Corp"}, headers=headers)
    assert answer.status_code == 422 and problem_fields(answer) == ["name"]


def test_ids_too_large_for_the_database_are_refused(client, session, member):
    organisation, partner, user = member
    headers = bearer(session, user)
    session.commit()
    for path in ("/api/v1/needs/2147483648", "/api/v1/needs/99999999999999999999"):
        assert client.get(path, headers=headers).status_code == 422
    answer = client.get(f"/orgs/{organisation.external_id}/partners?need_id=99999999999999999999")
    assert answer.status_code == 422 and "need_id" in answer.text
    answer = client.post("/api/v1/relationships", headers=headers, json={
        "organisation": organisation.external_id, "partner": partner.external_id,
        "kind": "supplier", "visibility": "partners", "shared_with": [partner.external_id],
        "agreement": 1e20})
    assert answer.status_code == 422 and problem_fields(answer) == ["agreement"]


def test_profile_text_is_bounded_in_the_schema_and_the_database(client, session, member):
    organisation, _, user = member
    headers = bearer(session, user)
    session.commit()
    limit = TEXT_LIMITS["organisation.description"]
    answer = client.patch(f"/api/v1/orgs/{organisation.external_id}", headers=headers,
                          json={"description": "x" * (limit + 1)})
    assert answer.status_code == 422 and problem_fields(answer) == ["description"]
    assert client.patch(f"/api/v1/orgs/{organisation.external_id}", headers=headers,
                        json={"description": "x" * limit}).status_code == 200
    # The database refuses it too, whatever path a write takes.
    with pytest.raises(IntegrityError) as raised, session.begin_nested():
        session.execute(update(Organisation).where(Organisation.id == organisation.id)
                        .values(capabilities="y" * (TEXT_LIMITS["organisation.capabilities"] + 1)))
    assert integrity_problem(raised.value) == ("check", "capabilities")


def test_bodies_beyond_the_limit_are_refused_before_they_are_read(client, session, member):
    headers = bearer(session, member[2])
    session.commit()
    answer = client.post("/api/v1/orgs", headers=headers | {"Content-Type": "application/json"},
                         content=b'{"name": "' + b"x" * 3_000_000 + b'"}')
    assert answer.status_code == 413
    assert "larger than" in answer.json()["error"]["message"]
    answer = client.post(f"/api/v1/orgs/{member[0].external_id}/recommendations",
                         content=b"[" * 2_000_000, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413


def test_create_races_and_clashes_answer_409_naming_the_field(client, session, member):
    headers = bearer(session, member[2])
    session.commit()
    first = client.post("/api/v1/orgs", headers=headers,
                        json={"name": "A", "external_id": "A-1", "pic": "911111111"})
    again = client.post("/api/v1/orgs", headers=headers,
                        json={"name": "B", "external_id": "B-1", "pic": "911111111"})
    assert first.status_code == 201
    assert again.status_code == 409 and problem_fields(again) == ["pic"]


def test_graph_exports_stay_valid_xml_with_old_control_characters(client, session):
    a, b = make_organisation(session, name="Good"), make_organisation(session, name="Bad")
    make_relationship(session, a, b, visibility="public")
    # A name stored before control characters were refused.
    session.execute(update(Organisation).where(Organisation.id == b.id).values(name="Bad\x01\x1b"))
    session.commit()
    for fmt in ("gexf", "graphml"):
        answer = client.get(f"/api/v1/network/export?format={fmt}")
        assert answer.status_code == 200
        xml.dom.minidom.parseString(answer.content)  # raises on a control character
        assert b"Bad" in answer.content


def test_signed_in_pages_are_never_cached(client, session, member):
    organisation, partner, user = member
    relationship = make_relationship(session, organisation, partner, notes="private notes")
    sign_in(client, session, user)
    session.commit()
    for path in (f"/relationships/{relationship.id}/edit", "/agreements", "/network/report"):
        answer = client.get(path)
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"


def test_statement_parameters_never_reach_errors_or_logs(session, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "secret-notes@example.org"
    with pytest.raises(IntegrityError) as raised, session.begin_nested():
        session.execute(insert(LoginFailure).values(email=secret, address=None))
    assert "[SQL parameters hidden" in str(raised.value)
    assert integrity_problem(raised.value) == ("not null", "address")
    logged = describe_error(raised.value)  # what the server logs of a failed statement
    assert "login_failure" in logged and secret not in logged
    assert secret not in caplog.text


def test_csv_exports_defuse_formulas(client, session, member):
    organisation, partner, user = member
    make_relationship(session, organisation, partner, notes="=HYPERLINK(\"http://evil\")")
    sign_in(client, session, user)
    session.commit()
    answer = client.get(f"/orgs/{organisation.external_id}/export.csv")
    assert answer.status_code == 200
    assert "'=HYPERLINK" in answer.text and ",=HYPERLINK" not in answer.text


def test_forgot_password_sends_at_most_three_links_an_hour(client, session, member, capfd):
    user = member[2]
    session.commit()
    token = client.get("/login") and client.cookies["innonet_csrf"]
    for _ in range(6):
        answer = client.post("/password/forgot", data={"email": user.email, "csrf_token": token})
        assert answer.status_code == 200
    assert capfd.readouterr().err.count(f"mail to {user.email}") == 3


def test_next_with_a_newline_or_odd_characters_cannot_break_the_redirect(client, session, member):
    token = client.get("/login") and client.cookies["innonet_csrf"]
    answer = client.get("/login?next=/orgs%0d%0aSet-Cookie:%20x=y")
    assert answer.status_code == 200 and 'name="next" value="/"' in answer.text
    answer = client.post("/login", headers={"HX-Request": "true"}, follow_redirects=False, data={
        "email": member[2].email, "password": PASSWORD, "next": "/orgs?q=café société",
        "csrf_token": token})
    assert answer.headers["HX-Redirect"] == "/orgs?q=caf%C3%A9%20soci%C3%A9t%C3%A9"


# ---------------------------------------------------------------- files


def test_a_truncated_gzip_file_is_named_as_such(session, shared_data):
    packed = (shared_data / "h2020-participations-2014-2018.csv.gz").read_bytes()[:200_000]
    with pytest.raises(InvalidInput, match="damaged or cut short"):
        imports.import_participations(session, file=io.BytesIO(packed))


@pytest.mark.database_independent
def test_a_gzip_bomb_is_refused_early(session, shared_data):
    with gzip.open(shared_data / "h2020-participations-2014-2018.csv.gz") as real:
        header = real.readline()
    bomb = io.BytesIO()
    with gzip.GzipFile(fileobj=bomb, mode="wb") as f:
        f.write(header)
        for _ in range(1000):
            f.write(b"\n" * 1_000_000)
    assert bomb.tell() < 2_000_000
    with pytest.raises(InvalidInput, match="unpacks to far more"):
        imports.import_participations(session, file=io.BytesIO(bomb.getvalue()))


def test_control_characters_in_an_imported_file_are_refused_with_their_line(session):
    rows = "record,external_id,name\norganisation,X-1,Fine\norganisation,X-2,Evil\x1bCorp\n"
    with pytest.raises(InvalidInput) as raised:
        template.import_template(session, OPERATOR, file=io.BytesIO(rows.encode()))
    assert [(p.line, p.field) for p in raised.value.problems] == [(3, "name")]


def test_an_xlsx_bomb_is_refused_before_it_is_read(session):
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * 200_000_000)
    with pytest.raises(InvalidInput, match="unpacks to"):
        template.import_template(session, OPERATOR, file=io.BytesIO(packed.getvalue()))


def test_an_xlsx_with_a_stale_dimension_imports_every_row(session):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = template.SHEET
    sheet.append(["record", "external_id", "name", "kind", "country"])
    for n in range(10):
        sheet.append(["organisation", f"DIM-{n}", f"Row {n}", "company", "DE"])
    saved = io.BytesIO()
    workbook.save(saved)
    # Rewrite the sheet's stated size to two rows, as some programs leave it.
    source, stale = zipfile.ZipFile(saved), io.BytesIO()
    with zipfile.ZipFile(stale, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:E2"/>', data)
                assert b'<dimension ref="A1:E2"/>' in data
            target.writestr(item, data)
    report = template.import_template(session, OPERATOR, file=io.BytesIO(stale.getvalue()))
    assert report.counts["organisations"][0] == 10


# ---------------------------------------------------------------- a database that is gone


@pytest.mark.parametrize("url", ["sqlite:////nonexistent-directory/innonet.db",
                                 "postgresql+psycopg://postgres@127.0.0.1:1/innonet"])
def test_without_its_database_the_server_answers_503_in_the_error_shape(url):
    from fastapi.testclient import TestClient

    from innonet.app import SECURITY_HEADERS, create_app
    from innonet.config import Settings
    from innonet.db import make_engine, make_session_factory

    sessions = make_session_factory(make_engine(url))
    with TestClient(create_app(Settings(database_url=url, secret_key="x"), sessions=sessions)) as client:
        api, page = client.get("/api/v1/orgs"), client.get("/orgs")
    assert api.status_code == 503 and api.json()["error"]["status"] == 503
    assert page.status_code == 503 and "database is busy or unreachable" in page.text
    for answer in (api, page):
        assert answer.headers["Retry-After"] == "5"
        assert answer.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]


def test_a_wrong_database_url_at_start_up_is_one_sentence():
    from typer.testing import CliRunner

    from innonet.cli import app

    result = CliRunner().invoke(app, ["--db", "sqlite:////nonexistent-directory/x.db", "serve"])
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert message.startswith("Error: cannot open the database sqlite:////nonexistent-directory/x.db")
    assert "Traceback" not in result.stderr and len(message) < 300


@pytest.mark.parametrize("address", ["ms-msdt:id%20PCWDiagnostic", "search-ms:query=invoice", "smb://host/share",
                                     "intent://scan#Intent;scheme=zxing;end", "data:text/html,<b>x</b>",
                                     "//evil.example/x", "/\\evil.example", "&#106;avascript:alert(1)",
                                     "ftp://files.example", "file:///etc/passwd"])
def test_markdown_makes_links_of_the_documented_schemes_only(address):
    html = markdown_html(f"[see]({address}) and <{address}>")
    assert "<a " not in html, html


def test_markdown_keeps_http_mailto_and_relative_links():
    html = markdown_html("[a](https://example.org/x) [b](mailto:ana@example.org) [c](/ideas/3) [d](#top)")
    assert html.count("<a href=") == 4, html


def test_true_or_false_is_no_number_in_any_input():
    """Every numeric field of every input model refuses a boolean (JSON true would be 1)."""
    import importlib
    import pkgutil

    import innonet
    from innonet.text import InputModel, _numeric

    checked = 0
    for module in pkgutil.walk_packages(innonet.__path__, "innonet."):
        if module.name.endswith(".schemas"):
            importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)
    for model in set(subclasses(InputModel)):
        for name, field in model.model_fields.items():
            if _numeric(field.annotation):
                with pytest.raises(ValidationError, match="a number, not true or false"):
                    model.model_validate({name: True})
                checked += 1
    assert checked >= 20


def test_a_rating_of_true_is_refused_naming_the_field(client, session, member):
    organisation, _, user = member
    h = bearer(session, user)
    session.commit()
    challenge = client.post("/api/v1/challenges", headers=h, json={
        "organisation": organisation.external_id, "title": "Pallets", "problem": "Lighter pallets",
        "visibility": "public", "criteria": [{"name": "Impact"}]}).json()
    assert client.patch(f"/api/v1/challenges/{challenge['id']}", json={"state": "open"}, headers=h).status_code == 200
    idea = client.post("/api/v1/ideas", headers=h, json={"challenge": challenge["id"], "title": "Flax",
                                                         "description": "Flax pallets", "accept_terms": True}).json()
    criterion = challenge["criteria"][0]["id"]
    answer = client.put(f"/api/v1/ideas/{idea['id']}/ratings", json={"criterion": criterion, "value": True},
                        headers=h)
    assert client.put(f"/api/v1/ideas/{idea['id']}/ratings", json={"criterion": criterion, "value": 4},
                      headers=h).status_code == 204
    assert answer.status_code == 422 and answer.json()["error"]["problems"][0]["field"] == "value", answer.text
