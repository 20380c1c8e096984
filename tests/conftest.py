"""Real databases for the tests: SQLite always, PostgreSQL when INNONET_TEST_POSTGRESQL_URL is set.

Most tests run inside a transaction that is rolled back at the end; tests of whole
commands get a fresh, empty database of their own.
"""

import gzip
import os
import shutil
import tempfile
import uuid
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from innonet import terminal
from innonet.app import create_app
from innonet.config import Settings
from innonet.db import make_engine, make_session_factory, migrate, transaction

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PARTICIPATIONS = DATA / "h2020-participations-2014-2018.csv.gz"
PROJECT_TEXTS = DATA / "h2020-project-texts-2014-2018.csv.gz"
CONSORTIA = Path(__file__).resolve().parents[1] / "src" / "innonet" / "demo" / "h2020-2021-consortia.csv.gz"
POSTGRESQL_URL = os.environ.get("INNONET_TEST_POSTGRESQL_URL")
# A job runs where it is started, so that a test sees its result in the same request; the
# tests of the queue itself start worker processes on queues of their own.
os.environ["INNONET_QUEUE_URL"] = "memory://"
# The tests' sessions share one connection: no thread of the app may use it on its own.
os.environ["INNONET_PREFETCH"] = "false"
os.environ["INNONET_DATA_DIR"] = tempfile.mkdtemp(prefix="innonet-test-data-")
# CI sets this: there a missing service is a failure, not a reason to skip.
REQUIRE_ALL = os.environ.get("INNONET_REQUIRE_ALL_SUITES") == "1"
# Without a terminal, the commands' messages wrap at 80 columns: in the tests, wide enough
# that no temporary path is cut in two, whatever the folder the tests run in.
terminal.console.width = terminal.UNBOUNDED_WIDTH


def skip_or_fail(reason: str) -> None:
    if REQUIRE_ALL:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not PARTICIPATIONS.exists():
        skip_or_fail(f"the shared data sets are not at {DATA}")
    return DATA


def pytest_collection_modifyitems(config, items):
    """A test marked ``database_independent`` runs on SQLite alone (see the marker)."""
    dropped = [item for item in items if item.get_closest_marker("database_independent")
               and getattr(item, "callspec", None) and item.callspec.params.get("backend") == "postgresql"]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request) -> str:
    if request.param == "postgresql" and not POSTGRESQL_URL:
        skip_or_fail("PostgreSQL suite off: set INNONET_TEST_POSTGRESQL_URL to run it")
    return request.param


class DatabaseFactory:
    """Creates databases (a SQLite file, or a PostgreSQL database) and drops them: empty
    ones, or copies of one migrated once per test process (migrating takes about a
    second; copying a file or a PostgreSQL template, a fraction of that)."""

    def __init__(self, backend: str, directory: Path):
        self.backend, self.directory, self.created = backend, directory, []
        self._template: str | None = None

    def new(self, *, migrated: bool = False) -> str:
        name = f"innonet_test_{uuid.uuid4().hex[:12]}"
        template = self._migrated_template() if migrated else None
        if self.backend == "sqlite":
            path = self.directory / f"{name}.db"
            if template:
                shutil.copyfile(self.directory / f"{template}.db", path)
            return f"sqlite:///{path}"
        with self._admin() as admin:
            admin.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        self.created.append(name)
        return make_url(POSTGRESQL_URL).set(database=name).render_as_string(hide_password=False)

    def _migrated_template(self) -> str:
        if self._template is None:
            url = self.new()
            engine = make_engine(url)
            migrate(engine)
            engine.dispose()  # PostgreSQL copies a template only while nobody is connected to it
            self._template = make_url(url).database if self.backend == "postgresql" \
                else Path(make_url(url).database).stem
        return self._template

    def _admin(self):
        engine = create_engine(make_url(POSTGRESQL_URL).set(database="postgres"),
                               isolation_level="AUTOCOMMIT")
        return engine.connect()

    def drop_all(self) -> None:
        if self.created:
            with self._admin() as admin:
                for name in self.created:
                    admin.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def databases(backend, tmp_path_factory):
    factory = DatabaseFactory(backend, tmp_path_factory.mktemp(backend))
    yield factory
    factory.drop_all()


@pytest.fixture
def database_url(databases) -> str:
    """The URL of a new database of the test's own, its schema in place."""
    return databases.new(migrated=True)


@pytest.fixture
def fresh_sessions(database_url):
    """Sessions on a database of the test's own: each transaction commits for real, as in
    a server and its worker processes."""
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def consortia_database(database_url, fresh_sessions):
    """A database of its own holding the 2021 consortia (2,016 organisations): its URL and
    sessions that commit for real."""
    from innonet.imports import service as imports

    with transaction(fresh_sessions) as session, gzip.open(CONSORTIA, "rb") as raw:
        imports.import_dashboard(session, file=raw)
    return database_url, fresh_sessions


@pytest.fixture(scope="session")
def engine(databases):
    engine = make_engine(databases.new(migrated=True))
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    """Sessions inside one outer transaction that is rolled back after the test."""
    with engine.connect() as connection:
        outer = connection.begin()
        yield sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                           expire_on_commit=False)
        outer.rollback()


@pytest.fixture
def session(sessions):
    with sessions() as session:
        yield session


class Clock:
    """Today's date for the access policy, set by the test (agreements end on a date)."""

    def __init__(self):
        self.today = date.today()

    def __call__(self) -> date:
        return self.today


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(sessions, clock, tmp_path):
    return create_app(Settings(database_url="sqlite://", secret_key="test-secret", data_dir=str(tmp_path)),
                      sessions=sessions, clock=clock)


@pytest.fixture
def client(app):
    with TestClient(app) as client:
        yield client
