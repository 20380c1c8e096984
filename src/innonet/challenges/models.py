"""Challenges and the ideas submitted to them (or freely inside an organisation), with
their authors, discussion, support, ratings and history."""

import secrets
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from innonet.db import Base, UtcDateTime, check_length, check_one_of, utcnow
from innonet.sharing.models import Shareable, visibility_constraint

CHALLENGE_STATES = {
    "draft": "Draft: only our members see it",
    "open": "Open: ideas may be submitted",
    "closed": "Closed: no new ideas; evaluation goes on",
    "decided": "Decided: the outcome is known",
}
# Who may read the ideas submitted to a challenge, besides the challenge's owner.
SUBMISSION_RULES = {
    "shared": "Everyone who sees the challenge sees the ideas",
    "confidential": "Only the owner and each idea's own authors see it",
}
IP_TERMS = {
    "submitter_keeps": "The submitter keeps all rights to the idea",
    "licence": "The submitter keeps the idea and grants the owner a licence to use it",
    "assignment": "The submitter assigns the idea to the owner",
}
# The default stage-gate workflow; each challenge may change it (see service.Workflow).
DEFAULT_STAGES = {
    "submitted": "Submitted",
    "screening": "Screening",
    "evaluation": "Evaluation",
    "selected": "Selected",
    "in_progress": "In progress",
    "done": "Done",
    "parked": "Parked",
    "rejected": "Rejected",
}
DEFAULT_TRANSITIONS = {
    "submitted": ["screening"],
    "screening": ["evaluation", "submitted"],
    "evaluation": ["selected", "screening"],
    "selected": ["in_progress"],
    "in_progress": ["done"],
    "done": [],
    "parked": ["screening", "evaluation"],
    "rejected": [],
}
# Reachable from any stage; entering them or "selected" is a decision with a reason.
ANY_TIME_STAGES = ("parked", "rejected")
DEFAULT_DECISIONS = ("selected", "parked", "rejected")
IDEA_EVENTS = {
    "submitted": "Submitted",
    "stage": "Stage changed",
    "decision": "Decision",
    "merged_into": "Merged into another idea",
    "merged_in": "Another idea merged in",
    "edited": "Edited",
}


def new_text_version() -> int:
    return secrets.randbits(62)


def _tags_column() -> Mapped[str]:
    # Tags are kept as ",tag,other," so that one LIKE finds a whole tag.
    return mapped_column(String(600), default="")


class Challenge(Shareable, Base):
    """A problem an organisation poses to the circle it chooses (its visibility)."""

    __tablename__ = "challenge"
    share_type = "challenge"
    owner_column = "organisation_id"
    __table_args__ = (
        visibility_constraint(), check_one_of("state", CHALLENGE_STATES),
        check_one_of("submissions", SUBMISSION_RULES), check_one_of("ip_terms", IP_TERMS),
        check_length("challenge", "problem"), check_length("challenge", "sought"),
        check_length("challenge", "offered"), check_length("challenge", "cover_text"),
        check_length("challenge", "terms_text"),
        CheckConstraint("closes_on IS NULL OR opens_on IS NULL OR closes_on >= opens_on",
                        name="dates"),
        Index("ix_challenge_organisation_id", "organisation_id"),
    )

    def shared_notice(self, owner_external_id: str) -> tuple[str, str]:
        return f"the challenge “{self.title}”", f"/challenges/{self.id}"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    problem: Mapped[str] = mapped_column(Text)
    sought: Mapped[str | None] = mapped_column(Text)
    offered: Mapped[str | None] = mapped_column(Text)
    # What visitors and outsiders read of an open call whose brief they may not see.
    cover_text: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[str] = _tags_column()
    opens_on: Mapped[date | None] = mapped_column(Date)
    closes_on: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default="draft")
    # An open call: everyone reads the cover, anyone with an account may submit.
    open_call: Mapped[bool] = mapped_column(Boolean, default=False)
    submissions: Mapped[str] = mapped_column(String(12), default="shared")
    ip_terms: Mapped[str] = mapped_column(String(20), default="submitter_keeps")
    terms_text: Mapped[str | None] = mapped_column(Text)
    # Raised whenever the terms change: a submitter accepts the version in force.
    terms_version: Mapped[int] = mapped_column(Integer, default=1)
    # {"stages": {key: label}, "transitions": {key: [keys]}, "decisions": [keys]}
    workflow: Mapped[dict] = mapped_column(JSON)
    # Evaluators do not see who wrote the ideas they score.
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Criterion(Base):
    """A criterion ideas are rated on: by everyone who sees them (no stage), or by a
    stage's evaluators on their weighted scorecard."""

    __tablename__ = "criterion"
    __table_args__ = (CheckConstraint("scale BETWEEN 2 AND 10", name="scale"),
                      CheckConstraint("weight > 0", name="weight"),
                      Index("ix_criterion_challenge_id", "challenge_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenge.id", ondelete="CASCADE"))
    stage: Mapped[str | None] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(100))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    scale: Mapped[int] = mapped_column(Integer, default=5)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Gatekeeper(Base):
    """A person who decides on the challenge's ideas, besides the owner's administrators."""

    __tablename__ = "gatekeeper"
    __table_args__ = (UniqueConstraint("challenge_id", "user_id"), Index("ix_gatekeeper_user_id", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenge.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))


