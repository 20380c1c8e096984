"""Accounts: invitations, passwords, sign-in sessions, API tokens. Services flush, never commit."""

import hashlib
import secrets
import threading
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from innonet import roles
from innonet.accounts import mail
from innonet.accounts.models import (
    NOTIFICATION_KINDS,
    ApiToken,
    Invitation,
    LoginFailure,
    LoginSession,
    Membership,
    Notification,
    PasswordReset,
    User,
)
from innonet.db import serialise, utcnow, write_after_read
from innonet.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from innonet.organisations.models import Organisation
from innonet.roles import Viewer
from innonet.text import has_control_characters, refuse_control_characters

SESSION_LIFETIME = timedelta(days=14)
INVITATION_LIFETIME = timedelta(days=14)
RESET_LIFETIME = timedelta(hours=1)
# At most this many reset links per account in this window.
RESETS_PER_WINDOW = 3
RESET_WINDOW = timedelta(hours=1)
# Failed sign-ins counted over this window; beyond the limits, sign-in waits.
FAILURE_WINDOW = timedelta(minutes=15)
FAILURES_PER_ACCOUNT = 5
# An attempt counts from before its password is checked: a busy office behind one address
# has many at once.
FAILURES_PER_ADDRESS = 100
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "inn_"

# Argon2id with the parameters the OWASP Password Storage Cheat Sheet gives (19 MiB, two
# passes, one lane): about 30 ms of one core per check. The library's default (64 MiB, three
# passes, four lanes) took both cores of a small server for a quarter of a second, so a few
# sign-ins a second slowed every other page. Hashes made with other parameters still verify
# and are renewed at the next sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
# Each check of a password takes 19 MiB and a core for a moment: a burst of sign-ins waits
# for a slot instead of exhausting memory.
_hashing_slots = threading.BoundedSemaphore(4)
# Verifying against this when the account does not exist takes as long as a real check,
# so timing does not tell which e-mail addresses have accounts.
_DUMMY_HASH = _hasher.hash("innonet-no-such-account")


def new_secret(prefix: str = "") -> tuple[str, str]:
    """A fresh random secret and the SHA-256 under which it is stored."""
    secret = prefix + secrets.token_urlsafe(32)
    return secret, digest(secret)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_email(email: str, *, field: str = "email") -> str:
    email = refuse_control_characters(field, (email or "").strip().lower())
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 320 or any(c.isspace() for c in email):
        raise InvalidInput.for_field(field, "enter an e-mail address like name@example.org")
    return email


def check_password_rules(password: str, *, field: str = "password") -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput.for_field(field, f"use at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 500:
        raise InvalidInput.for_field(field, "use at most 500 characters")


def set_password(session: Session, *, user: User, password: str, field: str = "password") -> None:
    """Store a new password (Argon2id) and sign out every session and reset link of the user."""
    check_password_rules(password, field=field)
    with _hashing_slots:
        user.password_hash = _hasher.hash(password)
    session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    session.execute(update(PasswordReset).where(PasswordReset.user_id == user.id,
                                                PasswordReset.used_at.is_(None))
                    .values(used_at=utcnow()))
    session.flush()


def _password_matches(user: User | None, password: str) -> bool:
    try:
        with _hashing_slots:
            return _hasher.verify(user.password_hash if user and user.password_hash else _DUMMY_HASH,
                                  password) and user is not None and user.password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# ---------------------------------------------------------------- users and memberships


def get_user(session: Session, *, email: str) -> User:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound(f"No user with e-mail {email!r}.")
    return user


def create_user(session: Session, *, email: str, name: str | None = None,
                password: str | None = None, is_platform_admin: bool = False,
                is_cluster_manager: bool = False) -> User:
    email = normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"email: there is already an account for {email}.")
    user = User(email=email, name=name, is_platform_admin=is_platform_admin,
                is_cluster_manager=is_cluster_manager)
    session.add(user)
    session.flush()
    if password is not None:
        set_password(session, user=user, password=password)
    return user


def find_or_create_user(session: Session, *, email: str) -> User:
    email = normalise_email(email)
    return session.scalar(select(User).where(User.email == email)) or create_user(session, email=email)


