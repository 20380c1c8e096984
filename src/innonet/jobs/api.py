"""JSON endpoints: the status of background jobs."""

from fastapi import Request
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from innonet.jobs import service
from innonet.jobs.schemas import JobOut, JobView
from innonet.roles import Viewer, ensure_signed_in
from innonet.web import CurrentViewer, DbSession, RecordId, api_router

router = api_router(tags=["jobs"])


@router.get("/jobs", response_model=list[JobOut])
def jobs(session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[JobView]:
    """Your jobs and those of the organisations you administer, newest first (50)."""
    ensure_signed_in(viewer)
    return [service.describe(job) for job in service.recent_jobs(session, viewer)]


@router.get("/jobs/{job_id}", response_model=JobOut)
def job(job_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> JobView:
    """One job's status: queued, running (with progress), done (with its result) or failed
    (with the reason)."""
    return service.describe(service.visible_job(session, viewer, job_id))


@router.get("/jobs/{job_id}/file", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}},
                       202: {"description": "Still being prepared: ask again after Retry-After"}})
def job_file(request: Request, job_id: RecordId, session: Session = DbSession,
             viewer: Viewer = CurrentViewer) -> FileResponse:
    """The file a finished job wrote (an export): 202 while it is being prepared."""
    path = service.result_file(request.app.state.settings, session, viewer, job_id)
    return FileResponse(path, filename=path.name, media_type="application/octet-stream")
