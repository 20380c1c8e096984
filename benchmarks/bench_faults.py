"""A worker killed (kill -9) halfway through a job: learning the partner finder's rankers,
and importing a file uploaded through the web.

Training: imports the full H2020 participations and project texts into a new SQLite
database, starts `innonet worker` on the default queue file, hands it the training job,
kills the worker and its children once the job has run for a while, starts a new worker,
and reports how the job ended: run again once the dead worker's lease ran out, done, and
the rankers stored once.

Import: the full participations file, as uploaded at /imports, imported by a worker into an
empty database; the worker is killed while the job runs, the database is counted (nothing
may be half-written), a new worker takes the job over, and the rows it leaves are compared
with what the job reports. Prints the figures; asserts nothing about time.

    .venv/bin/python benchmarks/bench_faults.py [--scenario training|import|both]
        [--kill-after 30] [--kill-import-after 8]
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


def worker(url: str, directory: str) -> subprocess.Popen:
    """`innonet worker` on the queue file in ``directory``, in a process group of its own."""
    environment = os.environ | {"INNONET_QUEUE_URL": "", "INNONET_DATA_DIR": directory}
    return subprocess.Popen([INNONET, "--db", url, "worker", "--processes", "1"],
                            env=environment, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_while_running(job, url: str, directory: str, kill_after: float) -> float:
    """Start a worker, kill it and its children (kill -9) ``kill_after`` seconds after the
    job started running; returns when that was (perf_counter) for timing the rest."""
    first = worker(url, directory)
    start = time.perf_counter()
    while job().status != "running":
        time.sleep(0.2)
    time.sleep(kill_after)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    return start


def training(kill_after: float) -> None:
    from sqlalchemy import select

    from innonet.config import Settings
    from innonet.db import make_engine, make_session_factory, transaction
    from innonet.jobs.models import Job
    from innonet.jobs.queue import JobQueue
    from innonet.matching.models import RankerModel
    from innonet.matching.service import TRAINING_JOB

    print("Training the rankers:")
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/bench.db"
        for kind, name in (("participations", "h2020-participations-2014-2018.csv.gz"),
                           ("project-texts", "h2020-project-texts-2014-2018.csv.gz")):
            subprocess.run([INNONET, "--db", url, "import", kind, str(DATA / name)], check=True,
                           capture_output=True, env=os.environ | {"INNONET_QUEUE_URL": "memory://"})
        settings = Settings(database_url=url, queue_url="", data_dir=directory)
        engine = make_engine(url)
        sessions = make_session_factory(engine)

        def job():
            with transaction(sessions, writes=False) as session:
                return session.get(Job, job_id)

        job_id = JobQueue(settings, sessions).submit(TRAINING_JOB).id
        start = kill_while_running(job, url, directory, kill_after)
        killed_at = time.perf_counter() - start
        print(f"  worker killed (kill -9) {killed_at:.0f} s after the job started; "
              f"job then: {job().status}, attempt {job().attempts}")
        second = worker(url, directory)
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
        print(f"  taken over by the new worker {taken_over:.0f} s after the start "
              f"(the dead worker's lease is {60} s); ended {ended.status} after "
              f"{time.perf_counter() - start:.0f} s, attempt {ended.attempts}: {ended.result}")
        print(f"  rankers stored: {sorted(stored)} (each once: {len(stored) == len(set(stored))})")


def uploaded_import(kill_after: float) -> None:
    import json
    import shutil

    from sqlalchemy import func, select

    from innonet.accounts import service as accounts
    from innonet.collaborations.models import Participation, Project
    from innonet.config import Settings
    from innonet.db import make_engine, make_session_factory, migrate, transaction
    from innonet.imports.uploads import IMPORT_JOB, uploads_dir
    from innonet.jobs.models import Job
    from innonet.jobs.queue import JobQueue
    from innonet.organisations.models import Organisation

    print("Importing an uploaded file (the full participations):")
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/bench.db"
        settings = Settings(database_url=url, queue_url="", data_dir=directory)
        engine = make_engine(url)
        migrate(engine)
        sessions = make_session_factory(engine)
        with transaction(sessions) as session:
            admin = accounts.create_user(session, email="admin@faults.example.org",
                                         is_platform_admin=True)
        upload = "participations-upload.csv.gz"
        shutil.copy(DATA / "h2020-participations-2014-2018.csv.gz", uploads_dir(settings) / upload)

        def counts():
            with transaction(sessions, writes=False) as session:
                return tuple(session.scalar(select(func.count()).select_from(model))
                             for model in (Organisation, Project, Participation))

        def job():
            with transaction(sessions, writes=False) as session:
                return session.get(Job, job_id)

        job_id = JobQueue(settings, sessions).submit(IMPORT_JOB, {
            "format": "participations", "uploads": [upload],
            "filenames": ["h2020-participations-2014-2018.csv.gz"]}, user_id=admin.id).id
        start = kill_while_running(job, url, directory, kill_after)
        print(f"  worker killed (kill -9) {time.perf_counter() - start:.0f} s after the job "
              f"started ({job().message}); organisations, projects, participations in the "
              f"database then: {counts()}")
        second = worker(url, directory)
        try:
            while job().status in ("queued", "running"):
                time.sleep(1)
        finally:
            os.killpg(second.pid, signal.SIGTERM)
            second.wait(30)
        ended = job()
        result = json.loads(ended.result) if ended.result else {}
        reported = tuple(result.get("counts", {}).get(name, {}).get("added")
                         for name in ("organisations", "projects", "participations"))
        print(f"  ended {ended.status} after {time.perf_counter() - start:.0f} s, attempt "
              f"{ended.attempts}; the job reports {reported} added, the database holds "
              f"{counts()}; upload kept: {(uploads_dir(settings) / upload).exists()}")
        engine.dispose()


def main() -> None:
    from innonet.worker import load_job_kinds

    load_job_kinds()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=("training", "import", "both"), default="both")
    parser.add_argument("--kill-after", type=float, default=30, help="seconds of training")
    parser.add_argument("--kill-import-after", type=float, default=8,
                        help="seconds of importing")
    args = parser.parse_args()
    if args.scenario in ("import", "both"):
        uploaded_import(args.kill_import_after)
    if args.scenario in ("training", "both"):
        training(args.kill_after)


if __name__ == "__main__":
    main()
