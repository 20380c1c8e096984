"""Jobs: recorded once, run once each, retried with back-off, failed visibly, taken over
when their worker died, and shown to whoever may see them."""

import json
import os
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from innonet.app import create_app
from innonet.config import Settings
from innonet.db import transaction, utcnow
from innonet.errors import InvalidInput
from innonet.jobs import service as jobs
from innonet.jobs.models import Job
from innonet.jobs.queue import JobQueue
from tests.factories import make_organisation, make_user, sign_in

# Failures each job of the kind "test.flaky" has left before it succeeds, by job id.
failures_left: dict[int, int] = {}


@jobs.job_kind("test.flaky", title="A job that fails a given number of times")
def flaky(context: jobs.JobContext) -> dict:
    context.progress(1, 3, "Counting.")
    if failures_left.get(context.job_id, 0) > 0:
        failures_left[context.job_id] -= 1
        raise RuntimeError("the network went away (secret-param=42)")
    return {"answer": context.params["n"] * 2}


@jobs.job_kind("test.refused", title="A job whose input is wrong")
def refused(context: jobs.JobContext) -> dict:
    raise InvalidInput("line 3: the country code 'XX' is unknown")


@pytest.fixture
def sessions(fresh_sessions):
    return fresh_sessions


def job_of(sessions, job_id: int) -> Job:
    with transaction(sessions, writes=False) as session:
        return session.get(Job, job_id)


def test_a_job_runs_once_and_reports_its_result(sessions):
    job, created = jobs.submit(sessions, "test.flaky", {"n": 21})
    assert created and job.status == "queued"
    assert jobs.run(sessions, job.id) is None
    done = job_of(sessions, job.id)
    assert (done.status, json.loads(done.result), done.attempts) == ("done", {"answer": 42}, 1)
    assert (done.progress_done, done.progress_total) == (3, 3)
    assert done.finished_at >= done.started_at >= done.created_at
    # Delivered again (a queue may deliver twice): nothing runs a second time.
    assert jobs.run(sessions, job.id) is None
    assert job_of(sessions, job.id).attempts == 1


def test_failures_are_retried_with_back_off_then_end_visibly(sessions):
    job, _ = jobs.submit(sessions, "test.flaky", {"n": 1})
    failures_left[job.id] = 2
    assert jobs.run(sessions, job.id) == jobs.RETRY_DELAYS[0]
    waiting = job_of(sessions, job.id)
    assert waiting.status == "queued"
    assert "Attempt 1 failed" in waiting.message and "5 s" in waiting.message
    assert "secret-param" not in waiting.message  # the reason for users is never the raw error
    assert jobs.run(sessions, job.id) == jobs.RETRY_DELAYS[1]
    assert jobs.run(sessions, job.id) is None
    assert (job_of(sessions, job.id).status, job_of(sessions, job.id).attempts) == ("done", 3)

    hopeless, _ = jobs.submit(sessions, "test.flaky", {"n": 1})
    failures_left[hopeless.id] = 99
    delays = [jobs.run(sessions, hopeless.id) for _ in range(3)]
    assert delays == [*jobs.RETRY_DELAYS, None]
    failed = job_of(sessions, hopeless.id)
    assert failed.status == "failed" and failed.message.startswith("Failed: an unexpected error")


def test_wrong_input_fails_at_once_with_the_reason(sessions):
    job, _ = jobs.submit(sessions, "test.refused")
    assert jobs.run(sessions, job.id) is None
    failed = job_of(sessions, job.id)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.message == "Failed: line 3: the country code 'XX' is unknown"


def test_the_same_work_is_queued_once(sessions):
    first, created = jobs.submit(sessions, "test.flaky", {"n": 1}, dedupe_key="twice")
    again, created_again = jobs.submit(sessions, "test.flaky", {"n": 1}, dedupe_key="twice")
    assert created and not created_again and again.id == first.id
    jobs.run(sessions, first.id)
    later, created_later = jobs.submit(sessions, "test.flaky", {"n": 1}, dedupe_key="twice")
    assert created_later and later.id != first.id


def test_a_job_whose_worker_died_is_taken_over_and_only_then(sessions):
    job, _ = jobs.submit(sessions, "test.flaky", {"n": 2})
    assert jobs.claim(sessions, job.id) is not None  # a worker took it ...
    # ... and is alive: nobody else runs it, and it is not stalled.
    assert jobs.run(sessions, job.id) is None
    assert job_of(sessions, job.id).status == "running"
    assert job.id not in jobs.stalled(sessions)
    with transaction(sessions) as session:  # ... its heartbeat stops
        session.get(Job, job.id).heartbeat_at = utcnow() - jobs.LEASE - timedelta(seconds=1)
    assert job.id in jobs.stalled(sessions)
    assert jobs.run(sessions, job.id) is None
    done = job_of(sessions, job.id)
    assert (done.status, done.attempts, json.loads(done.result)) == ("done", 2, {"answer": 4})


