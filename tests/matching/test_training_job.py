"""The partner finder's rankers are learned by a background job, never in a request."""

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from innonet.app import create_app
from innonet.config import Settings
from innonet.db import transaction
from innonet.jobs import service as jobs
from innonet.matching.models import RankerModel
from innonet.matching.service import TRAINING_JOB
from innonet.network import analyses, building
from innonet.network import service as network
from innonet.roles import Viewer
from tests.matching.test_recommendations import NEED, world  # noqa: F401 - the fixture


@pytest.fixture
def sessions(fresh_sessions):
    """Each request and job commits for real, as with a server and its workers."""
    return fresh_sessions


def test_a_request_never_learns_a_job_does(world, session, sessions, clock, tmp_path,
                                           monkeypatch):
    """With a queue that a worker serves, the first request after a change to the history
    is ordered by the network walk and says a job is learning; once it has, the ranker
    orders."""
    monkeypatch.setattr(analyses, "FIRST_ANALYSIS_WAIT", 0.3)

    app = create_app(Settings(database_url="sqlite://", secret_key="x", queue_url="",
                              data_dir=str(tmp_path)), sessions=sessions, clock=clock)
    session.commit()
    with TestClient(app) as client:
        # The viewer's network (proximity, introducers) is analysed by a job first.
        waiting = client.get("/api/v1/orgs/sme/recommendations", params={"need": NEED})
        assert waiting.status_code == 202
        assert jobs.run(sessions, waiting.json()["job"]["id"]) is None
        first = client.get("/api/v1/orgs/sme/recommendations", params={"need": NEED})
        assert first.status_code == 200, first.text
        first = first.json()
        again = client.get("/api/v1/orgs/sme/recommendations", params={"need": NEED}).json()
        assert first["learned_ranker"] is False and first["results"]
        assert again["ranker_training_job"] == first["ranker_training_job"] is not None
        with transaction(sessions, writes=False) as reader:  # nothing learned in a request
            assert reader.scalars(select(RankerModel)).all() == []
        page = client.get("/orgs/sme/partners", params={"need": NEED})
        assert f'href="/jobs/{first["ranker_training_job"]}"' in page.text
        assert jobs.run(sessions, first["ranker_training_job"]) is None
        status = client.get(f"/api/v1/jobs/{first['ranker_training_job']}").json()
        assert status["status"] == "done"
        # Six projects are too short a history to learn from: the stored answer says so.
        assert status["result"] == {"learned": {"new_partners": False, "consortium": False}}
        with transaction(sessions, writes=False) as reader:
            assert len(reader.scalars(select(RankerModel)).all()) == 2
        later = client.get("/api/v1/orgs/sme/recommendations", params={"need": NEED}).json()
        assert later["ranker_training_job"] is None and later["learned_ranker"] is False
        page = client.get("/orgs/sme/partners", params={"need": NEED}).text
        assert "too short to learn from" in page and "/jobs/" not in page

        # Another training job for the same history keeps what is stored: nothing to learn.
        with transaction(sessions, writes=False) as reader:
            stored = {(m.id, m.question) for m in reader.scalars(select(RankerModel))}
        again_job, _ = jobs.submit(sessions, TRAINING_JOB, dedupe_key=TRAINING_JOB)
        assert jobs.run(sessions, again_job.id) is None
        assert client.get(f"/api/v1/jobs/{again_job.id}").json()["result"] == status["result"]
        with transaction(sessions, writes=False) as reader:
            assert {(m.id, m.question) for m in reader.scalars(select(RankerModel))} == stored


