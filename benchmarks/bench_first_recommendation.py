"""The first recommendation after an import: how long it takes to answer.

Loads the full H2020 participations and project texts into a new database, starts
``innonet serve`` (its worker beside it), then imports through the API, as a person would:
a template that adds an organisation, and the 2021 consortia (new projects and
participations, which the partner finder learns from). After each import's job is done it
asks for partners at once and then every half second for 20 s (while the server makes the
new data ready beside the requests), and prints the first answer's time, whether the learned
ranker or the network walk ordered it, and the median and slowest of those 20 s. Asserts
nothing about time.

    .venv/bin/python benchmarks/bench_first_recommendation.py [--database sqlite|postgresql|both]
"""

import argparse
import subprocess
import time
from pathlib import Path

import httpx
from live_server import INNONET, chosen_backends, innonet_server, new_database
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CONSORTIA = ROOT / "src" / "innonet" / "demo" / "h2020-2021-consortia.csv.gz"
TEMPLATE = (b"record,external_id,name,kind,country,capabilities\n"
            b"organisation,BENCH-NEW,Bench Coatings GmbH,company,DE,"
            b"bio-based barrier coatings for paper food packaging\n")
LOG = Path("/tmp/bench-first-recommendation.log")
NEED = "bio-based barrier coating for food packaging"
ASKER = "916785413"  # an organisation of the participations file
WATCH = 20.0  # seconds after an import in which the partner finder is asked again and again


def prepare(url: str) -> str:
    """Import the data; returns a write token of a platform admin."""
    from innonet.accounts import service as accounts
    from innonet.db import make_engine, make_session_factory, transaction

    for kind, path in (("participations", DATA / "h2020-participations-2014-2018.csv.gz"),
                       ("project-texts", DATA / "h2020-project-texts-2014-2018.csv.gz")):
        subprocess.run([INNONET, "--db", url, "import", kind, str(path)], check=True,
                       capture_output=True)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        admin = accounts.create_user(session, email="admin@bench.example.org",
                                     is_platform_admin=True)
        _, token = accounts.create_token(session, user=admin, name="bench", scope="write")
    engine.dispose()
    return token


def ask(api: httpx.Client, asker: str) -> tuple[float, str]:
    started = time.perf_counter()
    answer = api.get(f"/api/v1/orgs/{asker}/recommendations", params={"need": NEED, "k": 10})
    elapsed = (time.perf_counter() - started) * 1000
    answer.raise_for_status()
    body = answer.json()
    ordered = "learned ranker" if body["learned_ranker"] else "network walk (ranker being learned)"
    return elapsed, ordered


def import_file(api: httpx.Client, format: str, name: str, content: bytes) -> float:
    """Import through the API and wait for its job; returns the seconds it took."""
    started = time.perf_counter()
    job = api.post("/api/v1/imports", data={"format": format, "dry_run": "false"},
                   files={"file": (name, content)}).json()
    while job["status"] in ("queued", "running"):
        time.sleep(0.2)
        job = api.get(f"/api/v1/jobs/{job['id']}").json()
    if job["status"] != "done":
        raise RuntimeError(f"the import failed: {job['message']}")
    return time.perf_counter() - started


def run(url: str) -> None:
    token = prepare(url)
    print(f"{make_url(url).get_backend_name()}: full participations and project texts loaded")
    with innonet_server(url, log=LOG.open("w")) as (_, base):
        api = httpx.Client(base_url=base, timeout=300,
                           headers={"Authorization": f"Bearer {token}"})
        elapsed, ordered = ask(api, ASKER)  # the server's first: it builds the finder
        print(f"  first recommendation after the start: {elapsed:,.0f} ms ({ordered})")
        for label, (format, name, content) in {
                "a template adding an organisation": ("template", "new.csv", TEMPLATE),
                "the 2021 consortia (new projects)": ("dashboard", CONSORTIA.name,
                                                      CONSORTIA.read_bytes())}.items():
            seconds = import_file(api, format, name, content)
            print(f"  import of {label}: job done in {seconds:.1f} s")
            # The server makes the new data ready beside the requests (the finder, the
            # analysis a worker stored): every answer of that time counts, not only the first.
            answers = []
            until = time.monotonic() + WATCH
            while time.monotonic() < until:
                answers.append(ask(api, ASKER))
                time.sleep(0.5)
            elapsed, ordered = answers[0]
            print(f"    first recommendation after it: {elapsed:,.0f} ms ({ordered})")
            times = sorted(elapsed for elapsed, _ in answers)
            print(f"    {len(times)} asked in the {WATCH:.0f} s after it: median "
                  f"{times[len(times) // 2]:,.0f} ms, slowest {times[-1]:,.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    for backend in chosen_backends(parser.parse_args().database):
        with new_database(backend) as url:
            run(url)


if __name__ == "__main__":
    main()
