"""Around an idea: support, follows, ratings, comments and mentions, and who is told."""

import re
from collections import defaultdict
from collections.abc import Callable
from datetime import date

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from innonet import roles
from innonet.accounts import service as accounts
from innonet.challenges.access import emit
from innonet.challenges.ideas import (
    authors_hidden,
    challenge_of,
    conflicts_of_interest,
    get_idea,
    idea_authors,
    is_evaluator,
    lock_idea,
    may_read_idea,
    record_follow,
    set_counters,
    tell_of_author,
)
from innonet.challenges.models import (
    Assignment,
    Comment,
    Criterion,
    Follow,
    Idea,
    Rating,
    Vote,
)
from innonet.challenges.schemas import (
    CommentIn,
    CommentView,
)
from innonet.db import insert_once, rows_changed, utcnow
from innonet.errors import Conflict, Forbidden, InvalidInput, NotFound
from innonet.roles import Viewer


def _open_for_reactions(session: Session, viewer: Viewer, idea_id: int) -> Idea:
    """An idea the viewer may read and react to (not merged), locked for the change."""
    roles.ensure_can_write(viewer)
    if viewer.user_id is None:
        raise Forbidden("Support, ratings and comments come from people: sign in.")
    lock_idea(session, idea_id)
    idea = get_idea(session, viewer, idea_id=idea_id, log=False)
    if idea.merged_into_id is not None:
        raise Conflict(f"This idea was merged into idea {idea.merged_into_id}: support, rate "
                       "or discuss that one.")
    return idea


def support(session: Session, viewer: Viewer, *, idea_id: int) -> bool:
    """Support an idea: one vote per person. False when the viewer already supports it."""
    idea = _open_for_reactions(session, viewer, idea_id)
    added = insert_once(session, Vote(idea_id=idea.id, user_id=viewer.user_id))
    if added:
        set_counters(session, idea.id, supporters=Idea.supporters + 1)
    return added


def withdraw_support(session: Session, viewer: Viewer, *, idea_id: int) -> bool:
    idea = _open_for_reactions(session, viewer, idea_id)
    removed = bool(rows_changed(session.execute(delete(Vote).where(
        Vote.idea_id == idea.id, Vote.user_id == viewer.user_id))))
    if removed:
        set_counters(session, idea.id, supporters=Idea.supporters - 1)
    return removed


def follow(session: Session, viewer: Viewer, *, idea_id: int, following: bool) -> bool:
    """Follow (or stop following) an idea: its comments and stage changes reach the inbox."""
    idea = _open_for_reactions(session, viewer, idea_id)
    if following:
        return record_follow(session, idea.id, viewer.user_id)
    return bool(rows_changed(session.execute(delete(Follow).where(
        Follow.idea_id == idea.id, Follow.user_id == viewer.user_id))))


def rate(session: Session, viewer: Viewer, *, idea_id: int, criterion_id: int, value: int) -> None:
    """Rate an idea on one of its challenge's criteria: once per person and criterion (a
    second rating replaces the first)."""
    idea = _open_for_reactions(session, viewer, idea_id)
    criterion = session.get(Criterion, criterion_id)
    if criterion is None or criterion.challenge_id != idea.challenge_id:
        raise InvalidInput.for_field("criterion", f"no criterion {criterion_id} on this idea's challenge")
    challenge = challenge_of(session, idea)
    if criterion.stage is not None and challenge is not None and viewer.user_id is not None and conflicts_of_interest(
            session, challenge, idea_ids=[idea.id], user_ids=[viewer.user_id]):
        raise Forbidden("You may not score this idea: you wrote it or, under blind evaluation, work for an "
                        "organisation that submitted it.")
    assigned = challenge is not None and session.scalar(select(exists().where(
        Assignment.idea_id == idea.id, Assignment.stage == criterion.stage, Assignment.user_id == viewer.user_id)))
    if criterion.stage is not None and not (
            assigned and challenge is not None and is_evaluator(session, viewer, challenge, stage=criterion.stage)):
        raise Forbidden(f"“{criterion.name}” is scored by the evaluators this idea is assigned to "
                        f"in the stage {criterion.stage!r}.")
    if not 1 <= value <= criterion.scale:
        raise InvalidInput.for_field("value", f"a rating goes from 1 to {criterion.scale}")
    if not insert_once(session, Rating(idea_id=idea.id, criterion_id=criterion.id,
                                        user_id=viewer.user_id, value=value)):
        session.execute(update(Rating).where(
            Rating.idea_id == idea.id, Rating.criterion_id == criterion.id,
            Rating.user_id == viewer.user_id).values(value=value, rated_at=utcnow()))


MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def _mentioned(session: Session, idea: Idea, body: str, today: date) -> list[int]:
    """People mentioned by @e-mail who may read the idea; others are not told."""
    emails = list(dict.fromkeys(m.casefold() for m in MENTION.findall(body)))[:20]
    users = accounts.users_by_email(session, emails=emails)
    return [u.id for u in users.values() if may_read_idea(session, u.id, idea, today)]


def _mentioned_you(idea: Idea) -> Callable[[str], str]:
    return lambda who: f"{who} mentioned you on the idea “{idea.title}”."


def followers_of(session: Session, idea_id: int) -> list[int]:
    return list(session.scalars(select(Follow.user_id).where(Follow.idea_id == idea_id)))


def add_comment(session: Session, viewer: Viewer, *, idea_id: int, data: CommentIn) -> Comment:
    """Comment on an idea (or answer a comment); people mentioned and the idea's followers
    are told; the commenter follows the idea."""
    idea = _open_for_reactions(session, viewer, idea_id)
    if data.parent is not None:
        parent = session.get(Comment, data.parent)
        if parent is None or parent.idea_id != idea.id:
            raise InvalidInput.for_field("parent", f"no comment {data.parent} on this idea")
    comment = Comment(idea_id=idea.id, parent_id=data.parent, user_id=viewer.user_id, body=data.body)
    session.add(comment)
    session.flush()
    set_counters(session, idea.id, comments=Idea.comments + 1)
    link = f"/ideas/{idea.id}#comment-{comment.id}"
    mentioned = [u for u in _mentioned(session, idea, data.body, viewer.today) if u != viewer.user_id]
    tell_of_author(session, viewer, idea, user_ids=mentioned, kind="mention", link=link,
                    message=_mentioned_you(idea))
    tell_of_author(session, viewer, idea, kind="comment", link=link,
                    user_ids=[u for u in followers_of(session, idea.id) if u != viewer.user_id and u not in mentioned],
                    message=lambda who: f"{who} commented on “{idea.title}”.")
    record_follow(session, idea.id, viewer.user_id)
    if (challenge := challenge_of(session, idea)) is not None:
        emit(session, challenge, "comment.created", idea=idea, extra={
            "comment": {"id": comment.id, "parent": comment.parent_id, "body": comment.body,
                        "url": f"/ideas/{idea.id}#comment-{comment.id}"}})
    return comment


def edit_comment(session: Session, viewer: Viewer, *, comment_id: int, body: str) -> Comment:
    """Its writer edits a comment, which then says "edited"; people newly mentioned are told."""
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(f"No comment with id {comment_id}.")
    idea = _open_for_reactions(session, viewer, comment.idea_id)
    if comment.user_id != viewer.user_id:
        raise Forbidden("Only its writer may edit a comment.")
    before = set(_mentioned(session, idea, comment.body, viewer.today))
    comment.body, comment.edited_at = body, utcnow()
    session.flush()
    if new := [u for u in _mentioned(session, idea, body, viewer.today) if u not in before and u != viewer.user_id]:
        tell_of_author(session, viewer, idea, user_ids=new, kind="mention",
                        link=f"/ideas/{idea.id}#comment-{comment.id}", message=_mentioned_you(idea))
    return comment


def comments_of(session: Session, viewer: Viewer, *, idea: Idea) -> list[CommentView]:
    """The idea's comments in discussion order (each answer after what it answers), with
    their depth. Under blind evaluation, an author's comments are signed "an author"."""
    comments = session.scalars(select(Comment).where(Comment.idea_id == idea.id)
                               .order_by(Comment.created_at, Comment.id)).all()
    people = accounts.people_by_id(session, ids=[c.user_id for c in comments if c.user_id])
    hidden = authors_hidden(session, viewer, idea, challenge_of(session, idea))
    author_ids = {a.user_id for a in idea_authors(session, idea_ids=[idea.id])[idea.id]} if hidden else set()
    children: dict[int | None, list[Comment]] = defaultdict(list)
    for comment in comments:
        children[comment.parent_id].append(comment)
    out: list[CommentView] = []

    def walk(parent: int | None, depth: int) -> None:
        for comment in children.get(parent, []):
            name, email = people.get(comment.user_id or 0, (None, None))
            out.append(CommentView(
                id=comment.id, parent=comment.parent_id, body=comment.body, created_at=comment.created_at,
                author="an author" if comment.user_id in author_ids else (name or email or "a former member"),
                edited_at=comment.edited_at, depth=min(depth, 4),
                mine=viewer.user_id is not None and comment.user_id == viewer.user_id))
            walk(comment.id, depth + 1)
    walk(None, 0)
    return out
