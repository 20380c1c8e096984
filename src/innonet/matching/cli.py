"""``innonet recommend-batch`` and ``innonet evaluate …``: the partner finder in bulk
and measured by the validation protocols."""

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from innonet.errors import InnonetError
from innonet.text import csv_cell

evaluate = typer.Typer(help="Measure the partner finder on the shared H2020 files.",
                       no_args_is_help=True)

SHARED_DATA = Path("../shared/data")
PARTICIPATIONS = SHARED_DATA / "h2020-participations-2014-2018.csv.gz"
TEXTS_NAME = "h2020-project-texts-2014-2018.csv.gz"
FileOption = Annotated[Path | None, typer.Option(exists=True, dir_okay=False, readable=True)]


def _read(participations: Path, texts: Path | None) -> tuple[list[dict], dict[str, str]]:
    from innonet.matching import evaluation
    from innonet.terminal import console, stage

    texts = texts or participations.with_name(TEXTS_NAME)
    with stage("Reading the files…"):
        with participations.open("rb") as f:
            rows = evaluation.read_participations(f)
        words = {}
        if texts.is_file():
            with texts.open("rb") as f:
                words = evaluation.read_project_texts(f)
        else:
            console.print(f"No project texts at {texts}: innonet ranks without words.")
    return rows, words


def _print_table(results: dict, references: Sequence[str], metrics: Sequence[str]) -> None:
    from innonet.matching.evaluation import INNONET, ratios

    width = max(len(name) for name in results) + 2
    typer.echo("method".ljust(width) + "".join(m.rjust(11) for m in metrics))
    for name in (INNONET, *references):
        typer.echo(name.ljust(width) + "".join(f"{results[name][m]:11.4f}" for m in metrics))
    ratio = ratios(results, references)
    typer.echo("innonet ÷ best".ljust(width) + "".join(f"{ratio[m]:10.2f}×" for m in metrics))


@evaluate.command("linkpred")
def evaluate_linkpred(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="The H2020 participations file")],
    texts: FileOption = None,
) -> None:
    """New partners, 2017 → 2018: innonet against the classic link predictors.

    The project texts are read from --texts, else from h2020-project-texts-2014-2018.csv.gz
    beside FILE.
    """
    from innonet.matching import evaluation
    from innonet.terminal import fail, stage

    try:
        rows, words = _read(file, texts)
        with stage("Training on 2015 → 2016 and 2016 → 2017, testing on 2018…"):
            protocol = evaluation.link_prediction_protocol(rows, words)
            results = evaluation.evaluate_link_prediction(protocol)
    except InnonetError as error:
        fail(error)
    _print_table(results, evaluation.BASELINES, ("recall@20", "mrr@50", "hits@10"))


@evaluate.command("needs")
def evaluate_needs(
    ctx: typer.Context,
    participations: FileOption = PARTICIPATIONS,
    texts: FileOption = None,
) -> None:
    """Who joins this consortium, 2018 projects: innonet against the reference methods.

    Reads ../shared/data/ unless --participations (and --texts) say otherwise.
    """
    from innonet.matching import evaluation
    from innonet.terminal import fail, stage

    try:
        rows, words = _read(participations or PARTICIPATIONS, texts)
        with stage("Training on 2016 and 2017 projects, testing on 2018…"):
            protocol = evaluation.need_protocol(rows, words)
            results = evaluation.evaluate_needs(protocol)
    except InnonetError as error:
        fail(error)
    _print_table(results, evaluation.REFERENCES, ("recall@20", "mrr@50"))


def recommend_batch(
    ctx: typer.Context,
    k: Annotated[int, typer.Option("--k", help="Recommendations per query (1–200)")],
    out: Annotated[Path, typer.Option("--out", dir_okay=False, help="The CSV file to write")],
    queries: FileOption = None,
    needs: FileOption = None,
) -> None:
    """Recommend partners for many organisations at once, CSV in and out.

    --queries FILE (header ``org_id``) writes ``org_id,rank,partner_id,score``: new
    partners only. --needs FILE (header ``query_id,org_id,need``) writes
    ``query_id,rank,partner_id,score``: existing partners may come back. Unknown
    organisations are reported and skipped.
    """
    import csv

    from innonet.matching import service
    from innonet.tables import read_csv
    from innonet.terminal import console, fail, runtime, stage

    if (queries is None) == (needs is None):
        console.print("[bold red]Error:[/] give exactly one of --queries and --needs.")
        raise typer.Exit(2)
    warned = []

    def warn(message: str) -> None:
        warned.append(message)
        console.print(message, highlight=False, markup=False)

    try:
        service.check_k(k)
        with runtime(ctx).sessions() as session, stage("Recommending…"):
            if queries:
                with queries.open("rb") as f:
                    organisations = [row["org_id"] for _, row in read_csv(f, required=("org_id",))]
                asked = len(organisations)
                rows = service.batch_new_partners(session, organisations, k, warn)
            elif needs:
                with needs.open("rb") as f:
                    questions = [(row["query_id"], row["org_id"], row["need"])
                                 for _, row in read_csv(f, required=("query_id", "org_id", "need"))]
                asked = len(questions)
                rows = service.batch_needs(session, questions, k, warn)
    except InnonetError as error:
        fail(error)
    answered = asked - len(warned)
    with out.open("w", newline="", encoding="utf-8") as written:
        writer = csv.writer(written)
        writer.writerow(["org_id" if queries else "query_id", "rank", "partner_id", "score"])
        writer.writerows(rows)
    console.print(f"Answered {answered:,} of {asked:,} queries: {len(rows):,} rows in {out}")
    if answered == 0:
        raise typer.Exit(1)


