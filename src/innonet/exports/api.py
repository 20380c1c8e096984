"""JSON endpoint: start an organisation's export."""

from sqlalchemy.orm import Session

from innonet.exports import service
from innonet.jobs import service as jobs
from innonet.jobs.schemas import JobOut, JobView
from innonet.organisations import service as organisations
from innonet.roles import Viewer
from innonet.web import CurrentViewer, DbSession, api_router

router = api_router(tags=["organisations"])


@router.post("/orgs/{external_id}/export", response_model=JobOut, status_code=202)
def export(external_id: str, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> JobView:
    """Start writing everything the organisation owns as a ZIP of CSV and JSON files (its
    admins). Follow the job; when it is done, `/api/v1/jobs/{id}/file` gives the ZIP."""
    organisation = organisations.get_organisation(session, external_id=external_id)
    return jobs.describe(service.start_export(session, viewer, organisation=organisation))
