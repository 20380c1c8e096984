"""Pure network analytics: igraph graphs in, numbers out. No database, no web.

Functions follow networkx's style (``f(G, weight="weight", seed=None)``) and return numpy
arrays indexed by vertex id; networkx is their reference in the tests.
"""

from innonet.analytics.centrality import (
                                          betweenness,
                                          clustering,
                                          core_number,
                                          degree,
                                          eigenvector_centrality,
                                          harmonic_closeness,
                                          pagerank,
                                          strength,
)
from innonet.analytics.communities import communities, community_links, modularity
from innonet.analytics.diagnosis import diagnose
from innonet.analytics.graph import (
                                          co_participation_edges,
                                          collaboration_graph,
                                          layout,
                                          to_networkx,
                                          write_gexf,
                                          write_graphml,
)
from innonet.analytics.metrics import METRICS, node_metrics
from innonet.analytics.report import network_report, resized_report
from innonet.analytics.structural_holes import (
                                          constraint,
                                          effective_size,
                                          local_measures,
                                          structural_holes,
                                          weighted_adjacency,
)

__all__ = [
    "METRICS", "betweenness", "clustering", "co_participation_edges", "collaboration_graph",
    "communities", "community_links", "constraint", "core_number", "degree", "diagnose", "effective_size",
    "eigenvector_centrality", "harmonic_closeness", "layout", "local_measures", "modularity", "network_report",
    "node_metrics", "pagerank", "resized_report", "strength", "structural_holes", "to_networkx",
    "weighted_adjacency", "write_gexf", "write_graphml",
]
