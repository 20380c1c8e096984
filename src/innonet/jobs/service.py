"""Starting jobs, running them once each, and telling whoever started them how they went.

A domain registers each kind of job it runs with :func:`job_kind`; the function receives a
:class:`JobContext` and returns a JSON-ready result. Jobs must be safe to run again from the
start: one killed halfway (its process gone, its heartbeat stale) is run again, and a job
that fails for a passing reason (a lost connection) is retried with back-off until its
attempts are used up; one that raises an innonet error (wrong input) ends failed at once,
with the reason.
"""

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from innonet.config import Settings, get_settings
from innonet.db import describe_error, rows_changed, transaction, utcnow
from innonet.errors import Conflict, Forbidden, InnonetError, NotFound, Pending
from innonet.jobs.models import ACTIVE, Job
from innonet.jobs.schemas import JobView, Progress
from innonet.roles import Viewer

logger = logging.getLogger("innonet.jobs")

# A running job writes a heartbeat this often; one silent for LEASE is taken for dead.
HEARTBEAT = timedelta(seconds=10)
LEASE = timedelta(seconds=60)
# Delays before the second and third attempts; a job fails for good after the last.
RETRY_DELAYS = (5, 30)
MESSAGE_LIMIT = 500


@dataclass(frozen=True)
class JobKind:
    name: str
    run: Callable[["JobContext"], dict]
    title: str  # what the job does, in words for its status page
    attempts: int
    # Parameters that hold a secret (a link in a mail) are erased once the job has ended.
    secret_params: bool
    # The template that shows a finished job's result on its page, if more than a link.
    result_template: str | None
    # Started by the queue once a day (see JobQueue.daily).
    daily: bool = False
    # For a kind that writes a file to download: called at every download, it raises when
    # the person who started the job no longer holds the right the job needed, and writes
    # the download of an organisation's data to its audit log. A file of a kind without
    # one is never served.
    file_reader: Callable[[Session, Viewer, "Job"], None] | None = None


_kinds: dict[str, JobKind] = {}
JobFunction = Callable[["JobContext"], dict]  # what a job does: its result, shown on its page
TidyStep = Callable[["JobContext"], int]  # a part of the daily tidy-up: how many things it removed


def job_kind(name: str, *, title: str, attempts: int = len(RETRY_DELAYS) + 1,
             secret_params: bool = False, result_template: str | None = None, daily: bool = False,
             file_reader: Callable[[Session, Viewer, Job], None] | None = None) -> Callable[[JobFunction], JobFunction]:
    """Register a function as the job ``name`` (with ``daily``, the queue starts it every
    morning; with ``file_reader``, the file it writes can be downloaded, see JobKind)."""
    def register(function: JobFunction) -> JobFunction:
        _kinds[name] = JobKind(name, function, title, attempts, secret_params, result_template, daily,
                               file_reader)
        return function
    return register


def kind_names() -> list[str]:
    return sorted(_kinds)


def daily_kinds() -> list[str]:
    return [name for name, kind in _kinds.items() if kind.daily]


def kind_of(name: str) -> JobKind:
    return _kinds[name]


class FailedWithResult(InnonetError):
    """The job ends failed, at once, with a result that says more than its message (every
    bad line of a file)."""

    def __init__(self, message: str, result: dict):
        super().__init__(message)
        self.result = result


class PassingFailure(Exception):
    """A failure that may pass (a mail server that does not answer), told in words the
    job's owner may read: the job is tried again, and this is the reason it shows."""


