"""KPIs at size, on the shared participations file (27,411 organisations, 2014-2018).

    .venv/bin/python benchmarks/bench_kpis.py [--requests 300]

Part 1 imports the file into a new SQLite database and times every organisation's network
figures for each year 2014-2018 (partners, new and lost partners, breadth, Blau diversity,
country HHI, dependence on the largest partner, Burt's constraint and its percentile), then
the daily job's whole run (all years the data holds, stored). Part 2 gives 30 random
organisations a member each, starts the real server and requests their KPIs for 2018
(`GET /api/v1/orgs/{id}/kpis?period=2018`) and their dashboard page over HTTP.
Targets on a 2-core machine: network figures for 2014-2018 <= 30 s; KPIs p95 <= 150 ms.
"""

import argparse
import random
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import numpy as np
from live_server import INNONET, innonet_server

from innonet.accounts import service as accounts
from innonet.db import make_engine, make_session_factory, transaction
from innonet.kpis import network_figures
from innonet.organisations.models import Organisation
from innonet.schema import load_models
from innonet.web import SESSION_COOKIE

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "h2020-participations-2014-2018.csv.gz"
YEARS = list(range(2014, 2019))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    load_models()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/bench.db"
        subprocess.run([INNONET, "--db", url, "import", "participations", str(DATA)], check=True,
                       capture_output=True)
        sessions = make_session_factory(make_engine(url))
        start = time.perf_counter()
        with transaction(sessions, writes=False) as session:
            network = network_figures.public_network(session)
        read = time.perf_counter() - start
        start = time.perf_counter()
        found = network_figures.compute(network, YEARS)
        computed = time.perf_counter() - start
        n = network.organisation_ids.size
        print(f"network figures of {n:,} organisations for {YEARS[0]}-{YEARS[-1]}: "
              f"{computed:.1f} s (+ {read:.1f} s reading the database); "
              f"target <= 30 s: {'ok' if computed + read <= 30 else 'SLOWER THAN TARGET'}")
        for row, year in enumerate(YEARS):
            partnered = found["partners"][row] > 0
            print(f"  {year}: {int(partnered.sum()):,} organisations with partners, "
                  f"median partners {np.median(found['partners'][row][partnered]):.0f}, "
                  f"median country HHI {np.nanmedian(found['country_hhi'][row]):.2f}")
        start = time.perf_counter()
        with transaction(sessions) as session:
            stored = network_figures.refresh(session, this_year=date.today().year)
        print(f"daily job, all years held ({stored['years']}), computed and stored: "
              f"{time.perf_counter() - start:.1f} s, {stored['rows']:,} rows")

        rng = random.Random(18)
        with transaction(sessions) as session:
            orgs = session.query(Organisation.id, Organisation.external_id).order_by(Organisation.id).all()
            chosen = rng.sample(orgs, 30)
            tokens, cookies = {}, {}
            for organisation_id, external_id in chosen:
                user = accounts.create_user(session, email=f"bench-{external_id}@example.org",
                                            password="correct horse battery staple")
                accounts.set_membership(session, user=user, organisation_id=organisation_id, role="member")
                tokens[external_id] = accounts.create_token(session, user=user, name="bench", scope="read")[1]
                cookies[external_id] = accounts.start_session(session, user=user)
        with innonet_server(url) as (_, base), httpx.Client(base_url=base, timeout=60) as client:
            asked = [rng.choice(list(tokens)) for _ in range(args.requests)]
            for external_id in list(tokens)[:5]:  # warm up: first queries of each kind
                client.get(f"/api/v1/orgs/{external_id}/kpis", params={"period": "2018"},
                           headers={"Authorization": f"Bearer {tokens[external_id]}"})
            latencies = []
            for external_id in asked:
                start = time.perf_counter()
                answer = client.get(f"/api/v1/orgs/{external_id}/kpis", params={"period": "2018"},
                                    headers={"Authorization": f"Bearer {tokens[external_id]}"})
                latencies.append(time.perf_counter() - start)
                assert answer.status_code == 200, answer.text
            pages = []
            for external_id in asked:
                start = time.perf_counter()
                answer = client.get(f"/orgs/{external_id}/kpis", params={"period": "2018"},
                                    cookies={SESSION_COOKIE: cookies[external_id]})
                pages.append(time.perf_counter() - start)
                assert answer.status_code == 200, answer.text
    for what, measured in (("KPIs of one organisation (API)", latencies), ("its dashboard page", pages)):
        ms = np.array(measured) * 1000
        p95 = float(np.percentile(ms, 95))
        print(f"{what} over HTTP ({args.requests} requests, {len(tokens)} organisations): "
              f"p50 {np.percentile(ms, 50):.1f} ms, p95 {p95:.1f} ms, max {ms.max():.1f} ms; "
              f"target p95 <= 150 ms: {'ok' if p95 <= 150 else 'SLOWER THAN TARGET'}")


if __name__ == "__main__":
    main()
