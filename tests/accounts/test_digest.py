"""The daily digest: one mail a day per person who wants it, with what was addressed to
them and they may still read; nothing for those who turned it off; nothing twice."""

from datetime import date

from innonet import digests
from innonet.accounts import service as accounts
from innonet.challenges import service as challenging
from innonet.challenges.schemas import ChallengeIn, ChallengePatch, CommentIn, IdeaIn
from innonet.config import Settings
from innonet.db import transaction
from innonet.jobs.service import JobContext
from tests.accounts.test_mail import smtp  # noqa: F401 (fixture)
from tests.factories import make_organisation, make_user


def test_each_person_gets_one_digest_of_what_they_may_still_read(fresh_sessions, smtp, tmp_path):  # noqa: F811
    port, inbox = smtp
    with transaction(fresh_sessions) as session:
        owner, partner = make_organisation(session, name="Owner"), make_organisation(session, name="Partner")
        author = make_user(session, owner, name="Ann Author")
        reader, quiet = make_user(session, partner, name="Rita Reader"), make_user(session, partner, name="Quinn")
        accounts.set_daily_digest(session, accounts.viewer_of(session, user_id=quiet.id, today=date.today(),
                                                              channel="page"), wanted=False)
        writer = accounts.viewer_of(session, user_id=author.id, today=date.today(), channel="page")
        stays, narrowed = (challenging.create_challenge(session, writer, data=ChallengeIn(
            organisation=owner.external_id, title=title, problem="P", visibility="network"))
            for title in ("Stays", "Narrowed"))
        for challenge in (stays, narrowed):
            challenge.state = "open"
        ideas = [challenging.submit_idea(session, writer, data=IdeaIn(
            challenge=c.id, title=f"Idea of {c.title}", description="D", accept_terms=True)) for c in (stays, narrowed)]
        for idea in ideas:
            for person in (reader, quiet):
                challenging.add_comment(session, writer, idea_id=idea.id, data=CommentIn(
                    body=f"Look, @{person.email}"))
        # The second challenge is then kept to the owner's members: Rita may not read it now.
        challenging.update_challenge(session, writer, challenge_id=narrowed.id,
                                     changes=ChallengePatch(visibility="private"))
        emails = {"reader": reader.email, "quiet": quiet.email, "author": author.email}
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False, data_dir=str(tmp_path),
                        base_url="https://innonet.example.org")
    context = JobContext(job_id=0, params={}, sessions=fresh_sessions, settings=settings)
    assert digests._daily_digest(context) == {"sent": 1}
    [(to, content)] = inbox.messages
    assert to == [emails["reader"]]
    assert "Ann Author mentioned you on the idea “Idea of Stays”" in content
    assert "Idea of Narrowed" not in content
    assert f"https://innonet.example.org/ideas/{ideas[0].id}#comment-" in content
    # Nothing new since: no second mail.
    assert digests._daily_digest(context) == {"sent": 0}
    assert len(inbox.messages) == 1


def test_without_a_mail_server_the_digest_says_so_and_sends_nothing(fresh_sessions, tmp_path):
    context = JobContext(job_id=0, params={}, sessions=fresh_sessions, settings=Settings(data_dir=str(tmp_path)))
    assert digests._daily_digest(context)["sent"] == 0
