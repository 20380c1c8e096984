"""A worker killed (kill -9) halfway through learning the partner finder's rankers.

Imports the full H2020 participations and project texts into a new SQLite database, starts
`innonet worker` on the default queue file, hands it the training job, kills the worker and
its children once the job has run for a while, starts a new worker, and reports how the job
ended: run again once the dead worker's lease ran out, done, and the rankers stored once.
Prints the figures; asserts nothing about time.

    .venv/bin/python benchmarks/bench_faults.py [--kill-after 30]
"""

import argparse
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from live_server import INNONET

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> None:
    from sqlalchemy import select

    from innonet.config import Settings
    from innonet.db import make_engine, make_session_factory, transaction
    from innonet.jobs.models import Job
    from innonet.jobs.queue import JobQueue
    from innonet.matching.models import RankerModel
    from innonet.matching.service import TRAINING_JOB
    from innonet.worker import load_job_kinds

    load_job_kinds()

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kill-after", type=float, default=30, help="seconds of training")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/bench.db"
        for kind, name in (("participations", "h2020-participations-2014-2018.csv.gz"),
                           ("project-texts", "h2020-project-texts-2014-2018.csv.gz")):
            subprocess.run([INNONET, "--db", url, "import", kind, str(DATA / name)], check=True,
                           capture_output=True, env=os.environ | {"INNONET_QUEUE_URL": "memory://"})
        settings = Settings(database_url=url, queue_url="", data_dir=directory)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        environment = os.environ | {"INNONET_QUEUE_URL": "", "INNONET_DATA_DIR": directory}

        def worker():
            return subprocess.Popen([INNONET, "--db", url, "worker", "--processes", "1"],
                                    env=environment, start_new_session=True,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def job():
            with transaction(sessions, writes=False) as session:
                return session.get(Job, job_id)

        job_id = JobQueue(settings, sessions).submit(TRAINING_JOB).id
        first = worker()
        start = time.perf_counter()
        while job().status != "running":
            time.sleep(0.2)
        time.sleep(args.kill_after)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        killed_at = time.perf_counter() - start
        print(f"worker killed (kill -9) {killed_at:.0f} s after the job started; "
              f"job then: {job().status}, attempt {job().attempts}")
        second = worker()
        try:
            while job().status in ("queued", "running") and job().attempts < 2:
                time.sleep(1)
            taken_over = time.perf_counter() - start
            while job().status in ("queued", "running"):
                time.sleep(1)
        finally:
            os.killpg(second.pid, signal.SIGTERM)
            second.wait(30)
        ended = job()
        with transaction(sessions, writes=False) as session:
            stored = session.scalars(select(RankerModel.question)).all()
        engine.dispose()
        print(f"taken over by the new worker {taken_over:.0f} s after the start "
              f"(the dead worker's lease is {60} s); ended {ended.status} after "
              f"{time.perf_counter() - start:.0f} s, attempt {ended.attempts}: {ended.result}")
        print(f"rankers stored: {sorted(stored)} (each once: {len(stored) == len(set(stored))})")


if __name__ == "__main__":
    main()
