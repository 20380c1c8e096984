"""The directory's text search on a real database: each word in names, ids, cities, VAT
numbers, descriptions and the titles of the organisations' projects. Prints the fastest of
three answers for each search. Asserts nothing.

    .venv/bin/python benchmarks/bench_directory.py --db sqlite:///full.db

Load the full participations and project texts first (README, "Using it").
"""

import argparse
import time

from fastapi.testclient import TestClient

from innonet.app import create_app
from innonet.config import Settings

SEARCHES = ["hydrogen", "graz", "university munich", "fuel cell trucks", "no such word", "a"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="Database URL")
    args = parser.parse_args()
    app = create_app(Settings(database_url=args.db, secret_key="bench", queue_url="memory://",
                              prefetch=False))
    with TestClient(app) as client:
        for q in SEARCHES:
            times = []
            for _ in range(3):
                start = time.perf_counter()
                answer = client.get("/orgs", params={"q": q})
                times.append(time.perf_counter() - start)
            assert answer.status_code == 200
            print(f"{q!r:22} {1000 * min(times):6.0f} ms")


if __name__ == "__main__":
    main()
