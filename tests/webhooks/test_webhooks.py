"""Webhooks: signed JSON posted to a real receiver on loopback, retried until it answers,
logged once as delivered; addresses refused in production; administrators only."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from innonet.app import create_app
from innonet.config import Settings
from innonet.errors import InvalidInput
from innonet.webhooks.models import WebhookDelivery
from innonet.webhooks.service import check_url
from tests.factories import bearer, make_organisation, make_user


class Receiver:
    """An HTTP endpoint on loopback that fails the first ``failures`` posts (500), then
    takes them, checking each signature with the secret it is given."""

    def __init__(self, failures: int):
        self.failures, self.secret, self.received, self.bad_signatures = failures, "", [], 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, self.headers.get("X-Innonet-Signature", "")):
                    receiver.bad_signatures += 1
                receiver.received.append((self.headers["X-Innonet-Event"], json.loads(body)))
                failing = receiver.failures > 0
                receiver.failures -= 1
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/innonet"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    found = Receiver(failures=2)
    yield found
    found.close()


@pytest.fixture
def local_client(sessions, clock):
    """The web app with jobs run at once and webhooks allowed on loopback (a test receiver)."""
    app = create_app(Settings(database_url="sqlite://", secret_key="test-secret", queue_url="memory://",
                              webhooks_allow_local=True), sessions=sessions, clock=clock)
    with TestClient(app) as client:
        yield client


def test_events_reach_the_receiver_signed_and_a_twice_failing_one_is_delivered_once(
        local_client, session, receiver, monkeypatch):
    monkeypatch.setattr("innonet.jobs.service.RETRY_DELAYS", (0, 0))
    owner, partner = make_organisation(session, name="Owner"), make_organisation(session, name="Partner")
    admin, member = make_user(session, owner, role="admin"), make_user(session, partner)
    h, p = bearer(session, admin), bearer(session, member)
    session.commit()
    client = local_client
    made = client.post(f"/api/v1/orgs/{owner.external_id}/webhooks", headers=h,
                       json={"url": receiver.url, "events": ["challenge.opened", "idea.created", "comment.created"]})
    assert made.status_code == 201, made.text
    receiver.secret = made.json()["secret"]
    assert "secret" not in client.get(f"/api/v1/orgs/{owner.external_id}/webhooks", headers=h).json()[0]
    challenge = client.post("/api/v1/challenges", headers=h, json={
        "organisation": owner.external_id, "title": "Pallets", "problem": "Too heavy", "visibility": "network"}).json()
    client.patch(f"/api/v1/challenges/{challenge['id']}", headers=h, json={"state": "open"})
    idea = client.post("/api/v1/ideas", headers=p, json={"challenge": challenge["id"], "title": "Carbon",
                                                          "description": "Lighter", "accept_terms": True}).json()
    client.post(f"/api/v1/ideas/{idea['id']}/comments", headers=p, json={"body": "See the drawings."})
    client.post(f"/api/v1/ideas/{idea['id']}/stage", headers=h, json={"stage": "screening"})  # not subscribed
    events = [e for e, _ in receiver.received]
    # The first event failed twice and was taken the third time; the others at once.
    assert events == ["challenge.opened"] * 3 + ["idea.created", "comment.created"]
    assert receiver.bad_signatures == 0
    body = receiver.received[3][1]
    assert body["event"] == "idea.created" and body["organisation"] == owner.external_id
    assert body["data"]["idea"] == {"id": idea["id"], "title": "Carbon", "stage": "submitted",
                                    "url": f"/ideas/{idea['id']}"}
    log = client.get(f"/api/v1/orgs/{owner.external_id}/webhook-deliveries", headers=h).json()
    assert [(d["event"], d["status"], d["attempts"]) for d in reversed(log)] == [
        ("challenge.opened", "delivered", 3), ("idea.created", "delivered", 1), ("comment.created", "delivered", 1)]
    assert session.scalar(select(WebhookDelivery).where(WebhookDelivery.status == "delivered",
                                                        WebhookDelivery.event == "challenge.opened")).attempts == 3
    # Only the organisation's administrators manage its webhooks and read the log.
    assert client.get(f"/api/v1/orgs/{owner.external_id}/webhooks", headers=p).status_code == 403
    assert client.get(f"/api/v1/orgs/{owner.external_id}/webhook-deliveries", headers=p).status_code == 403


def test_a_receiver_that_never_answers_ends_failed_after_three_attempts(local_client, session, monkeypatch):
    monkeypatch.setattr("innonet.jobs.service.RETRY_DELAYS", (0, 0))
    receiver = Receiver(failures=10)
    try:
        owner = make_organisation(session)
        h = bearer(session, make_user(session, owner, role="admin"))
        session.commit()
        local_client.post(f"/api/v1/orgs/{owner.external_id}/webhooks", headers=h,
                          json={"url": receiver.url, "events": ["challenge.opened"]})
        challenge = local_client.post("/api/v1/challenges", headers=h, json={
            "organisation": owner.external_id, "title": "T", "problem": "P"}).json()
        local_client.patch(f"/api/v1/challenges/{challenge['id']}", headers=h, json={"state": "open"})
        log = local_client.get(f"/api/v1/orgs/{owner.external_id}/webhook-deliveries", headers=h).json()
        assert [(d["status"], d["attempts"], d["last_error"]) for d in log] == [("failed", 3, "HTTP 500")]
        assert len(receiver.received) == 3
    finally:
        receiver.close()


@pytest.mark.parametrize("url, reason", [
    ("http://example.org/hook", "https"),
    ("https://127.0.0.1/hook", "loopback"),
    ("https://10.1.2.3/hook", "private"),
    ("https://[::1]/hook", "loopback"),
    ("https://169.254.169.254/latest", "private"),
    ("https://user:pw@93.184.216.34/hook", "user name"),
    ("ftp://93.184.216.34/", "https"),
    ("https://[64:ff9b::7f00:1]/hook", "private"),           # NAT64 of 127.0.0.1
    ("https://[64:ff9b::a9fe:a9fe]/latest", "private"),      # NAT64 of 169.254.169.254
    ("https://[2002:c0a8:0101::1]/hook", "private"),         # 6to4 of 192.168.1.1
    ("https://[::ffff:10.0.0.1]/hook", "private"),           # IPv4-mapped
])
def test_production_refuses_plain_http_and_private_addresses(url, reason):
    with pytest.raises(InvalidInput) as refused:
        check_url(url, allow_local=False)
    assert refused.value.problems[0].field == "url" and reason in refused.value.message
    assert check_url("https://93.184.216.34/hook", allow_local=False) == "https://93.184.216.34/hook"


def test_the_api_refuses_a_private_address_with_the_field_named(client, session):
    owner = make_organisation(session)
    h = bearer(session, make_user(session, owner, role="admin"))
    session.commit()
    refused = client.post(f"/api/v1/orgs/{owner.external_id}/webhooks", headers=h,
                          json={"url": "https://192.168.1.10/hook", "events": ["idea.created"]})
    assert refused.status_code == 422 and refused.json()["error"]["problems"][0]["field"] == "url"
    unknown = client.post(f"/api/v1/orgs/{owner.external_id}/webhooks", headers=h,
                          json={"url": "https://93.184.216.34/hook", "events": ["idea.deleted"]})
    assert unknown.status_code == 422


def test_a_name_that_resolves_anew_to_loopback_reaches_nothing(session, monkeypatch):
    """DNS rebinding: the name is public when checked and loopback a moment later. The
    delivery connects to the address it checked, so the receiver on loopback hears nothing."""
    import socket

    from innonet.webhooks import service as webhooks

    receiver = Receiver(failures=0)
    port = receiver.server.server_address[1]
    answers = iter(["192.0.43.8"] + ["127.0.0.1"] * 10)  # public first, then loopback
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host != "hooks.rebind.example":
            return real(host, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(webhooks, "TIMEOUT", 0.5)
    settings = Settings(database_url="sqlite://", secret_key="s", webhooks_allow_local=False)
    try:
        code, error = webhooks._post(f"http://hooks.rebind.example:{port}/hooks", b"{}", "secret", "challenge.opened",
                                     1, settings)
        assert code is None and error, (code, error)
        assert receiver.received == []
        # Resolved to loopback at the check itself, it is refused before any connection.
        code, error = webhooks._post(f"http://hooks.rebind.example:{port}/hooks", b"{}", "secret",
                                     "challenge.opened", 2, settings)
        assert code is None and "loopback" in error and receiver.received == []
    finally:
        receiver.close()
