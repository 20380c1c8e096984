"""Sharing settings, agreements, cluster consent and the audit log. Services flush, never commit."""

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import ColumnElement, delete, exists, insert, select, true
from sqlalchemy.orm import Session

from innonet import roles
from innonet.accounts import service as accounts
from innonet.db import utcnow, write_after_read
from innonet.errors import Forbidden, InvalidInput, NotFound
from innonet.organisations import service as organisations
from innonet.organisations.models import Organisation
from innonet.organisations.schemas import OrganisationSummary
from innonet.roles import Viewer
from innonet.sharing import policy
from innonet.sharing.models import (
    AGREEMENT_KINDS,
    AGREEMENT_STATUSES,
    Agreement,
    AgreementDocument,
    AgreementParty,
    AuditEvent,
    Share,
    Shareable,
)
from innonet.sharing.schemas import (
    AgreementIn,
    AgreementOut,
    AgreementPatch,
    AgreementRef,
    AuditFilter,
    DocumentFields,
    SharingFields,
    SharingOut,
)
from innonet.text import counted, csv_cell

S = TypeVar("S", bound=Shareable)
M = TypeVar("M", bound=BaseModel)

# ---------------------------------------------------------------- sharing settings


def _organisation_ids(session: Session, *, external_ids: list[str], field: str) -> list[int]:
    found = organisations.ids_by_external_id(session, external_ids=external_ids)
    missing = [e for e in external_ids if e not in found]
    if missing:
        raise InvalidInput.for_field(field, f"no organisation with id {missing[0]!r}")
    return [found[e] for e in dict.fromkeys(external_ids)]


def apply_sharing(session: Session, *, item: Shareable, sharing: SharingFields) -> None:
    """Set who may see ``item`` (its owner already set), checking the names it shares with."""
    owner_id = getattr(item, item.owner_column)
    shared_ids = _organisation_ids(session, external_ids=sharing.shared_with, field="shared_with")
    if sharing.visibility != "partners" and (shared_ids or sharing.agreement is not None):
        raise InvalidInput.for_field(
            "visibility", "shared_with and agreement apply only with visibility 'partners'")
    if sharing.visibility == "partners" and not shared_ids:
        raise InvalidInput.for_field("shared_with", "name at least one organisation to share with")
    if owner_id in shared_ids:
        raise InvalidInput.for_field("shared_with", "the owner always sees its own records")
    if sharing.agreement is not None:
        parties = set(session.scalars(select(AgreementParty.organisation_id).where(
            AgreementParty.agreement_id == sharing.agreement)))
        if not parties:
            raise InvalidInput.for_field("agreement", f"no agreement with id {sharing.agreement}")
        if owner_id not in parties or not set(shared_ids) <= parties:
            raise InvalidInput.for_field(
                "agreement", "the owner and every organisation shared with must be parties to it")
    item.visibility, item.agreement_id = sharing.visibility, sharing.agreement
    session.flush()
    before = set(session.scalars(select(Share.organisation_id).where(
        Share.item_type == item.share_type, Share.item_id == item.id)))
    session.execute(delete(Share).where(Share.item_type == item.share_type, Share.item_id == item.id))
    if shared_ids:
        session.execute(insert(Share), [
            {"item_type": item.share_type, "item_id": item.id, "organisation_id": o}
            for o in shared_ids])
    if newly_named := sorted(set(shared_ids) - before):
        _tell_newly_named(session, model=type(item), added=[(item.id, o) for o in newly_named])


def replace_shares(session: Session, *, model: type[Shareable], shares: dict[int, list[int]]) -> None:
    """Bulk form of the share lists (item id -> organisation ids), for importers; each
    newly named organisation is told, once per owner."""
    item_type = model.share_type
    existing = set(session.execute(select(Share.item_id, Share.organisation_id).where(
        Share.item_type == item_type, Share.item_id.in_(list(shares)))).all())
    wanted = {(item_id, o) for item_id, organisation_ids in shares.items() for o in organisation_ids}
    for item_id, organisation_id in existing - wanted:
        session.execute(delete(Share).where(Share.item_type == item_type, Share.item_id == item_id,
                                            Share.organisation_id == organisation_id))
    if added := sorted(wanted - existing):
        session.execute(insert(Share), [{"item_type": item_type, "item_id": i, "organisation_id": o}
                                        for i, o in added])
        _tell_newly_named(session, model=model, added=added)


