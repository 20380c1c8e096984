"""The queue that hands jobs to worker processes (huey).

Where the queue lives is ``INNONET_QUEUE_URL``:

- empty (the default): a SQLite file in the data directory; ``innonet serve`` starts a
  worker process beside itself, so a laptop needs no other service;
- ``redis://host:port/db``: Redis, for several servers and ``innonet worker`` processes;
- ``memory://``: no queue; a job runs in the thread that submits it, right after its record
  is saved (the command line, and tests that look at one request at a time).

The queue carries only job numbers; what a job is and how far it got is in the database.
"""

import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from innonet.config import Settings
from innonet.db import after_commit, transaction
from innonet.jobs import service
from innonet.jobs.models import Job

logger = logging.getLogger("innonet.jobs")
QUEUE_NAME = "innonet"
IMMEDIATE = "memory://"
# Key of a session's ``info`` under which the web app puts its queue (see queue_of).
SESSION_KEY = "innonet_jobs"


class JobQueue:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session]):
        # huey (and the Redis client) load with the first queue, not with every module that
        # names one: a command that starts no job never waits for them.
        from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab

        self.settings, self.sessions = settings, sessions
        url, data_dir = settings.queue_url, settings.data_dir
        if url == IMMEDIATE:
            self.huey = MemoryHuey(QUEUE_NAME, immediate=True, results=False)
        elif url.startswith(("redis://", "rediss://", "unix://")):
            self.huey = RedisHuey(QUEUE_NAME, url=url, results=False)
        elif not url:
            path = Path(data_dir)
            path.mkdir(parents=True, exist_ok=True)
            self.huey = SqliteHuey(QUEUE_NAME, filename=str(path / "queue.sqlite3"),
                                   results=False)
        else:
            raise ValueError("INNONET_QUEUE_URL: use redis://host:port/db, memory:// "
                             "or leave it empty for a queue file in the data directory")
        self._task = self.huey.task(name="innonet.run_job")(self._run)
        self.huey.periodic_task(crontab(minute="*"), name="innonet.requeue_stalled")(
            self.requeue_stalled)
        # Once a day, at a quiet hour; recorded as a job, so that it is retried and shown.
        self.huey.periodic_task(crontab(hour="3", minute="17"), name="innonet.tidy")(self.tidy)
        # Every morning (UTC), the kinds registered as daily: the digest among them.
        self.huey.periodic_task(crontab(hour="6", minute="5"), name="innonet.daily")(self.daily)

    @property
    def immediate(self) -> bool:
        return self.huey.immediate

    def _run(self, job_id: int) -> None:
        delay = service.run(self.sessions, job_id, self.settings)
        if delay is None:
            return
        if self.immediate:  # nobody would come back later: try again now
            while delay is not None:
                delay = service.run(self.sessions, job_id, self.settings)
            return
        from huey.exceptions import RetryTask

        raise RetryTask(delay=delay)

    def submit(self, kind: str, params: dict | None = None, **options: Any) -> Job:
        """Record the job and put it on the queue (see :func:`service.submit`)."""
        job, created = service.submit(self.sessions, kind, params, **options)
        if created:
            self._task(job.id)
            if self.immediate:  # the job has run: its record as it ended
                with transaction(self.sessions, writes=False) as session:
                    job = session.get_one(Job, job.id)
        return job

    def submit_after_commit(self, session: Session, kind: str, params: dict | None = None,
                            **options: Any) -> Job:
        """Record the job in ``session``'s own transaction and hand it to the queue once
        that commits: a mail about an invitation goes out only if the invitation was saved.
        (Should the process end in between, the job is queued again with the stalled ones.)"""
        job = service.record(session, kind, params, **options)

        after_commit(session, lambda: self._task(job.id))

        return job

    def tidy(self) -> None:
        self.submit(service.TIDY_JOB, dedupe_key=service.TIDY_JOB)

    def daily(self) -> None:
        for kind in service.daily_kinds():
            self.submit(kind, dedupe_key=kind)

    def requeue_stalled(self) -> None:
        for job_id in service.stalled(self.sessions):
            logger.warning("job %s: its worker stopped; it is queued again", job_id)
            self._task(job_id)

    def run_worker(self, processes: int, *, parent: int | None = None) -> None:
        """Run jobs until stopped (Ctrl+C or SIGTERM), in ``processes`` worker processes.
        With ``parent``, stop when that process is gone (the server that started it)."""
        self.requeue_stalled()
        consumer = self.huey.create_consumer(workers=processes, worker_type="process",
                                             periodic=True, check_worker_health=True)
        if parent is not None:
            threading.Thread(target=_stop_without, args=(parent,), daemon=True).start()
        consumer.run()


def _stop_without(parent: int) -> None:
    while os.getppid() == parent:
        threading.Event().wait(2)
    os.kill(os.getpid(), signal.SIGTERM)


def queue_of(session: Session) -> JobQueue | None:
    """The queue of the web app that opened this session; None in a command or a job,
    where slow work runs in place because that process exists to do it."""
    return session.info.get(SESSION_KEY)


def web_queue(session: Session) -> JobQueue:
    """The web app's queue, for work that only a request starts (an export, an upload)."""
    queue = queue_of(session)
    if queue is None:
        raise RuntimeError("this work is started from the web app, whose sessions carry its queue")
    return queue
