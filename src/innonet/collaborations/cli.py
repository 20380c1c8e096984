"""``innonet orgs show``: an organisation with its partners and projects."""

from typing import Annotated

import typer

from innonet.errors import InnonetError


def show_organisation(
    ctx: typer.Context,
    external_id: Annotated[str, typer.Argument(help="The organisation's id (PIC for EU data)")],
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """One organisation's profile, partners and projects."""
    from innonet.collaborations.service import organisation_detail
    from innonet.terminal import console, fail, print_json, runtime

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
    from innonet.organisations.cli import orgs

    orgs.command("show")(show_organisation)
