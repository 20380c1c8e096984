"""Every measure against networkx: small hand-checked graphs and a real H2020 sample."""

import csv
import gzip
import math
import threading
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from innonet.analytics.centrality import (
    betweenness,
    clustering,
    core_number,
    degree,
    eigenvector_centrality,
    harmonic_closeness,
    pagerank,
    sample_sources,
    strength,
)
from innonet.analytics.communities import communities, modularity
from innonet.analytics.graph import (
    co_participation_edges,
    collaboration_graph,
    to_networkx,
)
from innonet.analytics.metrics import node_metrics
from innonet.analytics.structural_holes import (
    local_measures,
    structural_holes,
    weighted_adjacency,
)

PARTICIPATIONS = Path(__file__).parents[3] / "shared/data/h2020-participations-2014-2018.csv.gz"
RTOL = 1e-9


def graph_from_networkx(H, weight="weight"):
    nodes = list(H.nodes)
    index = {v: i for i, v in enumerate(nodes)}
    edges = list(H.edges(data=True))
    return collaboration_graph(
        len(nodes), [index[u] for u, _, _ in edges], [index[v] for _, v, _ in edges],
        weight=[d.get(weight, 1.0) for _, _, d in edges],
        vertices={"external_id": [str(v) for v in nodes]})


def as_array(values_by_node, H):
    return np.array([values_by_node[v] for v in H.nodes], dtype=float)


def assert_close(ours, reference):
    np.testing.assert_allclose(ours, reference, rtol=RTOL, atol=1e-12, equal_nan=True)


def h2020_sample(projects=60):
    """The real network of the first ``projects`` H2020 projects of 2015 (by record number)."""
    if not PARTICIPATIONS.exists():
        pytest.skip(f"{PARTICIPATIONS} is missing: the shared data must sit beside the project")
    with gzip.open(PARTICIPATIONS, "rt", newline="") as file:
        rows = [r for r in csv.DictReader(file) if float(r["start_year"]) == 2015]
    chosen = sorted({int(r["rcn"]) for r in rows})[:projects]
    rows = [r for r in rows if int(r["rcn"]) in set(chosen)]
    pics = sorted({r["pic"] for r in rows})
    org = {p: i for i, p in enumerate(pics)}
    project = {rcn: i for i, rcn in enumerate(chosen)}
    s, t, w = co_participation_edges([project[int(r["rcn"])] for r in rows],
                                     [org[r["pic"]] for r in rows], len(pics))
    return collaboration_graph(len(pics), s, t, weight=w, vertices={"external_id": pics})


def weighted_example():
    H = nx.Graph()
    H.add_weighted_edges_from([("a", "b", 3), ("a", "c", 1), ("b", "c", 2), ("c", "d", 1),
                               ("d", "e", 4), ("d", "f", 1), ("e", "f", 1), ("f", "g", 2)])
    H.add_node("alone")
    return H


SMALL_GRAPHS = {
    "star": nx.star_graph(5),
    "path": nx.path_graph(6),
    "two triangles and a bridge": nx.barbell_graph(3, 0),
    "karate club": nx.karate_club_graph(),
    "weighted with an isolated vertex": weighted_example(),
}


@pytest.fixture(scope="module", params=[*SMALL_GRAPHS, "H2020 sample"])
def case(request):
    if request.param == "H2020 sample":
        G = h2020_sample()
        return G, to_networkx(G)
    H = SMALL_GRAPHS[request.param]
    return graph_from_networkx(H), H


def test_degree_and_strength(case):
    G, H = case
    assert_close(degree(G), as_array(dict(H.degree), H))
    assert_close(strength(G), as_array(dict(H.degree(weight="weight")), H))


def test_pagerank(case):
    G, H = case
    reference = nx.pagerank(H, alpha=0.85, weight="weight", tol=1e-15, max_iter=100_000)
    assert_close(pagerank(G), as_array(reference, H))


def test_eigenvector_centrality_on_the_largest_component(case):
    G, H = case
    largest = H.subgraph(max(nx.connected_components(H), key=len)).copy()
    reference = nx.eigenvector_centrality_numpy(largest, weight="weight", tol=0)
    ours = eigenvector_centrality(graph_from_networkx(largest))
    np.testing.assert_allclose(ours, as_array(reference, largest), rtol=1e-9, atol=1e-11)


