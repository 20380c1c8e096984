"""The worker: every domain's kinds of job, and the processes that run them.

Above the domains like ``app`` and ``cli``: importing the domain services registers their
jobs (see :func:`innonet.jobs.service.job_kind`).
"""

import os

from innonet import domains
from innonet.config import Settings
from innonet.db import make_engine, make_session_factory, migrate
from innonet.jobs.queue import JobQueue
from innonet.schema import load_models


def load_job_kinds() -> None:
    load_models()  # a job's record refers to users and organisations
    domains.modules("jobs")


# Jobs yield the processor to requests on the same machine: learning for minutes must not
# slow down a page (10 is what `nice` gives by default).
NICENESS = 10


def run_worker(settings: Settings, *, processes: int, parent: int | None = None) -> None:
    """Run jobs from the configured queue until stopped, at a lower priority than requests."""
    os.nice(NICENESS)
    load_job_kinds()
    engine = make_engine(settings.database_url, statement_timeout=settings.statement_timeout,
                         lock_timeout=settings.lock_timeout)
    migrate(engine)
    # Worker processes are forked from this one: each opens connections of its own.
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    queue = JobQueue(settings, make_session_factory(engine))
    queue.run_worker(processes, parent=parent)
