"""The complete database to JSON and back: ``innonet export FILE`` and ``innonet restore FILE``."""

from pathlib import Path
from typing import Annotated

import typer

from innonet.errors import InnonetError


def export_database(ctx: typer.Context, file: Path) -> None:
    """Write the complete database as JSON (``innonet export FILE``)."""
    import sys

    from innonet.backup import service
    from innonet.terminal import console, runtime

    with runtime(ctx).sessions() as session:
        if str(file) == "-":
            counts = service.export_database(session, sys.stdout)
        else:
            with file.open("w", encoding="utf-8") as out:
                counts = service.export_database(session, out)
    console.print("Exported " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))


def restore(ctx: typer.Context,
            file: Annotated[Path, typer.Argument(help="A JSON dump written by innonet export",
                                                 exists=True, dir_okay=False)]) -> None:
    """Load a JSON dump into an empty database (all or nothing)."""
    from innonet.backup import service
    from innonet.db import transaction
    from innonet.terminal import console, fail, runtime

    try:
        with transaction(runtime(ctx).sessions) as session, file.open(encoding="utf-8") as source:
            counts = service.restore_database(session, source)
    except InnonetError as error:
        fail(error)
    console.print("Restored " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))


def register(app: typer.Typer) -> None:
    # ``innonet export`` itself is innonet.exports.cli: the database, or one organisation.
    app.command()(restore)
