"""innonet: map, diagnose and grow the innovation networks of SMEs, clusters and agencies."""

__version__ = "0.1.0"
