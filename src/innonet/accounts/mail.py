"""Sending invitation and reset links: by SMTP when configured, else to the server's log;
from the web app by a background job, once the request that asks for it has committed."""

import smtplib
import sys
from email.message import EmailMessage

from sqlalchemy.orm import Session

from innonet.config import Settings, get_settings
from innonet.jobs.models import Job
from innonet.jobs.queue import queue_of
from innonet.jobs.service import JobContext, PassingFailure, job_kind

MAIL_JOB = "accounts.mail"


def deliver(settings: Settings, *, to: str, subject: str, body: str) -> bool:
    """Send a message; True when a mail server took it. Without SMTP the log gets it."""
    if not settings.smtp_host:
        print(f"innonet: mail to {to} (no SMTP server set): {subject}\n{body}", file=sys.stderr)
        return False
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.smtp_from, to, subject
    message.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as server:
        if settings.smtp_starttls:
            server.starttls()
        if settings.smtp_user:
            server.login(settings.smtp_user, settings.smtp_password)
        server.send_message(message)
    return True


@job_kind(MAIL_JOB, title="Send an e-mail", secret_params=True)
def _mail_job(context: JobContext) -> dict:
    """A mail server that refuses or does not answer is tried again later (the job's
    retries); the message, which may hold a link to sign in, is erased once it is done."""
    try:
        return {"delivered": deliver(context.settings, **context.params)}
    except (OSError, smtplib.SMTPException) as error:
        raise PassingFailure(f"the mail server {context.settings.smtp_host} did not take the "
                             f"message ({type(error).__name__})") from error


def settings_of(session: Session) -> Settings:
    """The settings of the app or worker that opened this session."""
    queue = queue_of(session)
    return queue.settings if queue is not None else get_settings()


def send_after_commit(session: Session, *, to: str, subject: str, body: str,
                      user_id: int | None = None, organisation_id: int | None = None) -> Job | None:
    """Send once the request's transaction has committed, by a job ``user_id`` (and the
    admins of ``organisation_id``) may follow; outside the web app at once."""
    queue = queue_of(session)
    message = {"to": to, "subject": subject, "body": body}
    if queue is None:
        deliver(get_settings(), **message)
        return None
    return queue.submit_after_commit(session, MAIL_JOB, message, user_id=user_id,
                                     organisation_id=organisation_id)