def _tell_newly_named(session: Session, *, model: type[Shareable], added: list[tuple[int, int]]) -> None:
    owner_column = getattr(model, model.owner_column)
    owner_of: dict[int, int] = dict(session.execute(select(model.id, owner_column).where(
        model.id.in_({i for i, _ in added}))).all())
    grouped: dict[tuple[int, int], list[int]] = defaultdict(list)
    for item_id, organisation_id in added:
        grouped[owner_of[item_id], organisation_id].append(item_id)
    owners = organisations.organisations_by_id(session, ids=[o for o, _ in grouped])
    for (owner_id, organisation_id), item_ids in grouped.items():
        owner = owners[owner_id]
        what, link = session.get_one(model, item_ids[0]).shared_notice(owner.external_id)
        if len(item_ids) > 1:
            what = counted(len(item_ids), model.share_type)
        accounts.notify(session, organisation_ids=[organisation_id], kind="shared", link=link,
                        message=f"{owner.name} shared {what} with your organisation.")


def remove_shares(session: Session, *, item: Shareable) -> None:
    session.execute(delete(Share).where(Share.item_type == item.share_type, Share.item_id == item.id))


def add_item(session: Session, viewer: Viewer, *, item: Shareable, data: SharingFields) -> None:
    """Store a new shareable record with the sharing fields of ``data`` (an input model
    that includes SharingFields), and log its creation."""
    session.add(item)
    session.flush()
    wanted = SharingFields.model_validate(data.model_dump(include=set(SharingFields.model_fields)))
    apply_sharing(session, item=item, sharing=wanted)
    record(session, viewer, action="create", items=[item],
           detail=f"sharing: {_sharing_words(session, wanted)}")


def get_visible(session: Session, viewer: Viewer, model: type[S], item_id: int, *, label: str,
                for_change: bool = False) -> S:
    """A shareable record the viewer may see (NotFound otherwise, as if it did not exist);
    for a change, the viewer must also be one of the owner's members. Reads are logged."""
    item = session.get(model, item_id)
    if item is None or not policy.can_see(session, viewer, item):
        raise NotFound(f"No {label} with id {item_id}.")
    if for_change:
        roles.ensure_insider(viewer, getattr(item, item.owner_column))
    else:
        record(session, viewer, action="read", items=[item])
    return item


def changed_fields(item: Shareable, fields_model: type[M], changes: dict[str, Any]) -> M:
    """The record's fields with ``changes`` applied, validated as a whole (InvalidInput)."""
    current = {name: getattr(item, name) for name in fields_model.model_fields}
    try:
        return fields_model(**current | {k: v for k, v in changes.items()
                                          if k in fields_model.model_fields})
    except ValidationError as error:
        raise InvalidInput.from_validation(error.errors()) from None


def delete_item(session: Session, viewer: Viewer, *, item: Shareable) -> None:
    """Delete a shareable record with its shares, and log it."""
    record(session, viewer, action="delete", items=[item])
    remove_shares(session, item=item)
    session.delete(item)
    session.flush()


def change_sharing(session: Session, viewer: Viewer, *, item: Shareable, changes: dict[str, Any]) -> None:
    """Apply the sharing fields among ``changes`` (if any) on top of the item's current
    sharing; leaving "partners" drops the names and the agreement."""
    if not any(k in changes for k in SharingFields.model_fields):
        return
    current = sharing_view(session, viewer, items=[item])[item.id]
    merged = {"visibility": current.visibility, "agreement": current.agreement,
              "shared_with": [o.external_id for o in current.shared_with]}
    if changes.get("visibility", merged["visibility"]) != "partners":
        merged |= {"shared_with": [], "agreement": None}
    try:
        wanted = SharingFields.model_validate(
            merged | {k: v for k, v in changes.items() if k in SharingFields.model_fields})
    except ValidationError as error:
        raise InvalidInput.from_validation(error.errors()) from None
    apply_sharing(session, item=item, sharing=wanted)
    before, after = _sharing_words(session, SharingFields.model_validate(merged)), \
        _sharing_words(session, wanted)
    if before != after:
        record(session, viewer, action="update", items=[item], detail=f"sharing: {before} → {after}")


