"""The ``innonet`` command: one root, each domain adds its own commands."""

import os
import sys
from datetime import date
from typing import Annotated, Any

import typer

from innonet import domains
from innonet.config import get_settings
from innonet.terminal import Runtime, console, print_json, runtime, stage

app = typer.Typer(help="innonet: map, diagnose and grow innovation networks.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: "
                                           "INNONET_DATABASE_URL, else sqlite:///innonet.db)")] = None,
) -> None:
    settings = get_settings()
    if db:
        settings = settings.model_copy(update={"database_url": db})
    ctx.obj = Runtime(settings)


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the database schema, or upgrade it to the newest version."""
    rt = runtime(ctx)
    rt.sessions  # noqa: B018 - creates or upgrades the schema, or says in one line why not
    console.print(f"Database ready: {rt.engine.url.render_as_string(hide_password=True)}")


@app.command()
def stats(
    ctx: typer.Context,
    format: Annotated[str, typer.Option("--format", help="json or table")] = "table",
) -> None:
    """How many organisations, projects, participations and relationships there are."""
    from innonet.collaborations import service as collaborations
    from innonet.organisations import service as organisations

    rt = runtime(ctx)
    with rt.sessions() as session:
        counts = {"organisations": organisations.count_organisations(session)}
        counts |= collaborations.counts(session, rt.viewer)
    if format == "json":
        print_json(counts)
    else:
        for name, value in counts.items():
            typer.echo(f"{name:<16}{value:>10,}")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on (INNONET_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (INNONET_PORT)")] = None,
    worker: Annotated[bool | None, typer.Option(
        "--worker/--no-worker", help="Run background jobs in a process started beside the "
        "server (default: yes, unless INNONET_QUEUE_URL names a queue served by `innonet "
        "worker` processes)")] = None,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, max=64, help="Server processes answering requests (all state "
        "is in the database, so any of them may answer any request)")] = 1,
) -> None:
    """Start the web app and the REST API."""
    import subprocess

    import uvicorn

    from innonet.app import create_app

    rt = runtime(ctx)
    host, port = host or rt.settings.host, port or rt.settings.port
    rt.sessions  # noqa: B018 - opens and upgrades the database, or says in one line why not
    from innonet.network.service import prepare_public_analysis

    application = create_app(rt.settings)
    if not application.state.jobs.immediate:
        prepare_public_analysis(application.state.jobs, date.today())
    beside = None
    if worker if worker is not None else not rt.settings.queue_url:
        # The database URL goes by the environment: a password in it stays out of `ps`. Two
        # processes, so that minutes of ranker training never hold up a short job behind it.
        beside = subprocess.Popen(
            [sys.executable, "-m", "innonet", "worker", "--processes", "2", "--parent", str(os.getpid())],
            env=os.environ | {"INNONET_DATABASE_URL": rt.settings.database_url})
    console.print(f"innonet is running at [bold]http://{host}:{port}/[/]  (Ctrl+C stops it)")
    # Idle connections are kept longer than the usual proxy's 60 s, so that a proxy or a
    # browser never sends a request on a connection the server is just closing.
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "warning",
                               "timeout_keep_alive": 65}
    try:
        if workers == 1:
            uvicorn.run(application, **options)
        else:
            # Each process builds its app from the environment: pass on what flags chose.
            os.environ["INNONET_DATABASE_URL"] = rt.settings.database_url
            uvicorn.run("innonet.app:create_app", factory=True, workers=workers, **options)
    finally:
        if beside is not None:
            beside.terminate()
            beside.wait(30)


@app.command()
def worker(
    ctx: typer.Context,
    processes: Annotated[int, typer.Option(min=1, max=64, help="Jobs run at once, each in a "
                                           "process of its own")] = 2,
    parent: Annotated[int | None, typer.Option(hidden=True, help="Stop when this process "
                                               "ends (the server that started the worker)")] = None,
) -> None:
    """Run background jobs (analyses, training, exports, imports, mail) from the queue until
    stopped. Run several on as many machines as needed with INNONET_QUEUE_URL=redis://..."""
    from innonet.worker import run_worker

    rt = runtime(ctx)
    rt.sessions  # noqa: B018 - opens and upgrades the database, or says in one line why not
    console.print(f"innonet worker: {processes} process(es) on the queue "
                  f"{rt.settings.queue_url or 'in ' + rt.settings.data_dir}  (Ctrl+C stops it)")
    run_worker(rt.settings, processes=processes, parent=parent)


@app.command()
def demo(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
) -> None:
    """Load the bundled 2021 Horizon 2020 consortia (once), print the demo admin's
    credentials and start the web app."""
    import secrets
    from importlib.resources import files

    from innonet.accounts import service as accounts
    from innonet.imports import service as imports
    from innonet.organisations import service as organisations

    rt = runtime(ctx)
    password = secrets.token_urlsafe(12)
    with rt.sessions.begin() as session:
        if organisations.count_organisations(session) == 0:
            with stage("Loading the demo data (2,016 organisations)…"):
                with (files("innonet") / "demo" / "h2020-2021-consortia.csv.gz").open("rb") as f:
                    imports.import_dashboard(session, file=f)
        # A new password on every start: the demo database is throw-away, the password too.
        admin = accounts.find_or_create_user(session, email=DEMO_ADMIN)
        admin.is_platform_admin = admin.is_cluster_manager = True
        accounts.set_password(session, user=admin, password=password)
    console.print(f"Demo admin: [bold]{DEMO_ADMIN}[/]  password: [bold]{password}[/]", highlight=False)
    ctx.invoke(serve, ctx=ctx, host=host, port=port)


DEMO_ADMIN = "admin@demo.innonet.example"


def register() -> None:
    for module in domains.modules("commands"):
        module.register(app)


register()
