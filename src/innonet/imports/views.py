"""Pages: upload a file, see what it would change and every bad line, then import it."""

import io

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from innonet.errors import InnonetError
from innonet.imports import template, uploads
from innonet.roles import Viewer, ensure_network_member
from innonet.web import (
    CurrentViewer,
    DbSession,
    PostedForm,
    RecordId,
    csv_download,
    download,
    render,
)

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page(request: Request, viewer: Viewer, *, chosen: str = "template", error: str | None = None,
          status_code: int = 200) -> Response:
    formats = {name: f for name, f in uploads.FORMATS.items()
               if not f.public_data or viewer.is_platform_admin}
    return render(request, "imports.html", {"formats": formats, "chosen": chosen, "error": error,
                                            "limit_mb": request.app.state.settings.max_upload_bytes // 1_000_000},
                  status_code=status_code)


@router.get("/orgs/{external_id}/export.csv")
def export_csv(external_id: str, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    """The organisation and the relationships you may see, in the import template format."""
    rows = template.template_rows(session, viewer, external_id=external_id)
    return csv_download(template.template_csv(rows), f"network-{external_id}.csv")


@router.get("/imports/template.xlsx")
def empty_template() -> Response:
    """The template with its instructions and an example, to fill in."""
    out = io.BytesIO()
    template.template_workbook(template.EXAMPLE_ROWS).save(out)
    return download(out.getvalue(), "innonet-template.xlsx", XLSX)


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, viewer: Viewer = CurrentViewer) -> Response:
    ensure_network_member(viewer)
    return _page(request, viewer)


@router.post("/imports", response_class=HTMLResponse)
def upload(request: Request, session: Session = DbSession, viewer: Viewer = CurrentViewer,
           form: FormData = PostedForm) -> Response:
    """Keep the file and check it in the background; its job page shows the outcome."""
    chosen = str(form.get("format") or "")
    files = [(f.filename or "upload", f.file) for f in (form.get("file"), form.get("second_file"))
             if isinstance(f, UploadFile) and f.filename]
    try:
        job = uploads.start_upload(session, viewer, format=chosen, files=files, dry_run=True)
    except InnonetError as error:
        if error.status_code in (401, 403):
            raise
        return _page(request, viewer, chosen=chosen, status_code=error.status_code,
                     error="; ".join(str(p) for p in error.problems) or error.message)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.post("/imports/{job_id}/import", response_class=HTMLResponse)
def import_checked(job_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    """Import what a dry run checked."""
    job = uploads.start_import(session, viewer, check_job_id=job_id)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)
