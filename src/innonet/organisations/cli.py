"""``innonet orgs list|show``."""

from typing import Annotated

import typer
from rich.table import Table

from innonet.errors import InnonetError

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
    from innonet.cli import console, print_json, runtime
    from innonet.organisations import service
    from innonet.organisations.schemas import OrganisationSummary

    with runtime(ctx).sessions() as session:
        items, total = service.search_organisations(
            session, q=q, country=country, kind=kind, sme=sme, page=page, per_page=per_page)
        rows = [OrganisationSummary.model_validate(o).model_dump() for o in items]
    if format == "json":
        print_json({"items": rows, "total": total, "page": page, "per_page": per_page})
        return
    table = Table("id", "name", "kind", "country", "SME", title=f"{total:,} organisations")
    for row in rows:
        sme_text = {True: "yes", False: "no", None: ""}[row["is_sme"]]
        table.add_row(row["external_id"], row["name"], row["kind"], row["country"] or "", sme_text)
    console.print(table)


@orgs.command("show")
def show_organisation(
    ctx: typer.Context,
    external_id: Annotated[str, typer.Argument(help="The organisation's id (PIC for EU data)")],
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """One organisation's profile, partners and projects."""
    from innonet.cli import console, fail, print_json, runtime
    from innonet.collaborations.service import organisation_detail

    try:
        rt = runtime(ctx)
        with rt.sessions.begin() as session:  # committed: the audit log records the read
            detail = organisation_detail(session, rt.viewer, external_id=external_id, partners_limit=20,
                                         projects_limit=20)
    except InnonetError as error:
        fail(error)
    data = detail.model_dump(mode="json")
    if format == "json":
        print_json(data)
        return
    console.print(f"[bold]{data['name']}[/] ({data['external_id']})", highlight=False)
    for field in ("kind", "country", "city", "is_sme", "pic", "vat", "website"):
        if data[field] is not None:
            console.print(f"  {field}: {data[field]}", highlight=False, markup=False)
    console.print(f"  {data['partner_count']} partners, {data['project_count']} projects")
    for partner in data["partners"]:
        console.print(f"   - {partner['organisation']['name']} ({partner['shared_projects']} shared)",
                      highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(orgs, name="orgs")
