"""``innonet projects export ID``: a joint project with everything in it, as JSON."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from innonet.errors import InnonetError

projects = typer.Typer(help="Joint projects.", no_args_is_help=True)


@projects.command("export")
def export(
    ctx: typer.Context,
    project_id: Annotated[int, typer.Argument(metavar="ID", min=1, max=2_147_483_647, help="The joint project's id")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout)")] = None,
) -> None:
    """The project as JSON: parties and people, agreements, the IP register, work packages,
    milestones, risks, decisions, results, exit criteria and reviews, outcome and lessons,
    and its activity log."""
    from innonet.db import transaction
    from innonet.projects import service
    from innonet.terminal import fail, json_text, runtime

    rt = runtime(ctx)
    try:
        with transaction(rt.sessions) as session:
            found = service.export_project(session, rt.viewer, project_id=project_id)
    except InnonetError as error:
        fail(error)
    text = json_text(found.model_dump(mode="json"))
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def register(app: typer.Typer) -> None:
    app.add_typer(projects, name="projects")
