"""Reading and writing organisations. Services flush, never commit."""

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from innonet import roles
from innonet.countries import country_name
from innonet.db import Base, Page, read_page, upsert_rows
from innonet.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from innonet.organisations.models import KINDS, SEARCHED_COLUMNS, Organisation
from innonet.organisations.schemas import OrganisationFields, OrganisationIn
from innonet.roles import Viewer
from innonet.versions import per_version

PROFILE_FIELDS = tuple(OrganisationFields.model_fields)
# A text search counts its matches up to here and then says "more than": a word found in
# most of the directory would otherwise be counted row by row on every page.
SEARCH_COUNT_LIMIT = 1000


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with the wildcards in it taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matches_text(model: type[Base], columns: tuple[str, ...], text: str) -> ColumnElement[bool]:
    """``text`` anywhere in one of these columns, case aside, wildcards taken literally."""
    pattern = like_pattern(text)
    return or_(*(getattr(model, column).ilike(pattern, escape="\\") for column in columns))


MAX_SEARCH_WORDS = 8


def search_words(text: str | None) -> list[str]:
    """The words of a search: each must be found (the first few; more narrow nothing)."""
    return list(dict.fromkeys((text or "").split()))[:MAX_SEARCH_WORDS]


def search_organisations(
    session: Session,
    *,
    q: str | None = None,
    country: str | None = None,
    kind: str | None = None,
    sme: bool | None = None,
    page: int = 1,
    per_page: int = 25,
    found_elsewhere: Callable[[str], ColumnElement[bool]] | None = None,
) -> Page:
    """One page of organisations matching the filters, by name, and how many match. Each
    word of ``q`` is found in a searched column, or where ``found_elsewhere(word)`` (a
    condition on Organisation) says."""
    conditions = []
    words = search_words(q)
    for word in words:
        own = matches_text(Organisation, SEARCHED_COLUMNS, word)
        conditions.append(or_(own, found_elsewhere(word)) if found_elsewhere else own)
    if country:
        conditions.append(Organisation.country == country.upper())
    if kind:
        conditions.append(Organisation.kind == kind)
    if sme is not None:
        conditions.append(Organisation.is_sme.is_(sme))
    return read_page(session, select(Organisation).where(*conditions)
                     .order_by(Organisation.name, Organisation.id),
                     page=page, per_page=per_page, count_limit=SEARCH_COUNT_LIMIT if words else None)


def get_organisation(session: Session, *, external_id: str) -> Organisation:
    """The organisation with this external id, or NotFound."""
    organisation = session.scalar(
        select(Organisation).where(Organisation.external_id == external_id)
    )
    if organisation is None:
        raise NotFound(f"No organisation with id {external_id!r}.")
    return organisation


def acting_for(session: Session, viewer: Viewer, *, external_id: str | None, doing: str) -> Organisation:
    """The organisation a person acts for in a form: the one named (they must be its admin
    or member), else the first of theirs."""
    roles.ensure_can_write(viewer)
    if external_id is None:
        if not viewer.member_of:
            raise Forbidden(f"Only the members of an organisation may {doing}.")
        first = min(viewer.member_of)
        return organisations_by_id(session, ids=[first])[first]
    organisation = get_organisation(session, external_id=external_id)
    roles.ensure_insider(viewer, organisation.id)
    return organisation


def organisations_by_id(session: Session, *, ids: Iterable[int]) -> dict[int, Organisation]:
    """Organisations keyed by database id, for the given ids."""
    ids = list(set(ids))
    if not ids:
        return {}
    return {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(ids)))}


def _check_unique(session: Session, *, external_id: str, pic: str | None, own_id: int | None) -> None:
    clashes: list[tuple[Any, str, str]] = [(Organisation.external_id, external_id, "external_id")]
    if pic:
        clashes.append((Organisation.pic, pic, "pic"))
    for column, value, field in clashes:
        other = session.scalar(select(Organisation.id).where(column == value))
        if other is not None and other != own_id:
            raise Conflict(f"{field}: another organisation already has {field} {value!r}.",
                           [Problem(f"another organisation already has {value!r}", field=field)])


def create_organisation(session: Session, viewer: Viewer, *, data: OrganisationIn) -> Organisation:
    """Add an organisation to the directory (members of the platform may); id defaults to the PIC."""
    roles.ensure_network_member(viewer)
    external_id = data.external_id or data.pic or f"IN-{secrets.token_hex(5).upper()}"
    _check_unique(session, external_id=external_id, pic=data.pic, own_id=None)
    organisation = Organisation(external_id=external_id, **data.model_dump(exclude={"external_id"}))
    session.add(organisation)
    session.flush()
    return organisation


def update_organisation(session: Session, viewer: Viewer, *, external_id: str, changes: dict) -> Organisation:
    """Change profile fields (the organisation's admins or a platform admin may), validated as a whole."""
    organisation = get_organisation(session, external_id=external_id)
    roles.ensure_insider(viewer, organisation.id, admin=True, platform_admin_too=True)
    current = {field: getattr(organisation, field) for field in PROFILE_FIELDS}
    try:
        data = OrganisationFields(**(current | changes))
    except ValidationError as error:
        raise InvalidInput.from_validation(error.errors()) from None
    _check_unique(session, external_id=external_id, pic=data.pic, own_id=organisation.id)
    for field, value in data.model_dump().items():
        setattr(organisation, field, value)
    session.flush()
    return organisation


@dataclass(frozen=True)
class Overview:
    """The network at a glance."""

    by_kind: dict[str, int]
    by_country: list[tuple[str, int]]  # most organisations first
    countries_by_name: list[tuple[str, int]]  # for pickers: a person looks a country up by its name
    smes: int


@per_version
def overview(session: Session) -> Overview:
    """Counts for the network at a glance: by kind, by country, SMEs."""
    by_kind = dict(session.execute(
        select(Organisation.kind, func.count()).group_by(Organisation.kind)).all())
    by_country = session.execute(
        select(Organisation.country, func.count()).where(Organisation.country.is_not(None))
        .group_by(Organisation.country).order_by(func.count().desc(), Organisation.country)
    ).all()
    smes = session.scalar(select(func.count()).where(Organisation.is_sme.is_(True)))
    counts = [(code, count) for code, count in by_country if code]  # typed as optional, never null here
    return Overview(by_kind={kind: by_kind.get(kind, 0) for kind in KINDS}, by_country=counts,
                    countries_by_name=sorted(counts, key=lambda pair: country_name(pair[0]).casefold()),
                    smes=smes or 0)


def count_organisations(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Organisation)) or 0


def ids_by_external_id(session: Session, *, external_ids: list[str] | None = None) -> dict[str, int]:
    """Database ids keyed by external id: of these organisations, or of all (for bulk imports)."""
    query = select(Organisation.external_id, Organisation.id)
    if external_ids is not None:
        query = query.where(Organisation.external_id.in_(external_ids))
    return dict(session.execute(query).all())


def upsert_organisations(session: Session, *, records: list[dict]) -> tuple[int, int]:
    """Insert new organisations and update changed ones, keyed by ``external_id``.

    A record holds only the fields its source knows; fields it leaves out are kept as they
    are. Returns (inserted, updated).
    """
    def defaults(record: dict) -> dict:
        # Sources without names (the participations file) get a readable placeholder.
        return {"kind": "other", "name": f"Organisation {record['external_id']}"}

    return upsert_rows(session, Organisation, records, key=("external_id",),
                       defaults=defaults, timestamps=True)


def all_organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.id)))
