"""Many people at once: 50 clients for 120 s against ``innonet serve`` on loopback.

Loads the bundled 2021 consortia (2,016 real organisations) into a new database (SQLite,
and PostgreSQL when INNONET_TEST_POSTGRESQL_URL names a server), starts the server in its
own process, and lets each client, signed in as the admin of its own organisation, mix:
pages (home, directory search, an organisation, its diagnosis, Find partners), form saves
of relationships, API writes of relationships, and wrong passwords against one account.
Then checks that every acknowledged write is in the database and that the sign-in limit
was exact. Prints the figures; asserts nothing about time.

    .venv/bin/python benchmarks/bench_concurrency.py [--clients 50] [--seconds 120] [--think 0.5]

Each client waits a random 0 to 2 x ``--think`` seconds before each request, as a person
reads a page; ``--think 0`` sends requests back to back (a stress test beyond any real use).
"""

import argparse
import random
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx
from live_server import INNONET, chosen_backends, innonet_server, new_database
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
CONSORTIA = ROOT / "src" / "innonet" / "demo" / "h2020-2021-consortia.csv.gz"
TIMEOUT = 30  # seconds; an answer slower than this counts as a freeze
KINDS = ("supplier", "customer", "research_partner", "consultant", "distributor")
PAGES = ("/", "/orgs?q=energy", "/orgs/{org}", "/orgs/{org}/diagnosis", "/projects?q=hydrogen",
         "/orgs/{org}/partners")
TARGET = "target@bench.example.org"


def prepare(url: str, clients: int):
    """Load the demo data and make one admin per client; returns (users, organisations)."""
    from innonet.accounts import service as accounts
    from innonet.db import make_engine, make_session_factory, migrate, transaction
    from innonet.organisations.models import Organisation

    subprocess.run([INNONET, "--db", url, "import", "dashboard", str(CONSORTIA)], check=True,
                   capture_output=True)
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        organisations = session.scalars(select(Organisation).order_by(Organisation.external_id)).all()
        users = []
        for n, organisation in enumerate(organisations[:clients]):
            user = accounts.create_user(session, email=f"client{n}@bench.example.org")
            accounts.set_membership(session, user=user, organisation_id=organisation.id, role="admin")
            _, token = accounts.create_token(session, user=user, name="bench", scope="write")
            users.append({"org": organisation.external_id, "session": accounts.start_session(session, user=user),
                          "token": token})
        accounts.create_user(session, email=TARGET, password="the right password here")
        ids = [o.external_id for o in organisations]
    engine.dispose()
    return users, ids


class Client(threading.Thread):
    def __init__(self, base: str, user: dict, partners: list[str], deadline: float, seed: int,
                 think: float):
        super().__init__(daemon=True)
        self.base, self.user, self.deadline, self.think = base, user, deadline, think
        self.random = random.Random(seed)
        # Each client writes ties to its own partners, each (partner, kind) once.
        self.ties = [(p, k) for p in partners for k in KINDS if p != user["org"]]
        self.random.shuffle(self.ties)
        self.latency = defaultdict(list)
        self.statuses = defaultdict(Counter)
        self.errors, self.freezes = [], 0
        self.acknowledged = []

    def run(self):
        browser = httpx.Client(base_url=self.base, timeout=TIMEOUT)
        browser.cookies.set("innonet_session", self.user["session"])
        browser.get("/login")
        csrf = browser.cookies["innonet_csrf"]
        api = httpx.Client(base_url=self.base, timeout=TIMEOUT,
                           headers={"Authorization": f"Bearer {self.user['token']}"})
        guesser = httpx.Client(base_url=self.base, timeout=TIMEOUT)
        guesser.get("/login")
        while time.perf_counter() < self.deadline:
            time.sleep(self.random.uniform(0, 2 * self.think))  # a person reads, then acts
            action = self.random.choices(("page", "form", "api", "sign-in"), (70, 12, 12, 6))[0]
            page = ""
            try:
                start = time.perf_counter()
                if action == "page":
                    page = self.random.choice(PAGES)
                    status = browser.get(page.format(org=self.user["org"])).status_code
                elif action in ("form", "api") and self.ties:
                    partner, kind = self.ties.pop()
                    if action == "form":
                        status = browser.post(f"/orgs/{self.user['org']}/relationships/new",
                                              follow_redirects=False, data={
                                                  "csrf_token": csrf, "partner": partner,
                                                  "kind": kind, "notes": "bench"}).status_code
                        ok = status == 303
                    else:
                        status = api.post("/api/v1/relationships", json={
                            "organisation": self.user["org"], "partner": partner, "kind": kind,
                            "notes": "bench"}).status_code
                        ok = status == 201
                    if ok:
                        self.acknowledged.append((self.user["org"], partner, kind))
                else:
                    action = "sign-in"
                    status = guesser.post("/login", data={
                        "email": TARGET, "password": f"guess {self.random.random()}",
                        "csrf_token": guesser.cookies["innonet_csrf"]}).status_code
                # A diagnosis nobody has computed yet may answer "being prepared" (202).
                expected = {"page": {200, 202} if "diagnosis" in page else {200}, "form": {303},
                            "api": {201}, "sign-in": {401, 429}}[action]
                label = f"page {page.split('?')[0]}" if action == "page" else action
                self.latency[label].append((time.perf_counter() - start) * 1000)
                self.statuses[label][status] += 1
                if status not in expected:
                    self.errors.append(f"{label} answered {status}")
            except httpx.TimeoutException:
                self.freezes += 1
            except httpx.HTTPError as error:
                self.errors.append(f"{action}: {type(error).__name__}")