def test_each_server_process_makes_the_finder_and_analysis_of_new_data_ready_before_anyone_asks(
        world, session, sessions, tmp_path):
    """What the first request after an import would wait for (seconds on the full data) is
    made by the server's prefetch as soon as it sees the data change: the finder at once,
    the shared network analysis once a worker has stored it."""
    from innonet.app import prefetch
    from innonet.matching import finder as matching
    from tests.factories import make_organisation

    session.commit()  # the world, as an import leaves it
    today = date.today()
    version, made = prefetch(sessions, today, prepared=tmp_path)
    assert made and list(matching._cache) == [version]
    assert len(list(tmp_path.glob("finder-*.pickle"))) == 1  # kept for the next process too
    built = matching._cache[version]
    assert prefetch(sessions, today, seen=version) == (version, False)
    assert matching._cache[version] is built
    with transaction(sessions) as writer:
        make_organisation(writer)  # as an import adds one
    newer, made = prefetch(sessions, today, seen=version)
    assert made and newer != version and list(matching._cache) == [newer]
    assert matching._cache[newer] is not built

    analyses._cache.clear()
    with transaction(sessions, writes=False) as reader:
        public, _ = building.visible_relationships(reader, Viewer(today=today),
                                                   for_aggregates=False, since=None, until=None)
    spec = network.AnalysisSpec(None, None, today.year, tuple(public))
    job, _ = jobs.submit(sessions, network.ANALYSIS_JOB, spec.params())
    assert jobs.run(sessions, job.id) is None  # as a worker would
    assert prefetch(sessions, today, seen=newer) == (newer, True)
    [loaded] = analyses._cache.values()
    assert loaded.up_to_date and loaded._adjacency is not None
    assert loaded.graph.vcount() == len(matching._cache[newer].organisation_ids)


@pytest.fixture
def analysed(world, session, sessions, clock, tmp_path, monkeypatch):
    """The web app on a queue no worker serves, once a job has analysed the network."""
    monkeypatch.setattr(analyses, "FIRST_ANALYSIS_WAIT", 0.3)
    app = create_app(Settings(database_url="sqlite://", secret_key="x", queue_url="",
                              data_dir=str(tmp_path)), sessions=sessions, clock=clock)
    session.commit()
    with TestClient(app) as client:
        waiting = client.get("/api/v1/orgs/sme/recommendations", params={"need": NEED})
        assert jobs.run(sessions, waiting.json()["job"]["id"]) is None
        yield client


def test_partners_are_found_while_the_analysis_is_older_than_the_newest_organisations(
        analysed, sessions):
    """Right after an import added organisations, the analysis served (as of before) lacks
    them until its job has run: they are found, and may ask, as organisations without ties."""
    from tests.factories import make_organisation

    client = analysed
    with transaction(sessions) as writer:
        make_organisation(writer, external_id="newcomer", country="DE",
                          capabilities="cellulose barrier coating for food packaging")
    asking = client.get("/api/v1/orgs/newcomer/recommendations", params={"need": NEED})
    assert asking.status_code == 200, asking.text  # it waits for the finder that knows it
    found = client.get("/api/v1/orgs/sme/recommendations", params={"need": NEED})
    assert found.status_code == 200 and found.json()["up_to_date"], found.text
    newcomer = [r for r in found.json()["results"] if r["external_id"] == "newcomer"]
    assert newcomer and newcomer[0]["introduction_path"] == []
    assert asking.json()["results"] and not any(
        r["already_partner"] for r in asking.json()["results"])


def test_right_after_an_import_the_finder_before_it_answers_while_the_new_one_is_built(
        analysed, sessions):
    """Nobody waits seconds for the finder of new data: the one before answers, says so,
    and the new one is built in the background."""
    import time

    from innonet.matching import finder as matching
    from tests.factories import make_organisation

    client = analysed
    before = client.get("/api/v1/orgs/sme/recommendations", params={"need": NEED}).json()
    assert before["up_to_date"] is True
    old = next(iter(matching._cache.values()))
    with transaction(sessions) as writer:
        make_organisation(writer, external_id="newcomer", capabilities="cellulose coating")
    after = client.get("/api/v1/orgs/sme/recommendations", params={"need": NEED}).json()
    assert after["up_to_date"] is False
    assert [r["external_id"] for r in after["results"]] == \
        [r["external_id"] for r in before["results"]]
    deadline = time.monotonic() + 60
    while next(iter(matching._cache.values())) is old and time.monotonic() < deadline:
        time.sleep(0.05)
    newest = client.get("/api/v1/orgs/sme/recommendations", params={"need": NEED}).json()
    assert newest["up_to_date"] is True
    assert "newcomer" in [r["external_id"] for r in newest["results"]]
    # An organisation the finder before did not know waits for the new one.
    assert client.get("/api/v1/orgs/newcomer/recommendations").json()["up_to_date"] is True
