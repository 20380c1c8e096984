"""``innonet import …`` and ``innonet template …``: files in, files out, all or nothing."""

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from innonet.errors import InnonetError
from innonet.text import counted

imports = typer.Typer(help="Import real data: every line is checked before anything is written.",
                      no_args_is_help=True)
templates = typer.Typer(help="The CSV/XLSX template for entering a network by hand.",
                        no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Check and count, write nothing")]


def run_import(ctx: typer.Context, files: list[Path], dry_run: bool, importer: Callable) -> None:
    """Open the files with a progress bar, run ``importer`` in one transaction, report."""
    from innonet.terminal import console, fail, runtime, stage

    if not console.is_terminal:  # the bar shows only on a terminal: a log gets a line
        console.print("Reading and checking " + ", ".join(f.name for f in files),
                      highlight=False, markup=False)
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
                        TimeElapsedColumn(), console=console, transient=True)
    session = runtime(ctx).sessions()
    try:
        with ExitStack() as stack:
            stack.enter_context(progress)
            opened = [stack.enter_context(progress.open(f, "rb", description=f"Reading {f.name}"))
                      for f in files]
            report = importer(session, *opened)
        if dry_run:
            session.rollback()
        else:
            with stage("Saving…"):
                session.commit()
    except InnonetError as error:
        session.rollback()
        fail(error)
    finally:
        session.close()
    for problem in report.skipped[:20]:
        console.print(f"  skipped: {problem}", highlight=False, markup=False)
    if len(report.skipped) > 20:
        console.print(f"  … {len(report.skipped)} rows skipped in all")
    verb = "Would add" if dry_run else "Added"
    nouns = [name.removesuffix("s") for name in report.counts]
    added, updated = zip(*report.counts.values(), strict=True) if report.counts else ((), ())
    console.print(f"{verb}: " + ", ".join(map(counted, added, nouns))
                  + "; updated: " + ", ".join(map(counted, updated, nouns))
                  + (" (dry run: nothing written)" if dry_run else ""))
    if not dry_run and report.history_changed:
        start_training(ctx)


def start_training(ctx: typer.Context) -> None:
    """The history changed: hand the learning of the partner finder's rankers to the queue."""
    from innonet.jobs.queue import IMMEDIATE, JobQueue
    from innonet.matching.service import submit_training
    from innonet.terminal import console, runtime

    rt = runtime(ctx)
    if rt.settings.queue_url == IMMEDIATE:  # no queue to hand it to
        console.print("The collaboration history changed: run `innonet train-rankers` so that "
                      "partner recommendations learn from it without keeping anyone waiting.")
        return
    job = submit_training(JobQueue(rt.settings, rt.sessions))
    console.print(f"The collaboration history changed: the partner finder learns from it in the "
                  f"background (job {job.id}, run by `innonet serve` or `innonet worker`); "
                  "until then it orders partners by the network walk.")


@imports.command("cordis")
def import_cordis(ctx: typer.Context, file: FileArg, dry_run: DryRun = False,
                  projects: Annotated[Path | None, typer.Option(
                      help="CORDIS project.csv with titles, dates and budgets",
                      exists=True, dir_okay=False)] = None) -> None:
    """The official CORDIS organization.csv (H2020 / Horizon Europe), optionally with project.csv."""
    from innonet.imports import service

    run_import(ctx, [file] + ([projects] if projects else []), dry_run,
               lambda s, orgs, projs=None: service.import_cordis(
                   s, organisations_file=orgs, projects_file=projs))


@imports.command("participations")
def import_participations(ctx: typer.Context, file: FileArg, dry_run: DryRun = False) -> None:
    """The H2020 participations file (rcn, role, pic, type, contribution, country, …)."""
    from innonet.imports import service

    run_import(ctx, [file], dry_run, lambda s, f: service.import_participations(s, file=f))


@imports.command("project-texts")
def import_project_texts(ctx: typer.Context, file: FileArg, dry_run: DryRun = False) -> None:
    """Titles and topics for imported projects (rows for unknown projects are skipped)."""
    from innonet.imports import service

    run_import(ctx, [file], dry_run, lambda s, f: service.import_project_texts(s, file=f))


@imports.command("dashboard")
def import_dashboard(ctx: typer.Context, file: FileArg, dry_run: DryRun = False) -> None:
    """The EU Funding & Tenders dashboard export (legal names, SME flag, roles …)."""
    from innonet.imports import service

    run_import(ctx, [file], dry_run, lambda s, f: service.import_dashboard(s, file=f))


@imports.command("template")
def import_template(ctx: typer.Context, file: FileArg, dry_run: DryRun = False) -> None:
    """A filled-in innonet template (.xlsx or .csv): organisations and relationships."""
    from innonet.imports import template
    from innonet.terminal import runtime

    viewer = runtime(ctx).viewer
    run_import(ctx, [file], dry_run, lambda s, f: template.import_template(s, viewer, file=f))


@templates.command("new")
def new_template(file: Annotated[Path, typer.Argument(help="A .xlsx or .csv file to write")]) -> None:
    """Write an empty template with instructions and an example."""
    from innonet.imports import template
    from innonet.terminal import console, fail

    try:
        template.write_template(file, rows=template.EXAMPLE_ROWS)
    except InnonetError as error:
        fail(error)
    console.print(f"Template written to {file}")


@templates.command("export")
def export_template(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A .xlsx or .csv file to write")],
    org: Annotated[str | None, typer.Option(help="Only this organisation, its relationships "
                                            "and their partners")] = None,
) -> None:
    """Export organisations and relationships in the template format (re-importable)."""
    from innonet.imports import template
    from innonet.terminal import console, fail, runtime

    try:
        rt = runtime(ctx)
        with rt.sessions.begin() as session:  # committed: the audit log records the read
            rows = template.template_rows(session, rt.viewer, external_id=org)
        template.write_template(file, rows=rows)
    except InnonetError as error:
        fail(error)
    console.print(f"{len(rows):,} rows written to {file}")


def register(app: typer.Typer) -> None:
    app.add_typer(imports, name="import")
    app.add_typer(templates, name="template")