def test_eigenvector_centrality_of_a_disconnected_graph_is_networkx_s_without_a_warning(capfd):
    """Two equal triangles share the values (networkx's power iteration from equal values);
    a weaker pair gets none; igraph prints nothing, from any thread."""
    H = nx.Graph()
    H.add_weighted_edges_from([(0, 1, 2), (1, 2, 2), (0, 2, 2), (3, 4, 2), (4, 5, 2), (3, 5, 2), (6, 7, 1)])
    reference = nx.eigenvector_centrality(H, weight="weight", tol=1e-12, max_iter=10_000)
    results = []
    worker = threading.Thread(target=lambda: results.append(eigenvector_centrality(graph_from_networkx(H))))
    worker.start()
    worker.join()
    np.testing.assert_allclose(results[0], as_array(reference, H), atol=1e-9)
    assert results[0][6] == 0 and results[0][0] == pytest.approx(1 / math.sqrt(6))
    assert "eigenvector" not in capfd.readouterr().err


def test_exact_betweenness_and_closeness(case):
    G, H = case
    n = H.number_of_nodes()
    assert_close(betweenness(G), as_array(nx.betweenness_centrality(H), H))
    assert_close(harmonic_closeness(G), as_array(nx.harmonic_centrality(H), H) / (n - 1))


