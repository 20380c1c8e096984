"""What every command of the ``innonet`` command line shares: its runtime (settings, the
database), the console for messages, and how errors and JSON are printed.

A leaf below the domains: each domain's ``cli`` module uses it, and ``innonet.cli``, above
them all, gathers their commands.
"""

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
)
from sqlalchemy.orm import Session, sessionmaker

from innonet.config import PREPARED_DIR, Settings, prepared_dir
from innonet.db import make_engine, make_session_factory, migrate
from innonet.errors import InnonetError
from innonet.roles import Viewer, operator

# Messages and progress go to stderr so that stdout carries only the data asked for.
console = Console(stderr=True)
MAX_PROBLEMS_SHOWN = 50


@dataclass
class Runtime:
    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions on a database brought up to the newest schema."""
        try:
            migrate(self.engine)  # a no-op when it is already up to date
        except (ArgumentError, NoSuchModuleError, OperationalError, InterfaceError) as error:
            url = make_url_safe(self.settings.database_url)
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            console.print(f"[bold red]Error:[/] cannot open the database {url}: {reason}. "
                          "Check --db or INNONET_DATABASE_URL.", highlight=False)
            raise typer.Exit(1) from None
        factory = make_session_factory(self.engine)
        # A command answers from what the server or an earlier command prepared.
        factory.configure(info={PREPARED_DIR: prepared_dir(self.settings)})
        return factory

    @property
    def viewer(self) -> Viewer:
        """The command line acts as the operator of the server, who holds the database anyway."""
        return operator(date.today())


def make_url_safe(url: str) -> str:
    """The database URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def runtime(ctx: typer.Context) -> Runtime:
    return ctx.find_root().obj


def fail(error: InnonetError) -> None:
    """Print a domain error and every problem it names, then exit with status 1."""
    console.print(f"[bold red]Error:[/] {error.message}", highlight=False, markup=True)
    for problem in error.problems[:MAX_PROBLEMS_SHOWN]:
        console.print(f"  - {problem}", highlight=False, markup=False)
    if len(error.problems) > MAX_PROBLEMS_SHOWN:
        console.print(f"  … and {len(error.problems) - MAX_PROBLEMS_SHOWN} more")
    raise typer.Exit(1)


def json_text(data: object) -> str:
    """JSON as the commands write it: objects laid out key by key, each item of a list on a
    line of its own. Items are written whole by the C encoder: indenting 28,000 records
    field by field (``json.dumps(indent=2)`` is pure Python) takes half a second."""
    def item(value: object) -> str:
        return json.dumps(value, ensure_ascii=False, default=str)

    def laid_out(value: object, depth: int) -> str:
        inner, outer = "  " * (depth + 1), "  " * depth
        if isinstance(value, dict) and value:
            return "{\n" + ",\n".join(f"{inner}{item(str(key))}: {laid_out(v, depth + 1)}"
                                      for key, v in value.items()) + f"\n{outer}}}"
        if isinstance(value, list | tuple) and value:
            return "[\n" + ",\n".join(inner + item(v) for v in value) + f"\n{outer}]"
        return item(value)

    return laid_out(data, 0) + "\n"


def print_json(data: object) -> None:
    sys.stdout.write(json_text(data))


# Wide enough for any table the commands print: into a file or a pipe, a table keeps every
# column whole instead of being cut to the 80 columns of no terminal.
UNBOUNDED_WIDTH = 10_000


def print_table(table: Table) -> None:
    """A rich table on stdout: the data asked for, fitted to the terminal when there is one."""
    output = Console(width=None if sys.stdout.isatty() else UNBOUNDED_WIDTH)
    output.print(table)




@contextmanager
def stage(message: str) -> Iterator[None]:
    """A long step of a command: a spinner on a terminal; without one (a log), a line when
    it starts and one when it ends, with its duration."""
    if console.is_terminal:
        with console.status(message):
            yield
        return
    started = time.monotonic()
    console.print(message, highlight=False, markup=False)
    yield
    console.print(f"{message.rstrip('…. ')}: done in {time.monotonic() - started:.1f} s",
                  highlight=False, markup=False)


@contextmanager
def steps(description: str) -> Iterator[Callable[[int, int, str], None]]:
    """A progress callback ``(done, total, message)`` for a job of several steps: a bar on a
    terminal; without one, a line per step ("[1/2] message")."""
    if console.is_terminal:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task(description, total=None)
            yield lambda done, total, message: bar.update(task, completed=done, total=total,
                                                          description=message)
        return
    console.print(description, highlight=False, markup=False)
    yield lambda done, total, message: console.print(f"[{done + 1}/{total}] {message}",
                                                     highlight=False, markup=False)
