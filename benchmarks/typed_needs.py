"""Ten typed needs on the demo data: for each, the words of the need the data holds and the
first five partners with their capability-fit reason. Prints JSON (``--out`` to a file), so
that two versions of the partner finder can be compared need by need.

    .venv/bin/python benchmarks/typed_needs.py [--org 900885658] [--db /tmp/typed-needs.db] [--out FILE]

The database is made from the bundled 2021 consortia the first time. Asserts nothing.
"""

import argparse
import json
import os
from datetime import date
from importlib.resources import files

from innonet.db import make_engine, make_session_factory, migrate, transaction
from innonet.imports import service as imports
from innonet.matching import service
from innonet.matching.schemas import NeedQuery
from innonet.roles import operator

NEEDS = ["bio-based packaging", "hydrogen fuel cells for trucks", "quantum computing cryptography",
         "recycling of lithium-ion batteries", "precision agriculture with drones",
         "smart grid flexibility for households", "food packaging films",
         "offshore wind turbine maintenance", "antimicrobial resistance diagnostics",
         "textile recycling circular fashion"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--org", default="900885658", help="The asking organisation (an SME of the demo data)")
    parser.add_argument("--db", default="/tmp/typed-needs.db")
    parser.add_argument("--out")
    args = parser.parse_args()
    os.environ.setdefault("INNONET_QUEUE_URL", "memory://")
    engine = make_engine(f"sqlite:///{args.db}")
    fresh = not os.path.exists(args.db)
    migrate(engine)
    sessions = make_session_factory(engine)
    if fresh:
        demo = files("innonet") / "demo" / "h2020-2021-consortia.csv.gz"
        with transaction(sessions) as session, demo.open("rb") as file:
            imports.import_dashboard(session, file=file)
    found_all = {}
    with sessions() as session:
        for need in NEEDS:
            found = service.recommendations(session, operator(date.today()), external_id=args.org,
                                            query=NeedQuery(need=need, k=5)).model_dump()
            found_all[need] = {
                "searched": found.get("need_source"), "matched_words": found.get("matched_words"),
                "top5": [{"name": r["name"], "capability_fit": next(
                    (f["reason"] for f in r["factors"] if f["name"] == "capability_fit"), "")}
                    for r in found["results"][:5]]}
    text = json.dumps(found_all, indent=1, ensure_ascii=False)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
