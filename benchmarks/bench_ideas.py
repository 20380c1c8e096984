"""The innovation workspace at size: one challenge with 10,000 ideas (the shared project
titles as their texts), 100,000 support votes and 50,000 comments, on PostgreSQL by
default. Prints the p95 of the challenge page, the idea list (API), similar ideas while
typing, and a stage change with its notifications and webhook queued. Asserts nothing.

    .venv/bin/python benchmarks/bench_ideas.py [--db URL] [--ideas 10000]

Without --db it makes (and afterwards drops) the PostgreSQL database innonet_bench_ideas on
127.0.0.1; jobs are queued on Redis (127.0.0.1:6379/14), as in production. Targets:
challenge page and idea list p95 <= 150 ms, similar ideas <= 100 ms, a stage change <= 50 ms.
"""

import argparse
import csv
import gzip
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, text

from innonet.accounts import service as accounts
from innonet.analytics import embeddings
from innonet.app import create_app
from innonet.challenges import service as challenging
from innonet.challenges.models import Comment, Follow, Idea, IdeaAuthor, IdeaEvent, Vote, new_text_version
from innonet.challenges.schemas import ChallengeIn
from innonet.config import Settings
from innonet.db import make_engine, make_session_factory, migrate, refresh_statistics, transaction, utcnow
from innonet.organisations import service as organisations
from innonet.organisations.schemas import OrganisationIn
from innonet.roles import operator
from innonet.webhooks import service as webhooks

TEXTS = Path(__file__).resolve().parents[1] / "../shared/data/h2020-project-texts-2014-2018.csv.gz"
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
QUEUE_URL = "redis://127.0.0.1:6379/14"  # the production queue; nobody works it off here
NAME = "innonet_bench_ideas"
TYPED = ["lighter pallets from recycled carbon fibre", "hydrogen fuel cells for heavy trucks",
         "early detection of antimicrobial resistance", "smart grid flexibility for households",
         "recycling lithium-ion batteries", "drones for precision agriculture", "quantum-safe cryptography",
         "offshore wind turbine maintenance robots", "biodegradable food packaging films", "circular textiles"]


def p95(times: list[float]) -> float:
    return 1000 * statistics.quantiles(times, n=20)[-1]


def build(url: str, n_ideas: int, n_votes: int, n_comments: int, seed: int = 0) -> tuple[int, list[int], list[str]]:
    """The data set; returns the challenge id, the idea ids and the e-mails of its people."""
    rng = random.Random(seed)
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    with gzip.open(TEXTS, "rt", encoding="utf-8", newline="") as f:
        titles = [r["title"] for r in csv.DictReader(f) if r["title"]]
    started = time.perf_counter()
    me = operator(date.today())
    with transaction(sessions) as session:
        orgs = [organisations.create_organisation(session, me, data=OrganisationIn(
            name=f"Bench organisation {n}", external_id=f"BENCH-{n}", kind="company", country="DE")) for n in range(50)]
        people = []
        for n in range(2000):
            user = accounts.create_user(session, email=f"person{n}@bench.example.org", name=f"Person {n}")
            accounts.set_membership(session, user=user, organisation_id=orgs[n % 50].id,
                                    role="admin" if n == 0 else "member")
            people.append(user)
        owner = accounts.viewer_of(session, user_id=people[0].id, today=date.today(), channel="api")
        challenge = challenging.create_challenge(session, owner, data=ChallengeIn(
            organisation=orgs[0].external_id, title="Ideas for the next decade", problem="Anything goes.",
            visibility="network", criteria=[{"name": "Impact"}]))
        challenge.state = "open"
        webhooks.create_webhook(session, me, external_id=orgs[0].external_id, url="https://93.184.216.34/hook",
                                events=["idea.stage_changed"])
        challenge_id, person_ids = challenge.id, [p.id for p in people]
        emails = [p.email for p in people]
    texts = [(titles[n % len(titles)] + ("" if n < len(titles) else f" (variant {n // len(titles)})"))[:200]
             for n in range(n_ideas)]
    meanings = embeddings.embed([f"{t}. {t}" for t in texts])
    now = utcnow()
    with transaction(sessions) as session:
        idea_rows = [{"organisation_id": orgs[0].id, "challenge_id": challenge_id, "title": t, "description": t,
                      "tags": "", "stage": "submitted", "visibility": "private",
                      "created_by_id": person_ids[n % 2000], "created_at": now - timedelta(minutes=n),
                      "updated_at": now - timedelta(minutes=n), "stage_changed_at": now - timedelta(minutes=n),
                      "meaning": meanings[n].tobytes(), "text_version": new_text_version()}
                     for n, t in enumerate(texts)]
        for start in range(0, n_ideas, 2000):
            session.execute(insert(Idea), idea_rows[start:start + 2000])
        idea_ids = list(session.scalars(text("SELECT id FROM idea ORDER BY id")))
        session.execute(insert(IdeaAuthor), [{"idea_id": i, "user_id": person_ids[n % 2000],
                                              "organisation_id": orgs[(n % 2000) % 50].id, "confirmed_at": now,
                                              "created_at": now} for n, i in enumerate(idea_ids)])
        session.execute(insert(Follow), [{"idea_id": i, "user_id": person_ids[n % 2000], "created_at": now}
                                         for n, i in enumerate(idea_ids)])
        session.execute(insert(IdeaEvent), [{"idea_id": i, "user_id": person_ids[n % 2000], "kind": "submitted",
                                             "to_stage": "submitted", "at": now} for n, i in enumerate(idea_ids)])
        pairs = set()
        while len(pairs) < n_votes:
            pairs.add((rng.choice(idea_ids), rng.choice(person_ids)))
        votes = [{"idea_id": i, "user_id": u, "created_at": now} for i, u in pairs]
        for start in range(0, len(votes), 10_000):
            session.execute(insert(Vote), votes[start:start + 10_000])
        comments = [{"idea_id": rng.choice(idea_ids), "user_id": rng.choice(person_ids),
                     "body": "A thought on this idea.", "created_at": now} for _ in range(n_comments)]
        for start in range(0, len(comments), 10_000):
            session.execute(insert(Comment), comments[start:start + 10_000])
        session.execute(text("UPDATE idea SET supporters = (SELECT count(*) FROM vote WHERE vote.idea_id = idea.id), "
                             "comments = (SELECT count(*) FROM comment WHERE comment.idea_id = idea.id)"))
        for table in ("idea", "idea_author", "follow", "idea_event", "vote", "comment"):
            refresh_statistics(session, table)
    print(f"data: {n_ideas:,} ideas, {n_votes:,} votes, {n_comments:,} comments in "
          f"{time.perf_counter() - started:.0f} s")
    return challenge_id, idea_ids, emails


