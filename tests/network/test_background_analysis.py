"""Analyses computed by background jobs: the web app serves the last one it may show while
a new one is computed, waits for a first one, and never shows one built from relationships
the viewer may no longer see."""

import io
import json
import threading
from datetime import date

import pytest
from fastapi.testclient import TestClient

from innonet.accounts import service as accounts
from innonet.app import create_app
from innonet.config import Settings
from innonet.db import transaction
from innonet.jobs import service as jobs
from innonet.jobs.models import Job
from innonet.network import analyses, building, service
from innonet.network.models import StoredAnalysis
from tests.factories import (
    OPERATOR,
    bearer,
    make_project,
    make_relationship,
    make_user,
    sign_in,
)
from tests.network.test_network import network  # noqa: F401 - the fixture


@pytest.fixture(autouse=True)
def short_wait(monkeypatch):
    """No worker serves these tests' queue: a first analysis is not waited for long."""
    monkeypatch.setattr(analyses, "FIRST_ANALYSIS_WAIT", 0.5)


@pytest.fixture
def sessions(fresh_sessions):
    return fresh_sessions


@pytest.fixture
def queued(sessions, clock, tmp_path):
    """The web app on a real queue file that no worker serves: jobs wait until the test
    runs them as a worker would (jobs.run)."""
    app = create_app(Settings(database_url="sqlite://", secret_key="x", queue_url="",
                              data_dir=str(tmp_path)), sessions=sessions, clock=clock)
    with TestClient(app) as client:
        yield client


VISITOR_YEAR = date.today().year


def waiting_jobs(sessions) -> list[Job]:
    with transaction(sessions, writes=False) as reader:
        return list(reader.query(Job).filter(Job.status == "queued").order_by(Job.id))


def unpacked() -> None:
    """Wait until the threads that unpack newly stored analyses are done."""
    for thread in threading.enumerate():
        if thread.name == "innonet-unpack":
            thread.join(timeout=30)
            assert not thread.is_alive()


def run_waiting_jobs(sessions, settings=None) -> None:
    """Run the queued jobs as a worker with ``settings`` (those of the environment) would."""
    for job in waiting_jobs(sessions):
        assert jobs.run(sessions, job.id, settings) is None


def test_an_older_analysis_is_served_while_the_new_one_is_computed(
        sessions, session, queued, network):
    session.commit()
    # Nothing computed yet and no worker: the API says it is being prepared.
    pending = queued.get("/api/v1/orgs/N-LONE/diagnosis")
    assert pending.status_code == 202 and pending.headers["Retry-After"] == "5"
    job_id = pending.json()["job"]["id"]
    status = queued.get(f"/api/v1/jobs/{job_id}")
    assert status.status_code == 200, status.text
    assert status.json()["status"] == "queued"
    page = queued.get("/orgs/N-LONE/diagnosis")
    assert page.status_code == 202 and "Being prepared" in page.text
    assert len(waiting_jobs(sessions)) == 1  # asked three times, computed once
    run_waiting_jobs(sessions)
    first = queued.get("/api/v1/orgs/N-LONE/diagnosis").json()
    assert first["up_to_date"] is True and first["partners"] == 0

    # New public data: the last analysis answers at once, saying it is older...
    make_project(session, network["N-LONE"], network["N-RIV"], external_id="N-P8")
    session.commit()
    stale = queued.get("/api/v1/orgs/N-LONE/diagnosis").json()
    assert stale["up_to_date"] is False and stale["partners"] == 0
    assert "as of" in queued.get("/orgs/N-LONE/diagnosis").text
    # ... until the job has computed the new one and this process has unpacked it, which it
    # does beside the requests: the first after the job still answers at once from memory.
    run_waiting_jobs(sessions)
    assert queued.get("/api/v1/orgs/N-LONE/diagnosis").json()["up_to_date"] is False
    unpacked()
    fresh = queued.get("/api/v1/orgs/N-LONE/diagnosis").json()
    assert fresh["up_to_date"] is True and fresh["partners"] == 1
    done = queued.get(f"/api/v1/jobs/{job_id}").json()
    assert done["status"] == "done" and done["progress"]["done"] == done["progress"]["total"]


def test_a_private_relationship_counts_at_once_for_those_who_see_it_and_starts_no_job(
        sessions, session, queued, network):
    insider = make_user(session, network["N-RIV"], "admin")
    headers = bearer(session, insider)
    session.commit()
    queued.get("/api/v1/network/report")
    run_waiting_jobs(sessions)
    before = queued.get("/api/v1/network/report", headers=headers).json()
    assert before["size"]["links"] == 6 and before["private_relationships"] == 1
    make_relationship(session, network["N-RIV"], network["N-LONE"], visibility="private",
                      strength=5)
    session.commit()
    # The shared analysis is still the newest: nothing for anyone to wait for.
    visitor = queued.get("/api/v1/network/report").json()
    assert visitor["up_to_date"] is True and visitor["size"]["links"] == 5
    assert visitor["private_relationships"] == 0
    report = queued.get("/api/v1/network/report", headers=headers).json()
    assert report["up_to_date"] is True and report["size"]["links"] == 7
    assert report["private_relationships"] == 2
    assert waiting_jobs(sessions) == []
    # Their own organisation's figures are those of the whole graph they see, computed
    # in full: partners, strength, clustering and brokerage.
    diagnosis = queued.get("/api/v1/orgs/N-RIV/diagnosis", headers=headers).json()
    with transaction(sessions, writes=False) as reader:
        public, others = building.visible_relationships(
            reader, accounts.viewer_of(reader, user_id=insider.id, today=date.today(),
                                       channel="api"), for_aggregates=False,
            since=None, until=None)
        full = building.build_analysis(reader, [], [*public, *others], this_year=VISITOR_YEAR)
    vertex = full.vertex_of[network["N-RIV"].id]
    assert diagnosis["partners"] == 3
    for name in ("degree", "strength", "clustering", "constraint", "effective_size",
                 "efficiency", "hierarchy"):
        assert diagnosis["metrics"][name] == pytest.approx(full.metrics[name][vertex].item()), name
    assert queued.get("/api/v1/orgs/N-RIV/diagnosis").json()["partners"] == 1


