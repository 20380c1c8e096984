"""JSON endpoint for the signed-in account."""

from pydantic import BaseModel
from sqlalchemy.orm import Session

from innonet import roles
from innonet.accounts import service
from innonet.organisations.schemas import OrganisationSummary
from innonet.roles import Viewer
from innonet.web import CurrentViewer, DbSession, api_router

router = api_router(tags=["account"])


class MembershipOut(BaseModel):
    organisation: OrganisationSummary
    role: str


class MeOut(BaseModel):
    email: str
    is_platform_admin: bool
    is_cluster_manager: bool
    can_write: bool
    memberships: list[MembershipOut]


@router.get("/me", response_model=MeOut)
def me(session: Session = DbSession, viewer: Viewer = CurrentViewer) -> MeOut:
    """Who the token (or session) belongs to, and the organisations and roles it has."""
    roles.ensure_signed_in(viewer)
    return MeOut(email=viewer.email or "", is_platform_admin=viewer.is_platform_admin,
                 is_cluster_manager=viewer.is_cluster_manager, can_write=viewer.can_write,
                 memberships=[MembershipOut(organisation=OrganisationSummary.model_validate(o), role=role)
                              for o, role in service.memberships_of(session, user_id=viewer.user_id or 0)])
