"""Files imported through the web: kept in the data directory, checked by a job (a dry run
that counts what would change and lists every bad line), then imported by a job.

The import job writes everything in one transaction: killed halfway, it has written
nothing, and run again it imports the same rows (importers only add what is new or
changed). The uploaded files are deleted once imported, else by the daily tidy-up.
"""

import csv
import json
import secrets
import shutil
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

from sqlalchemy.orm import Session

from innonet.config import Settings
from innonet.db import utcnow
from innonet.errors import Conflict, Forbidden, InnonetError, InvalidInput
from innonet.imports import service, template
from innonet.jobs.models import Job
from innonet.jobs.queue import IMMEDIATE, JobQueue, web_queue
from innonet.jobs.service import (
    KEEP_FINISHED,
    FailedWithResult,
    JobContext,
    active_job,
    files_dir,
    job_kind,
    tidy_step,
    visible_job,
)
from innonet.matching import service as matching
from innonet.roles import Viewer, ensure_network_member

CHECK_JOB = "imports.check"
IMPORT_JOB = "imports.run"
# The job result lists this many problems; all of them are in a CSV file beside it.
PROBLEMS_LISTED = 500


@dataclass(frozen=True)
class UploadFormat:
    label: str
    # Public data changes the directory everyone reads: platform admins import it.
    public_data: bool
    run: Callable[..., service.ImportReport]  # (session, viewer, *files)
    second_file: str | None = None  # what an optional second file holds


FORMATS = {
    "template": UploadFormat(
        "innonet template (.xlsx or .csv): your organisations and relationships", False,
        lambda session, viewer, file: template.import_template(session, viewer, file=file)),
    "participations": UploadFormat(
        "H2020 participations file (.csv or .csv.gz)", True,
        lambda session, viewer, file: service.import_participations(session, file=file)),
    "project-texts": UploadFormat(
        "Project titles and topics for imported projects (.csv or .csv.gz)", True,
        lambda session, viewer, file: service.import_project_texts(session, file=file)),
    "dashboard": UploadFormat(
        "EU Funding & Tenders dashboard export (.csv)", True,
        lambda session, viewer, file: service.import_dashboard(session, file=file)),
    "cordis": UploadFormat(
        "CORDIS organization.csv, optionally with project.csv", True,
        lambda session, viewer, file, projects=None: service.import_cordis(
            session, organisations_file=file, projects_file=projects),
        second_file="CORDIS project.csv (titles, dates and budgets)"),
}


def uploads_dir(settings: Settings) -> Path:
    """Where uploaded files wait for their import (shared by the server and its workers)."""
    path = Path(settings.data_dir) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def ensure_may_import(viewer: Viewer, format: str) -> UploadFormat:
    """The format, if the viewer may import it: public data needs a platform admin, a
    template a member of the platform (its rows are then held to their rights)."""
    if format not in FORMATS:
        raise InvalidInput.for_field("format", f"{format!r} is not one of: {', '.join(FORMATS)}")
    chosen = FORMATS[format]
    ensure_network_member(viewer)
    if chosen.public_data and not (viewer.is_platform_admin or viewer.is_operator):
        raise Forbidden("Only platform administrators import public data files; "
                        "import your own network with the innonet template.")
    return chosen


def start_upload(session: Session, viewer: Viewer, *, format: str,
                 files: Sequence[tuple[str, IO[bytes]]], dry_run: bool = True) -> Job:
    """Keep the uploaded ``(filename, stream)`` files and start the job that checks them
    (``dry_run``) or imports them."""
    chosen = ensure_may_import(viewer, format)
    files = [(name, stream) for name, stream in files if name]
    if not files:
        raise InvalidInput.for_field("file", "choose a file to upload")
    if len(files) > 1 + (chosen.second_file is not None):
        raise InvalidInput.for_field("second_file", f"the {format} import reads one file")
    queue = web_queue(session)
    stored = [_keep(queue.settings, name, stream) for name, stream in files]
    params = {"format": format, "uploads": stored, "filenames": [name[:200] for name, _ in files]}
    return queue.submit_after_commit(session, CHECK_JOB if dry_run else IMPORT_JOB, params,
                                     user_id=viewer.user_id)


