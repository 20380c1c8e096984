"""The knowledge base at size: 100,000 items made from the shared project texts, owned by 50
organisations with every kind of sharing, on SQLite and PostgreSQL. Prints the p50 and p95
of a two-word search (the whole answer: count, page of 20, excerpts) and checks 1,000 random
searches by each of 5 roles against an independent restatement of the sharing rule: no hit
and no count may include an item the role may not read. Then streams a 25 MB upload to a
running server and prints its peak memory growth. Asserts nothing but the leak check.

    .venv/bin/python benchmarks/bench_knowledge.py [--items 100000] [--backend both]

PostgreSQL runs when INNONET_TEST_POSTGRESQL_URL names a server (a database is made and
dropped). Targets: search p95 <= 100 ms on both; zero leaks; upload peak RSS growth < 50 MB.
"""

import argparse
import csv
import gzip
import random
import re
import statistics
import time
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import insert, text

from live_server import chosen_backends, innonet_server, new_database
from innonet.accounts import service as accounts
from innonet.db import make_engine, make_session_factory, migrate, refresh_statistics, transaction, utcnow
from innonet.knowledge import search
from innonet.knowledge import service as knowing
from innonet.knowledge.models import KnowledgeItem
from innonet.knowledge.schemas import KnowledgeIn
from innonet.organisations import service as organisations
from innonet.organisations.schemas import OrganisationIn
from innonet.roles import Viewer, operator
from innonet.sharing.models import Agreement, AgreementParty, Share

TEXTS = Path(__file__).resolve().parents[1] / "../shared/data/h2020-project-texts-2014-2018.csv.gz"
ORGANISATIONS = 50
KINDS = ("lesson", "how_to", "document", "market_insight", "technology_profile")
WORD = re.compile(r"[a-z]{5,}")


def texts() -> list[tuple[str, str]]:
    with gzip.open(TEXTS, "rt", encoding="utf-8", newline="") as f:
        return [(r["title"], r["topic_description"] or "") for r in csv.DictReader(f) if r.get("title")]


def build(url: str, n: int, rng: random.Random) -> dict:
    """Organisations, agreements (half in force) and n items with their shares."""
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    rows = texts()
    today = date.today()
    with transaction(sessions) as session:
        ids = [organisations.create_organisation(session, operator(today), data=OrganisationIn(
            name=f"Bench organisation {k}")).id for k in range(ORGANISATIONS)]
        agreements = {}
        for k in range(0, ORGANISATIONS, 2):
            agreement = Agreement(owner_id=ids[k], kind="nda", title=f"NDA {k}",
                                  status="in_force" if k % 4 == 0 else "expired")
            session.add(agreement)
            session.flush()
            session.add_all([AgreementParty(agreement_id=agreement.id, organisation_id=ids[k]),
                             AgreementParty(agreement_id=agreement.id, organisation_id=ids[k + 1])])
            agreements[ids[k]] = (agreement.id, ids[k + 1])
    items, shares, now = [], [], utcnow()
    for i in range(n):
        title, topic = rows[i % len(rows)]
        other_title, other_topic = rows[(i * 7 + 3) % len(rows)]
        owner = ids[rng.randrange(ORGANISATIONS)]
        visibility = rng.choice(("private", "private", "partners", "partners", "network", "public"))
        agreement = None
        if visibility == "partners":
            if owner in agreements and rng.random() < 0.5:
                agreement, partner = agreements[owner]
                shares.append((i + 1, partner))
            else:
                for partner in rng.sample([o for o in ids if o != owner], 2):
                    shares.append((i + 1, partner))
        items.append({"id": i + 1, "organisation_id": owner, "kind": KINDS[i % 5], "title": title[:200],
                      "body": f"{topic}\n\n{other_title}. {other_topic}"[:50_000], "tags": f",{KINDS[i % 5]},",
                      "version": 1, "attachment_text": "", "visibility": visibility, "agreement_id": agreement,
                      "created_at": now, "updated_at": now})
    started = time.perf_counter()
    with transaction(sessions) as session:
        for start in range(0, n, 5000):
            session.execute(insert(KnowledgeItem), items[start:start + 5000])
        session.execute(insert(Share), [{"item_type": "knowledge_item", "item_id": i, "organisation_id": o}
                                        for i, o in shares])
        if session.get_bind().dialect.name == "postgresql":  # the ids were given: move the sequence past them
            session.execute(text("SELECT setval(pg_get_serial_sequence('knowledge_item', 'id'), :n)"), {"n": n})
        refresh_statistics(session, "knowledge_item")
        refresh_statistics(session, "share")
    print(f"  {n:,} items stored in {time.perf_counter() - started:.1f} s")
    return {"engine": engine, "sessions": sessions, "organisations": ids, "items": items,
            "shares": shares, "agreements": agreements}


