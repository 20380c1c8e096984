"""innonet export: an organisation's data as one ZIP of CSV and JSON files."""

from pathlib import Path
from typing import Annotated

import typer

from innonet.errors import InnonetError


def export(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(help=(
        "Where to write: the JSON dump of the database ('-' for stdout), or with --org the "
        "ZIP (default innonet-<id>.zip in this folder)"))] = None,
    org: Annotated[str | None, typer.Option("--org", help=(
        "Export only this organisation's data (its id) as a ZIP of CSV and JSON"))] = None,
) -> None:
    """Without --org: the complete database as JSON (restore it with innonet restore).
    With --org: everything an organisation owns (profile, relationships, project partners,
    needs, agreements, members, shares, consent, introductions, audit log) as CSV and JSON
    in one ZIP, with a README and its network in the import template."""
    from innonet.terminal import console

    if org is None:
        if file is None:
            console.print("[bold red]Error:[/] name the FILE to write the database to, or give "
                          "--org ID to export one organisation.")
            raise typer.Exit(2)
        from innonet.backup.cli import export_database

        export_database(ctx, file)
        return
    _export_organisation(ctx, org, file or Path(f"innonet-{org.replace('/', '_')}.zip"))


def _export_organisation(ctx: typer.Context, org: str, target: Path) -> None:
    from innonet.db import transaction
    from innonet.exports import service
    from innonet.organisations import service as organisations
    from innonet.terminal import console, fail, runtime, stage

    rt = runtime(ctx)
    partial = target.with_name(target.name + ".partial")
    try:
        with transaction(rt.sessions) as session, stage("Collecting the organisation's records…"):
            organisation = organisations.get_organisation(session, external_id=org)
            with partial.open("wb") as file:
                counts = service.write_archive(session, rt.viewer, organisation=organisation, file=file)
    except InnonetError as error:
        partial.unlink(missing_ok=True)
        fail(error)
    partial.replace(target)
    console.print(f"Wrote {target}: " + ", ".join(f"{name.replace('_', ' ')} {n:,}"
                                                 for name, n in counts.items()), highlight=False)


def register(app: typer.Typer) -> None:
    app.command("export")(export)
