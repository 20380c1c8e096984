"""A light page while slow work runs: how fast `/login` answers during ten cold diagnoses
(each of a time window not analysed yet) and ten sign-ins (each a costly password check).

Loads the bundled 2021 consortia into a new database (SQLite, and PostgreSQL when
INNONET_TEST_POSTGRESQL_URL names a server), starts ``innonet serve`` as shipped (with its
worker process), and asks for the sign-in page every 50 ms while the slow requests run.
Prints the figures; asserts nothing about time.

    .venv/bin/python benchmarks/bench_light_page.py [--database sqlite|postgresql|both]
"""

import argparse
import statistics
import subprocess
import tempfile
import threading
import time

import httpx
from bench_concurrency import CONSORTIA
from live_server import INNONET, chosen_backends, innonet_server, new_database
from sqlalchemy import select
from sqlalchemy.engine import make_url

PASSWORD = "a long enough password"
SLOW_REQUESTS = 10


def prepare(url: str) -> tuple[list[str], list[str]]:
    """The demo data and ten accounts; returns (organisation ids, e-mail addresses)."""
    from innonet.accounts import service as accounts
    from innonet.db import make_engine, make_session_factory, transaction
    from innonet.organisations.models import Organisation

    subprocess.run([INNONET, "--db", url, "import", "dashboard", str(CONSORTIA)], check=True,
                   capture_output=True)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        organisations = session.scalars(select(Organisation.external_id).limit(SLOW_REQUESTS)).all()
        emails = [accounts.create_user(session, email=f"person{n}@bench.example.org",
                                       password=PASSWORD).email for n in range(SLOW_REQUESTS)]
    engine.dispose()
    return list(organisations), emails


def milliseconds(values: list[float]) -> str:
    p95 = statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]
    return (f"{len(values):4} answers  p50 {statistics.median(values):7.0f} ms  "
            f"p95 {p95:7.0f} ms  max {max(values):7.0f} ms")


def run(url: str) -> None:
    organisations, emails = prepare(url)
    print(f"{make_url(url).get_backend_name()}: the sign-in page asked every 50 ms while slow "
          f"requests run at once, on the 2021 consortia")
    with tempfile.TemporaryDirectory() as data_dir, \
            innonet_server(url, env={"INNONET_DATA_DIR": data_dir, "INNONET_QUEUE_URL": ""}) \
            as (_, base):
        httpx.get(f"{base}/login", timeout=30)  # the first page of a process sets it up
        windows = iter(range(1900, 2100))  # each diagnosis of a window not analysed yet
        for phase, diagnoses, sign_ins in (("nothing else (for comparison)", [], []),
                                           (f"{SLOW_REQUESTS} cold diagnoses", organisations, []),
                                           (f"{SLOW_REQUESTS} sign-ins", [], emails),
                                           ("both at once", organisations, emails)):
            light, slow, statuses = storm(base, [(o, next(windows)) for o in diagnoses], sign_ins)
            print(f"  {phase}:")
            print(f"    light page (GET /login)  {milliseconds(light)}")
            for kind, values in slow.items():
                if values:
                    print(f"    {kind:24} {milliseconds(values)}")
            print(f"    answers of the slow requests: {sorted(set(statuses))}")


def storm(base: str, diagnoses: list[tuple[str, int]], emails: list[str]):
    """Run the slow requests at once and time the light page until they are all answered."""
    light, slow, statuses = [], {"diagnosis": [], "sign-in": []}, []

    def timed(kind, call):
        start = time.perf_counter()
        statuses.append(call().status_code)
        slow[kind].append((time.perf_counter() - start) * 1000)

    def diagnosis(external_id, since):
        timed("diagnosis", lambda: httpx.get(
            f"{base}/api/v1/orgs/{external_id}/diagnosis?since={since}", timeout=60))

    def sign_in(email):
        with httpx.Client(base_url=base, timeout=60) as browser:
            browser.get("/login")
            timed("sign-in", lambda: browser.post("/login", follow_redirects=False, data={
                "email": email, "password": PASSWORD,
                "csrf_token": browser.cookies["innonet_csrf"]}))

    threads = [threading.Thread(target=diagnosis, args=d) for d in diagnoses]
    threads += [threading.Thread(target=sign_in, args=(e,)) for e in emails]
    for thread in threads:
        thread.start()
    # One browser that keeps its connection, as a person's browser does.
    with httpx.Client(base_url=base, timeout=30) as browser:
        while any(thread.is_alive() for thread in threads) or len(light) < 20 and not threads:
            start = time.perf_counter()
            browser.get("/login")
            light.append((time.perf_counter() - start) * 1000)
            time.sleep(0.05)
    for thread in threads:
        thread.join()
    return light, slow, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    for backend in chosen_backends(args.database):
        with new_database(backend) as url:
            run(url)

if __name__ == "__main__":
    main()
