"""Oversized and explosive input is refused quickly, with little memory.

Against ``innonet serve`` in its own process (SQLite, the bundled consortia): a 50 MB JSON
body with and without Content-Length, a 50 MB body to the recommendations endpoint, a 3 MB
description, and a description one character over its limit. Against ``innonet import``:
a 1 MB gzip bomb (1 GB of blank lines) and an XLSX zip bomb (a 500 MB sheet). For each:
the answer, the time to it, and the process's peak memory above its idle size (the
server's peak is reset before each request through /proc). Prints the figures; asserts
nothing about time.

    .venv/bin/python benchmarks/bench_bounds.py
"""

import gzip
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import httpx
from live_server import INNONET, innonet_server

ROOT = Path(__file__).resolve().parents[1]
CONSORTIA = ROOT / "src" / "innonet" / "demo" / "h2020-2021-consortia.csv.gz"
MB = 1_000_000


def memory(pid: int, field: str) -> int:
    """VmRSS or VmHWM of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def web_attacks(url: str, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    with innonet_server(url) as (server, base):
        org = httpx.get(f"{base}/api/v1/orgs?per_page=1", timeout=60).json()["items"][0]["external_id"]
        httpx.get(f"{base}/api/v1/orgs/{org}/recommendations", timeout=600)  # warm: model loaded
        idle = memory(server.pid, "VmRSS")
        big = b'{"name": "' + b"x" * 50 * MB + b'"}'

        def chunks():
            for start in range(0, len(big), 1 << 20):
                yield big[start:start + (1 << 20)]

        attacks = [
            ("50 MB JSON body (Content-Length)", "POST", "/api/v1/orgs", {"content": big}),
            ("50 MB JSON body (chunked, no length)", "POST", "/api/v1/orgs", {"content": chunks()}),
            ("50 MB body to recommendations, no account", "POST",
             f"/api/v1/orgs/{org}/recommendations", {"content": big, "auth": False}),
            ("3 MB description", "POST", "/api/v1/orgs",
             {"json": {"name": "Big", "description": "d" * 3 * MB}}),
            ("description 10,001 characters", "PATCH", f"/api/v1/orgs/{org}",
             {"json": {"description": "d" * 10_001}}),
        ]
        print(f"server idle: {idle / MB:.0f} MB")
        for label, method, path, options in attacks:
            Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # reset the peak
            headers = {"Content-Type": "application/json"} | (auth if options.pop("auth", True) else {})
            start = time.perf_counter()
            try:
                answer = httpx.request(method, base + path, headers=headers, timeout=60, **options)
                status = f"{answer.status_code} {answer.json()['error']['message'][:70]!r}"
            except httpx.HTTPError as error:  # the server may close before the upload ends
                status = f"connection closed ({type(error).__name__})"
            seconds = time.perf_counter() - start
            peak = memory(server.pid, "VmHWM") - idle
            print(f"  {label:45} {status}  in {seconds:.2f} s, peak {peak / MB:+.0f} MB above idle")


# Runs in a fresh process: the idle size after a command that opens the database, then the
# peak while importing the file; prints one JSON line.
MEASURE_IMPORT = """
import json, resource, sys, time
from innonet.cli import app
def run(args):
    try:
        app(args, standalone_mode=False)
    except SystemExit:
        pass
url, kind, path = sys.argv[1:4]
run(["--db", url, "stats"])
idle = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
start = time.perf_counter()
run(["--db", url, "import", kind, path])
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "above_idle": peak - idle}))
"""


def import_attacks(url: str, directory: Path) -> None:
    gzip_bomb = directory / "bomb.csv.gz"
    with gzip.open(gzip_bomb, "wb") as f:
        f.write(b"rcn,role,pic,type,contribution,country,start_year\n")
        for _ in range(1000):
            f.write(b"\n" * MB)
    xlsx_bomb = directory / "bomb.xlsx"
    with zipfile.ZipFile(xlsx_bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * 500 * MB)
    for label, kind, path in (("1 MB gzip bomb (1 GB unpacked)", "participations", gzip_bomb),
                              ("XLSX zip bomb (500 MB sheet)", "template", xlsx_bomb)):
        done = subprocess.run([sys.executable, "-c", MEASURE_IMPORT, url, kind, str(path)],
                              capture_output=True, text=True)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        message = " ".join(done.stderr.split())[:110]
        print(f"  {label:32} ({path.stat().st_size / MB:.2f} MB file) {message!r}  in "
              f"{figures['seconds']:.2f} s, peak {figures['above_idle'] / MB:+.0f} MB above idle")


def main() -> None:
    from innonet.accounts import service as accounts
    from innonet.db import make_engine, make_session_factory, migrate, transaction

    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        url = f"sqlite:///{directory}/bench.db"
        subprocess.run([INNONET, "--db", url, "import", "dashboard", str(CONSORTIA)], check=True,
                       capture_output=True)
        engine = make_engine(url)
        migrate(engine)
        with transaction(make_session_factory(engine)) as session:
            user = accounts.create_user(session, email="admin@bench.example.org",
                                        is_platform_admin=True)
            _, token = accounts.create_token(session, user=user, name="bench", scope="write")
        engine.dispose()
        print("web requests:")
        web_attacks(url, token)
        print("imports:")
        import_attacks(url, directory)


if __name__ == "__main__":
    main()
