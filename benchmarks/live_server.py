"""``innonet serve`` in its own process, for the benchmarks that measure a real server."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

INNONET = str(Path(sys.executable).parent / "innonet")


@contextmanager
def innonet_server(url: str, *, log=subprocess.DEVNULL, env: dict | None = None,
                   args: tuple[str, ...] = ()) -> Iterator[tuple[subprocess.Popen, str]]:
    """Serve the database at ``url`` on a free loopback port until the block ends; yields
    the process and its base URL once it answers. ``log`` receives what it writes; ``env``
    adds settings (INNONET_*) and ``args`` options of ``innonet serve``."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data_dir = tempfile.TemporaryDirectory()  # the job queue file, unless env names one
    env = {"INNONET_DATA_DIR": data_dir.name} | (env or {})
    server = subprocess.Popen([INNONET, "--db", url, "serve", "--port", str(port), *args],
                              stdout=subprocess.DEVNULL, stderr=log, env=os.environ | env)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"innonet serve stopped with status {server.returncode}")
            try:
                httpx.get(f"{base}/api/v1/stats", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield server, base
    finally:
        server.terminate()
        server.wait(30)
        data_dir.cleanup()


@contextmanager
def new_database(backend: str) -> Iterator[str]:
    """The URL of a new, empty database until the block ends: a SQLite file, or a database
    on the PostgreSQL server named by INNONET_TEST_POSTGRESQL_URL (dropped afterwards)."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{directory}/bench.db"
        return
    server = make_url(os.environ["INNONET_TEST_POSTGRESQL_URL"])
    name = f"innonet_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def chosen_backends(choice: str) -> list[str]:
    """``sqlite``, ``postgresql`` or ``both`` as a list; PostgreSQL only when
    INNONET_TEST_POSTGRESQL_URL names a server."""
    backends = ["sqlite"] if choice != "postgresql" else []
    if choice != "sqlite" and os.environ.get("INNONET_TEST_POSTGRESQL_URL"):
        backends.append("postgresql")
    return backends