def run(url: str, clients: int, seconds: float, think: float, keep_log: str | None = None) -> None:
    from innonet.accounts.models import LoginFailure
    from innonet.collaborations.models import Relationship
    from innonet.organisations.models import Organisation

    users, ids = prepare(url, clients)
    with tempfile.TemporaryFile("w+") as log:
        with innonet_server(url, log=log) as (_, base):
            deadline = time.perf_counter() + seconds
            threads = [Client(base, user, [ids[(clients + 37 * n + j) % len(ids)] for j in range(40)],
                              deadline, n, think) for n, user in enumerate(users)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        log.seek(0)
        log = log.read()

    latency, statuses = defaultdict(list), defaultdict(Counter)
    for thread in threads:
        for action, values in thread.latency.items():
            latency[action] += values
            statuses[action].update(thread.statuses[action])
    errors = Counter(e for thread in threads for e in thread.errors)
    freezes = sum(thread.freezes for thread in threads)
    acknowledged = {tie for thread in threads for tie in thread.acknowledged}
    engine = create_engine(url)
    with engine.connect() as connection:
        organisation = {o.id: o.external_id for o in connection.execute(
            select(Organisation.id, Organisation.external_id))}
        stored = {(organisation[r.organisation_id], organisation[r.partner_id], r.kind)
                  for r in connection.execute(select(Relationship.organisation_id,
                                                     Relationship.partner_id, Relationship.kind))}
        failures = connection.scalar(select(func.count()).where(LoginFailure.email == TARGET))
    engine.dispose()

    total = sum(len(v) for v in latency.values())
    print(f"{make_url(url).get_backend_name()}: {clients} clients for {seconds:.0f} s, "
          f"{think:.1f} s to think on average, "
          f"{total:,} requests ({total / seconds:.0f} per second)")
    for action, values in sorted(latency.items()):
        p95 = statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
        print(f"  {action:26} {len(values):6,} requests  p50 {statistics.median(values):6.0f} ms  "
              f"p95 {p95:6.0f} ms  answers {dict(statuses[action])}")
    print(f"  errors: {sum(errors.values())} {dict(errors) if errors else ''}")
    print(f"  freezes (no answer within {TIMEOUT} s): {freezes}")
    print(f"  acknowledged writes: {len(acknowledged):,}; missing from the database: "
          f"{len(acknowledged - stored)}")
    wrong = statuses["sign-in"]
    pages = [v for action, values in latency.items() if action.startswith("page") for v in values]
    print(f"  all pages: p50 {statistics.median(pages):.0f} ms, "
          f"p95 {statistics.quantiles(pages, n=20)[-1]:.0f} ms")
    print(f"  wrong passwords against one account: {sum(wrong.values())} sent, {wrong[401]} checked "
          f"(401), {wrong[429]} refused (429); failures stored: {failures} (limit 5)")
    server_errors = [line for line in log.splitlines() if "Traceback" in line or " 500" in line]
    print(f"  server log: {len(log.splitlines())} lines, {len(server_errors)} tracebacks or 500s")
    if keep_log:
        Path(keep_log).write_text(log)
        print(f"  server log kept in {keep_log}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--think", type=float, default=0.5,
                        help="mean seconds a client waits between requests (0: as fast as it can)")
    parser.add_argument("--server-log", help="keep what the server wrote in PATH.<database>.log")
    args = parser.parse_args()
    for backend in chosen_backends(args.database):
        with new_database(backend) as url:
            run(url, args.clients, args.seconds, args.think,
                args.server_log and f"{args.server_log}.{backend}.log")

if __name__ == "__main__":
    main()