def test_a_job_never_handed_to_a_worker_is_queued_again(sessions, tmp_path):
    job, _ = jobs.submit(sessions, "test.flaky", {"n": 5})  # recorded, not put on a queue
    with transaction(sessions) as session:
        session.get(Job, job.id).created_at = utcnow() - jobs.LEASE - timedelta(seconds=1)
    queue = JobQueue(Settings(queue_url="", data_dir=str(tmp_path)), sessions)
    queue.requeue_stalled()
    assert queue.huey.pending_count() == 1  # its number is on the queue file for a worker to take


def test_status_page_and_api_for_the_starter_and_the_admins(sessions, tmp_path):
    with transaction(sessions) as session:
        organisation = make_organisation(session)
        starter, admin = make_user(session, organisation), make_user(session, organisation, "admin")
        outsider = make_user(session)
    job, _ = jobs.submit(sessions, "test.flaky", {"n": 4}, user_id=starter.id,
                         organisation_id=organisation.id)
    app = create_app(Settings(database_url="sqlite://", secret_key="x", data_dir=str(tmp_path)),
                     sessions=sessions)
    with TestClient(app) as client:
        with transaction(sessions) as session:
            sign_in(client, session, starter)
        page = client.get(f"/jobs/{job.id}")
        assert "A job that fails a given number of times" in page.text
        assert "Waiting to start" in page.text and 'hx-trigger="every 2s"' in page.text
        jobs.run(sessions, job.id)
        fragment = client.get(f"/jobs/{job.id}", headers={"HX-Request": "true"})
        assert "Done" in fragment.text and "hx-trigger" not in fragment.text  # stops polling
        assert f'href="/jobs/{job.id}"' in client.get("/jobs").text
        for user, status in ((admin, 200), (outsider, 404)):
            with transaction(sessions) as session:
                sign_in(client, session, user)
            answer = client.get(f"/api/v1/jobs/{job.id}")
            assert answer.status_code == status
        assert answer.json()["error"]["message"] == f"No job {job.id}."
        assert client.get("/api/v1/jobs").json() == []
        assert client.get("/api/v1/jobs/99999999999").status_code == 422


def test_the_daily_tidy_up_forgets_old_jobs_their_files_and_old_change_rows(sessions, tmp_path):
    from sqlalchemy import func, select

    from innonet.imports.uploads import uploads_dir
    from innonet.jobs.service import KEEP_FINISHED, files_dir
    from innonet.versions import NetworkChange, data_version
    from innonet.worker import load_job_kinds

    load_job_kinds()  # every domain's tidy-up steps

    settings = Settings(data_dir=str(tmp_path))
    with transaction(sessions) as session:
        for _ in range(3):
            make_organisation(session)  # each write adds a network_change row
        version = data_version(session)
    old, _ = jobs.submit(sessions, "test.flaky", {"n": 1})
    recent, _ = jobs.submit(sessions, "test.flaky", {"n": 2})
    running, _ = jobs.submit(sessions, "test.flaky", {"n": 3})
    for job in (old, recent):
        jobs.run(sessions, job.id, settings)
    (files_dir(settings) / "old.gexf").write_text("<gexf/>")
    forgotten, fresh = uploads_dir(settings) / "forgotten.csv", uploads_dir(settings) / "fresh.csv"
    for upload in (forgotten, fresh):
        upload.write_text("rcn\n")
    month_ago = (utcnow() - KEEP_FINISHED - timedelta(days=1)).timestamp()
    os.utime(forgotten, (month_ago, month_ago))
    with transaction(sessions) as session:
        aged = session.get(Job, old.id)
        aged.finished_at = utcnow() - KEEP_FINISHED - timedelta(days=1)
        aged.result = json.dumps({"file": "old.gexf"})
    tidy, _ = jobs.submit(sessions, jobs.TIDY_JOB)
    assert jobs.run(sessions, tidy.id, settings) is None
    assert json.loads(job_of(sessions, tidy.id).result) == {
        "finished jobs": 1, "network change rows": 3, "uploads": 1}
    assert [p.name for p in uploads_dir(settings).iterdir()] == ["fresh.csv"]
    with transaction(sessions, writes=False) as session:
        kept = session.scalars(select(Job.id).order_by(Job.id)).all()
        assert kept == [recent.id, running.id, tidy.id]
        assert session.scalar(select(func.count()).select_from(NetworkChange)) == 1
        assert data_version(session) == version  # the data version is the newest row
    assert not (files_dir(settings) / "old.gexf").exists()
