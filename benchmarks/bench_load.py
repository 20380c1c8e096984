"""Load: 50 people at once for 120 s (locust), on PostgreSQL with the full H2020
participations, against ``innonet serve --workers N`` for N = 1, 2 and 4.

Imports the participations file (26,000 organisations, 91,000 participations) into a
database once, learns the partner finder's rankers there (as after any import, minutes of
a worker's time), gives 50 organisations an admin each, and copies that database for
every run: each run measures steady use, not the hour after an import (the training job
the import queued finds the rankers stored and ends at once). Each run starts the server
(its job worker beside it), waits until the network analysis is ready (the first one takes
a worker about a minute), then lets locust's users
(benchmarks/locustfile.py) browse the directory and organisation pages, open their
diagnosis, ask for partners, record relationships with the form, record and share them
through the API, and sign out and in again, each reading 1 to 3 s between actions.
Afterwards every acknowledged write is looked up in the database. Prints the figures;
asserts nothing about time.

    INNONET_TEST_POSTGRESQL_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python benchmarks/bench_load.py [--workers 1,2,4] [--users 50] [--seconds 120]
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import httpx
from live_server import INNONET, innonet_server, new_database
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
PARTICIPATIONS = ROOT.parent / "shared" / "data" / "h2020-participations-2014-2018.csv.gz"
LOCUST = str(Path(sys.executable).parent / "locust")
PASSWORD = "a load-test password"
FIRST_ANALYSIS_WAIT = 600  # seconds


def prepare(url: str, users: int) -> dict:
    """Import the participations and make one admin per user; returns the accounts."""
    from innonet.accounts import service as accounts
    from innonet.db import make_engine, make_session_factory, transaction
    from innonet.organisations.models import Organisation

    started = time.perf_counter()
    subprocess.run([INNONET, "--db", url, "import", "participations", str(PARTICIPATIONS)],
                   check=True, capture_output=True)
    print(f"imported the participations in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    subprocess.run([INNONET, "--db", url, "train-rankers"], check=True, capture_output=True)
    print(f"learned the rankers in {time.perf_counter() - started:.0f} s")
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        ids = session.scalars(select(Organisation.external_id).order_by(Organisation.id)).all()
        chosen = random.Random(14).sample(list(ids), users)
        by_id = dict(session.execute(select(Organisation.external_id, Organisation.id)
                                     .where(Organisation.external_id.in_(chosen))).all())
        accounts_out = []
        for n, external_id in enumerate(chosen):
            user = accounts.create_user(session, email=f"member{n}@load.example.org",
                                        password=PASSWORD)
            accounts.set_membership(session, user=user, organisation_id=by_id[external_id],
                                    role="admin")
            _, token = accounts.create_token(session, user=user, name="load", scope="write")
            accounts_out.append({"org": external_id, "email": user.email, "token": token})
    engine.dispose()
    return {"users": accounts_out, "password": PASSWORD,
            "organisations": random.Random(7).sample(list(ids), 2000)}


def copy_database(template: str) -> str:
    """A new PostgreSQL database made from ``template`` (CREATE DATABASE … TEMPLATE)."""
    server = make_url(template)
    name = f"innonet_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{server.database}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    server = make_url(url)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{server.database}" WITH (FORCE)'))
    admin.dispose()


def wait_for_analysis(base: str, accounts: dict, workers: int) -> float:
    """Ask for a diagnosis until the analysis is ready, then once more per server process
    for each to load it; returns the seconds waited."""
    started = time.perf_counter()
    organisation = accounts["users"][0]["org"]
    while time.perf_counter() - started < FIRST_ANALYSIS_WAIT:
        if httpx.get(f"{base}/orgs/{organisation}/diagnosis", timeout=60).status_code == 200:
            break
        time.sleep(2)
    for _ in range(4 * workers):  # new connections: the processes take turns
        httpx.get(f"{base}/orgs/{organisation}/diagnosis", timeout=60)
    return time.perf_counter() - started


def run(template: str, accounts: dict, *, workers: int, users: int, seconds: int) -> None:
    from innonet.collaborations.models import Relationship
    from innonet.organisations.models import Organisation
    from innonet.sharing.models import Share

    url = copy_database(template)
    try:
        with tempfile.TemporaryDirectory() as directory:
            users_file, results_file = Path(directory, "users.json"), Path(directory, "results.json")
            users_file.write_text(json.dumps(accounts))
            log = Path(directory, "server.log").open("w+")
            with innonet_server(url, log=log, args=("--workers", str(workers))) as (_, base):
                waited = wait_for_analysis(base, accounts, workers)
                subprocess.run([LOCUST, "-f", str(Path(__file__).with_name("locustfile.py")),
                                "--headless", "--users", str(users), "--spawn-rate", "10",
                                "--run-time", f"{seconds}s", "--host", base, "--only-summary",
                                "--loglevel", "WARNING"],
                               env=os.environ | {"INNONET_LOAD_USERS": str(users_file),
                                                 "INNONET_LOAD_RESULTS": str(results_file)},
                               check=False, capture_output=True)
            results = json.loads(results_file.read_text())
            log.seek(0)
            server_log = log.read()
        engine = create_engine(url)
        with engine.connect() as connection:
            external = dict(connection.execute(select(Organisation.id, Organisation.external_id)).all())
            stored = {(external[r.organisation_id], external[r.partner_id], r.kind)
                      for r in connection.execute(select(Relationship.organisation_id,
                                                         Relationship.partner_id, Relationship.kind))}
            shares = {(s.item_id, external[s.organisation_id]) for s in connection.execute(
                select(Share.item_id, Share.organisation_id).where(Share.item_type == "relationship"))}
            analyses = connection.scalar(text("select count(*) from job where kind = 'network.analysis'"))
        engine.dispose()
    finally:
        drop_database(url)
    report(results, stored, shares, server_log, workers=workers, users=users, seconds=seconds,
           waited=waited, analyses=analyses)


def report(results, stored, shares, server_log, *, workers, users, seconds, waited, analyses):
    timings = defaultdict(list)
    statuses = defaultdict(Counter)
    for name, milliseconds, status in results["timings"]:
        timings[name].append(milliseconds)
        statuses[name][status] += 1
    total = sum(len(v) for v in timings.values())
    print(f"\n--workers {workers}: {users} users for {seconds} s (first analysis ready after "
          f"{waited:.0f} s), {total:,} requests ({total / seconds:.0f} per second)")
    for name, values in sorted(timings.items()):
        print(f"  {name:28} {len(values):6,}  p50 {statistics.median(values):6.0f} ms  "
              f"p95 {percentile(values, 95):6.0f} ms  answers {dict(statuses[name])}")
    pages = [v for name, values in timings.items() if name.startswith("page") for v in values]
    print(f"  all pages: p50 {statistics.median(pages):.0f} ms, p95 {percentile(pages, 95):.0f} ms")
    errors = sum(n for counter in statuses.values() for status, n in counter.items()
                 if status == 0 or status >= 400)
    print(f"  errors (no answer, 4xx or 5xx): {errors}")
    acknowledged = {tuple(r) for r in results["relationships"]}
    missing_shares = [s for s in results["shared"] if tuple(s) not in shares]
    print(f"  acknowledged writes: {len(acknowledged):,} relationships, "
          f"{len(results['shared']):,} shares; missing from the database: "
          f"{len(acknowledged - stored)} and {len(missing_shares)}")
    print(f"  network analysis jobs run: {analyses}")
    failures = [line for line in server_log.splitlines() if "Traceback" in line or " 500" in line]
    print(f"  server log: {len(server_log.splitlines())} lines, {len(failures)} tracebacks or 500s")


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4", help="server processes, comma-separated")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=120)
    options = parser.parse_args()
    if not os.environ.get("INNONET_TEST_POSTGRESQL_URL"):
        sys.exit("Set INNONET_TEST_POSTGRESQL_URL to a PostgreSQL server (the load runs on it).")
    if not PARTICIPATIONS.exists():
        sys.exit(f"The participations file is not at {PARTICIPATIONS}.")
    with new_database("postgresql") as template:
        accounts = prepare(template, options.users)
        for workers in [int(w) for w in options.workers.split(",")]:
            run(template, accounts, workers=workers, users=options.users, seconds=options.seconds)


if __name__ == "__main__":
    main()
