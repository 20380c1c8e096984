"""Mail goes out by a job once the request has committed, to a real SMTP server; a mail
server that does not answer ends the job failed, visibly, after its retries."""

import socket

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from innonet.app import create_app
from innonet.config import Settings
from innonet.db import transaction
from innonet.jobs.models import Job
from tests.factories import make_organisation, make_user, sign_in


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode()))
        return "250 Message accepted"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_with_mail(sessions, port: int, tmp_path):
    return create_app(Settings(database_url="sqlite://", secret_key="x", smtp_host="127.0.0.1",
                               smtp_port=port, smtp_starttls=False, data_dir=str(tmp_path)),
                      sessions=sessions)


def jobs_of(sessions) -> list[Job]:
    with transaction(sessions, writes=False) as reader:
        return list(reader.query(Job).filter(Job.kind == "accounts.mail").order_by(Job.id))


def test_reset_and_invitation_mails_are_sent_by_jobs_after_the_commit(
        fresh_sessions, smtp, tmp_path):
    port, inbox = smtp
    with transaction(fresh_sessions) as session:
        acme = make_organisation(session)
        admin, user = make_user(session, acme, "admin"), make_user(session)
        acme_id, admin_email, user_email = acme.external_id, admin.email, user.email
    with TestClient(app_with_mail(fresh_sessions, port, tmp_path)) as client:
        client.get("/login")
        token = client.cookies["innonet_csrf"]
        client.post("/password/forgot", data={"email": user_email, "csrf_token": token})
        [(to, reset)] = inbox.messages
        assert to == [user_email] and "/password/reset/" in reset
        with transaction(fresh_sessions) as session:
            sign_in(client, session, session.merge(admin))
        page = client.post(f"/orgs/{acme_id}/members", data={
            "email": "newcomer@example.org", "role": "member", "csrf_token": token})
        assert page.status_code == 201 and "being sent by e-mail" in page.text
        (to, invitation) = inbox.messages[1]
        assert to == ["newcomer@example.org"] and f"{admin_email} invites you" in invitation
        # A refused invitation writes nothing and sends nothing.
        refused = client.post(f"/orgs/{acme_id}/members", data={
            "email": "newcomer@example.org", "role": "owner", "csrf_token": token})
        assert refused.status_code == 422 and len(inbox.messages) == 2
    done = jobs_of(fresh_sessions)
    assert [(j.status, j.params) for j in done] == [("done", "{}")] * 2  # links erased
    assert done[1].user_id is not None and done[1].organisation_id is not None


def test_a_mail_server_that_does_not_answer_fails_the_job_visibly(fresh_sessions, tmp_path):
    with transaction(fresh_sessions) as session:
        user_email = make_user(session).email
    with TestClient(app_with_mail(fresh_sessions, free_port(), tmp_path)) as client:
        client.get("/login")
        answer = client.post("/password/forgot", data={
            "email": user_email, "csrf_token": client.cookies["innonet_csrf"]})
        assert answer.status_code == 200  # the visitor's answer does not wait for mail
    [job] = jobs_of(fresh_sessions)
    assert (job.status, job.attempts, job.params) == ("failed", 3, "{}")
    assert job.message == ("Failed: the mail server 127.0.0.1 did not take the message "
                           "(ConnectionRefusedError)")
