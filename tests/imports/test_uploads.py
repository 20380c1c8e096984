"""Files imported through the web: a dry run by a job that counts and lists every bad line,
then the import by a job, all or nothing, held to the rights of whoever uploaded."""

import csv
import gzip
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from innonet.app import create_app
from innonet.collaborations.models import Participation, Relationship
from innonet.config import Settings
from innonet.db import transaction
from innonet.organisations.models import Organisation
from tests.conftest import PARTICIPATIONS
from tests.factories import bearer, make_organisation, make_user, sign_in

HEADER = "rcn,role,pic,type,contribution,country,start_date,end_date,max_contribution,total_cost\n"
GOOD = [
    "1001,coordinator,900000001,PRC,100.0,DE,2017-01-01,2019-12-31,500.0,600.0\n",
    "1001,participant,900000002,HES,50.0,FR,2017-01-01,2019-12-31,500.0,600.0\n",
    "1002,coordinator,900000002,HES,70.0,FR,2018-01-01,2020-12-31,300.0,300.0\n",
]


@pytest.fixture
def sessions(fresh_sessions):
    return fresh_sessions


@pytest.fixture
def web(sessions, clock, tmp_path):
    """The web app; its jobs run at once where they are started (memory://), with uploads
    in a data directory of the test's own."""
    app = create_app(Settings(database_url="sqlite://", secret_key="x", queue_url="memory://",
                              data_dir=str(tmp_path), max_upload_bytes=3_000_000),
                     sessions=sessions, clock=clock)
    with TestClient(app) as client:
        yield client


def signed_in(web, sessions, **flags):
    """Sign the browser in as a new user (``organisation``/``role`` or user flags)."""
    with transaction(sessions) as writer:
        organisation = flags.pop("organisation", None)
        if organisation is not None:
            organisation = writer.merge(organisation)
        user = make_user(writer, organisation, flags.pop("role", "member"), **flags)
        return sign_in(web, writer, user)


def upload(web, token, text: str | bytes, *, format="participations", name="file.csv"):
    body = text.encode() if isinstance(text, str) else text
    return web.post("/imports", data={"csrf_token": token, "format": format},
                    files={"file": (name, body)}, follow_redirects=False)


def count(sessions, model) -> int:
    with transaction(sessions, writes=False) as reader:
        return reader.scalar(select(func.count()).select_from(model))


def test_a_dry_run_counts_then_one_click_imports_the_file(web, sessions, tmp_path):
    token = signed_in(web, sessions, is_platform_admin=True)
    assert "Check the file" in web.get("/imports").text
    checked = upload(web, token, HEADER + "".join(GOOD))
    assert checked.status_code == 303
    page = web.get(checked.headers["location"]).text
    assert "What the import would do" in page and "Import these rows" in page
    assert count(sessions, Organisation) == 0  # a dry run writes nothing
    check_id = checked.headers["location"].rsplit("/", 1)[1]

    imported = web.post(f"/imports/{check_id}/import", data={"csrf_token": token},
                        follow_redirects=False)
    assert imported.status_code == 303
    page = web.get(imported.headers["location"]).text
    assert "What was imported" in page
    assert (count(sessions, Organisation), count(sessions, Participation)) == (2, 3)
    assert list((tmp_path / "uploads").iterdir()) == []  # the upload is gone once imported
    again = web.post(f"/imports/{check_id}/import", data={"csrf_token": token})
    assert again.status_code == 409 and "imported already" in again.text


def test_every_bad_line_is_listed_and_nothing_is_written(web, sessions):
    token = signed_in(web, sessions, is_platform_admin=True)
    bad = ["x,participant,900000003,PRC,,DE,,,,\n"] * 600 + ["1003,boss,900000004,PRC,,DE,,,,\n"]
    checked = upload(web, token, HEADER + "".join(GOOD + bad))
    job_page = checked.headers["location"]
    page = web.get(job_page).text
    assert "Nothing was written" in page and "601 problems" in page
    assert "Import these rows" not in page
    assert "<td>5</td><td>rcn</td>" in page  # the first bad line, by its number in the file
    problems = list(csv.DictReader(io.StringIO(web.get(f"{job_page}/file").text)))
    assert len(problems) == 601 and problems[-1]["line"] == "605" and problems[-1]["field"] == "role"
    refused = web.post(f"{job_page.replace('/jobs/', '/imports/')}/import", data={"csrf_token": token})
    assert refused.status_code == 409
    assert count(sessions, Organisation) == 0