def test_sampled_betweenness_and_closeness_match_networkx_with_the_same_seed(case):
    G, H = case
    n = H.number_of_nodes()
    k = max(3, n // 4)
    reference = nx.betweenness_centrality(H, k=k, seed=42)
    assert_close(betweenness(G, k=k, seed=42), as_array(reference, H))
    sources = [list(H.nodes)[i] for i in sample_sources(n, k, seed=42)]
    sums = nx.harmonic_centrality(H, sources=sources)
    counts = np.array([k - 1 if v in sources else k for v in H.nodes])
    assert_close(harmonic_closeness(G, k=k, seed=42), as_array(sums, H) / counts)


def test_sampled_estimates_stay_within_the_documented_bound():
    G = h2020_sample()
    k, delta = 64, 0.05
    bound = math.sqrt(math.log(2 / delta) / (2 * k))
    for seed in range(3):
        error = np.abs(betweenness(G, k=k, seed=seed) - betweenness(G))
        assert error.max() <= bound
        error = np.abs(harmonic_closeness(G, k=k, seed=seed) - harmonic_closeness(G))
        assert error.max() <= bound


def test_clustering_and_core_number(case):
    G, H = case
    assert_close(clustering(G), as_array(nx.clustering(H), H))
    assert_close(core_number(G), as_array(nx.core_number(H), H))


@pytest.mark.parametrize("weight", ["weight", None])
def test_structural_holes(case, weight):
    G, H = case
    ours = structural_holes(G, weight=weight)
    # networkx's per-node formulas are slow (cubic in degree: a vertex of 89 partners takes
    # it seconds per figure): check the first 40 vertices of at most 40 partners. Naming the
    # nodes also takes networkx's per-node path, which follows its documented formula; its
    # all-nodes matrix path divides by the wrong vertex's strongest tie.
    at = np.array([i for i, v in enumerate(H) if H.degree(v) <= 40][:40])
    nodes = [list(H)[i] for i in at]

    def reference(values):
        return np.array([values[v] for v in nodes], dtype=float)

    assert_close(ours["constraint"][at], reference(nx.constraint(H, nodes, weight=weight)))
    sizes = reference(nx.effective_size(H, nodes, weight=weight))
    assert_close(ours["effective_size"][at], sizes)
    degrees = reference(dict(H.degree))
    with np.errstate(invalid="ignore", divide="ignore"):
        assert_close(ours["efficiency"][at], sizes / degrees)
    assert_close(ours["hierarchy"][at], burt_hierarchy(H, nodes, weight))


def burt_hierarchy(H, nodes, weight):
    """Burt's hierarchy from networkx's local constraint, written out the slow way."""
    result = []
    for v in nodes:
        partners = list(H[v])
        if len(partners) < 2:
            result.append(math.nan)
            continue
        local = [nx.local_constraint(H, v, u, weight=weight) for u in partners]
        mean = sum(local) / len(partners)
        result.append(sum(c / mean * math.log(c / mean) for c in local)
                      / (len(partners) * math.log(len(partners))))
    return np.array(result)


def test_communities_are_seeded_and_their_modularity_matches_networkx(case):
    G, H = case
    membership = communities(G, seed=7)
    assert np.array_equal(membership, communities(G, seed=7))
    groups = [set(np.array(list(H.nodes), dtype=object)[membership == c])
              for c in range(membership.max() + 1)]
    reference = nx.community.modularity(H, groups, weight="weight")
    assert modularity(G, membership) == pytest.approx(reference, rel=RTOL)
    assert reference >= 0.0
    sizes = np.bincount(membership)
    assert list(sizes) == sorted(sizes, reverse=True)


def test_two_triangles_split_at_the_bridge():
    G = graph_from_networkx(nx.barbell_graph(3, 0))
    assert communities(G).tolist() == [0, 0, 0, 1, 1, 1]


def test_node_metrics_gives_the_same_as_the_single_functions(case):
    G, H = case
    everything = node_metrics(G, seed=3)
    assert_close(everything["betweenness"], betweenness(G))
    assert_close(everything["closeness"], harmonic_closeness(G))
    assert_close(everything["constraint"], structural_holes(G)["constraint"])
    assert_close(everything["pagerank"], pagerank(G))
    sampled = node_metrics(G, k=5, seed=3, exact_up_to=0)
    assert_close(sampled["betweenness"], betweenness(G, k=5, seed=3))
    assert_close(sampled["closeness"], harmonic_closeness(G, k=5, seed=3))


LOCAL = ("degree", "strength", "clustering", "constraint", "effective_size", "efficiency",
         "hierarchy")


def test_local_measures_of_chosen_vertices_equal_those_of_the_whole_graph(case):
    G, _ = case
    everything = node_metrics(G)
    chosen = np.arange(G.vcount())[::-1][:50]  # in any order, isolated vertices included
    some = local_measures(weighted_adjacency(G), chosen)
    for name in LOCAL:
        assert_close(some[name], everything[name][chosen])


def test_empty_and_edgeless_graphs():
    for G in (collaboration_graph(0, [], []), collaboration_graph(3, [], [])):
        everything = node_metrics(G)
        assert all(len(values) == G.vcount() for values in everything.values())
        assert np.all(np.isnan(everything["constraint"]))


@st.composite
def weighted_graphs(draw):
    n = draw(st.integers(min_value=1, max_value=12))
    pairs = [(u, v) for u in range(n) for v in range(u + 1, n)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    H = nx.Graph()
    H.add_nodes_from(range(n))
    for u, v in chosen:
        H.add_edge(u, v, weight=float(draw(st.integers(min_value=1, max_value=5))))
    return H


@settings(max_examples=80, deadline=None)
@given(weighted_graphs())
def test_every_measure_matches_networkx_on_random_weighted_graphs(H):
    G = graph_from_networkx(H)
    everything = node_metrics(G)
    n = H.number_of_nodes()
    assert_close(everything["degree"], as_array(dict(H.degree), H))
    assert_close(everything["strength"], as_array(dict(H.degree(weight="weight")), H))
    assert_close(everything["betweenness"], as_array(nx.betweenness_centrality(H), H))
    if n > 1:
        assert_close(everything["closeness"], as_array(nx.harmonic_centrality(H), H) / (n - 1))
    assert_close(everything["clustering"], as_array(nx.clustering(H), H))
    assert_close(everything["core_number"], as_array(nx.core_number(H), H))
    assert_close(everything["constraint"], as_array(nx.constraint(H, list(H), weight="weight"), H))
    assert_close(everything["effective_size"],
                 as_array(nx.effective_size(H, list(H), weight="weight"), H))
    assert_close(everything["hierarchy"], burt_hierarchy(H, list(H), "weight"))
    reference = nx.pagerank(H, weight="weight", tol=1e-15, max_iter=100_000)
    assert_close(everything["pagerank"], as_array(reference, H))
    some = local_measures(weighted_adjacency(G), np.arange(n))
    for name in LOCAL:
        assert_close(some[name], everything[name])
