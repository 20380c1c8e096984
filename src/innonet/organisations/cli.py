"""``innonet orgs list|show``."""

from typing import Annotated

import typer
from rich.table import Table

orgs = typer.Typer(help="Look up organisations.", no_args_is_help=True)


@orgs.command("list")
def list_organisations(
    ctx: typer.Context,
    q: Annotated[str | None, typer.Option(help="Text in name, short name, id, city or VAT")] = None,
    country: Annotated[str | None, typer.Option(help="ISO country code, e.g. DE")] = None,
    kind: Annotated[str | None, typer.Option(help="company, higher_education, …")] = None,
    sme: Annotated[bool | None, typer.Option("--sme/--not-sme", help="SMEs only / no SMEs")] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    per_page: Annotated[int, typer.Option(min=1, max=1000)] = 25,
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """List organisations, filtered and a page at a time."""
    from innonet.organisations import service
    from innonet.organisations.schemas import OrganisationSummary
    from innonet.terminal import print_json, print_table, runtime

    with runtime(ctx).sessions() as session:
        found = service.search_organisations(
            session, q=q, country=country, kind=kind, sme=sme, page=page, per_page=per_page)
        rows = [OrganisationSummary.model_validate(o).model_dump() for o in found.items]
    if format == "json":
        print_json({"items": rows, "total": found.total, "total_capped": found.capped,
                    "page": page, "per_page": per_page})
        return
    more = "more than " if found.capped else ""
    table = Table("id", "name", "kind", "country", "SME", title=f"{more}{found.total:,} organisations")
    for row in rows:
        sme_text = {True: "yes", False: "no", None: ""}[row["is_sme"]]
        table.add_row(row["external_id"], row["name"], row["kind"], row["country"] or "", sme_text)
    print_table(table)


def register(app: typer.Typer) -> None:
    app.add_typer(orgs, name="orgs")