def test_a_file_larger_than_a_form_but_within_the_upload_limit_is_accepted(web, sessions, shared_data):
    token = signed_in(web, sessions, is_platform_admin=True)
    with gzip.open(PARTICIPATIONS, "rt") as full:
        lines = [next(full) for _ in range(20_000)]
    packed = gzip.compress("".join(lines).encode())
    assert 1_000_000 < len(packed) < 3_000_000 or len("".join(lines)) > 1_000_000
    body = "".join(lines).encode()[:2_500_000]
    body = body[:body.rfind(b"\n") + 1]
    assert len(body) > 1_000_000
    checked = upload(web, token, body)
    assert checked.status_code == 303
    assert "What the import would do" in web.get(checked.headers["location"]).text
    too_large = upload(web, token, b"x" * 3_100_000)
    assert too_large.status_code == 413
    elsewhere = web.post("/orgs/new", data={"csrf_token": token, "name": "x" * 1_100_000})
    assert elsewhere.status_code == 413  # other forms keep the small limit


def test_public_data_needs_a_platform_admin(web, sessions):
    with transaction(sessions) as writer:
        own = make_organisation(writer, external_id="OWN")
    token = signed_in(web, sessions, organisation=own, role="admin")
    refused = upload(web, token, HEADER + "".join(GOOD))
    assert refused.status_code == 403 and "platform administrators" in refused.text
    assert "H2020 participations" not in web.get("/imports").text
    visitor = TestClient(web.app)
    assert visitor.get("/imports", follow_redirects=False).status_code == 303  # to sign in


def test_a_template_is_held_to_the_rights_of_whoever_uploads_it(web, sessions):
    with transaction(sessions) as writer:
        own = make_organisation(writer, external_id="OWN", name="Own GmbH")
        other = make_organisation(writer, external_id="OTHER", name="Other SA")
    token = signed_in(web, sessions, organisation=own, role="member")
    rows = ("record,external_id,name,partner,kind\n"
            "organisation,OTHER,Renamed by a stranger,,\n"
            "organisation,NEWCO,New Partner Ltd,,company\n"
            "relationship,OWN,,NEWCO,supplier\n"
            "relationship,OTHER,,OWN,customer\n")
    checked = upload(web, token, rows, format="template")
    page = web.get(checked.headers["location"]).text
    assert "Nothing was written" in page
    assert "you may record relationships only for an organisation you belong to" in page
    fixed = upload(web, token, rows.rsplit("relationship,OTHER", 1)[0], format="template")
    page = web.get(fixed.headers["location"]).text
    assert "1 row would be skipped" in page and "you do not administer" in page
    check_id = fixed.headers["location"].rsplit("/", 1)[1]
    web.post(f"/imports/{check_id}/import", data={"csrf_token": token})
    with transaction(sessions, writes=False) as reader:
        assert reader.get(Organisation, other.id).name == "Other SA"
        assert reader.scalar(select(Organisation.name).where(Organisation.external_id == "NEWCO")) \
            == "New Partner Ltd"
        tie = reader.scalars(select(Relationship)).one()
        assert (tie.organisation_id, tie.visibility) == (own.id, "private")


def test_the_api_imports_a_file_in_a_job(web, sessions):
    with transaction(sessions) as writer:
        admin = make_user(writer, is_platform_admin=True)
        write, read = bearer(writer, admin), bearer(writer, admin, scope="read")
    files = {"file": ("p.csv", (HEADER + "".join(GOOD)).encode())}
    assert web.post("/api/v1/imports", data={"format": "participations"}, files=files,
                    headers=read).status_code == 403
    started = web.post("/api/v1/imports", data={"format": "participations", "dry_run": "false"},
                       files=files, headers=write)
    assert started.status_code == 202
    job = web.get(started.headers["location"], headers=read).json()
    assert job["status"] == "done" and job["result"]["counts"]["participations"]["added"] == 3
    unknown = web.post("/api/v1/imports", data={"format": "nonsense"}, files=files, headers=write)
    assert unknown.status_code == 422 and unknown.json()["error"]["problems"][0]["field"] == "format"


def test_an_import_job_run_again_after_being_killed_leaves_the_same_result(web, sessions):
    """Its work and its result commit together: a run after a kill between that commit and
    the job's end (its worker gone, its heartbeat stale) adds nothing twice and reports the
    same counts."""

    from innonet.db import utcnow
    from innonet.jobs import service as jobs
    from innonet.jobs.models import Job

    token = signed_in(web, sessions, is_platform_admin=True)
    checked = upload(web, token, HEADER + "".join(GOOD))
    imported = web.post(f"{checked.headers['location'].replace('/jobs/', '/imports/')}/import",
                        data={"csrf_token": token}, follow_redirects=False)
    job_id = int(imported.headers["location"].rsplit("/", 1)[1])
    first = (count(sessions, Organisation), count(sessions, Participation))
    with transaction(sessions) as writer:
        job = writer.get(Job, job_id)
        result = job.result
        job.status, job.heartbeat_at = "running", utcnow() - 2 * jobs.LEASE
    assert jobs.run(sessions, job_id, web.app.state.settings) is None
    with transaction(sessions, writes=False) as reader:
        again = reader.get(Job, job_id)
        assert (again.status, again.attempts, again.result) == ("done", 2, result)
    assert (count(sessions, Organisation), count(sessions, Participation)) == first == (2, 3)
