"""People, their memberships of organisations, and the secrets that let them in.

Every secret we hand out (session cookie, invitation link, reset link, API token) is a
random string; only its SHA-256 is stored, so a copy of the database opens no door.
"""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from innonet.db import Base, UtcDateTime, check_one_of, utcnow

# Roles inside one organisation, most powerful first.
ORG_ROLES = {
    "admin": "Administrator",
    "member": "Member",
    "guest": "Guest",
}
TOKEN_SCOPES = {"read": "Read only", "write": "Read and write"}
# What a notification tells an organisation's members about.
NOTIFICATION_KINDS = {
    "shared": "Shared with you",
    "introduction_requested": "Introduction requested",
    "introduction_accepted": "Introduction made",
    "introduction_declined": "Introduction not now",
    "challenge_invitation": "Invited to a challenge",
    "mention": "Mentioned",
    "comment": "New comment",
    "stage_changed": "Stage changed",
    "decision": "Decision",
    "co_author": "Co-author",
    "evaluation": "Evaluation assigned",
    "project": "Joint project",
    "exit_review": "Exit review",
    "partnership_alert": "Partnership alert",
    "idea_submitted": "New idea",
}



class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-case
    name: Mapped[str | None] = mapped_column(String(200))
    # None until the person accepts an invitation and chooses a password.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_cluster_manager: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Notifications up to this moment count as read.
    inbox_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A daily e-mail of what was addressed to this person (innonet.digests), and when the
    # last one covered up to.
    daily_digest: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    digest_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("user_id", "organisation_id"),
        check_one_of("role", ORG_ROLES),
        Index("ix_membership_organisation_id", "organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Invitation(Base):
    __tablename__ = "invitation"
    __table_args__ = (check_one_of("role", ORG_ROLES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(10))
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PasswordReset(Base):
    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LoginSession(Base):
    """A signed-in browser. Deleting the row signs it out."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiToken(Base):
    __tablename__ = "api_token"
    __table_args__ = (check_one_of("scope", TOKEN_SCOPES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LoginFailure(Base):
    """A failed sign-in, counted per account and per address to slow down guessing."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_email_at", "email", "at"),
                      Index("ix_login_failure_address_at", "address", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Notification(Base):
    """Something an organisation's members, or one person, should know about (in the
    inbox; mailed too where a mail server is set). The link leads to the record, whose own
    rules say who may open it."""

    __tablename__ = "notification"
    __table_args__ = (check_one_of("kind", NOTIFICATION_KINDS),
                      CheckConstraint("(organisation_id IS NULL) <> (user_id IS NULL)",
                                      name="one_addressee"),
                      Index("ix_notification_organisation_id_at", "organisation_id", "at"),
                      Index("ix_notification_user_id_at", "user_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"))
    # A notification to one person (a mention, a decision on their idea) instead.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(String(500))
    link: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
