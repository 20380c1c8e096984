"""``innonet knowledge import FOLDER``: a folder of Markdown files (with front matter) into
the knowledge base, all or nothing."""

from pathlib import Path
from typing import Annotated, Literal

import typer

from innonet.errors import InnonetError

knowledge = typer.Typer(help="The knowledge base.", no_args_is_help=True)


@knowledge.command("import")
def import_folder(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, readable=True, help=(
        "A folder of .md files (its subfolders too)"))],
    organisation: Annotated[str, typer.Option("--organisation", "--org", help="The owner's external id")],
    visibility: Annotated[Literal["private", "partners", "network", "public"], typer.Option(help=(
        "Who sees the items whose front matter does not say"))] = "private",
) -> None:
    """One knowledge item per Markdown file. Front matter (between '---' lines) may give
    title, kind (lesson, how_to, document, market_insight, technology_profile), tags,
    visibility, shared_with, agreement and links ("project:12", "organisation:PIC"); without a
    title, the first '# ' heading. Every file is checked first: any problem, named with its
    file and line, imports nothing."""
    from innonet.db import transaction
    from innonet.knowledge import service
    from innonet.terminal import console, fail, runtime, stage

    files = sorted(folder.rglob("*.md"))
    if not files:
        fail(InnonetError(f"No .md file in {folder}."))
    texts = []
    for path in files:
        try:
            texts.append((str(path.relative_to(folder)), path.read_text(encoding="utf-8")))
        except UnicodeDecodeError:
            fail(InnonetError(f"{path.relative_to(folder)} is not UTF-8 text; nothing was imported."))
    rt = runtime(ctx)
    try:
        with stage(f"Importing {len(texts)} Markdown files…"), transaction(rt.sessions) as session:
            made = service.import_folder(session, rt.viewer, files=texts, organisation=organisation,
                                         visibility=visibility)
    except InnonetError as error:
        fail(error)
    console.print(f"Imported {len(made)} knowledge item{'s' if len(made) != 1 else ''}.")


def register(app: typer.Typer) -> None:
    app.add_typer(knowledge, name="knowledge")
