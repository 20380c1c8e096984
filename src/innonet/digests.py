"""The daily e-mail digest: each person who wants it gets one mail a day with what was
addressed to them in person (mentions, comments on ideas they follow, stage changes and
decisions on their ideas, evaluations to do, exit reviews of their projects), never a mail
per event.

Above the domains like ``app`` and ``worker``: before mailing, each item is checked again
against what the person may read now (a challenge shared with them a week ago may have
been narrowed since), so a digest never carries what its reader may not see.
"""

import re
import smtplib
from datetime import timedelta

from sqlalchemy.orm import Session

from innonet.accounts import mail
from innonet.accounts import service as accounts
from innonet.challenges import service as challenges
from innonet.db import transaction, utcnow
from innonet.jobs.service import JobContext, PassingFailure, job_kind
from innonet.projects import service as projects
from innonet.roles import Viewer

DIGEST_JOB = "digests.daily"
FIRST_DIGEST = timedelta(days=1)  # what a first digest covers
IDEA_LINK = re.compile(r"^/ideas/(\d+)")
CHALLENGE_LINK = re.compile(r"^/challenges/(\d+)")
PROJECT_LINK = re.compile(r"^/joint-projects/(\d+)")


def _still_readable(session: Session, person: Viewer, link: str) -> bool:
    if match := IDEA_LINK.match(link):
        return challenges.idea_readable(session, person, idea_id=int(match.group(1)))
    if match := CHALLENGE_LINK.match(link):
        return challenges.challenge_known(session, person, challenge_id=int(match.group(1)))
    if match := PROJECT_LINK.match(link):  # a party removed since no longer hears of it
        return bool(projects.list_projects_by_id(session, person, ids=[int(match.group(1))]))
    return True


def digest_text(messages: list[tuple[str, str]], base_url: str) -> str:
    """The mail's body: one line per item with its address."""
    lines = [f"- {message}\n  {base_url.rstrip('/')}{link}" if base_url else f"- {message} ({link})"
             for message, link in messages]
    return ("What happened for you on innonet since the last digest:\n\n" + "\n".join(lines)
            + "\n\nYou get this digest once a day; turn it off on your account page.")


@job_kind(DIGEST_JOB, title="Send each person their daily digest", daily=True)
def _daily_digest(context: JobContext) -> dict:
    settings = context.settings
    if not settings.smtp_host:
        return {"sent": 0, "note": "no mail server is set (INNONET_SMTP_HOST)"}
    now = utcnow()
    with transaction(context.sessions, writes=False) as session:
        recipients = accounts.digest_recipients(session)
    sent = 0
    for user_id, email, since in recipients:
        # One person at a time, each in a transaction of its own: a mail server that fails
        # halfway leaves the ones already sent marked, and the job's next try goes on.
        with transaction(context.sessions) as session:
            person = accounts.viewer_of(session, user_id=user_id, today=now.date(), channel="page")
            items = [(n.message, n.link) for n in accounts.personal_notifications(
                session, user_id=user_id, since=since or now - FIRST_DIGEST, until=now)
                if _still_readable(session, person, n.link)]
            if items:
                try:
                    mail.deliver(settings, to=email, subject=f"innonet: {len(items)} new for you today",
                                 body=digest_text(items, settings.base_url))
                except (OSError, smtplib.SMTPException) as error:
                    raise PassingFailure(f"the mail server {settings.smtp_host} did not take the digest "
                                         f"({type(error).__name__})") from error
                sent += 1
            accounts.mark_digest_sent(session, user_id=user_id, at=now)
    return {"sent": sent}
