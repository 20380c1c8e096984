"""Import time of the 91k-row H2020 participations file, on SQLite and (if given) PostgreSQL.

    python benchmarks/bench_import.py [--postgresql postgresql+psycopg://postgres@127.0.0.1/test]

Each run imports into a new, empty database and then re-imports (nothing to write).
Targets on a 2-core machine: <= 20 s on SQLite, <= 30 s on PostgreSQL.
"""

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from innonet.db import make_engine, make_session_factory, migrate, transaction
from innonet.imports import service

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "h2020-participations-2014-2018.csv.gz"
TARGETS = {"sqlite": 20.0, "postgresql": 30.0}


def timed_import(url: str) -> tuple[float, float]:
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    times = []
    for _ in range(2):  # first import, then the idempotent re-import
        start = time.perf_counter()
        with transaction(sessions) as session, DATA.open("rb") as f:
            service.import_participations(session, file=f)
        times.append(time.perf_counter() - start)
    engine.dispose()
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgresql", help="URL of a PostgreSQL server to create a database on")
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as directory:
        runs.append(("sqlite", f"sqlite:///{directory}/bench.db"))
        if args.postgresql:
            name = f"innonet_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(make_url(args.postgresql).set(database="postgres"),
                                  isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            runs.append(("postgresql", make_url(args.postgresql).set(database=name)
                         .render_as_string(hide_password=False)))
        print(f"{'backend':<12}{'import s':>10}{'re-import s':>13}{'target s':>10}  verdict")
        try:
            for backend, url in runs:
                first, again = timed_import(url)
                verdict = "ok" if first <= TARGETS[backend] else "SLOWER THAN TARGET"
                print(f"{backend:<12}{first:>10.1f}{again:>13.1f}{TARGETS[backend]:>10.0f}  {verdict}")
        finally:
            if args.postgresql:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