def set_membership(session: Session, *, user: User, organisation_id: int, role: str) -> Membership:
    """Make the user ``role`` of the organisation (replacing an earlier role)."""
    membership = session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.organisation_id == organisation_id))
    if membership is None:
        membership = Membership(user_id=user.id, organisation_id=organisation_id, role=role)
        session.add(membership)
    membership.role = role
    session.flush()
    return membership


def memberships_of(session: Session, *, user_id: int) -> list[tuple[Organisation, str]]:
    rows = session.execute(
        select(Organisation, Membership.role)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .where(Membership.user_id == user_id).order_by(Organisation.name)).all()
    return [(organisation, role) for organisation, role in rows]


def members_of(session: Session, viewer: Viewer, *, organisation_id: int) -> list[tuple[Membership, User]]:
    """The people of an organisation (its admins and platform admins may list them)."""
    if not (viewer.admin_of(organisation_id) or viewer.is_platform_admin):
        roles.ensure_signed_in(viewer)
        raise Forbidden("Only the organisation's administrators may see its members.")
    rows = session.execute(
        select(Membership, User).join(User, User.id == Membership.user_id)
        .where(Membership.organisation_id == organisation_id).order_by(User.email)).all()
    return [(membership, user) for membership, user in rows]


def remove_membership(session: Session, viewer: Viewer, *, organisation_id: int,
                      membership_id: int) -> None:
    roles.ensure_insider(viewer, organisation_id, admin=True, platform_admin_too=True)
    membership = session.get(Membership, membership_id)
    if membership is None or membership.organisation_id != organisation_id:
        raise NotFound(f"No membership with id {membership_id}.")
    admins = session.scalar(select(func.count()).where(
        Membership.organisation_id == organisation_id, Membership.role == "admin"))
    if membership.role == "admin" and admins == 1:
        raise Conflict("The last administrator cannot be removed; make someone else admin first.")
    session.delete(membership)
    session.flush()


def viewer_for(user: User | None, roles: dict[int, str], *, today: date, can_write: bool,
               channel: str, path: str | None, unread: int = 0) -> Viewer:
    if user is None:
        return Viewer(today=today, channel=channel, path=path)
    return Viewer(today=today, user_id=user.id, email=user.email, roles=roles,
                  is_platform_admin=user.is_platform_admin,
                  is_cluster_manager=user.is_cluster_manager, can_write=can_write,
                  channel=channel, path=path, unread=unread)


def identify(session: Session, *, token: str | None, cookie: str | None, on_api: bool,
             today: date, path: str) -> Viewer:
    """Who is asking: the owner of an API token, of a sign-in cookie, or a visitor.

    On the API a sign-in cookie only reads: changes need a token, which a page of another
    site cannot send, so the API needs no CSRF check.
    """
    user, can_write = None, False
    if on_api and token:
        user, scope = user_for_token(session, token=token)
        can_write = scope == "write"
    elif cookie:
        user = user_for_session(session, token=cookie)
        can_write = not on_api
    roles = roles_of(session, user_id=user.id) if user else {}
    unread = _unread(session, user=user, role_of=roles) if user and not on_api else 0
    return viewer_for(user, roles, today=today, can_write=can_write,
                      channel="api" if on_api else "page", path=path, unread=unread)


def viewer_of(session: Session, *, user_id: int | None, today: date, channel: str) -> Viewer:
    """Whom a job acts for: the user who started it, with their rights as they are now."""
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.is_active:
        raise Forbidden("The account that started this job no longer exists or was closed.")
    return viewer_for(user, roles_of(session, user_id=user.id), today=today, can_write=True,
                      channel=channel, path=None)


def roles_of(session: Session, *, user_id: int) -> dict[int, str]:
    return dict(session.execute(select(Membership.organisation_id, Membership.role)
                                .where(Membership.user_id == user_id)).all())


# ---------------------------------------------------------------- invitations


