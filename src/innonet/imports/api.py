"""JSON endpoint: import a file, checked line by line by a job before anything is written."""

from typing import Annotated

from fastapi import File, Form, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from innonet.imports import uploads
from innonet.jobs.schemas import JobOut
from innonet.jobs.service import describe
from innonet.roles import Viewer
from innonet.web import CurrentViewer, DbSession, api_router

router = api_router(tags=["imports"])
Format = Annotated[str, Form(description="One of: " + ", ".join(uploads.FORMATS), max_length=40)]


@router.post("/imports", response_model=JobOut, status_code=202)
def import_file(file: Annotated[UploadFile, File(description="The file (.csv, .csv.gz or .xlsx)")],
                format: Format,
                second_file: Annotated[UploadFile | None, File(
                    description="CORDIS only: project.csv")] = None,
                dry_run: Annotated[bool, Form(description="Only check and count")] = True,
                session: Session = DbSession, viewer: Viewer = CurrentViewer) -> JSONResponse:
    """Start the job that checks every line of the file and, unless ``dry_run``, imports it
    in one transaction (nothing is written if any line is wrong). Follow it at
    ``/api/v1/jobs/{id}``: its result has the counts and every problem with its line.
    Public data formats need a platform admin; the template is held to your rights."""
    files = [(f.filename or "upload", f.file) for f in (file, second_file) if f is not None]
    job = uploads.start_upload(session, viewer, format=format, files=files, dry_run=dry_run)
    return JSONResponse(describe(job).model_dump(mode="json", include=set(JobOut.model_fields)),
                        status_code=202, headers={"Location": f"/api/v1/jobs/{job.id}"})
