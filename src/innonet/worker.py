"""The worker: every domain's kinds of job, and the processes that run them.

Above the domains like ``app`` and ``cli``: importing the domain services registers their
jobs (see :func:`innonet.jobs.service.job_kind`).
"""

import os

from innonet.config import Settings
from innonet.db import make_engine, make_session_factory, migrate
from innonet.jobs.queue import JobQueue
from innonet.schema import load_models


def load_job_kinds() -> None:
    load_models()  # a job's record refers to users and organisations
    from innonet import digests as _digests  # noqa: F401
    from innonet.accounts import mail as _mail  # noqa: F401
    from innonet.exports import service as _exports  # noqa: F401
    from innonet.imports import uploads as _uploads  # noqa: F401
    from innonet.knowledge import extract as _extract  # noqa: F401
    from innonet.knowledge import service as _knowledge  # noqa: F401
    from innonet.kpis import alerts as _alerts  # noqa: F401
    from innonet.kpis import network_figures as _network_figures  # noqa: F401
    from innonet.kpis import report as _report  # noqa: F401
    from innonet.matching import service as _matching  # noqa: F401
    from innonet.network import service as _network  # noqa: F401
    from innonet.projects import exits as _exits  # noqa: F401
    from innonet.webhooks import service as _webhooks  # noqa: F401


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
