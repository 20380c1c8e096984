"""``innonet serve`` in its own process, for the benchmarks that measure a real server."""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

INNONET = str(Path(sys.executable).parent / "innonet")


@contextmanager
def innonet_server(url: str, *, log=subprocess.DEVNULL) -> Iterator[tuple[subprocess.Popen, str]]:
    """Serve the database at ``url`` on a free loopback port until the block ends; yields
    the process and its base URL once it answers. ``log`` receives what it writes."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([INNONET, "--db", url, "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=log)
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