def _sharing_words(session: Session, sharing: SharingFields) -> str:
    """Who sees a record, in words for the audit log."""
    if sharing.visibility != "partners":
        return sharing.visibility
    ids = organisations.ids_by_external_id(session, external_ids=sharing.shared_with)
    names = sorted(o.name for o in organisations.organisations_by_id(session, ids=ids.values()).values())
    gate = f" while agreement #{sharing.agreement} is in force" if sharing.agreement else ""
    return f"partners ({', '.join(names)}){gate}"


def sharing_view(session: Session, viewer: Viewer, *, items: Sequence[Shareable]) -> dict[int, SharingOut]:
    """Item id -> who sees it. Only the owner's insiders see the whole share list."""
    if not items:
        return {}
    share_type = items[0].share_type
    rows = session.execute(select(Share.item_id, Share.organisation_id).where(
        Share.item_type == share_type, Share.item_id.in_([i.id for i in items]))).all()
    by_id = organisations.organisations_by_id(session, ids=[o for _, o in rows])
    shared: dict[int, list[Organisation]] = defaultdict(list)
    for item_id, organisation_id in rows:
        shared[item_id].append(by_id[organisation_id])
    out = {}
    for item in items:
        insider = viewer.is_operator or getattr(item, item.owner_column) in viewer.member_of
        names = [o for o in shared[item.id] if insider or o.id in viewer.member_of]
        out[item.id] = SharingOut(visibility=item.visibility, agreement=item.agreement_id, shared_with=[
            OrganisationSummary.model_validate(o) for o in sorted(names, key=lambda o: o.name)])
    return out


# ---------------------------------------------------------------- audit log


def record(session: Session, viewer: Viewer, *, action: str, items: list,
           detail: str | None = None) -> None:
    """Write who read or changed these records; reads of public records are not logged."""
    record_events(session, viewer, action=action, detail=detail, events=[
        (getattr(item, item.owner_column), item.share_type, item.id)
        for item in items if action != "read" or item.visibility != "public"])


_AUDITED = "innonet.audited"


def record_events(session: Session, viewer: Viewer, *, action: str,
                  events: list[tuple[int, str, int]], detail: str | None = None) -> None:
    """Write (owner organisation id, record type, record id) events: each owner's admins
    see them. One transaction (one page view, one API call) records an action on a record
    once, however many of its parts read it; the first event, which says most, stays."""
    root = session.get_transaction()
    held = session.info.get(_AUDITED)
    if held is None or held[0] is not root:
        held = session.info[_AUDITED] = (root, set())
    seen: set[tuple] = held[1]
    new = [e for e in dict.fromkeys(events) if (action, *e) not in seen]
    seen.update((action, *e) for e in new)
    rows = [
        {"at": utcnow(), "user_id": viewer.user_id, "actor": viewer.actor, "action": action,
         "owner_id": owner_id, "item_type": item_type, "item_id": item_id,
         "channel": viewer.channel, "path": (viewer.path or "")[:500] or None,
         "detail": detail[:500] if detail else None}
        for owner_id, item_type, item_id in new
    ]
    if rows:
        write_after_read(session, insert(AuditEvent), rows)


def record_download(session: Session, viewer: Viewer, *, organisation_id: int, detail: str) -> None:
    """A file that holds the organisation's data was downloaded: its admins see who did."""
    record_events(session, viewer, action="export", detail=f"download: {detail}",
                  events=[(organisation_id, "organisation", organisation_id)])


def audit_events(session: Session, viewer: Viewer, *, organisation_id: int,
                 filters: AuditFilter | None = None, limit: int | None = 500) -> list[AuditEvent]:
    """The newest events on an organisation's records that pass ``filters``, for its admins."""
    roles.ensure_signed_in(viewer)
    if not (viewer.admin_of(organisation_id)):
        raise Forbidden("Only the organisation's administrators may read its audit log.")
    f = filters or AuditFilter()
    if f.since and f.until and f.until < f.since:
        raise InvalidInput.for_field("until", "the last day is before the first")
    conditions = [AuditEvent.owner_id == organisation_id]
    if f.actor:
        conditions.append(AuditEvent.actor.ilike(organisations.like_pattern(f.actor), escape="\\"))
    conditions += [column == value for column, value in (
        (AuditEvent.action, f.action), (AuditEvent.item_type, f.item_type),
        (AuditEvent.item_id, f.item_id)) if value is not None]
    if f.since:
        conditions.append(AuditEvent.at >= datetime.combine(f.since, time(), UTC))
    if f.until:
        conditions.append(AuditEvent.at < datetime.combine(f.until + timedelta(days=1), time(), UTC))
    return list(session.scalars(
        select(AuditEvent).where(*conditions)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))


