"""How far betweenness and closeness sampled from k = 256 sources are from the exact values
on the 27,411-organisation H2020 network (the figures in docs/methods.md; about 4 minutes).

    python benchmarks/sampling_error.py
"""

import time

import numpy as np
from bench_analytics import K, load_graph

from innonet.analytics.centrality import betweenness, harmonic_closeness


def top(values, count=20):
    return set(np.argsort(-values, kind="stable")[:count].tolist())


def main():
    G = load_graph()
    start = time.perf_counter()
    exact = {"betweenness": betweenness(G), "closeness": harmonic_closeness(G)}
    print(f"exact values for {G.vcount():,} organisations in {time.perf_counter() - start:.0f} s")
    for seed in range(3):
        sampled = {"betweenness": betweenness(G, k=K, seed=seed),
                   "closeness": harmonic_closeness(G, k=K, seed=seed)}
        for name, values in sampled.items():
            error = np.abs(values - exact[name])
            print(f"seed {seed} {name:<12} largest error {error.max():.4f}, mean "
                  f"{error.mean():.6f} (largest exact value {exact[name].max():.4f}); "
                  f"top 20 shared with the exact top 20: {len(top(values) & top(exact[name]))}")


if __name__ == "__main__":
    main()
