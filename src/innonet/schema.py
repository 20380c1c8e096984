"""The whole schema: every domain's tables, for migrations, backups and workers.

Above the domains (``innonet.db`` below them knows none of their tables).
"""


def load_models() -> None:
    """Import every domain's models so that ``Base.metadata`` knows all tables."""
    from innonet import versions as _versions  # noqa: F401
    from innonet.accounts import models as _accounts  # noqa: F401
    from innonet.challenges import models as _challenges  # noqa: F401
    from innonet.collaborations import models as _collaborations  # noqa: F401
    from innonet.introductions import models as _introductions  # noqa: F401
    from innonet.jobs import models as _jobs  # noqa: F401
    from innonet.knowledge import models as _knowledge  # noqa: F401
    from innonet.kpis import models as _kpis  # noqa: F401
    from innonet.matching import models as _matching  # noqa: F401
    from innonet.network import models as _network  # noqa: F401
    from innonet.organisations import models as _organisations  # noqa: F401
    from innonet.projects import models as _projects  # noqa: F401
    from innonet.sharing import models as _sharing  # noqa: F401
    from innonet.webhooks import models as _webhooks  # noqa: F401
