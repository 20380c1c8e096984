"""The whole-network report as a reader checks it."""

from innonet.analytics.graph import collaboration_graph
from innonet.analytics.metrics import node_metrics
from innonet.analytics.report import network_report


def test_hubs_are_those_with_the_most_partners_equal_counts_by_pagerank():
    # 1 and 2 have six partners each and tie heavily to 0, which has two: 0's PageRank is the
    # highest, yet it is no hub before them. 13 has three partners.
    sources = [1, 2, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 13, 13, 13]
    targets = [0, 0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16]
    weights = [100, 100, *[1] * 13]
    G = collaboration_graph(17, sources, targets, weight=weights)
    metrics = node_metrics(G, seed=0)
    assert metrics["pagerank"].argmax() == 0
    hubs = network_report(G, metrics)["hubs"]
    assert [h["degree"] for h in hubs[:4]] == [6, 6, 3, 2]
    assert [h["degree"] for h in hubs] == sorted((h["degree"] for h in hubs), reverse=True)
    # Equal partner counts: the higher PageRank first, then the lower vertex.
    leaves = [h for h in hubs if h["degree"] == 1]
    assert [h["pagerank"] for h in leaves] == sorted((h["pagerank"] for h in leaves), reverse=True)
