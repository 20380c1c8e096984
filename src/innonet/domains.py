"""What innonet is made of, declared once: its domains and the layers of its code.

The assembly (``app``, ``cli``, ``worker``, ``schema``) reads :data:`DOMAINS` to load every
table, router, command and kind of job; ``tests/test_layers.py`` checks that every import
points down :data:`LAYERS` and that every table and job kind is reachable from
:data:`DOMAINS`; ``docs/development.md`` shows both and a test keeps it equal to them.

This module imports no domain itself (they are named here and imported by who reads the
list), so it sits at the bottom and every layer may read it.
"""

from dataclasses import dataclass
from importlib import import_module
from types import ModuleType


@dataclass(frozen=True)
class Domain:
    """A part of the product and the modules that plug it into the assembly (each a module
    path under ``innonet``)."""

    name: str
    purpose: str
    tables: tuple[str, ...] = ()  # modules that define its tables
    api: str | None = None  # the module whose ``router`` is its REST API
    views: str | None = None  # the module whose ``router`` serves its pages
    commands: str | None = None  # the module whose ``register(app)`` adds its commands
    jobs: tuple[str, ...] = ()  # modules whose import registers its kinds of job


def package(name: str, purpose: str, *, tables: bool = True, routes: bool = True, commands: bool = True,
            jobs: tuple[str, ...] = ()) -> Domain:
    """A domain laid out by the conventions: ``models.py``, ``api.py``, ``views.py``, ``cli.py``."""
    return Domain(name, purpose, tables=(f"{name}.models",) if tables else (),
                  api=f"{name}.api" if routes else None, views=f"{name}.views" if routes else None,
                  commands=f"{name}.cli" if commands else None, jobs=tuple(f"{name}.{job}" for job in jobs))


# Bottom-up, as in LAYERS: routers are included in this order, commands listed in it.
DOMAINS: tuple[Domain, ...] = (
    Domain("versions", "the data version of organisations, projects and participations",
           tables=("versions",)),
    package("jobs", "the job record, the queue, job pages", commands=False, jobs=("service",)),
    package("organisations", "the directory and profiles"),
    package("accounts", "users, sessions, tokens, invitations, mail", jobs=("mail",)),
    Domain("observability", "health, readiness and metrics for operators", api="observability"),
    package("sharing", "agreements, shares, the access policy, audit log", commands=False),
    package("webhooks", "webhooks and their deliveries", commands=False, jobs=("service",)),
    package("collaborations", "relationships, projects; the organisation page, home, cluster"),
    package("network", "diagnosis, report, graph, exports (background analyses)", jobs=("service",)),
    package("introductions", "warm introductions through a common partner", commands=False),
    package("matching", "the partner finder and its rankers", jobs=("finder",)),
    package("challenges", "challenges, ideas, evaluation"),
    package("imports", "files in: CORDIS, H2020, dashboard, template, uploads", tables=False,
            jobs=("uploads",)),
    package("projects", "joint projects: work, decisions, exits", jobs=("exits",)),
    package("knowledge", "the knowledge base and its attachments", jobs=("service", "extract")),
    package("kpis", "KPIs, partnership health, alerts, reports",
            jobs=("alerts", "network_figures", "report")),
    Domain("digests", "each person's daily digest", jobs=("digests",)),
    Domain("backup", "backup and restore", commands="backup.cli"),
    package("exports", "an organisation's data as ZIP of CSV and JSON", tables=False, jobs=("service",)),
)


# Every top-level package and module of innonet, bottom-up: a unit imports only from the
# rows below its own (tests/test_layers.py reads every import, those inside functions too).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("config", "errors", "countries", "glossary", "analytics", "domains"),  # leaves
    ("roles", "text"),
    ("db", "tables"),
    ("versions", "web", "terminal"),
    ("jobs", "organisations"),
    ("accounts", "observability"),
    ("sharing", "webhooks"),
    ("collaborations",),
    ("network", "introductions"),
    ("matching",),
    ("challenges", "imports"),
    ("projects",),
    ("knowledge", "kpis", "digests"),
    ("schema",),  # every domain's tables
    ("backup", "migrations"),
    ("exports",),
    ("app", "worker"),  # the assembly
    ("cli",),
    ("__main__",),
)


def modules(part: str) -> list[ModuleType]:
    """Every domain's modules of one part (``tables``, ``api``, ``views``, ``commands`` or
    ``jobs``), imported, in the order of :data:`DOMAINS`."""
    names: list[str] = []
    for domain in DOMAINS:
        value = getattr(domain, part)
        names += [value] if isinstance(value, str) else list(value or ())
    return [import_module(f"innonet.{name}") for name in names]
