"""schemathesis against our own OpenAPI document, signed in with a write token: whatever
the generated input, no 5xx and every answer matches the document."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from innonet.app import create_app
from innonet.config import Settings
from innonet.db import make_engine, make_session_factory, migrate, transaction
from tests.factories import (
    bearer,
    make_organisation,
    make_project,
    make_relationship,
    make_user,
)

MAX_EXAMPLES = 30  # per operation; bounded so that CI stays fast
# No 5xx, and every answer (status, content type, body) is one the document declares.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def api_world(tmp_path_factory):
    """A real SQLite file with a few organisations, and a platform admin's write token."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        a, b = make_organisation(session, name="Alpha"), make_organisation(session, name="Beta")
        make_project(session, a, b, external_id="101")
        make_relationship(session, a, b, visibility="public")
        user = make_user(session, a, "admin", is_platform_admin=True, is_cluster_manager=True)
        headers = bearer(session, user, "write")
    app = create_app(Settings(database_url=url, secret_key="fuzz"), sessions=sessions)
    yield app, headers
    engine.dispose()


def test_api_conforms_to_its_openapi_document(api_world):
    app, headers = api_world
    # Made before it is fetched: on a busy machine, making the document can take longer than
    # the loader waits for an answer (10 s); fetched, the made document is only written out.
    app.openapi()
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            check()
        except (Exception, BaseExceptionGroup) as error:  # collect every operation's failure
            failures[operation.label] = str(error)[:2000]
    assert failures == {}, "\n\n".join(f"{k}: {v}" for k, v in failures.items())