class Evaluator(Base):
    """A member of a stage's evaluation team."""

    __tablename__ = "evaluator"
    __table_args__ = (UniqueConstraint("challenge_id", "stage", "user_id"), Index("ix_evaluator_user_id", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenge.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(30))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))


class Assignment(Base):
    """An idea an evaluator is to score in a stage: evaluators read what they are
    assigned, and only that."""

    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("idea_id", "stage", "user_id"), Index("ix_assignment_user_id", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(30))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TermsAcceptance(Base):
    """A person accepted a version of a challenge's terms before submitting."""

    __tablename__ = "terms_acceptance"
    __table_args__ = (UniqueConstraint("challenge_id", "user_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenge.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    accepted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ChallengeInvitation(Base):
    """An organisation the owner invited to contribute to one challenge."""

    __tablename__ = "challenge_invitation"
    __table_args__ = (UniqueConstraint("challenge_id", "organisation_id"),
                      Index("ix_challenge_invitation_organisation_id", "organisation_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenge.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Idea(Shareable, Base):
    """An idea. In a challenge its readers follow the challenge's rules (see
    service.idea_condition) and its owner is the challenge's; a free idea belongs to its
    author's organisation, which shares it like any record."""

    __tablename__ = "idea"
    share_type = "idea"
    owner_column = "organisation_id"
    __table_args__ = (
        visibility_constraint(), check_length("idea", "description"),
        Index("ix_idea_challenge_id_created_at", "challenge_id", "created_at"),
        Index("ix_idea_organisation_id", "organisation_id"),
        Index("ix_idea_merged_into_id", "merged_into_id"),
    )

    def shared_notice(self, owner_external_id: str) -> tuple[str, str]:
        return f"the idea “{self.title}”", f"/ideas/{self.id}"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    challenge_id: Mapped[int | None] = mapped_column(ForeignKey("challenge.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)  # Markdown, rendered sanitised
    tags: Mapped[str] = _tags_column()
    stage: Mapped[str] = mapped_column(String(30), default="submitted")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("idea.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    stage_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The meaning of title and description (float32 unit vector) for similar ideas, and a
    # random number drawn again whenever they change: a process that keeps ideas' texts
    # in memory knows by it, without reading them, which it must read again.
    meaning: Mapped[bytes | None] = mapped_column(LargeBinary)
    text_version: Mapped[int] = mapped_column(BigInteger, default=lambda: new_text_version())
    # Kept by the service with each vote and comment (one idea's changes run one after the
    # other), so that lists sort by them without counting 100,000 votes each time.
    supporters: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    comments: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class IdeaAuthor(Base):
    """An author of an idea, on behalf of an organisation; a co-author counts once they
    confirm."""

    __tablename__ = "idea_author"
    __table_args__ = (UniqueConstraint("idea_id", "user_id"),
                      Index("ix_idea_author_user_id", "user_id"),
                      Index("ix_idea_author_organisation_id", "organisation_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Comment(Base):
    __tablename__ = "comment"
    __table_args__ = (check_length("comment", "body"),
                      Index("ix_comment_idea_id_created_at", "idea_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Vote(Base):
    """A person's support for an idea: one per person, by the database's constraint."""

    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("idea_id", "user_id"), Index("ix_vote_user_id", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Rating(Base):
    """A person's rating of an idea on one criterion: one per person and criterion."""

    __tablename__ = "rating"
    __table_args__ = (UniqueConstraint("idea_id", "criterion_id", "user_id"),
                      CheckConstraint("value BETWEEN 1 AND 10", name="value"),
                      Index("ix_rating_criterion_id", "criterion_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    value: Mapped[int] = mapped_column(Integer)
    rated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Follow(Base):
    __tablename__ = "follow"
    __table_args__ = (UniqueConstraint("idea_id", "user_id"), Index("ix_follow_user_id", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class IdeaEvent(Base):
    """The history of an idea: who moved it, merged it or decided on it, when and why."""

    __tablename__ = "idea_event"
    __table_args__ = (check_one_of("kind", IDEA_EVENTS),
                      Index("ix_idea_event_idea_id_at", "idea_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(12))
    from_stage: Mapped[str | None] = mapped_column(String(30))
    to_stage: Mapped[str | None] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(String(2000))
    other_idea_id: Mapped[int | None] = mapped_column(ForeignKey("idea.id", ondelete="SET NULL"))
