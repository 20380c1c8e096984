"""``innonet challenges …``: a challenge's ideas as CSV or JSON, and the quality of the
similar ideas shown while typing, measured on the shared project texts."""

import csv
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, TextIO

import typer

from innonet.errors import InnonetError

if TYPE_CHECKING:
    from innonet.challenges.stages import ChallengeExport

challenges = typer.Typer(help="Challenges and their ideas.", no_args_is_help=True)


@challenges.command("export")
def export(
    ctx: typer.Context,
    challenge_id: Annotated[int, typer.Argument(metavar="ID", min=1, max=2_147_483_647,
                                                help="The challenge's id")],
    format: Annotated[Literal["csv", "json"], typer.Option("--format", help="csv: one row per idea; "
                                                           "json: the challenge, its criteria and ideas")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout)")] = None,
) -> None:
    """A challenge's ideas with their stage, authors, support, discussion, mean ratings and
    decision (merged ideas say where they went)."""
    from innonet.challenges import service
    from innonet.db import transaction
    from innonet.terminal import fail, json_text, runtime

    rt = runtime(ctx)
    try:
        with transaction(rt.sessions) as session:
            found = service.export_challenge(session, rt.viewer, challenge_id=challenge_id)
    except InnonetError as error:
        fail(error)
    out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if format == "json":
            out.write(json_text(asdict(found)))
        else:
            _write_csv(found, out)
    finally:
        if output:
            out.close()


def _write_csv(found: "ChallengeExport", out: TextIO) -> None:
    from innonet.challenges.service import EXPORT_COLUMNS
    from innonet.text import csv_cell

    columns = [*EXPORT_COLUMNS, *(f"rating: {c['name']}" for c in found.criteria)]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in found.ideas:
        writer.writerow(["" if row[c] is None else csv_cell(row[c].isoformat() if hasattr(row[c], "isoformat")
                                                            else row[c]) for c in columns])


@challenges.command("evaluate-similar")
def evaluate_similar(
    texts: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help=(
        "The project texts file (h2020-project-texts-2014-2018.csv.gz)"))] = Path(
        "../shared/data/h2020-project-texts-2014-2018.csv.gz"),
    held_out: Annotated[int, typer.Option(min=10, max=5000, help="Projects held out as new ideas")] = 500,
    seed: Annotated[int, typer.Option(help="Which projects are held out")] = 0,
) -> None:
    """Projects as ideas: for each held-out project, the share of the 5 most similar other
    projects (by title) that answer the same call topic, by TF-IDF alone and by the
    shipped blend of meaning and words."""
    import gzip

    from innonet.challenges import similar
    from innonet.terminal import console, stage

    with stage("Reading the project texts…"), gzip.open(texts, "rt", encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("title") and r.get("topic_code")]
    with stage(f"Suggesting similar ideas for {held_out} held-out projects…"):
        found = similar.evaluate([r["title"] for r in rows], [r["topic_code"] for r in rows],
                                 held_out=held_out, seed=seed)
    tfidf, shipped = found[0.0], found[similar.MEANING_SHARE]
    console.print(f"{len(rows):,} projects; {held_out} held out (seed {seed}); share of the 5 suggested "
                  "ideas with the held-out project's call topic:", highlight=False)
    console.print(f"  TF-IDF alone                   {tfidf:.4f}", highlight=False)
    console.print(f"  shipped (meaning {similar.MEANING_SHARE:.0%} + words) {shipped:.4f}"
                  f"  ({shipped / tfidf:.2f}× TF-IDF)" if tfidf else "", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(challenges, name="challenges")
