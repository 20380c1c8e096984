"""Partner finder speed on the full H2020 participations (27,411 organisations).

Imports the participations and project texts into a new SQLite database, then times, in
one process: building the finder's history from the database, learning and storing the
two rankers (``innonet train-rankers``, once per history), 1,000 batch queries (new partners, k = 20) for 1,000 companies
drawn at random, and one organisation's recommendations through the API of a real
server (k = 20, with and without a need text). Prints the figures; asserts nothing about
time.

    .venv/bin/python benchmarks/bench_recommend.py
"""

import random
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from live_server import INNONET, innonet_server

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
PARTICIPATIONS = DATA / "h2020-participations-2014-2018.csv.gz"
TEXTS = DATA / "h2020-project-texts-2014-2018.csv.gz"
QUERIES = 1000
API_REQUESTS = 200
NEEDS = ("hydrogen fuel cells for heavy-duty trucks", "bio-based barrier coating for food "
         "packaging", "satellite data for crop monitoring", "", "machine learning for "
         "predictive maintenance of wind turbines")


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def main():
    from sqlalchemy import select

    from innonet.db import make_engine, make_session_factory
    from innonet.matching import service
    from innonet.organisations.models import Organisation

    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/bench.db"
        for kind, file in (("participations", PARTICIPATIONS), ("project-texts", TEXTS)):
            subprocess.run([INNONET, "--db", url, "import", kind, str(file)], check=True,
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
            seconds, _ = timed(service.train_rankers, session)
            session.commit()
            print(f"innonet train-rankers, both rankers (once per history): {seconds:.1f} s")
            seconds, rows = timed(service.batch_new_partners, session, asked, 20, print)
            print(f"{QUERIES:,} batch queries (k = 20): {seconds:.1f} s "
                  f"({seconds / QUERIES * 1000:.0f} ms each, {len(rows):,} rows)")
        api_latency(url, asked)


def api_latency(url: str, asked: list[str]) -> None:
    """p50 and p95 of GET /api/v1/orgs/{id}/recommendations on ``innonet serve`` in its
    own process, after one warm-up request (which builds the visitor's network analysis,
    once per data version). Each pass asks for organisations not asked before, so no
    request finds its walk already kept."""
    with innonet_server(url) as (_, base), httpx.Client(base_url=base, timeout=600) as client:
        seconds, _ = timed(client.get, f"/api/v1/orgs/{asked[0]}/recommendations")
        print(f"first API request (network analysis for the viewer): {seconds:.1f} s")
        for with_need in (False, True):
            times = []
            first = 1 + with_need * API_REQUESTS
            for i, org in enumerate(asked[first:first + API_REQUESTS]):
                params = {"k": 20, "need": NEEDS[i % len(NEEDS)]} if with_need else {"k": 20}
                seconds, response = timed(client.get, f"/api/v1/orgs/{org}/recommendations",
                                          params=params)
                response.raise_for_status()
                times.append(seconds * 1000)
            p95 = statistics.quantiles(times, n=20)[-1]
            print(f"API recommendations {'with a need' if with_need else 'from the profile'}: "
                  f"p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms "
                  f"({len(times)} requests, k = 20)")


if __name__ == "__main__":
    main()