@dataclass
class JobContext:
    """What a running job knows: its id and parameters, and how to report its progress."""

    job_id: int
    params: dict
    sessions: sessionmaker[Session]
    settings: Settings
    user_id: int | None = None  # who started it, if someone did

    def record_result(self, session: Session, result: dict) -> None:
        """Save the result in ``session``'s transaction, the one that commits the job's
        work: a run after a kill between that commit and the job's end finds it there."""
        session.execute(update(Job).where(Job.id == self.job_id).values(result=json.dumps(result)))

    def recorded_result(self) -> dict | None:
        """The result an earlier run of this job committed with its work, if any."""
        with transaction(self.sessions, writes=False) as session:
            saved = session.scalar(select(Job.result).where(Job.id == self.job_id))
        return json.loads(saved) if saved else None

    def progress(self, done: int, total: int, message: str = "") -> None:
        with transaction(self.sessions) as session:
            session.execute(update(Job).where(Job.id == self.job_id).values(
                progress_done=done, progress_total=total, message=message[:MESSAGE_LIMIT],
                heartbeat_at=utcnow()))


def record(session: Session, kind: str, params: dict | None = None, *,
           user_id: int | None = None, organisation_id: int | None = None,
           dedupe_key: str | None = None) -> Job:
    """Add a queued job to ``session``'s transaction, on behalf of ``user_id`` (who may
    follow it, with the admins of ``organisation_id``)."""
    if kind not in _kinds:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(kind=kind, params=json.dumps(params or {}), dedupe_key=dedupe_key,
              user_id=user_id, organisation_id=organisation_id, message="")
    session.add(job)
    session.flush()
    return job


def submit(sessions: sessionmaker[Session], kind: str, params: dict | None = None, *,
           user_id: int | None = None, organisation_id: int | None = None,
           dedupe_key: str | None = None) -> tuple[Job, bool]:
    """Record a queued job in a transaction of its own. Returns (job, created): with a
    ``dedupe_key`` already queued or running, that job and False."""
    if dedupe_key is not None:  # asked again and again while it runs: a read suffices
        with transaction(sessions, writes=False) as session:
            if (active := active_job(session, dedupe_key)) is not None:
                return active, False
    try:
        with transaction(sessions) as session:
            job = record(session, kind, params, user_id=user_id, organisation_id=organisation_id,
                         dedupe_key=dedupe_key)
        return job, True
    except IntegrityError:
        if dedupe_key is None:  # only a second active job with the same key is refused
            raise
        with transaction(sessions, writes=False) as session:
            active = active_job(session, dedupe_key)
        if active is None:  # it finished in the meantime: ask again
            return submit(sessions, kind, params, user_id=user_id,
                          organisation_id=organisation_id, dedupe_key=dedupe_key)
        return active, False


def active_job(session: Session, dedupe_key: str) -> Job | None:
    """The queued or running job with this ``dedupe_key``, if there is one."""
    return session.scalars(select(Job).where(Job.dedupe_key == dedupe_key,
                                             Job.status.in_(ACTIVE))).first()


def claim(sessions: sessionmaker[Session], job_id: int) -> Job | None:
    """Take a queued job, or a running one whose worker stopped beating, for this worker;
    None when it is finished or another worker has it."""
    now = utcnow()
    with transaction(sessions) as session:
        taken = rows_changed(session.execute(update(Job).where(
            Job.id == job_id,
            or_(Job.status == "queued",
                (Job.status == "running") & (Job.heartbeat_at < now - LEASE)))
            .values(status="running", started_at=now, heartbeat_at=now,
                    attempts=Job.attempts + 1, message="")))
        return session.get(Job, job_id) if taken else None


def run(sessions: sessionmaker[Session], job_id: int, settings: Settings | None = None) -> float | None:
    """Run one job to its end (with ``settings``, by default the environment's). Returns the
    delay in seconds after which it is to be tried again, or None when it is finished
    (done, failed, or not this worker's)."""
    job = claim(sessions, job_id)
    if job is None:
        return None
    kind = _kinds.get(job.kind)
    context = JobContext(job.id, json.loads(job.params), sessions, settings or get_settings(),
                         job.user_id)
    stop = threading.Event()
    beat = threading.Thread(target=_beat, args=(sessions, job.id, stop), daemon=True)
    beat.start()
    try:
        if kind is None:
            raise InnonetError(f"This server does not know jobs of the kind {job.kind!r}.")
        result = kind.run(context)
    except Exception as error:  # noqa: BLE001 - every failure is recorded on the job
        return _record_failure(sessions, job, kind, error)
    finally:
        stop.set()
        beat.join()
    _finish(sessions, job.id, status="done", result=result, message="")
    return None


