"""Warm introductions: asked by an organisation's members, answered by the introducer's,
seen by the target once made. Services flush, never commit."""

from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from innonet import roles
from innonet.accounts import service as accounts
from innonet.collaborations import service as collaborations
from innonet.db import serialise, utcnow
from innonet.errors import Conflict, InvalidInput, NotFound, TooManyRequests
from innonet.introductions.models import IntroductionRequest
from innonet.introductions.schemas import IntroductionAccept, IntroductionIn, IntroductionOut
from innonet.organisations import service as organisations
from innonet.organisations.schemas import OrganisationSummary
from innonet.roles import Viewer
from innonet.sharing import service as sharing

# Requests an organisation may send in a day: enough for real work, too few to spam.
REQUESTS_PER_DAY = 10
RATE_WINDOW = timedelta(days=1)
ITEM_TYPE = "introduction"


def _audit(session: Session, viewer: Viewer, request: IntroductionRequest, *, action: str,
           owners: tuple[int, ...]) -> None:
    sharing.record_events(session, viewer, action=action,
                          events=[(o, ITEM_TYPE, request.id) for o in owners])


def request_introduction(session: Session, viewer: Viewer, *, data: IntroductionIn) -> IntroductionRequest:
    """Ask the introducer to introduce the asker to the target (the asker's members may)."""
    ids = organisations.ids_by_external_id(session, external_ids=[data.asker, data.introducer, data.target])
    for field in ("asker", "introducer", "target"):
        if getattr(data, field) not in ids:
            raise InvalidInput.for_field(field, f"no organisation with id {getattr(data, field)!r}")
    asker, introducer, target = ids[data.asker], ids[data.introducer], ids[data.target]
    roles.ensure_insider(viewer, asker)
    if len({asker, introducer, target}) < 3:
        raise InvalidInput.for_field("introducer", "the asker, the introducer and the target "
                                     "must be three different organisations")
    if not (collaborations.are_partners(session, viewer, introducer, target)
            or collaborations.are_partners(session, viewer, introducer, asker)):
        raise InvalidInput.for_field("introducer", "has worked with neither you nor the target "
                                     "in the data you can see")
    if not accounts.organisations_with_members(session, ids=[introducer]):
        raise Conflict("Nobody from the introducer uses innonet yet, so nobody could answer: "
                       "contact them directly.")
    # The count and the insert are one step per asking organisation (see serialise).
    serialise(session, f"introductions:{asker}")
    since = utcnow() - RATE_WINDOW
    sent, oldest = session.execute(select(func.count(), func.min(IntroductionRequest.created_at)).where(
        IntroductionRequest.asker_id == asker, IntroductionRequest.created_at >= since)).one()
    if sent >= REQUESTS_PER_DAY:
        wait = int((oldest + RATE_WINDOW - utcnow()).total_seconds()) + 1
        raise TooManyRequests(f"Your organisation has asked for {REQUESTS_PER_DAY} introductions "
                              f"in the last 24 hours; ask again in {max(1, -(-wait // 3600))} hours.",
                              retry_after=max(wait, 1))
    contact = data.contact or _contact_of(session, viewer)
    request = IntroductionRequest(asker_id=asker, introducer_id=introducer, target_id=target,
                                  note=data.note, asker_contact=contact,
                                  requested_by_id=viewer.user_id)
    try:
        with session.begin_nested():
            session.add(request)
            session.flush()
    except IntegrityError:
        raise Conflict("Your organisation already asked them for this introduction; "
                       "it is waiting for their answer.") from None
    names = organisations.organisations_by_id(session, ids=[asker, target])
    accounts.notify(session, organisation_ids=[introducer], kind="introduction_requested",
                    link=f"/introductions/{request.id}",
                    message=f"{names[asker].name} asks you to introduce them to {names[target].name}.")
    _audit(session, viewer, request, action="create", owners=(asker, introducer))
    return request


def _contact_of(session: Session, viewer: Viewer) -> str:
    name = accounts.display_name(session, user_id=viewer.user_id) if viewer.user_id else None
    email = viewer.email or "the command line"
    return f"{name} <{email}>" if name else email


def _side(viewer: Viewer, request: IntroductionRequest) -> str | None:
    """The viewer's part in the request, if any: the target only once introduced."""
    for side, organisation_id in (("introducer", request.introducer_id), ("asker", request.asker_id),
                                  ("target", request.target_id)):
        if organisation_id in viewer.member_of or viewer.is_operator:
            if side == "target" and request.status != "accepted":
                continue
            return side
    return None


