"""``innonet report --org ID --period 2026Q3 --format pdf|csv|html``: an organisation's
quarterly report (as its members read it), or with ``--cluster`` the cluster's."""

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from innonet.errors import InnonetError


def report(
    ctx: typer.Context,
    organisation: Annotated[str | None, typer.Option("--org", help="The organisation's external id")] = None,
    cluster: Annotated[bool, typer.Option("--cluster", help="The cluster's report (consenting members)")] = False,
    period: Annotated[str | None, typer.Option(help=(
        "A quarter (2026Q3) or a year (2026); default: this quarter"))] = None,
    format: Annotated[Literal["pdf", "csv", "html"], typer.Option("--format", help="What to write")] = "pdf",
    output: Annotated[Path | None, typer.Option("--output", "-o", help=(
        "File to write (default: stdout for CSV and HTML; innonet-report-<org>-<period>.pdf for PDF)"))] = None,
) -> None:
    """The quarterly report: KPIs with their trends and targets, alerts, the partner portfolio
    beside the EU innovation survey and partnership health; with --cluster, the KPIs
    aggregated over the organisations that consent (none made of fewer than three)."""
    from innonet.db import transaction
    from innonet.kpis import report as reporting
    from innonet.kpis import service
    from innonet.organisations import service as organisations
    from innonet.terminal import console, fail, runtime

    if (organisation is None) == (not cluster):
        console.print("[bold red]Error:[/] give either --org ID or --cluster.")
        raise typer.Exit(2)
    rt = runtime(ctx)
    try:
        with transaction(rt.sessions, writes=False) as session:
            if cluster:
                found = reporting.cluster_report(session, rt.viewer, period=period)
            else:
                chosen = organisations.get_organisation(session, external_id=str(organisation))
                found = reporting.organisation_report(
                    session, service.member_viewer(chosen.id, rt.viewer.today), organisation=chosen, period=period)
        data = reporting.render(found, format)
    except InnonetError as error:
        fail(error)
    if format == "pdf" and output is None:
        output = Path(f"innonet-report-{organisation or 'cluster'}-{found.period}.pdf")
    if output is None:
        sys.stdout.write(data.decode("utf-8"))
        return
    output.write_bytes(data)
    console.print(f"Wrote {output} ({len(data):,} bytes).")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
