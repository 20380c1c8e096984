"""A person's calendar feed of the milestones they may read (iCalendar)."""

from datetime import date

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.orm import Session

from innonet import roles
from innonet.accounts import service as accounts
from innonet.db import rows_changed, utcnow
from innonet.errors import Forbidden, NotFound
from innonet.projects.access import item_condition
from innonet.projects.models import (
    MILESTONE_STATUSES,
    CalendarFeed,
    JointProject,
    Milestone,
)
from innonet.roles import Viewer
from innonet.text import LAST_YEAR


def create_calendar_feed(session: Session, viewer: Viewer) -> str:
    """A new secret calendar address for the viewer (the old one stops working); returns
    the token, shown once: only its digest is kept."""
    roles.ensure_signed_in(viewer)
    if viewer.user_id is None:
        raise Forbidden("A calendar belongs to a person; sign in.")
    token, token_digest = accounts.new_secret("cal_")
    session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == viewer.user_id))
    session.add(CalendarFeed(user_id=viewer.user_id, token_digest=token_digest))
    session.flush()
    return token


def revoke_calendar_feed(session: Session, viewer: Viewer) -> bool:
    roles.ensure_signed_in(viewer)
    return bool(rows_changed(session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == viewer.user_id))))


def has_calendar_feed(session: Session, viewer: Viewer) -> bool:
    return viewer.user_id is not None and bool(session.scalar(select(exists().where(
        CalendarFeed.user_id == viewer.user_id))))


def calendar_owner(session: Session, *, token: str) -> int:
    """The person whose calendar this token opens (NotFound for an unknown or revoked one)."""
    user_id = session.scalar(select(CalendarFeed.user_id).where(CalendarFeed.token_digest == accounts.digest(token)))
    if user_id is None:
        raise NotFound("No calendar at this address: it was replaced or revoked.")
    return user_id


def calendar_entries(session: Session, viewer: Viewer) -> list[tuple[Milestone, JointProject]]:
    """The person's milestones and deliverables: those they deliver, and those their
    organisations deliver, in running projects they may read (narrowed items only for
    their audience)."""
    mine = [Milestone.owner_user_id == viewer.user_id]
    if viewer.member_of:
        mine.append(Milestone.owner_id.in_(sorted(viewer.member_of)))
    return [(m, p) for m, p in session.execute(
        select(Milestone, JointProject).join(JointProject, JointProject.id == Milestone.project_id)
        .where(or_(*mine), item_condition(viewer, Milestone), JointProject.state == "active",
               Milestone.due_on <= date(LAST_YEAR, 12, 31))  # a date stored before dates were bounded
        .order_by(Milestone.due_on, Milestone.id).limit(2000)).all()]


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r", "").replace("\n", "\\n")


def _ics_line(line: str) -> str:
    """A content line folded at 75 octets (RFC 5545, 3.1)."""
    data = line.encode()
    out: list[str] = []
    while len(data) > 75:
        cut = 75 if not out else 74
        while (data[cut] & 0xC0) == 0x80:  # never inside a UTF-8 character
            cut -= 1
        out.append(data[:cut].decode())
        data = data[cut:]
    out.append(data.decode())
    return "\r\n ".join(out)


def calendar_ics(entries: list[tuple[Milestone, JointProject]], *, base_url: str) -> str:
    """An iCalendar document with one all-day event per milestone or deliverable."""
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//innonet//joint projects//EN", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", "X-WR-CALNAME:innonet milestones"]
    for m, p in entries:
        day = m.due_on
        kind = "Deliverable" if m.kind == "deliverable" else "Milestone"
        page = f"{base_url}/joint-projects/{p.id}"
        status = "CANCELLED" if m.status == "cancelled" else "CONFIRMED"
        lines += ["BEGIN:VEVENT", f"UID:milestone-{m.id}@innonet", f"DTSTAMP:{stamp}",
                  f"LAST-MODIFIED:{m.updated_at.strftime('%Y%m%dT%H%M%SZ')}",
                  f"DTSTART;VALUE=DATE:{day.strftime('%Y%m%d')}",
                  f"DTEND;VALUE=DATE:{date.fromordinal(day.toordinal() + 1).strftime('%Y%m%d')}",
                  f"SUMMARY:{_ics_text(f'{kind}: {m.title} ({p.title})')}",
                  f"DESCRIPTION:{_ics_text(f'{MILESTONE_STATUSES[m.status]}. {page}#milestones')}",
                  f"URL:{page}", f"STATUS:{status}",
                  "TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_ics_line(line) for line in lines) + "\r\n"