def recommend(
    ctx: typer.Context,
    org: Annotated[str, typer.Option("--org", help="The asking organisation's id (PIC for EU data)")],
    need: Annotated[str | None, typer.Option(help="What you look for; empty: the organisation's "
                                             "stated needs, else its profile")] = None,
    k: Annotated[int, typer.Option("--k", help="How many partners (1–200)")] = 20,
    preset: Annotated[str, typer.Option(help="balanced, research_partner, new_market or "
                                        "diversify_suppliers")] = "balanced",
    new_only: Annotated[bool, typer.Option("--new-only", help="Leave out existing partners")] = False,
    format: Annotated[str, typer.Option("--format", help="table, json or csv")] = "table",
) -> None:
    """Partners for one organisation, with each factor's score and the introduction path."""
    import csv
    import sys

    from pydantic import ValidationError
    from rich.table import Table

    from innonet.errors import InvalidInput
    from innonet.matching import service
    from innonet.matching.factors import FACTORS
    from innonet.matching.schemas import NeedQuery
    from innonet.terminal import fail, print_json, print_table, runtime, stage

    try:
        if format not in ("table", "json", "csv"):
            raise InvalidInput.for_field("format", "must be table, json or csv")
        try:
            query = NeedQuery(need=need, k=k, preset=preset, new_partners_only=new_only)
        except ValidationError as error:
            raise InvalidInput.from_validation(error.errors()) from None
        rt = runtime(ctx)
        with rt.sessions() as session, stage("Finding partners…"):
            found = service.recommendations(session, rt.viewer, external_id=org, query=query)
    except InnonetError as error:
        fail(error)
    if format == "json":
        print_json(found.model_dump(mode="json"))
        return
    path = [" → ".join(step.name for step in r.introduction_path[1:-1]) for r in found.results]
    if format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(["rank", "partner_id", "name", "kind", "country", "score", *FACTORS,
                         "introduced_by"])
        for r, via in zip(found.results, path, strict=True):
            writer.writerow([r.rank, csv_cell(r.external_id), csv_cell(r.name), r.kind,
                             r.country or "", r.score, *(f.score for f in r.factors),
                             csv_cell(via)])
        return
    table = Table("#", "id", "name", "kind", "country", "score", "fit", "near", "likely",
                  "introduced by",
                  title=f"Partners for {found.organisation.name} "
                        f"({found.need_source.replace('_', ' ')}: {found.need[:60]})")
    for r, via in zip(found.results, path, strict=True):
        factor = {f.name: f.score for f in r.factors}
        table.add_row(str(r.rank), r.external_id, r.name, r.kind, r.country or "",
                      f"{r.score:.2f}", f"{factor['capability_fit']:.2f}",
                      f"{factor['proximity']:.2f}", f"{factor['likelihood']:.2f}", via)
    print_table(table)


def train_rankers(ctx: typer.Context) -> None:
    """Learn the partner finder's two rankers from the database's history and store them.

    Run it after each import: recommendations then never wait for learning (without
    it, the first request after a change to the history learns them, which takes minutes
    on the full H2020 data). It also keeps the finder prepared for the data and stores the
    network analysis, so that `innonet recommend` answers in seconds.
    """
    import time
    from datetime import date

    from innonet.matching import service
    from innonet.network import service as network
    from innonet.terminal import console, runtime, stage, steps

    start = time.perf_counter()
    sessions = runtime(ctx).sessions
    with steps("Learning the rankers…") as progress:
        learned = service.train_rankers(sessions, progress)
    for question, ok in learned.items():
        console.print(f"{question.replace('_', ' ')}: "
                      + ("learned" if ok else "too little history; the network walk orders"))
    with stage("Storing the network analysis…"):
        network.store_public_analysis(sessions, date.today())
    console.print(f"Stored in {time.perf_counter() - start:.0f} s.")


def register(app: typer.Typer) -> None:
    app.command("recommend")(recommend)
    app.command("train-rankers")(train_rankers)
    app.command("recommend-batch")(recommend_batch)
    app.add_typer(evaluate, name="evaluate")