def invite(session: Session, viewer: Viewer, *, organisation_id: int, email: str,
           role: str) -> tuple[Invitation, str]:
    """An invitation to join the organisation; returns it and its secret.

    Its admins invite; a platform admin may too, to give a new organisation its first admin.
    """
    roles.ensure_insider(viewer, organisation_id, admin=True, platform_admin_too=True)
    email = normalise_email(email)
    if role not in ("admin", "member", "guest"):
        raise InvalidInput.for_field("role", "choose admin, member or guest")
    secret, hashed = new_secret()
    invitation = Invitation(token_hash=hashed, email=email, organisation_id=organisation_id,
                            role=role, invited_by_id=viewer.user_id,
                            expires_at=utcnow() + INVITATION_LIFETIME)
    session.add(invitation)
    session.flush()
    return invitation, secret


def pending_invitations(session: Session, viewer: Viewer, *,
                        organisation_id: int) -> list[Invitation]:
    """The organisation's invitations not accepted yet, newest first (expired ones too: they
    can be sent again)."""
    roles.ensure_insider(viewer, organisation_id, admin=True, platform_admin_too=True)
    return list(session.scalars(
        select(Invitation).where(Invitation.organisation_id == organisation_id,
                                 Invitation.accepted_at.is_(None))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())))


def _pending(session: Session, *, organisation_id: int, invitation_id: int) -> Invitation:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.organisation_id != organisation_id \
            or invitation.accepted_at is not None:
        raise NotFound(f"No pending invitation #{invitation_id} of this organisation.")
    return invitation


def renew_invitation(session: Session, viewer: Viewer, *, organisation_id: int,
                     invitation_id: int) -> tuple[Invitation, str]:
    """A new link for a pending invitation, valid for the full lifetime again; the old link
    stops working. Returns the invitation and its new secret."""
    roles.ensure_insider(viewer, organisation_id, admin=True, platform_admin_too=True)
    invitation = _pending(session, organisation_id=organisation_id, invitation_id=invitation_id)
    secret, invitation.token_hash = new_secret()
    invitation.expires_at = utcnow() + INVITATION_LIFETIME
    session.flush()
    return invitation, secret


def revoke_invitation(session: Session, viewer: Viewer, *, organisation_id: int,
                      invitation_id: int) -> Invitation:
    """Withdraw a pending invitation: its link stops working."""
    roles.ensure_insider(viewer, organisation_id, admin=True, platform_admin_too=True)
    invitation = _pending(session, organisation_id=organisation_id, invitation_id=invitation_id)
    session.delete(invitation)
    session.flush()
    return invitation


def open_invitation(session: Session, *, token: str) -> Invitation:
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == digest(token)))
    if invitation is None or invitation.accepted_at is not None \
            or invitation.expires_at < utcnow():
        raise NotFound("This invitation link is not valid: it was used, it expired, or it is mistyped.")
    return invitation


def accept_invitation(session: Session, *, token: str, password: str, name: str | None = None) -> User:
    """Join the organisation: new people choose a password, existing ones confirm theirs."""
    invitation = open_invitation(session, token=token)
    user = find_or_create_user(session, email=invitation.email)
    if user.password_hash is None:
        set_password(session, user=user, password=password)
        user.name = refuse_control_characters("name", (name or "").strip()[:200]) or user.name
    elif not _password_matches(user, password):
        raise InvalidInput.for_field("password", "this is not the password of your account")
    set_membership(session, user=user, organisation_id=invitation.organisation_id, role=invitation.role)
    invitation.accepted_at = utcnow()
    session.flush()
    return user


# ---------------------------------------------------------------- signing in


def reserve_sign_in(session: Session, *, email: str, address: str) -> int:
    """Count a sign-in attempt as failed before checking it, or refuse it (TooManyRequests).

    Run it in a transaction of its own and commit: the check and the count are then one
    step, whatever the burst (on PostgreSQL under a lock per account and address; SQLite
    has one writer at a time), so exactly the limit of guesses is ever checked.
    :func:`authenticate` takes the count back when the password is right.
    """
    email = refuse_control_characters("email", (email or "").strip().lower()[:320])
    address = address[:64]
    serialise(session, f"sign-in:{email}", f"sign-in-from:{address}")
    since = utcnow() - FAILURE_WINDOW
    for column, value, limit, whom in ((LoginFailure.email, email, FAILURES_PER_ACCOUNT, "this account"),
                                       (LoginFailure.address, address, FAILURES_PER_ADDRESS, "your address")):
        failures = session.execute(select(func.count(), func.min(LoginFailure.at)).where(
            column == value, LoginFailure.at >= since)).one()
        if failures[0] >= limit:
            wait = int((failures[1] + FAILURE_WINDOW - utcnow()).total_seconds()) + 1
            raise TooManyRequests(f"Too many failed sign-ins for {whom}; try again in "
                                  f"{max(1, -(-wait // 60))} minutes.", retry_after=max(wait, 1))
    attempt = LoginFailure(email=email, address=address)
    session.add(attempt)
    session.flush()
    return attempt.id