def _keep(settings: Settings, name: str, stream: IO[bytes]) -> str:
    kept = f"{secrets.token_hex(12)}{''.join(Path(name).suffixes)[-12:]}"
    path = uploads_dir(settings) / kept
    with path.open("wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    if path.stat().st_size == 0:
        path.unlink()
        raise InvalidInput.for_field("file", f"{name} is empty")
    return kept


def start_import(session: Session, viewer: Viewer, *, check_job_id: int) -> Job:
    """Import the files a finished dry run found without problems (once: a second click
    while it runs gives the same job)."""
    check = visible_job(session, viewer, check_job_id)
    result = json.loads(check.result) if check.result else {}
    if check.kind != CHECK_JOB or check.status != "done":
        raise Conflict(f"Job {check.id} is not a finished check of an uploaded file.")
    if result.get("problem_count"):
        raise Conflict("The file has problems; correct them and upload it again.")
    params = json.loads(check.params)
    ensure_may_import(viewer, params["format"])
    queue = web_queue(session)
    if not all((uploads_dir(queue.settings) / name).exists() for name in params["uploads"]):
        raise Conflict("This upload was imported already or is no longer kept; upload the "
                       "file again to import it.")
    key = f"import:{params['uploads'][0]}"
    return active_job(session, key) or queue.submit_after_commit(
        session, IMPORT_JOB, params, user_id=viewer.user_id, dedupe_key=key)


def _viewer(session: Session, user_id: int | None) -> Viewer:
    """Who started the job, with their rights as they are now (they may have changed)."""
    from innonet.accounts import service as accounts

    return accounts.viewer_of(session, user_id=user_id, today=date.today(), channel="job")


def _import(context: JobContext, *, dry_run: bool) -> dict:
    params = context.params
    chosen = FORMATS[params["format"]]
    paths = [uploads_dir(context.settings) / name for name in params["uploads"]]
    earlier = None if dry_run else context.recorded_result()
    if earlier is None and not all(path.exists() for path in paths):
        raise InnonetError("The uploaded file is no longer kept; upload it again.")
    if earlier is None:
        context.progress(0, 1, "Checking every line, then writing all rows in one transaction."
                         if not dry_run else "Checking every line.")
        with context.sessions() as session, ExitStack() as files:
            viewer = _viewer(session, context.user_id)
            opened = [files.enter_context(path.open("rb")) for path in paths]
            try:
                report = chosen.run(session, viewer, *opened)
            except InvalidInput as error:
                session.rollback()
                found = _problems(context, error)
                if dry_run:
                    return found
                raise FailedWithResult(error.message, found) from None
            result = _outcome(params, report, dry_run=dry_run)
            if dry_run:
                session.rollback()
                return result
            context.record_result(session, result)
            session.commit()
        if report.history_changed:
            _start_training(context)
    for path in paths:  # imported: the uploads are no longer needed
        path.unlink(missing_ok=True)
    return earlier or result


def _outcome(params: dict, report: service.ImportReport, *, dry_run: bool) -> dict:
    return {"dry_run": dry_run, "format": params["format"], "filenames": params["filenames"],
            "counts": {name: {"added": added, "updated": updated}
                       for name, (added, updated) in report.counts.items()},
            "skipped": [p.as_dict() for p in report.skipped[:PROBLEMS_LISTED]],
            "skipped_count": len(report.skipped), "problem_count": 0, "problems": []}


def _problems(context: JobContext, error: InvalidInput) -> dict:
    """Every problem in a CSV file to download; the first PROBLEMS_LISTED in the result,
    in the order of the file's lines."""
    problems = sorted(error.problems, key=lambda p: p.line or 0)
    path = files_dir(context.settings) / f"innonet-import-problems-{context.job_id}.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["line", "field", "problem"])
        writer.writerows([p.line or "", p.field or "", p.message] for p in problems)
    return {"dry_run": True, "format": context.params["format"],
            "filenames": context.params["filenames"], "message": error.message,
            "problem_count": len(problems) or 1,
            "problems": [p.as_dict() for p in problems[:PROBLEMS_LISTED]]
            or [{"message": error.message}],
            "file": path.name, "link": f"/jobs/{context.job_id}/file",
            "link_text": "Download every problem (CSV)"}


def _start_training(context: JobContext) -> None:
    """The history changed: the partner finder learns from it in the background."""
    if context.settings.queue_url != IMMEDIATE:  # in place, it would hold this job for minutes
        matching.submit_training(JobQueue(context.settings, context.sessions))


def _read_problems(session: Session, viewer: Viewer, job: Job) -> None:
    """The problems of a file are its uploader's, while they may still import its format."""
    ensure_may_import(viewer, json.loads(job.params)["format"])


@job_kind(CHECK_JOB, title="Check an uploaded file (nothing is written)",
          result_template="_import_result.html", file_reader=_read_problems)
def _check_job(context: JobContext) -> dict:
    return _import(context, dry_run=True)


@job_kind(IMPORT_JOB, title="Import an uploaded file", result_template="_import_result.html",
          file_reader=_read_problems)
def _import_job(context: JobContext) -> dict:
    return _import(context, dry_run=False)


@tidy_step("uploads")
def _forget_old_uploads(context: JobContext) -> int:
    """Uploaded files never imported, kept as long as finished jobs."""
    limit = (utcnow() - KEEP_FINISHED).timestamp()
    old = [path for path in uploads_dir(context.settings).iterdir() if path.stat().st_mtime < limit]
    for path in old:
        path.unlink(missing_ok=True)
    return len(old)
