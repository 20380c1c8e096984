"""Pages: sign in and out, invitations, password reset and change, API tokens, members."""


from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from innonet import roles
from innonet.accounts import mail, service
from innonet.accounts.models import NOTIFICATION_KINDS, ORG_ROLES, TOKEN_SCOPES, Invitation, User
from innonet.db import transaction, utcnow
from innonet.errors import InnonetError
from innonet.jobs.models import Job
from innonet.organisations import service as organisations
from innonet.organisations.models import Organisation
from innonet.roles import Viewer
from innonet.web import (
    CurrentViewer,
    DbSession,
    PostedForm,
    RecordId,
    redirect_with_flash,
    render,
    set_session_cookie,
)

router = APIRouter(include_in_schema=False)


def _errors(error: InnonetError, default_field: str) -> dict[str, str]:
    return {p.field: p.message for p in error.problems if p.field} or {default_field: error.message}


def _safe_next(target: str | None) -> str:
    """Only go back to a page of this site after signing in (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target \
            and len(target) <= 2000 and target.isprintable():
        return target
    return "/"


def _link(request: Request, path: str) -> str:
    base = request.app.state.settings.base_url.rstrip("/") or str(request.base_url).rstrip("/")
    return base + path


def _sign_in(request: Request, session: Session, user: User, target: str) -> Response:
    response = redirect_with_flash(request, target, f"Signed in as {user.email}.")
    set_session_cookie(request, response, service.start_session(session, user=user))
    return response


# ---------------------------------------------------------------- signing in and out


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"values": {"next": _safe_next(next)}, "errors": {}})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, session: Session = DbSession,
          form: FormData = PostedForm) -> Response:
    values = {"email": str(form.get("email", ""))[:320], "next": _safe_next(str(form.get("next") or ""))}
    address = request.client.host if request.client else "unknown"
    try:
        # Counted in a transaction of its own, committed before the password is checked:
        # a failure counts even though the answer is an error, and a burst cannot slip by.
        with transaction(request.app.state.sessions) as counter:
            attempt_id = service.reserve_sign_in(counter, email=values["email"], address=address)
        user = service.authenticate(session, email=values["email"], password=str(form.get("password", "")),
                                    attempt_id=attempt_id)
    except InnonetError as error:
        response = render(request, "login.html", {"values": values, "errors": {"form": error.message}},
                          status_code=error.status_code)
        if retry := getattr(error, "retry_after", None):
            response.headers["Retry-After"] = str(retry)
        return response
    return _sign_in(request, session, user, values["next"])


@router.post("/logout")
def logout(request: Request, session: Session = DbSession) -> Response:
    if token := request.cookies.get("innonet_session"):
        service.end_session(session, token=token)
    response = redirect_with_flash(request, "/", "Signed out.")
    set_session_cookie(request, response, None)
    return response


# ---------------------------------------------------------------- invitations


@router.get("/invitations/{token}", response_class=HTMLResponse)
def invitation_page(request: Request, token: str, session: Session = DbSession) -> Response:
    invitation = service.open_invitation(session, token=token)
    return _invitation_form(request, session, invitation, errors={})


def _invitation_form(request: Request, session: Session, invitation: Invitation, *, errors: dict[str, str],
                     status_code: int = 200) -> Response:
    organisation = organisations.organisations_by_id(session, ids=[invitation.organisation_id])[
        invitation.organisation_id]
    existing = session.scalar(select(User.id).where(
        User.email == invitation.email, User.password_hash.is_not(None))) is not None
    return render(request, "invitation.html", {
        "invitation": invitation, "organisation": organisation, "existing": existing,
        "role": ORG_ROLES[invitation.role], "errors": errors}, status_code=status_code)


@router.post("/invitations/{token}", response_class=HTMLResponse)
def accept_invitation(request: Request, token: str, session: Session = DbSession,
                      form: FormData = PostedForm) -> Response:
    invitation = service.open_invitation(session, token=token)
    password = str(form.get("password", ""))
    if form.get("password_again") is not None and form.get("password_again") != password:
        return _invitation_form(request, session, invitation, status_code=422,
                                errors={"password_again": "the two passwords differ"})
    try:
        with session.begin_nested():
            user = service.accept_invitation(session, token=token, password=password,
                                             name=str(form.get("name", "")))
    except InnonetError as error:
        return _invitation_form(request, session, invitation, errors=_errors(error, "password"),
                                status_code=error.status_code)
    return _sign_in(request, session, user, "/account")


# ---------------------------------------------------------------- passwords


@router.get("/password/forgot", response_class=HTMLResponse)
def forgot_page(request: Request) -> Response:
    return render(request, "password_forgot.html", {"sent": False})


@router.post("/password/forgot", response_class=HTMLResponse)
def forgot(request: Request, session: Session = DbSession, form: FormData = PostedForm) -> Response:
    found = service.request_password_reset(session, email=str(form.get("email", ""))[:320])
    if found:
        user, secret = found
        # Sent by a job after the answer, so that the answer takes as long whether or not
        # the account exists.
        mail.send_after_commit(session, to=user.email, subject="Reset your innonet password",
                               body=f"Choose a new password within an hour: "
                                    f"{_link(request, '/password/reset/' + secret)}",
                               user_id=user.id)
    # The same answer whether or not the account exists (or was sent too many links).
    return render(request, "password_forgot.html", {"sent": True})


@router.get("/password/reset/{token}", response_class=HTMLResponse)
def reset_page(request: Request, token: str, session: Session = DbSession) -> Response:
    service.open_password_reset(session, token=token)
    return render(request, "password_reset.html", {"errors": {}})


@router.post("/password/reset/{token}", response_class=HTMLResponse)
def reset(request: Request, token: str, session: Session = DbSession,
          form: FormData = PostedForm) -> Response:
    service.open_password_reset(session, token=token)
    password = str(form.get("password", ""))
    if form.get("password_again") != password:
        return render(request, "password_reset.html",
                      {"errors": {"password_again": "the two passwords differ"}}, status_code=422)
    try:
        user = service.reset_password(session, token=token, password=password)
    except InnonetError as error:
        return render(request, "password_reset.html", {"errors": _errors(error, "password")},
                      status_code=error.status_code)
    return _sign_in(request, session, user, "/account")


# ---------------------------------------------------------------- the account page


def _account_page(request: Request, session: Session, viewer: Viewer, *, errors: dict[str, str] | None = None,
                  new_token: str | None = None, status_code: int = 200) -> Response:
    user = session.get_one(User, viewer.user_id)
    return render(request, "account.html", {
        "user": user, "memberships": service.memberships_of(session, user_id=user.id),
        "tokens": service.tokens_of(session, user_id=user.id), "scopes": TOKEN_SCOPES,
        "roles": ORG_ROLES, "errors": errors or {}, "new_token": new_token}, status_code=status_code)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    roles.ensure_signed_in(viewer)
    return _account_page(request, session, viewer)


@router.post("/account/password", response_class=HTMLResponse)
def change_password(request: Request, session: Session = DbSession,
                    viewer: Viewer = CurrentViewer,
                    form: FormData = PostedForm) -> Response:
    roles.ensure_signed_in(viewer)
    user = session.get_one(User, viewer.user_id)
    try:
        service.change_password(session, user=user, current=str(form.get("current_password", "")),
                                new=str(form.get("new_password", "")))
    except InnonetError as error:
        return _account_page(request, session, viewer, errors=_errors(error, "new_password"),
                             status_code=error.status_code)
    # Changing the password signs out every session, this one too: sign this one in again.
    return _sign_in(request, session, user, "/account")


@router.post("/account/digest")
def set_digest(request: Request, session: Session = DbSession, viewer: Viewer = CurrentViewer,
               form: FormData = PostedForm) -> Response:
    wanted = form.get("daily_digest") == "on"
    service.set_daily_digest(session, viewer, wanted=wanted)
    return redirect_with_flash(request, "/account#notifications", "Daily digest on: one e-mail a morning with "
                               "what happened for you." if wanted else "Daily digest off.")


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(request: Request, session: Session = DbSession, viewer: Viewer = CurrentViewer,
                 form: FormData = PostedForm) -> Response:
    roles.ensure_can_write(viewer)
    user = session.get_one(User, viewer.user_id)
    try:
        _, secret = service.create_token(session, user=user, name=str(form.get("name", "")),
                                         scope=str(form.get("scope", "read")))
    except InnonetError as error:
        return _account_page(request, session, viewer, errors=_errors(error, "name"),
                             status_code=error.status_code)
    return _account_page(request, session, viewer, new_token=secret, status_code=201)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: RecordId, session: Session = DbSession,
                 viewer: Viewer = CurrentViewer) -> Response:
    roles.ensure_can_write(viewer)
    token = service.revoke_token(session, user_id=viewer.user_id, token_id=token_id)
    return redirect_with_flash(request, "/account", f"Token “{token.name}” revoked.")


@router.get("/inbox", response_class=HTMLResponse)
def inbox(request: Request, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    """What the viewer's organisations were told; opening it marks everything read."""
    items, total = service.inbox(session, viewer)
    service.mark_inbox_seen(session, viewer)
    return render(request, "inbox.html", {"items": items, "total": total,
                                          "kinds": NOTIFICATION_KINDS})


