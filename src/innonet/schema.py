"""The whole schema: every domain's tables, for migrations, backups and workers.

Above the domains (``innonet.db`` below them knows none of their tables).
"""

from innonet import domains


def load_models() -> None:
    """Import every domain's models so that ``Base.metadata`` knows all tables."""
    domains.modules("tables")
