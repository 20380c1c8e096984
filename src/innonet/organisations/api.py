"""JSON endpoints for the organisation directory under /api/v1: search, add, change."""

from typing import Annotated

from fastapi import Query
from sqlalchemy.orm import Session

from innonet.organisations import service
from innonet.organisations.models import Organisation
from innonet.organisations.schemas import (
    Kind,
    OrganisationIn,
    OrganisationOut,
    OrganisationPage,
    OrganisationPatch,
)
from innonet.roles import Viewer
from innonet.web import CurrentViewer, DbSession, api_router

router = api_router(tags=["organisations"])


@router.get("/orgs", response_model=OrganisationPage)
def list_organisations(
    session: Session = DbSession,
    q: Annotated[str | None, Query(max_length=200, description=(
        "Words, each in the name, short name, id, city, VAT or description"))] = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2")] = None,
    kind: Kind | None = None,
    sme: bool | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 25,
) -> dict:
    """Organisations matching the filters, sorted by name, one page at a time."""
    found = service.search_organisations(session, q=q, country=country, kind=kind,
                                         sme=sme, page=page, per_page=per_page)
    return {"items": found.items, "total": found.total, "total_capped": found.capped,
            "page": page, "per_page": per_page}


@router.post("/orgs", response_model=OrganisationOut, status_code=201)
def create_organisation(data: OrganisationIn, session: Session = DbSession,
                        viewer: Viewer = CurrentViewer) -> Organisation:
    """Add an organisation to the directory (members of the platform, write token).
    Its id defaults to the PIC, else one is generated."""
    return service.create_organisation(session, viewer, data=data)


@router.patch("/orgs/{external_id}", response_model=OrganisationOut)
def update_organisation(external_id: str, changes: OrganisationPatch, session: Session = DbSession,
                        viewer: Viewer = CurrentViewer) -> Organisation:
    """Change some fields of an organisation's profile (its admins or a platform admin)."""
    return service.update_organisation(session, viewer, external_id=external_id,
                                       changes=changes.model_dump(exclude_unset=True))