def measure(url: str, challenge_id: int, idea_ids: list[int], emails: list[str], rounds: int) -> None:
    # Jobs are queued (a file queue nobody works off here): a request is timed up to the
    # commit that hands its webhooks and mail to the workers, as in production.
    app = create_app(Settings(database_url=url, secret_key="bench", data_dir=tempfile.mkdtemp(), prefetch=False,
                              queue_url=QUEUE_URL))
    sessions = app.state.sessions
    with transaction(sessions) as session:
        owner = accounts.get_user(session, email=emails[0])
        member = accounts.get_user(session, email=emails[7])
        owner_token, member_token = ({"Authorization": "Bearer " + accounts.create_token(
            session, user=user, name="bench", scope="write")[1]} for user in (owner, member))
        cookie = accounts.start_session(session, user=member)
    rng = random.Random(1)
    with TestClient(app) as client:
        client.cookies.set("innonet_session", cookie)
        timings: dict[str, list[float]] = {"challenge page": [], "idea list (API)": [], "similar ideas": [],
                                           "stage change": []}
        for n in range(rounds + 3):  # the first answers warm the caches
            for name, call in (
                    ("challenge page", lambda: client.get(f"/challenges/{challenge_id}?order=supported")),
                    ("idea list (API)", lambda: client.get("/api/v1/ideas", params={
                        "challenge": challenge_id, "order": "discussed", "limit": 50}, headers=member_token)),
                    ("similar ideas", lambda n=n: client.post("/api/v1/ideas/similar", headers=member_token, json={
                        "text": TYPED[n % len(TYPED)][: 8 + 3 * (n % 12)], "challenge": challenge_id})),
                    ("stage change", lambda: client.post(f"/api/v1/ideas/{rng.choice(idea_ids)}/stage",
                                                         headers=owner_token, json={"stage": "screening"}))):
                start = time.perf_counter()
                answer = call()
                elapsed = time.perf_counter() - start
                assert answer.status_code in (200, 409), (name, answer.status_code, answer.text[:300])
                if n >= 3:
                    timings[name].append(elapsed)
    targets = {"challenge page": 150, "idea list (API)": 150, "similar ideas": 100, "stage change": 50}
    for name, times in timings.items():
        print(f"{name:18} p95 {p95(times):6.1f} ms  median {1000 * statistics.median(times):6.1f} ms  "
              f"(target {targets[name]} ms, {len(times)} requests)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="Database URL (default: a fresh PostgreSQL database, dropped afterwards)")
    parser.add_argument("--ideas", type=int, default=10_000)
    parser.add_argument("--votes", type=int, default=100_000)
    parser.add_argument("--comments", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="Keep the database made without --db")
    args = parser.parse_args()
    url, admin = args.db, None
    if url is None:
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {NAME}"))
            connection.execute(text(f"CREATE DATABASE {NAME}"))
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{NAME}"
    try:
        challenge_id, idea_ids, emails = build(url, args.ideas, args.votes, args.comments)
        measure(url, challenge_id, idea_ids, emails, args.rounds)
    finally:
        if admin is not None and not args.keep:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)"))


if __name__ == "__main__":
    main()