def authenticate(session: Session, *, email: str, password: str, attempt_id: int) -> User:
    """The user with this e-mail and password, or Unauthorized. ``attempt_id`` is the
    attempt counted by :func:`reserve_sign_in`; it stays counted unless the password is right."""
    email = (email or "").strip().lower()[:320]
    user = session.scalar(select(User).where(User.email == email))
    matches = _password_matches(user, password)  # checked even without a user: same time
    if user is None or not matches or not user.is_active or user.password_hash is None:
        raise Unauthorized("The e-mail address or the password is wrong.")
    session.execute(delete(LoginFailure).where(LoginFailure.id == attempt_id))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    session.flush()
    return user


def start_session(session: Session, *, user: User) -> str:
    secret, hashed = new_secret()
    session.add(LoginSession(token_hash=hashed, user_id=user.id,
                             expires_at=utcnow() + SESSION_LIFETIME))
    session.flush()
    return secret


def user_for_session(session: Session, *, token: str) -> User | None:
    row = session.execute(select(User, LoginSession.expires_at)
                          .join(LoginSession, LoginSession.user_id == User.id)
                          .where(LoginSession.token_hash == digest(token))).first()
    if row is None or row[1] < utcnow() or not row[0].is_active:
        return None
    return row[0]


def end_session(session: Session, *, token: str) -> None:
    session.execute(delete(LoginSession).where(LoginSession.token_hash == digest(token)))


def change_password(session: Session, *, user: User, current: str, new: str) -> None:
    if not _password_matches(user, current):
        raise InvalidInput.for_field("current_password", "this is not your current password")
    set_password(session, user=user, password=new, field="new_password")


def request_password_reset(session: Session, *, email: str) -> tuple[User, str] | None:
    """A reset secret for the account with this e-mail, or None when there is no such account."""
    email = (email or "").strip().lower()
    if has_control_characters(email):
        return None  # no account has such an address; the answer stays the same
    user = session.scalar(select(User).where(User.email == email))
    if user is None or not user.is_active:
        return None
    serialise(session, f"password-reset:{user.id}")
    recent = session.scalars(select(func.count()).where(
        PasswordReset.user_id == user.id, PasswordReset.created_at >= utcnow() - RESET_WINDOW)).one()
    if recent >= RESETS_PER_WINDOW:
        return None  # enough links are on their way; a flood of mail helps nobody
    secret, hashed = new_secret()
    session.add(PasswordReset(token_hash=hashed, user_id=user.id, expires_at=utcnow() + RESET_LIFETIME))
    session.flush()
    return user, secret


def open_password_reset(session: Session, *, token: str) -> PasswordReset:
    reset = session.scalar(select(PasswordReset).where(PasswordReset.token_hash == digest(token)))
    if reset is None or reset.used_at is not None or reset.expires_at < utcnow():
        raise NotFound("This reset link is not valid: it was used, it expired, or it is mistyped.")
    return reset


def reset_password(session: Session, *, token: str, password: str) -> User:
    reset = open_password_reset(session, token=token)
    user = session.get_one(User, reset.user_id)
    set_password(session, user=user, password=password)
    reset.used_at = utcnow()
    session.flush()
    return user


# ---------------------------------------------------------------- API tokens


def create_token(session: Session, *, user: User, name: str, scope: str = "read") -> tuple[ApiToken, str]:
    """A personal API token; the secret is returned once and stored only hashed."""
    if scope not in ("read", "write"):
        raise InvalidInput.for_field("scope", "choose read or write")
    name = refuse_control_characters("name", (name or "").strip()) or "API token"
    if len(name) > 100:
        raise InvalidInput.for_field("name", "use at most 100 characters")
    secret, hashed = new_secret(TOKEN_PREFIX)
    token = ApiToken(token_hash=hashed, user_id=user.id, name=name, scope=scope)
    session.add(token)
    session.flush()
    return token, secret


