"""``innonet analyze``: the network report or one organisation's diagnosis, in a file."""

from pathlib import Path
from typing import Annotated

import typer

from innonet.errors import InnonetError

FORMATS = ("json", "md", "html", "gexf", "graphml")


def analyze(
    ctx: typer.Context,
    org: Annotated[str | None, typer.Option("--org", help="Diagnose this organisation (its id, "
                                            "the PIC for EU data) instead of the whole network")] = None,
    format: Annotated[str, typer.Option("--format", help="json, md, html (one standalone "
                                        "file), gexf or graphml (the graph, for Gephi)")] = "json",
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of the screen")] = None,
    since: Annotated[int | None, typer.Option(min=1900, max=2100, help="Projects starting from this year")] = None,
    until: Annotated[int | None, typer.Option(min=1900, max=2100, help="Projects starting until this year")] = None,
) -> None:
    """Analyse the collaboration network: every organisation's measures and the report."""
    from innonet.network import service
    from innonet.network.report import (
        markdown_diagnosis,
        markdown_report,
        standalone_report,
    )
    from innonet.terminal import console, fail, json_text, print_json, runtime, stage

    if format not in FORMATS:
        console.print(f"[bold red]Error:[/] --format must be one of {', '.join(FORMATS)}.")
        raise typer.Exit(2)
    if org and format in ("gexf", "graphml"):
        console.print("[bold red]Error:[/] --org cannot be combined with a graph format.")
        raise typer.Exit(2)
    rt = runtime(ctx)
    content: str | dict
    try:
        with rt.sessions() as session, stage("Analysing the network…"):
            viewer = rt.viewer
            if format in ("gexf", "graphml"):
                content = service.export_graph(session, viewer, format=format, since=since,
                                               until=until).decode()
            elif format == "html":
                content = standalone_report(session, viewer, organisation=org, since=since,
                                            until=until)
            elif org:
                found = service.diagnosis(session, viewer, external_id=org, since=since,
                                          until=until)
                content = markdown_diagnosis(found) if format == "md" else found.model_dump(mode="json")
            else:
                result = service.analysis(session, viewer, since=since, until=until)
                report = service.network_report(session, viewer, since=since, until=until)
                content = markdown_report(report) if format == "md" else {
                    "organisations": service.all_organisation_metrics(result),
                    "network": report.model_dump(mode="json")}
    except InnonetError as error:
        fail(error)
    if isinstance(content, dict):
        if out is None:
            print_json(content)
            return
        content = json_text(content)
    if out is None:
        typer.echo(content, nl=False)
    else:
        out.write_text(content, encoding="utf-8")
        console.print(f"Wrote {out}")


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
