"""Pages: a job's status, and the list of one's jobs."""

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy.orm import Session

from innonet.jobs import service
from innonet.roles import Viewer, ensure_signed_in
from innonet.web import CurrentViewer, DbSession, RecordId, is_htmx, render

router = APIRouter(include_in_schema=False)
# A page of an unfinished job asks for its status this often.
POLL_SECONDS = 2


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    ensure_signed_in(viewer)
    return render(request, "jobs.html", {"jobs": [service.describe(job) for job in
                                                   service.recent_jobs(session, viewer)]})


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: RecordId, session: Session = DbSession,
             viewer: Viewer = CurrentViewer) -> Response:
    job = service.describe(service.visible_job(session, viewer, job_id))
    return render(request, "_job_status.html" if is_htmx(request) else "job.html",
                  {"job": job, "poll": POLL_SECONDS})


@router.get("/jobs/{job_id}/file")
def job_file_page(request: Request, job_id: RecordId, session: Session = DbSession,
                  viewer: Viewer = CurrentViewer) -> Response:
    path = service.result_file(request.app.state.settings, session, viewer, job_id)
    return FileResponse(path, filename=path.name, media_type="application/octet-stream")