def roles_of(world: dict, today: date) -> dict[str, Viewer]:
    a, b = world["organisations"][0], world["organisations"][1]
    return {"visitor": Viewer(today=today, channel="api"),
            "guest": Viewer(today=today, user_id=1, roles={a: "guest"}, channel="api"),
            "member of A": Viewer(today=today, user_id=2, roles={a: "member"}, channel="api"),
            "admin of B": Viewer(today=today, user_id=3, roles={b: "admin"}, channel="api"),
            "cluster manager": Viewer(today=today, user_id=4, is_cluster_manager=True, channel="api")}


def readable(world: dict, viewer: Viewer) -> set[int]:
    """The sharing rule restated without the database: who may read each item."""
    in_force = {agreement for k, (agreement, _) in world["agreements"].items()
                if world["organisations"].index(k) % 4 == 0}
    parties = {agreement: {k, partner} for k, (agreement, partner) in world["agreements"].items()}
    shared: dict[int, set[int]] = {}
    for item_id, organisation_id in world["shares"]:
        shared.setdefault(item_id, set()).add(organisation_id)
    mine = viewer.member_of
    out = set()
    for item in world["items"]:
        v = item["visibility"]
        if v == "public" or v == "network" and viewer.is_network_member or item["organisation_id"] in mine:
            out.add(item["id"])
        elif v == "partners" and shared.get(item["id"], set()) & mine and (
                item["agreement_id"] is None or item["agreement_id"] in in_force
                and parties[item["agreement_id"]] & mine):
            out.add(item["id"])
    return out


def two_words(rng: random.Random, world: dict) -> str:
    for _ in range(100):
        found = WORD.findall(rng.choice(world["items"])["title"].casefold())
        if len(found) >= 2:
            return " ".join(rng.sample(found, 2))
    return "energy storage"


def measure(backend: str, url: str, n: int) -> None:
    rng = random.Random(2026)
    print(f"{backend}:")
    world = build(url, n, rng)
    today = date.today()
    viewers = roles_of(world, today)
    member = viewers["member of A"]
    queries = [two_words(rng, world) for _ in range(200)]
    with world["sessions"]() as session:
        for q in queries[:20]:  # warm the caches, as a running server has them
            knowing.search_items(session, member, query=q)
        times = []
        for q in queries:
            started = time.perf_counter()
            knowing.search_items(session, member, query=q)
            times.append(time.perf_counter() - started)
    p50, p95 = 1000 * statistics.median(times), 1000 * statistics.quantiles(times, n=20)[-1]
    print(f"  two-word search by a member, {len(times)} queries: p50 {p50:.1f} ms, p95 {p95:.1f} ms (target <= 100)")
    leaks = checked = 0
    with world["sessions"]() as session:
        everyone = operator(today)
        for viewer in viewers.values():
            allowed = readable(world, viewer)
            for _ in range(1000):
                q = two_words(rng, world)
                found = knowing.search_items(session, viewer, query=q)
                matching = set(session.scalars(search.matching(session, search.words_of(q), knowing.condition(
                    everyone)).with_only_columns(KnowledgeItem.id)))
                expected = len(matching & allowed)
                leaks += sum(h["id"] not in allowed for h in found["hits"])
                leaks += found["total"] != min(expected, knowing.COUNT_LIMIT)
                checked += 1
    print(f"  leak check: {checked:,} searches by 5 roles, {leaks} answers holding or counting an item "
          f"the role may not read (target 0)")
    if leaks:
        raise SystemExit("LEAK")
    upload(url)
    world["engine"].dispose()


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def upload(url: str) -> None:
    """A 25 MB file to a running server: the growth of its peak resident memory."""
    size = 25 * 1024 * 1024 - 1024
    with transaction(make_session_factory(make_engine(url))) as session:
        organisation = organisations.create_organisation(session, operator(date.today()), data=OrganisationIn(
            name="Uploader"))
        user = accounts.create_user(session, email="uploader@example.org")
        accounts.set_membership(session, user=user, organisation_id=organisation.id, role="member")
        _, token = accounts.create_token(session, user=user, name="bench", scope="write")
        item = knowing.create_item(session, operator(date.today()), data=KnowledgeIn(
            organisation=organisation.external_id, title="A large report"))
        item_id = item.id
    line = b"Measured grease resistance of coated paper samples at 23 degrees.\n"
    body = line * (size // len(line))
    with innonet_server(url, args=("--no-worker",)) as (server, base):
        headers = {"Authorization": f"Bearer {token}"}
        httpx.get(f"{base}/api/v1/knowledge/{item_id}", headers=headers, timeout=60)  # everything loaded
        before = peak_rss_kb(server.pid)
        started = time.perf_counter()
        answer = httpx.post(f"{base}/api/v1/knowledge/{item_id}/attachments", headers=headers, timeout=300,
                            files={"file": ("report.txt", body, "text/plain")})
        took = time.perf_counter() - started
        after = peak_rss_kb(server.pid)
    assert answer.status_code == 201, answer.text
    print(f"  upload of {len(body) / 1024 / 1024:.1f} MB in {took:.1f} s: server peak memory grew "
          f"{(after - before) / 1024:.1f} MB (target < 50)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    for backend in chosen_backends(args.backend):
        with new_database(backend) as url:
            measure(backend, url, args.items)


if __name__ == "__main__":
    main()