# ---------------------------------------------------------------- members of an organisation


def _members_page(request: Request, session: Session, viewer: Viewer, organisation: Organisation, *,
                  errors: dict[str, str] | None = None, invitation_link: str | None = None,
                  mail_job: Job | None = None, status_code: int = 200) -> Response:
    return render(request, "members.html", {
        "organisation": organisation, "errors": errors or {}, "roles": ORG_ROLES,
        "members": service.members_of(session, viewer, organisation_id=organisation.id),
        "invitations": service.pending_invitations(session, viewer, organisation_id=organisation.id),
        "now": utcnow(), "invitation_link": invitation_link, "mail_job": mail_job},
        status_code=status_code)


def _send_invitation(request: Request, session: Session, viewer: Viewer, organisation: Organisation,
                     invitation: Invitation, secret: str) -> tuple[str, Job | None]:
    """Mail the invitation's link after the commit; returns the link and the mail job."""
    link = _link(request, f"/invitations/{secret}")
    job = mail.send_after_commit(
        session, to=invitation.email, subject=f"Join {organisation.name} on innonet",
        body=f"{viewer.email} invites you to join {organisation.name} on innonet as "
             f"{ORG_ROLES[invitation.role].lower()}: {link}",
        user_id=viewer.user_id, organisation_id=organisation.id)
    return link, job


