"""Partner finder speed on the full H2020 participations (27,411 organisations).

Imports the participations and project texts into a new SQLite database, then times, in
one process: building the finder's history from the database, learning the two rankers
(once per data version), and 1,000 batch queries (new partners, k = 20) for 1,000
companies drawn at random. Prints the figures; asserts nothing about time.

    .venv/bin/python benchmarks/bench_recommend.py
"""

import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
PARTICIPATIONS = DATA / "h2020-participations-2014-2018.csv.gz"
TEXTS = DATA / "h2020-project-texts-2014-2018.csv.gz"
QUERIES = 1000


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def main():
    from innonet.db import make_engine, make_session_factory
    from innonet.matching import ranker, service
    from innonet.organisations.models import Organisation
    from sqlalchemy import select

    innonet = str(Path(sys.executable).parent / "innonet")
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/bench.db"
        for kind, file in (("participations", PARTICIPATIONS), ("project-texts", TEXTS)):
            subprocess.run([innonet, "--db", url, "import", kind, str(file)], check=True,
                           capture_output=True)
        sessions = make_session_factory(make_engine(url))
        with sessions() as session:
            companies = session.scalars(select(Organisation.external_id)
                                        .where(Organisation.kind == "company")
                                        .order_by(Organisation.external_id)).all()
            asked = random.Random(1).sample(companies, QUERIES)
            seconds, finder = timed(service.finder, session)
            print(f"history from the database: {seconds:.1f} s "
                  f"({finder.history.n:,} organisations, {finder.history.m:,} projects)")
            for question in (ranker.NEW_PARTNERS, ranker.CONSORTIUM):
                seconds, _ = timed(finder.model, question)
                print(f"learning the {question} ranker (once per data version): {seconds:.1f} s")
            seconds, rows = timed(service.batch_new_partners, session, asked, 20, print)
            print(f"{QUERIES:,} batch queries (k = 20): {seconds:.1f} s "
                  f"({seconds / QUERIES * 1000:.0f} ms each, {len(rows):,} rows)")


if __name__ == "__main__":
    main()