def _beat(sessions: sessionmaker, job_id: int, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT.total_seconds()):
        try:
            with transaction(sessions) as session:
                session.execute(update(Job).where(Job.id == job_id, Job.status == "running")
                                .values(heartbeat_at=utcnow()))
        except Exception as error:  # noqa: BLE001 - a missed beat only risks a second run
            logger.warning("job %s: heartbeat not written: %s", job_id, describe_error(error))


def _record_failure(sessions: sessionmaker, job: Job, kind: JobKind | None, error: Exception) -> float | None:
    reason = error.message if isinstance(error, InnonetError) else str(error) \
        if isinstance(error, PassingFailure) else "an unexpected error; the server log has the details"
    logger.error("job %s (%s) attempt %s failed: %s", job.id, job.kind, job.attempts,
                 describe_error(error), exc_info=not isinstance(error, InnonetError))
    # innonet's own errors (wrong input, a record gone) would only come again: no retry.
    if not isinstance(error, InnonetError) and kind is not None and job.attempts < kind.attempts:
        delay = RETRY_DELAYS[min(job.attempts, len(RETRY_DELAYS)) - 1]
        with transaction(sessions) as session:
            session.execute(update(Job).where(Job.id == job.id).values(
                status="queued", message=f"Attempt {job.attempts} failed ({reason}); "
                                         f"trying again in {delay} s."[:MESSAGE_LIMIT]))
        return delay
    _finish(sessions, job.id, status="failed", message=f"Failed: {reason}",
            result=error.result if isinstance(error, FailedWithResult) else None)
    return None


def _finish(sessions: sessionmaker, job_id: int, *, status: str, result: dict | None, message: str) -> None:
    done: dict[str, object] = {"progress_done": Job.progress_total} if status == "done" else {}
    with transaction(sessions) as session:
        kind = _kinds.get(session.scalar(select(Job.kind).where(Job.id == job_id)) or "")
        if kind is None or kind.secret_params:
            done["params"] = "{}"
        session.execute(update(Job).where(Job.id == job_id).values(
            **done, status=status, result=None if result is None else json.dumps(result),
            message=message[:MESSAGE_LIMIT], finished_at=utcnow(), heartbeat_at=utcnow()))


def stalled(sessions: sessionmaker[Session]) -> list[int]:
    """Jobs to put on the queue again: running ones whose worker stopped beating, and queued
    ones that waited a LEASE without a worker taking them (their message may have been lost
    with a queue that was emptied or a process killed between commit and hand-over)."""
    limit = utcnow() - LEASE
    with transaction(sessions, writes=False) as session:
        return list(session.scalars(select(Job.id).where(or_(
            (Job.status == "running") & (Job.heartbeat_at < limit),
            (Job.status == "queued") & (Job.created_at < limit)
            & or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < limit))).order_by(Job.id)))


def visible_job(session: Session, viewer: Viewer, job_id: int) -> Job:
    """The job, for whoever started it and the admins of its organisation, or for anyone
    when it is shared work started on nobody's behalf (NotFound else, so that job numbers
    reveal nothing)."""
    job = session.get(Job, job_id)
    if job is None or not _may_see(viewer, job):
        raise NotFound(f"No job {job_id}.")
    return job


def _may_see(viewer: Viewer, job: Job) -> bool:
    if viewer.is_operator or viewer.is_platform_admin:
        return True
    if job.user_id is None and job.organisation_id is None:
        return True  # shared work such as an analysis: its status reveals nothing
    if viewer.user_id is not None and job.user_id == viewer.user_id:
        return True
    return job.organisation_id is not None and viewer.admin_of(job.organisation_id)