def get_introduction(session: Session, viewer: Viewer, *, request_id: int) -> IntroductionRequest:
    """A request the viewer is party to (NotFound otherwise, as if it did not exist)."""
    roles.ensure_signed_in(viewer)
    request = session.get(IntroductionRequest, request_id)
    if request is None or _side(viewer, request) is None:
        raise NotFound(f"No introduction request with id {request_id}.")
    _audit(session, viewer, request, action="read", owners=(
        request.asker_id, request.introducer_id))
    return request


def list_introductions(session: Session, viewer: Viewer, *,
                       limit: int | None = 200) -> list[IntroductionRequest]:
    """Requests the viewer's organisations sent, received, or were introduced by, newest first."""
    roles.ensure_signed_in(viewer)
    mine = sorted(viewer.member_of)
    condition = or_(IntroductionRequest.asker_id.in_(mine), IntroductionRequest.introducer_id.in_(mine),
                    (IntroductionRequest.target_id.in_(mine)) & (IntroductionRequest.status == "accepted"))
    query = select(IntroductionRequest).order_by(IntroductionRequest.created_at.desc(),
                                                 IntroductionRequest.id.desc()).limit(limit)
    return list(session.scalars(query if viewer.is_operator else query.where(condition)))


def _pending_for_introducer(session: Session, viewer: Viewer, request_id: int) -> IntroductionRequest:
    request = get_introduction(session, viewer, request_id=request_id)
    roles.ensure_insider(viewer, request.introducer_id)
    if request.status != "pending":
        raise Conflict("This request was already answered.")
    return request


def accept(session: Session, viewer: Viewer, *, request_id: int,
           data: IntroductionAccept) -> IntroductionRequest:
    """Make the introduction: both sides get each other's contact person and the note."""
    request = _pending_for_introducer(session, viewer, request_id)
    request.status, request.target_contact, request.reply = "accepted", data.contact, data.reply
    request.decided_by_id, request.decided_at = viewer.user_id, utcnow()
    session.flush()
    names = organisations.organisations_by_id(
        session, ids=[request.asker_id, request.introducer_id, request.target_id])
    asker, introducer, target = (names[i] for i in (request.asker_id, request.introducer_id,
                                                    request.target_id))
    link = f"/introductions/{request.id}"
    accounts.notify(session, organisation_ids=[asker.id], kind="introduction_accepted", link=link,
                    message=f"{introducer.name} introduced you to {target.name}: see whom to contact.")
    accounts.notify(session, organisation_ids=[target.id], kind="introduction_accepted", link=link,
                    message=f"{introducer.name} introduced {asker.name} to you: see their note.")
    _audit(session, viewer, request, action="update", owners=(asker.id, introducer.id, target.id))
    return request


def decline(session: Session, viewer: Viewer, *, request_id: int) -> IntroductionRequest:
    """Not now: the asker learns only that."""
    request = _pending_for_introducer(session, viewer, request_id)
    request.status, request.decided_by_id, request.decided_at = "declined", viewer.user_id, utcnow()
    session.flush()
    target = organisations.organisations_by_id(session, ids=[request.target_id])[request.target_id]
    accounts.notify(session, organisation_ids=[request.asker_id], kind="introduction_declined",
                    link=f"/introductions/{request.id}",
                    message=f"Your request for an introduction to {target.name}: not now.")
    _audit(session, viewer, request, action="update", owners=(request.asker_id, request.introducer_id))
    return request


def introduction_view(session: Session, viewer: Viewer, *,
                      requests: list[IntroductionRequest]) -> list[IntroductionOut]:
    """Requests, each showing only what the viewer's side may see."""
    by_id = organisations.organisations_by_id(session, ids={
        o for r in requests for o in (r.asker_id, r.introducer_id, r.target_id)})
    out = []
    for r in requests:
        side = _side(viewer, r)
        if side is None:
            continue
        introduced = r.status == "accepted"
        asker, introducer, target = (OrganisationSummary.model_validate(by_id[o])
                                     for o in (r.asker_id, r.introducer_id, r.target_id))
        out.append(IntroductionOut(
            id=r.id, status=r.status, your_side=side, note=r.note, asker=asker, introducer=introducer, target=target,
            asker_contact=r.asker_contact if side != "target" or introduced else None,
            target_contact=r.target_contact if introduced else None,
            reply=r.reply if introduced else None, created_at=r.created_at, decided_at=r.decided_at))
    return out