def test_a_relationship_hidden_since_is_never_shown_from_an_earlier_analysis(
        sessions, session, queued, network):
    """A tie public when the shared analysis was computed and private now: a visitor waits
    for the new analysis instead of seeing it; its owner sees it once, not twice."""
    insider = make_user(session, network["N-RIV"], "member")
    headers = bearer(session, insider)
    tie = make_relationship(session, network["N-RIV"], network["N-LONE"], visibility="public")
    session.commit()
    queued.get("/api/v1/orgs/N-RIV/diagnosis")
    run_waiting_jobs(sessions)
    assert queued.get("/api/v1/orgs/N-RIV/diagnosis").json()["partners"] == 2
    tie.visibility = "private"
    session.commit()
    assert queued.get("/api/v1/orgs/N-RIV/diagnosis").status_code == 202
    owner_view = queued.get("/api/v1/orgs/N-RIV/diagnosis", headers=headers).json()
    assert owner_view["partners"] == 3 and owner_view["up_to_date"] is False
    lone = queued.get("/api/v1/orgs/N-LONE/diagnosis", headers=headers).json()
    assert lone["metrics"]["strength"] == pytest.approx(1.0)  # one tie of strength 3, once
    run_waiting_jobs(sessions)
    assert queued.get("/api/v1/orgs/N-RIV/diagnosis").json()["partners"] == 1
    # The insider leaves the firm: its private ties leave their view at once.
    [membership] = [m for m, user in accounts.members_of(
        session, OPERATOR, organisation_id=network["N-RIV"].id) if user.id == insider.id]
    accounts.remove_membership(session, OPERATOR, organisation_id=network["N-RIV"].id,
                               membership_id=membership.id)
    session.commit()
    assert queued.get("/api/v1/orgs/N-RIV/diagnosis", headers=headers).json()["partners"] == 1
    assert waiting_jobs(sessions) == []


def test_the_job_stores_one_analysis_even_when_run_twice(sessions, session, queued, network):
    session.commit()
    queued.get("/api/v1/network/report")
    [job] = waiting_jobs(sessions)
    assert jobs.run(sessions, job.id) is None
    with transaction(sessions) as writer:  # as if its worker had died before finishing
        writer.get(Job, job.id).status = "queued"
    assert jobs.run(sessions, job.id) is None
    with transaction(sessions, writes=False) as reader:
        [stored] = reader.query(StoredAnalysis).all()
        assert json.loads(reader.get(Job, job.id).result)["key"] == stored.key


def test_one_shared_analysis_is_stored_however_many_viewers_ask(
        sessions, session, queued, network, monkeypatch):
    monkeypatch.setattr(analyses, "STORED_PER_WINDOW", 1)
    make_relationship(session, network["N-UNI"], network["N-LONE"], visibility="private")
    members = [make_user(session, network[o], "member") for o in ("N-RIV", "N-UNI")]
    headers = [bearer(session, member) for member in members]
    session.commit()
    for who in ({}, *headers):
        assert queued.get("/api/v1/network/report", headers=who).status_code in (200, 202)
        run_waiting_jobs(sessions)
    links = [queued.get("/api/v1/network/report", headers=who).json()["size"]["links"]
             for who in ({}, *headers)]
    assert links == [5, 6, 6]  # each with their own private tie
    # New public data: the earlier analysis is shown to everyone while the new one is made,
    # and only the newest is kept.
    make_project(session, network["N-LONE"], network["N-RIV"], external_id="N-P8")
    session.commit()
    answer = queued.get("/api/v1/network/report", headers=headers[0])
    assert answer.status_code == 200 and answer.json()["up_to_date"] is False
    run_waiting_jobs(sessions)
    with transaction(sessions, writes=False) as reader:
        [stored] = reader.query(StoredAnalysis).all()
        assert json.loads(stored.relationships) and stored.this_year == VISITOR_YEAR
    assert queued.get("/api/v1/network/report", headers=headers[0]).json()["size"]["links"] == 7


def test_an_export_is_written_by_a_job_and_downloaded_when_ready(
        sessions, session, queued, network):
    import networkx as nx

    owner, stranger = make_user(session, network["N-RIV"], "member"), make_user(session)
    session.commit()
    with transaction(sessions) as writer:
        sign_in(queued, writer, writer.merge(owner))
    started = queued.get("/network/export?format=graphml", follow_redirects=False)
    assert started.status_code == 303
    job_page = started.headers["location"]
    assert "Waiting to start" in queued.get(job_page).text
    waiting = queued.get(f"{job_page}/file")
    assert waiting.status_code == 202 and "Being prepared" in waiting.text
    run_waiting_jobs(sessions, queued.app.state.settings)  # a worker sharing the data directory
    assert "Download the GRAPHML file" in queued.get(job_page).text
    download = queued.get(f"{job_page}/file")
    assert download.status_code == 200
    graph = nx.read_graphml(io.BytesIO(download.content))
    assert graph.has_edge("N-RIV", "N-SEC")  # the owner's private tie is in their export
    with transaction(sessions) as writer:
        sign_in(queued, writer, writer.merge(stranger))
    assert queued.get(f"{job_page}/file").status_code == 404