AUDIT_CSV_COLUMNS = ("at", "actor", "action", "item_type", "item_id", "detail", "channel", "path")


def audit_csv(events: list[AuditEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(AUDIT_CSV_COLUMNS)
    for event in events:
        writer.writerow([event.at.isoformat() if c == "at" else csv_cell(getattr(event, c))
                         for c in AUDIT_CSV_COLUMNS])
    return out.getvalue()


# ---------------------------------------------------------------- agreements


def _agreement_condition(viewer: Viewer) -> ColumnElement[bool]:
    """Agreements are confidential to the insiders of their parties."""
    if viewer.is_operator:
        return true()
    return Agreement.id.in_(select(AgreementParty.agreement_id).where(
        AgreementParty.organisation_id.in_(sorted(viewer.member_of))))


def list_agreements(session: Session, viewer: Viewer) -> list[Agreement]:
    return list(session.scalars(select(Agreement).where(_agreement_condition(viewer))
                                .order_by(Agreement.id)))


def agreement_party_ids(session: Session, *, agreement_id: int) -> set[int]:
    return set(session.scalars(select(AgreementParty.organisation_id).where(
        AgreementParty.agreement_id == agreement_id)))


HIDDEN_AGREEMENT = AgreementRef(id=None, kind=None, title=None, status=None, start_date=None, end_date=None,
                                in_force=None, readable=False)


def agreement_summaries(session: Session, viewer: Viewer, *, ids: list[int]) -> list[AgreementRef]:
    """Kind, title, status and dates of these agreements, and whether each is in force today;
    of one the viewer may not read (the insiders of its parties do), only that it is there."""
    in_force = set(session.scalars(select(Agreement.id).where(Agreement.id.in_(ids),
                                                              policy.in_force_condition(viewer.today))))
    found = {a.id: a for a in session.scalars(select(Agreement).where(Agreement.id.in_(ids),
                                                                      _agreement_condition(viewer)))}
    return [AgreementRef(id=a.id, kind=a.kind, title=a.title, status=a.status, start_date=a.start_date,
                         end_date=a.end_date, in_force=a.id in in_force, readable=True) if a else HIDDEN_AGREEMENT
            for a in (found.get(i) for i in ids)]


def readable_agreement_parties(session: Session, viewer: Viewer, *, agreement_id: int) -> set[int]:
    """The parties of an agreement the viewer may read; none (as for a missing one) else."""
    if not session.scalar(select(exists().where(Agreement.id == agreement_id, _agreement_condition(viewer)))):
        return set()
    return agreement_party_ids(session, agreement_id=agreement_id)


def get_agreement(session: Session, viewer: Viewer, *, agreement_id: int) -> Agreement:
    agreement = session.scalar(select(Agreement).where(
        Agreement.id == agreement_id, _agreement_condition(viewer)))
    if agreement is None:
        raise NotFound(f"No agreement with id {agreement_id}.")
    return agreement


def _replace_documents(session: Session, *, agreement: Agreement, documents: list[DocumentFields]) -> None:
    session.execute(delete(AgreementDocument).where(AgreementDocument.agreement_id == agreement.id))
    if documents:
        session.execute(insert(AgreementDocument), [
            {"agreement_id": agreement.id, **d.model_dump()} for d in documents])


def create_agreement(session: Session, viewer: Viewer, *, data: AgreementIn) -> Agreement:
    """Record an agreement between the owner and the other parties (owner's admins only)."""
    owner = organisations.get_organisation(session, external_id=data.owner)
    roles.ensure_insider(viewer, owner.id, admin=True)
    party_ids = _organisation_ids(session, external_ids=data.parties, field="parties")
    fields = data.model_dump(exclude={"owner", "parties", "documents"})
    agreement = Agreement(owner_id=owner.id, **fields)
    session.add(agreement)
    session.flush()
    session.execute(insert(AgreementParty), [
        {"agreement_id": agreement.id, "organisation_id": o}
        for o in dict.fromkeys([owner.id, *party_ids])])
    _replace_documents(session, agreement=agreement, documents=data.documents)
    _record_agreement(session, viewer, agreement, action="create",
                      detail=f"{AGREEMENT_KINDS[agreement.kind]} “{agreement.title}”, "
                             f"{AGREEMENT_STATUSES[agreement.status].lower()}")
    return agreement


def _record_agreement(session: Session, viewer: Viewer, agreement: Agreement, *, action: str,
                      detail: str) -> None:
    """Every party's admins see what happens to an agreement they are party to."""
    parties = session.scalars(select(AgreementParty.organisation_id).where(
        AgreementParty.agreement_id == agreement.id))
    record_events(session, viewer, action=action, detail=detail,
                  events=[(o, "agreement", agreement.id) for o in parties])


def update_agreement(session: Session, viewer: Viewer, *, agreement_id: int,
                     changes: AgreementPatch) -> Agreement:
    """Change status, dates or documents; access that depends on it follows at once."""
    agreement = get_agreement(session, viewer, agreement_id=agreement_id)
    roles.ensure_insider(viewer, agreement.owner_id, admin=True)
    values = changes.model_dump(exclude_unset=True)
    documents = values.pop("documents", None)
    start, end = values.get("start_date", agreement.start_date), values.get("end_date", agreement.end_date)
    if start and end and end < start:
        raise InvalidInput.for_field("end_date", "the end date is before the start date")
    if "title" in values and values["title"] is None or "status" in values and values["status"] is None:
        raise InvalidInput.for_field("title" if "title" in values else "status", "may not be empty")
    changed = [f"{name}: {_words(getattr(agreement, name))} → {_words(value)}"
               for name, value in values.items() if getattr(agreement, name) != value]
    for name, value in values.items():
        setattr(agreement, name, value)
    if documents is not None:
        _replace_documents(session, agreement=agreement, documents=changes.documents or [])
        changed.append(f"documents: {counted(len(documents), 'document')}")
    session.flush()
    if changed:
        _record_agreement(session, viewer, agreement, action="update", detail="; ".join(changed))
    return agreement


def _words(value: object) -> str:
    if value is None:
        return "none"
    return AGREEMENT_STATUSES.get(value, str(value)).lower() if isinstance(value, str) else str(value)


def agreement_view(session: Session, viewer: Viewer, *, agreements: list[Agreement]) -> list[AgreementOut]:
    """Agreements with their parties and documents."""
    ids = [a.id for a in agreements]
    parties = session.execute(select(AgreementParty.agreement_id, AgreementParty.organisation_id)
                              .where(AgreementParty.agreement_id.in_(ids))).all()
    by_id = organisations.organisations_by_id(
        session, ids=[o for _, o in parties] + [a.owner_id for a in agreements])
    party_map: dict[int, list] = defaultdict(list)
    for agreement_id, organisation_id in parties:
        party_map[agreement_id].append(by_id[organisation_id])
    documents: dict[int, list] = defaultdict(list)
    for document in session.scalars(select(AgreementDocument).where(
            AgreementDocument.agreement_id.in_(ids)).order_by(AgreementDocument.id)):
        documents[document.agreement_id].append(document)
    in_force = set(session.scalars(select(Agreement.id).where(
        Agreement.id.in_(ids), policy.in_force_condition(viewer.today))))
    return [AgreementOut.model_validate(
        {c: getattr(a, c) for c in ("id", "kind", "title", "status", "start_date", "end_date",
                                    "notes", "created_at", "updated_at")}
        | {"owner": by_id[a.owner_id], "parties": sorted(party_map[a.id], key=lambda o: o.name),
           "documents": documents[a.id], "in_force": a.id in in_force})
        for a in agreements]


# ---------------------------------------------------------------- cluster consent


def set_cluster_consent(session: Session, viewer: Viewer, *, organisation: Organisation,
                        consent: bool) -> Organisation:
    """Give or withdraw consent to count our network in the cluster manager's aggregates."""
    roles.ensure_insider(viewer, organisation.id, admin=True)
    if consent == (organisation.cluster_consent_at is not None):
        return organisation
    organisation.cluster_consent_at = utcnow() if consent else None
    session.flush()
    record_events(session, viewer, action="update", events=[(organisation.id, "organisation", organisation.id)],
                  detail="cluster consent given" if consent else "cluster consent withdrawn")
    return organisation