def recent_jobs(session: Session, viewer: Viewer, *, limit: int = 50) -> list[Job]:
    """The viewer's own jobs and those of the organisations they administer, newest first."""
    if viewer.user_id is None and not viewer.is_operator:
        return []
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if not (viewer.is_operator or viewer.is_platform_admin):
        administered = [o for o, role in viewer.roles.items() if role == "admin"]
        query = query.where(or_(Job.user_id == viewer.user_id,
                                Job.organisation_id.in_(administered)))
    return list(session.scalars(query))


TIDY_JOB = "jobs.tidy"
# Finished jobs (and the files they wrote) are kept this long.
KEEP_FINISHED = timedelta(days=30)
_tidy_steps: dict[str, TidyStep] = {}


def tidy_step(name: str) -> Callable[[TidyStep], TidyStep]:
    """Register a function of the daily tidy-up job: it removes what is no longer needed
    and returns how many things it removed."""
    def register(function: TidyStep) -> TidyStep:
        _tidy_steps[name] = function
        return function
    return register


@job_kind(TIDY_JOB, title="Tidy up: old jobs, their files and bookkeeping rows")
def _tidy(context: "JobContext") -> dict:
    return {name: step(context) for name, step in _tidy_steps.items()}


@tidy_step("finished jobs")
def _forget_finished_jobs(context: "JobContext") -> int:
    """Jobs that ended more than KEEP_FINISHED ago, with the files they wrote."""
    with transaction(context.sessions) as session:
        old = session.scalars(select(Job).where(Job.status.in_(("done", "failed")),
                                                Job.finished_at < utcnow() - KEEP_FINISHED)).all()
        for job in old:
            name = (json.loads(job.result) if job.result else {}).get("file")
            if name:
                (files_dir(context.settings) / name).unlink(missing_ok=True)
            session.delete(job)
        return len(old)


def files_dir(settings: Settings) -> Path:
    """Where jobs write files to download (in the data directory, which the server and its
    workers share)."""
    path = Path(settings.data_dir) / "files"
    path.mkdir(parents=True, exist_ok=True)
    return path


def result_file(settings: Settings, session: Session, viewer: Viewer, job_id: int) -> Path:
    """The file a finished job wrote, for the person who started it while they still hold
    the right the job needed (its kind's ``file_reader`` asks again, and audits the
    download); not for the admins who may follow the job's status. Pending while it runs;
    Conflict when it failed or wrote none."""
    job = visible_job(session, viewer, job_id)
    # A visitor's job (a network export, say) holds only what every visitor reads.
    if not viewer.is_operator and job.user_id != viewer.user_id:
        raise Forbidden("Only the person who started this job may download its file.")
    kind = _kinds.get(job.kind)
    if kind is None or kind.file_reader is None:
        raise Conflict(f"Job {job.id} has no file to download.")
    kind.file_reader(session, viewer, job)
    result = json.loads(job.result) if job.result else {}
    if job.status in ACTIVE:
        raise Pending(f"The file is being prepared ({job.message})", job_id=job.id)
    path = files_dir(settings) / result["file"] if "file" in result else None
    if job.status == "failed" or path is None or not path.exists():
        raise Conflict(f"Job {job.id} has no file to download: {job.message}")
    return path


def describe(job: Job) -> JobView:
    """A job's status as the API and pages show it (never its parameters)."""
    kind = _kinds.get(job.kind)
    return JobView(id=job.id, kind=job.kind, title=kind.title if kind else job.kind, status=job.status,
                   message=job.message, result_template=kind.result_template if kind else None,
                   progress=Progress(done=job.progress_done, total=job.progress_total), attempts=job.attempts,
                   result=json.loads(job.result) if job.result else None, created_at=job.created_at,
                   started_at=job.started_at, finished_at=job.finished_at)
