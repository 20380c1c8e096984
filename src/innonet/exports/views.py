"""Pages: the button that starts an organisation's export."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from innonet.exports import service
from innonet.organisations import service as organisations
from innonet.roles import Viewer
from innonet.web import CurrentViewer, DbSession

router = APIRouter(include_in_schema=False)


@router.post("/orgs/{external_id}/export")
def export(request: Request, external_id: str, session: Session = DbSession,
           viewer: Viewer = CurrentViewer) -> RedirectResponse:
    """Start the ZIP; its job page offers it to download when it is ready."""
    organisation = organisations.get_organisation(session, external_id=external_id)
    job = service.start_export(session, viewer, organisation=organisation)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)