def user_for_token(session: Session, *, token: str) -> tuple[User, str]:
    """The user and scope of a valid API token, or Unauthorized."""
    row = session.execute(select(User, ApiToken).join(ApiToken, ApiToken.user_id == User.id)
                          .where(ApiToken.token_hash == digest(token))).first()
    if row is None or row[1].revoked_at is not None or not row[0].is_active:
        raise Unauthorized("This API token is not valid: it was revoked or it is mistyped.")
    user, api_token = row
    now = utcnow()
    # Write the last use at most every few minutes, so reading does not mean writing.
    if api_token.last_used_at is None or api_token.last_used_at < now - timedelta(minutes=5):
        write_after_read(session, update(ApiToken).where(ApiToken.id == api_token.id)
                         .values(last_used_at=now))
    return user, api_token.scope


def tokens_of(session: Session, *, user_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)
                                .order_by(ApiToken.id)))


def revoke_token(session: Session, *, user_id: int | None, token_id: int) -> ApiToken:
    """Revoke a token (of this user; any token when ``user_id`` is None, for the command line)."""
    token = session.get(ApiToken, token_id)
    if token is None or (user_id is not None and token.user_id != user_id):
        raise NotFound(f"No API token with id {token_id}.")
    token.revoked_at = token.revoked_at or utcnow()
    session.flush()
    return token


def organisations_with_members(session: Session, *, ids: Iterable[int] | None = None) -> set[int]:
    """Which of these organisations (all, without ``ids``) have members (not only guests)
    who could answer."""
    query = select(Membership.organisation_id).join(User).where(
        Membership.role.in_(roles.WRITING_ROLES), User.is_active.is_(True)).distinct()
    if ids is not None:
        query = query.where(Membership.organisation_id.in_(list(ids)))
    return set(session.scalars(query))


def admins_of(session: Session, *, organisation_ids: Iterable[int]) -> list[int]:
    """The active administrators of these organisations (user ids)."""
    return list(session.scalars(select(Membership.user_id).join(User).where(
        Membership.organisation_id.in_(sorted(set(organisation_ids))), Membership.role == "admin",
        User.is_active.is_(True)).distinct()))


def users_by_email(session: Session, *, emails: Iterable[str]) -> dict[str, User]:
    """Active accounts by their (normalised) e-mail address."""
    return {u.email: u for u in session.scalars(select(User).where(
        User.email.in_(list(emails)), User.is_active.is_(True)))}


def people_by_id(session: Session, *, ids: Iterable[int]) -> dict[int, tuple[str | None, str]]:
    """Name and e-mail of each of these accounts."""
    return {i: (n, e) for i, n, e in session.execute(select(User.id, User.name, User.email).where(
        User.id.in_(sorted(set(ids)))))}


def organisations_of_people(session: Session, *, user_ids: Iterable[int]) -> set[int]:
    """The organisations these people are admins or members of."""
    return set(session.scalars(select(Membership.organisation_id).where(
        Membership.user_id.in_(sorted(user_ids)), Membership.role.in_(roles.WRITING_ROLES))))


def display_name(session: Session, *, user_id: int) -> str | None:
    return session.scalar(select(User.name).where(User.id == user_id))


# ---------------------------------------------------------------- notifications

INBOX_SIZE = 100


def _inbox_condition(user_id: int, role_of: dict[int, str]) -> ColumnElement[bool]:
    # Guests are invited to one record; what the organisation is told is for its members.
    return or_(Notification.user_id == user_id, Notification.organisation_id.in_(
        sorted(o for o, role in role_of.items() if role in roles.WRITING_ROLES)))


def _unread(session: Session, *, user: User, role_of: dict[int, str]) -> int:
    query = select(func.count()).select_from(Notification).where(
        _inbox_condition(user.id, role_of))
    if user.inbox_seen_at is not None:
        query = query.where(Notification.at > user.inbox_seen_at)
    return session.scalar(query) or 0


