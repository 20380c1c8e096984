"""The slow paths on the full data: the yearly network figures, `innonet analyze`,
`innonet train-rankers` (and where its time goes) and `innonet recommend` per call.

Imports the H2020 participations, their project texts and the 2021 consortia into a new
SQLite database (or uses ``--db URL``: with an analysis or rankers stored already, analyze
and train-rankers read them instead of computing them), then times each path in its own
process, as a user runs it. Prints the figures; asserts nothing about time.

    .venv/bin/python benchmarks/bench_slow_paths.py [--db sqlite:///full.db] [--calls 5]
"""

import argparse
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
IMPORTS = (("participations", "h2020-participations-2014-2018.csv.gz"),
           ("project-texts", "h2020-project-texts-2014-2018.csv.gz"),
           ("dashboard", "h2020-2021-consortia.csv.gz"))
ASKERS = ("999997930", "999977172", "999984350", "999991043", "999975620")  # coordinators
NEEDS = ("hydrogen fuel cells for heavy-duty trucks", "satellite data for crop monitoring", "",
         "machine learning for predictive maintenance of wind turbines", "bio-based packaging")
# Where train-rankers spends its time: (label, function name, file it is in).
TRAINING_PARTS = (("preparing the finder for the data", "_build", "matching/finder.py"),
                  ("histories of the training years", "history_until", "matching/history.py"),
                  ("candidates and their features", "candidate_sets", "matching/ranker.py"),
                  ("LightGBM boosting", "train", "lightgbm/engine.py"),
                  ("storing the network analysis", "store_public_analysis", "network/analyses.py"))


def innonet(db: str, *args: str, profile: Path | None = None) -> float:
    """Seconds one command takes, start to end, in a process of its own."""
    run = [sys.executable, *(["-m", "cProfile", "-o", str(profile)] if profile else []),
           "-m", "innonet", "--db", db, *args]
    # As an installed innonet runs: Python keeps the compiled modules (an environment that
    # forbids it would time compiling innonet's source on every call instead).
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    subprocess.run(run, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment)
    return time.perf_counter() - start


def network_years_cpu(db: str) -> tuple[float, int, int]:
    """CPU seconds of the yearly figures of every organisation, in this process."""
    from innonet.db import make_engine, make_session_factory, transaction
    from innonet.kpis import network_figures
    from innonet.schema import load_models

    load_models()
    with transaction(make_session_factory(make_engine(db)), writes=False) as session:
        network = network_figures.public_network(session)
    years = network_figures.years_held(network, this_year=2026)
    start = time.process_time()
    network_figures.compute(network, years)
    return time.process_time() - start, len(years), int(network.organisation_ids.size)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", help="a database holding the full data already")
    parser.add_argument("--calls", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)  # each command's data directory (prepared state) is made here
        db = options.db
        if db is None:
            db = f"sqlite:///{folder}/full.db"
            for kind, name in IMPORTS:
                innonet(db, "import", kind, str(DATA / name))
        cpu, years, organisations = network_years_cpu(db)
        print(f"yearly network figures: {cpu:.1f} s CPU for {years} years x {organisations:,} organisations")
        print(f"innonet analyze: {innonet(db, 'analyze'):.1f} s")
        profile = Path(folder) / "train.prof"
        print(f"innonet train-rankers: {innonet(db, 'train-rankers', profile=profile):.1f} s (profiled)")
        stats = pstats.Stats(str(profile)).stats  # type: ignore[attr-defined]
        for label, function, where in TRAINING_PARTS:
            spent = sum(cumulative for (path, _, name), (_, _, _, cumulative, _) in stats.items()
                        if name == function and path.endswith(where))
            print(f"  {label}: {spent:.1f} s")
        calls = [innonet(db, "recommend", "--org", ASKERS[i % len(ASKERS)], "--need", NEEDS[i % len(NEEDS)],
                         "--k", "20", "--format", "csv") for i in range(options.calls)]
        print(f"innonet recommend: first {calls[0]:.1f} s, median of {len(calls)} "
              f"{statistics.median(calls):.1f} s, slowest {max(calls):.1f} s")


if __name__ == "__main__":
    main()
