"""Attachment storage: names made safe, types read from content, and the S3 store (moto's
S3-compatible server over real HTTP) doing what the folder does."""

import socket
import uuid

import boto3
import pytest
from fastapi.testclient import TestClient

from innonet.app import create_app
from innonet.config import Settings
from innonet.errors import InvalidInput
from innonet.knowledge.storage import detect_type, safe_filename
from tests.knowledge.test_knowledge import PDF, _item, kb  # noqa: F401 (fixture)

PDF_TYPE, TEXT = "application/pdf", "text/plain"


@pytest.mark.parametrize(("name", "kind", "safe"), [
    ("../../etc/passwd", TEXT, "passwd.txt"), ("C:\\Users\\ann\\plan.pdf", PDF_TYPE, "plan.pdf"),
    (".htaccess", TEXT, "htaccess.txt"), ("report\x00.pdf", PDF_TYPE, "report.pdf"), ("", TEXT, "attachment.txt"),
    ("a<b>c:d|e?.txt", TEXT, "abcde.txt"), ("..", PDF_TYPE, "attachment.pdf"),
    ("x" * 300 + ".pdf", PDF_TYPE, "x" * 190 + ".pdf"),
    # A right-to-left override would show "invoice\u202efdp.exe" as "invoiceexe.pdf".
    ("invoice\u202efdp.pdf", PDF_TYPE, "invoicefdp.pdf"), ("plan\x85\x9b.pdf", PDF_TYPE, "plan.pdf"),
    ("CON", TEXT, "_CON.txt"), ("con.txt", TEXT, "_con.txt"), ("LPT1.pdf", PDF_TYPE, "_LPT1.pdf"),
    ("Cafe\u0301.txt", TEXT, "Café.txt"), ("notes.final", TEXT, "notes.final.txt"), ("Plan.PDF", PDF_TYPE, "Plan.pdf")])
def test_uploaded_names_are_normalised_and_end_as_their_type(name, kind, safe):
    assert safe_filename(name, kind) == safe


@pytest.mark.parametrize(("name", "kind"), [("report.pdf", TEXT), ("page.html", TEXT), ("logo.svg", TEXT),
                                            ("setup.hta", TEXT), ("run.bat", TEXT), ("scan.docx", PDF_TYPE)])
def test_a_name_that_ends_as_another_or_an_active_type_is_refused(name, kind):
    with pytest.raises(InvalidInput, match="name it"):
        safe_filename(name, kind)


@pytest.mark.parametrize(("head", "found"), [
    (PDF[:64], "application/pdf"), (b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "image/png"),
    (b"MZ\x90\x00" + b"\x00" * 60, "application/x-msdownload"), ("Grüße, plain text\n".encode(), "text/plain"),
    (b"\x00\x01\x02binary", None), ("é".encode() * 10 + b"\xc3", "text/plain"),  # a character cut by the sample
    (b"<!DOCTYPE html><html><body>hi</body></html>", "text/html"), (b"\n  <script>alert(1)</script>", "text/html"),
    (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
    (b"<svg onload=alert(1)>", "image/svg+xml"), (b"#!/bin/sh\nrm -rf /", "text/x-script"),
    (b"@echo off\r\ndel *", "text/x-script"), (b"Notes: use 1 < 2 and a > b.", "text/plain")])
def test_a_type_is_read_from_the_first_bytes(head, found):
    assert detect_type(head) == found


@pytest.fixture
def s3(monkeypatch):
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for key, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"),
                       ("AWS_DEFAULT_REGION", "eu-central-1")):
        monkeypatch.setenv(key, value)
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint)
    bucket = f"innonet-{uuid.uuid4().hex[:12]}"  # the S3 server's buckets outlive one test
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    yield endpoint, client, bucket
    server.stop()


def test_attachments_live_in_an_s3_compatible_store_when_configured(sessions, session, kb, s3, tmp_path):  # noqa: F811
    endpoint, client, bucket = s3
    app = create_app(Settings(database_url="sqlite://", secret_key="t", data_dir=str(tmp_path),
                              attachments_url=f"s3://{bucket}/attachments", s3_endpoint_url=endpoint), sessions=sessions)
    with TestClient(app) as http:
        item = _item(http, kb)
        h = kb["h"]["owner"]
        made = http.post(f"/api/v1/knowledge/{item['id']}/attachments", files={"file": ("trial.pdf", PDF)}, headers=h)
        assert made.status_code == 201, made.text
        keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
        assert len(keys) == 1 and keys[0].startswith("attachments/")
        got = http.get(f"/api/v1/knowledge/{item['id']}/attachments/{made.json()['id']}", headers=h)
        assert got.content == PDF
        assert http.get("/api/v1/knowledge?q=paper+cups", headers=h).json()["total"] == 1  # its text was read
        assert http.delete(f"/api/v1/knowledge/{item['id']}", headers=h).status_code == 204
    assert client.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    assert [p for p in tmp_path.rglob("*") if p.is_file() and "upload" in p.name] == []
