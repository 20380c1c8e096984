"""The full network report on the 27,411-organisation H2020 graph, against networkx, and
one organisation's diagnosis through the HTTP API.

    python benchmarks/bench_analytics.py [--skip-api] [--requests 300]

Part 1 builds the co-participation graph from the participations file, then times
innonet's full report (every per-organisation measure for every organisation, Leiden
communities, betweenness and closeness sampled from k = 256 sources, the whole-network
report) and the same computations in networkx. networkx runs whole where that takes
seconds; the slow measures run on a measured sample and are extrapolated (said so in the
table). Part 2 imports the file into a new SQLite database, starts the real server and
requests /api/v1/orgs/{id}/diagnosis for random organisations with an HTTP client.
Targets on a 2-core machine: report <= 5 s and >= 20x networkx; API p95 <= 50 ms.
"""

import argparse
import csv
import gzip
import random
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np
from live_server import INNONET, innonet_server

from innonet import analytics

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "h2020-participations-2014-2018.csv.gz"
K = 256


def load_graph():
    with gzip.open(DATA, "rt", newline="") as file:
        rows = list(csv.DictReader(file))
    pics = sorted({r["pic"] for r in rows})
    index = {p: i for i, p in enumerate(pics)}
    projects = {rcn: i for i, rcn in enumerate(sorted({r["rcn"] for r in rows}))}
    kinds = {r["pic"]: r["type"] for r in rows}
    countries = {r["pic"]: r["country"] for r in rows}
    sources, targets, weights = analytics.co_participation_edges(
        [projects[r["rcn"]] for r in rows], [index[r["pic"]] for r in rows], len(pics))
    return analytics.collaboration_graph(
        len(pics), sources, targets, weight=weights,
        vertices={"external_id": pics, "kind": [kinds[p] for p in pics],
                  "country": [countries[p] for p in pics]})


def innonet_report(G):
    metrics = analytics.node_metrics(G, k=K, seed=0)
    return metrics, analytics.network_report(G, metrics)


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def networkx_times(H, n):
    """Seconds networkx needs for each measure on the whole graph (some extrapolated)."""
    nodes = list(H)
    sample = random.Random(1).sample(nodes, 20)
    rows = []

    def whole(name, function):
        seconds, _ = timed(function)
        rows.append((name, seconds, "whole graph"))

    def sampled(name, function, part, whole_count, unit):
        seconds, _ = timed(function)
        rows.append((name, seconds * whole_count / part,
                     f"{part} {unit} measured, x{whole_count / part:.0f}"))

    whole("degree, strength", lambda: (dict(H.degree), dict(H.degree(weight="weight"))))
    whole("pagerank", lambda: nx.pagerank(H, weight="weight"))
    # The numpy variant refuses disconnected graphs; power iteration is what networkx offers.
    whole("eigenvector", lambda: nx.eigenvector_centrality(H, weight="weight", max_iter=1000))
    whole("core number", lambda: nx.core_number(H))
    whole("communities (Louvain)", lambda: nx.community.louvain_communities(H, weight="weight", seed=0))
    sampled("betweenness (k=256)", lambda: nx.betweenness_centrality(H, k=4, seed=0), 4, K, "sources")
    sampled("harmonic closeness (k=256)",
            lambda: nx.harmonic_centrality(H, sources=random.Random(0).sample(nodes, 4)), 4, K,
            "sources")
    sampled("clustering", lambda: nx.clustering(H, sample), len(sample), n, "organisations")
    sampled("constraint", lambda: nx.constraint(H, sample, weight="weight"), len(sample), n,
            "organisations")
    sampled("effective size", lambda: nx.effective_size(H, sample, weight="weight"), len(sample),
            n, "organisations")
    return rows


def part_one():
    print(f"Graph from {DATA.name}")
    seconds, G = timed(load_graph)
    print(f"  {G.vcount():,} organisations, {G.ecount():,} links (read and built in {seconds:.1f} s)")
    analytics.node_metrics(analytics.collaboration_graph(3, [0, 1], [1, 2]))  # load compiled kernels
    runs = [timed(innonet_report, G)[0] for _ in range(3)]
    ours = min(runs)
    print(f"\ninnonet full report: {ours:.2f} s (best of 3: "
          f"{', '.join(f'{r:.2f}' for r in runs)}); target <= 5 s: "
          f"{'ok' if ours <= 5 else 'SLOWER THAN TARGET'}")
    print(f"peak memory (max RSS of this process so far): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print("\nnetworkx, the same computations:")
    H = analytics.to_networkx(G)
    rows = networkx_times(H, G.vcount())
    for name, seconds, how in rows:
        print(f"  {name:<28}{seconds:>10.1f} s   {how}")
    theirs = sum(seconds for _, seconds, _ in rows)
    print(f"  {'total':<28}{theirs:>10.1f} s")
    ratio = theirs / ours
    print(f"\nratio networkx / innonet: {ratio:.0f}x; target >= 20x: "
          f"{'ok' if ratio >= 20 else 'BELOW TARGET'}")
    without_burt = sum(s for name, s, _ in rows if name not in ("constraint", "effective size"))
    print(f"ratio without Burt's measures (networkx's slowest): {without_burt / ours:.0f}x")
    print(f"peak memory (max RSS, networkx graph included): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def part_two(requests):
    import httpx

    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/bench.db"
        subprocess.run([INNONET, "--db", url, "import", "participations", str(DATA)], check=True,
                       capture_output=True)
        with innonet_server(url) as (_, base), httpx.Client(base_url=base, timeout=120) as client:
            total = client.get("/api/v1/orgs", params={"per_page": 1}).json()["total"]
            pages = random.Random(1).sample(range(1, total // 200 + 1), 5)
            ids = [o["external_id"] for page in pages for o in client.get(
                "/api/v1/orgs", params={"per_page": 200, "page": page}).json()["items"]]
            seconds, first = timed(client.get, f"/api/v1/orgs/{ids[0]}/diagnosis")
            assert first.status_code == 200, first.text
            print(f"\nAPI: first diagnosis (builds and caches the graph): {seconds:.1f} s")
            chosen = random.Random(2).choices(ids, k=requests)
            latencies = []
            for external_id in chosen:
                start = time.perf_counter()
                answer = client.get(f"/api/v1/orgs/{external_id}/diagnosis")
                latencies.append(time.perf_counter() - start)
                assert answer.status_code == 200, answer.text
    ms = np.array(latencies) * 1000
    p95 = float(np.percentile(ms, 95))
    print(f"API: {requests} diagnoses of {len(set(chosen))} organisations over HTTP: "
          f"p50 {np.percentile(ms, 50):.1f} ms, p95 {p95:.1f} ms, max {ms.max():.1f} ms; "
          f"target p95 <= 50 ms: {'ok' if p95 <= 50 else 'SLOWER THAN TARGET'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-api", action="store_true", help="only the report benchmark")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    part_one()
    if not args.skip_api:
        part_two(args.requests)


if __name__ == "__main__":
    main()
