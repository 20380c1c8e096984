"""`innonet worker` processes on a real queue (the SQLite queue file and Redis): they run
what the web app hands them, and a worker killed halfway through a job leaves it to be run
again, with the same result."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest

from innonet.config import Settings
from innonet.db import transaction, utcnow
from innonet.jobs import service as jobs
from innonet.jobs.models import Job
from innonet.jobs.queue import JobQueue
from innonet.network.models import StoredAnalysis
from innonet.network.service import ANALYSIS_JOB, AnalysisSpec
from tests.conftest import skip_or_fail


def redis_url() -> str:
    """The test Redis database, one per parallel test process (each flushes its own): the
    configured number minus the process's (gw0, gw1 …)."""
    url = urlsplit(os.environ.get("INNONET_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    return url._replace(path=f"/{int(url.path.strip('/') or 0) - worker}").geturl()


REDIS_URL = redis_url()
WAIT = 120  # seconds: far beyond any of these jobs, so only a stuck worker reaches it


@pytest.fixture(params=["file", "redis"])
def queue_url(request) -> str:
    if request.param == "file":
        return ""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).flushdb()
    except redis.RedisError as error:
        skip_or_fail(f"Redis queue tests off: {REDIS_URL} does not answer ({error})")
    return REDIS_URL


class Worker:
    """``innonet worker`` in a process group of its own (the consumer and its children)."""

    def __init__(self, database_url: str, queue_url: str, data_dir: str):
        env = os.environ | {"INNONET_QUEUE_URL": queue_url, "INNONET_DATA_DIR": data_dir}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "innonet", "--db", database_url, "worker", "--processes", "1"],
            env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(30)


def wait_for(sessions, job_id: int, statuses: tuple[str, ...]) -> Job:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with transaction(sessions, writes=False) as session:
            job = session.get(Job, job_id)
            if job.status in statuses:
                return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not reach {statuses} in {WAIT} s")


def analysis_params(since: int | None) -> dict:
    return AnalysisSpec(since, None, date.today().year, ()).params()


def test_workers_run_jobs_and_take_over_one_whose_worker_was_killed(
        consortia_database, queue_url, tmp_path):
    database_url, sessions = consortia_database
    queue = JobQueue(Settings(queue_url=queue_url, data_dir=str(tmp_path)), sessions)
    worker = Worker(database_url, queue_url, str(tmp_path))
    try:
        first = queue.submit(ANALYSIS_JOB, analysis_params(None))
        assert wait_for(sessions, first.id, ("done", "failed")).status == "done"

        second = queue.submit(ANALYSIS_JOB, analysis_params(2021))
        wait_for(sessions, second.id, ("running",))
        worker.kill()  # kill -9 of the worker and its children, halfway through
        assert wait_for(sessions, second.id, ("running",)).finished_at is None
        with transaction(sessions) as session:  # the lease of the dead worker runs out
            session.get(Job, second.id).heartbeat_at = utcnow() - jobs.LEASE - timedelta(seconds=1)
        worker = Worker(database_url, queue_url, str(tmp_path))
        done = wait_for(sessions, second.id, ("done", "failed"))
        assert (done.status, done.attempts) == ("done", 2)
    finally:
        worker.stop()
    with transaction(sessions, writes=False) as session:
        stored = {s.key: s for s in session.query(StoredAnalysis)}
        assert set(stored) == {json.loads(session.get(Job, j).result)["key"]
                               for j in (first.id, second.id)}
        assert {s.since for s in stored.values()} == {None, 2021}
