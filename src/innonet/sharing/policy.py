"""The one access policy: who may see and change each shareable record.

Every read path (API, pages, search, exports, graph JSON, analytics, recommendation
reasons) asks this module, either for a SQL condition to put in its query
(:func:`visible_condition`) or for a yes/no on one record (:func:`can_see`). Nothing else
in innonet decides visibility.

Rules (docs/security.md has the table):

- ``public`` records: everyone, including visitors who are not signed in.
- ``network`` records: every member of the platform — a user who is admin or member of
  some organisation, a cluster manager or a platform admin. Guests are not members.
- ``partners`` records: the owner's members, and the admins and members of each
  organisation the record is shared with; when the record names an agreement, only while
  that agreement is in force (status "in force" and today within its dates) and the
  organisation is party to it.
- ``private`` records: the owner's admins and members only. Guests of the owner do not
  see them; platform admins and cluster managers do not either.
- The command line on the server acts as the operator, who holds the database anyway.

The cluster manager's extra right is to count the networks of organisations that
consented (:func:`analytics_condition`), never to read their records.
"""

from datetime import date

from sqlalchemy import ColumnElement, and_, exists, or_, select, true
from sqlalchemy.orm import Session

from innonet.errors import NotFound
from innonet.organisations.models import Organisation
from innonet.roles import Viewer
from innonet.sharing.models import Agreement, AgreementParty, Share, Shareable


def in_force_condition(today: date) -> ColumnElement[bool]:
    """Agreements in force on ``today``: status "in force" and today within their dates."""
    return and_(Agreement.status == "in_force",
                or_(Agreement.start_date.is_(None), Agreement.start_date <= today),
                or_(Agreement.end_date.is_(None), Agreement.end_date >= today))


def visible_condition(viewer: Viewer, model: type[Shareable]) -> ColumnElement[bool]:
    """SQL condition true for the rows of a shareable ``model`` the viewer may read."""
    if viewer.is_operator:
        return true()
    owner = getattr(model, model.owner_column)
    allowed = [model.visibility == "public"]
    if viewer.is_network_member:
        allowed.append(model.visibility == "network")
    insiders = sorted(viewer.member_of)
    if insiders:
        allowed.append(owner.in_(insiders))
        shared_with_us = exists().where(
            Share.item_type == model.share_type, Share.item_id == model.id,
            Share.organisation_id.in_(insiders))
        covered = exists().where(
            Agreement.id == model.agreement_id, in_force_condition(viewer.today),
            exists().where(AgreementParty.agreement_id == Agreement.id,
                           AgreementParty.organisation_id.in_(insiders)))
        allowed.append(and_(model.visibility == "partners", shared_with_us,
                            or_(model.agreement_id.is_(None), covered)))
    return or_(*allowed)


def analytics_condition(viewer: Viewer, model: type[Shareable]) -> ColumnElement[bool]:
    """Rows that may be counted in network analytics and aggregates for this viewer.

    What the viewer may read, and for a cluster manager also the records of the
    organisations that consented to share their network with the cluster, when the record
    is about consenting organisations only: a consenting member's private tie to one that
    did not consent says something about the latter, so it does not count.
    """
    if not viewer.is_cluster_manager:
        return visible_condition(viewer, model)
    consenting = select(Organisation.id).where(Organisation.cluster_consent_at.is_not(None))
    consented = getattr(model, model.owner_column).in_(consenting)
    if model.counterpart_column:
        consented = and_(consented, getattr(model, model.counterpart_column).in_(consenting))
    return or_(visible_condition(viewer, model), consented)


def can_see(session: Session, viewer: Viewer, item: Shareable) -> bool:
    """Whether the viewer may read this record (the same rule as the SQL condition)."""
    model = type(item)
    return bool(session.scalar(
        select(exists().where(model.id == item.id, visible_condition(viewer, model)))))


def ensure_visible(session: Session, viewer: Viewer, item: Shareable, *, label: str) -> None:
    """Raise NotFound, exactly as for a missing record, when the viewer may not read it."""
    if not can_see(session, viewer, item):
        raise NotFound(f"No {label} with id {item.id}.")