@router.get("/orgs/{external_id}/members", response_class=HTMLResponse)
def members(request: Request, external_id: str, session: Session = DbSession,
            viewer: Viewer = CurrentViewer) -> Response:
    organisation = organisations.get_organisation(session, external_id=external_id)
    return _members_page(request, session, viewer, organisation)


@router.post("/orgs/{external_id}/members", response_class=HTMLResponse)
def invite(request: Request, external_id: str, session: Session = DbSession,
           viewer: Viewer = CurrentViewer,
           form: FormData = PostedForm) -> Response:
    organisation = organisations.get_organisation(session, external_id=external_id)
    roles.ensure_insider(viewer, organisation.id, admin=True, platform_admin_too=True)
    try:
        invitation, secret = service.invite(session, viewer, organisation_id=organisation.id,
                                            email=str(form.get("email", "")),
                                            role=str(form.get("role", "member")))
    except InnonetError as error:
        return _members_page(request, session, viewer, organisation, errors=_errors(error, "email"),
                             status_code=error.status_code)
    link, job = _send_invitation(request, session, viewer, organisation, invitation, secret)
    return _members_page(request, session, viewer, organisation, invitation_link=link,
                         mail_job=job, status_code=201)


@router.post("/orgs/{external_id}/invitations/{invitation_id}/resend", response_class=HTMLResponse)
def resend_invitation(request: Request, external_id: str, invitation_id: RecordId,
                      session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    """Send a pending invitation again, with a new link (the old one stops working)."""
    organisation = organisations.get_organisation(session, external_id=external_id)
    invitation, secret = service.renew_invitation(
        session, viewer, organisation_id=organisation.id, invitation_id=invitation_id)
    link, job = _send_invitation(request, session, viewer, organisation, invitation, secret)
    return _members_page(request, session, viewer, organisation, invitation_link=link,
                         mail_job=job)


@router.post("/orgs/{external_id}/invitations/{invitation_id}/revoke")
def revoke_invitation(request: Request, external_id: str, invitation_id: RecordId,
                      session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    organisation = organisations.get_organisation(session, external_id=external_id)
    invitation = service.revoke_invitation(session, viewer, organisation_id=organisation.id,
                                           invitation_id=invitation_id)
    return redirect_with_flash(request, f"/orgs/{external_id}/members",
                               f"Invitation to {invitation.email} revoked: its link no longer works.")


@router.post("/orgs/{external_id}/members/{membership_id}/remove")
def remove_member(request: Request, external_id: str, membership_id: RecordId,
                  session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    organisation = organisations.get_organisation(session, external_id=external_id)
    service.remove_membership(session, viewer, organisation_id=organisation.id,
                              membership_id=membership_id)
    return redirect_with_flash(request, f"/orgs/{external_id}/members", "Member removed.")
