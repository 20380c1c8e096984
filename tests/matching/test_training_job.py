"""The partner finder's rankers are learned by a background job, never in a request."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from innonet.app import create_app
from innonet.config import Settings
from innonet.db import transaction
from innonet.jobs import service as jobs
from innonet.matching.models import RankerModel
from innonet.network import service as network
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
    monkeypatch.setattr(network, "FIRST_ANALYSIS_WAIT", 0.3)

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