def notify(session: Session, *, organisation_ids: Iterable[int], kind: str, message: str, link: str) -> None:
    """Tell the members of these organisations: in their inbox, and by mail to each
    member where a mail server is set (after the commit, by a job)."""
    ids = sorted(set(organisation_ids))
    if not ids:
        return
    message = message[:500]
    session.execute(insert(Notification), [
        {"organisation_id": o, "kind": kind, "message": message, "link": link, "at": utcnow()}
        for o in ids])
    settings = mail.settings_of(session)
    if not settings.smtp_host:
        return
    recipients = session.scalars(select(User.email).join(Membership).where(
        Membership.organisation_id.in_(ids), Membership.role.in_(roles.WRITING_ROLES),
        User.is_active.is_(True)).distinct())
    address = f"{settings.base_url.rstrip('/')}{link}" if settings.base_url else "your innonet inbox"
    for email in recipients:
        mail.send_after_commit(session, to=email, subject=f"innonet: {NOTIFICATION_KINDS[kind].lower()}",
                               body=f"{message}\n\nSee {address}.")


def writing_members(session: Session, *, organisation_id: int) -> list[int]:
    """The active people who write for the organisation (its admins and members)."""
    return list(session.scalars(select(User.id).join(Membership).where(
        Membership.organisation_id == organisation_id, Membership.role.in_(roles.WRITING_ROLES),
        User.is_active.is_(True)).order_by(User.id)))


def notify_people(session: Session, *, user_ids: Iterable[int], kind: str, message: str, link: str) -> None:
    """Tell these people, each in their own inbox (and their daily digest, not a mail
    each: a busy discussion would flood them)."""
    ids = sorted(set(user_ids))
    if ids:
        session.execute(insert(Notification), [
            {"user_id": u, "kind": kind, "message": message[:500], "link": link, "at": utcnow()}
            for u in ids])


def digest_recipients(session: Session) -> list[tuple[int, str, datetime | None]]:
    """(id, e-mail, when their last digest ended) of the active people who want a digest."""
    return [(i, e, at) for i, e, at in session.execute(select(User.id, User.email, User.digest_sent_at).where(
        User.is_active.is_(True), User.daily_digest.is_(True)).order_by(User.id))]


def personal_notifications(session: Session, *, user_id: int, since: datetime, until: datetime) -> list[Notification]:
    """What was addressed to this person in that time, oldest first."""
    return list(session.scalars(select(Notification).where(
        Notification.user_id == user_id, Notification.at > since, Notification.at <= until)
        .order_by(Notification.at, Notification.id)))


def mark_digest_sent(session: Session, *, user_id: int, at: datetime) -> None:
    session.execute(update(User).where(User.id == user_id).values(digest_sent_at=at))


def set_daily_digest(session: Session, viewer: Viewer, *, wanted: bool) -> None:
    """Turn the viewer's daily digest on or off."""
    roles.ensure_signed_in(viewer)
    if viewer.user_id is not None:
        session.execute(update(User).where(User.id == viewer.user_id).values(daily_digest=wanted))


def inbox(session: Session, viewer: Viewer) -> tuple[list[tuple[Notification, bool]], int]:
    """The newest notifications to the viewer and the viewer's organisations, each with
    whether it is new to the viewer, and how many there are in all."""
    roles.ensure_signed_in(viewer)
    user = session.get(User, viewer.user_id) if viewer.user_id else None
    if user is None:
        return [], 0
    condition = _inbox_condition(user.id, viewer.roles)
    total = session.scalar(select(func.count()).select_from(Notification).where(condition)) or 0
    items = session.scalars(select(Notification).where(condition)
                            .order_by(Notification.at.desc(), Notification.id.desc())
                            .limit(INBOX_SIZE))
    seen = user.inbox_seen_at
    return [(n, seen is None or n.at > seen) for n in items], total


def mark_inbox_seen(session: Session, viewer: Viewer) -> None:
    """Everything in the inbox until now counts as read."""
    roles.ensure_signed_in(viewer)
    if viewer.user_id is not None:  # a page view leaves it behind, as it does audit rows
        write_after_read(session, update(User).where(User.id == viewer.user_id)
                         .values(inbox_seen_at=utcnow()))
