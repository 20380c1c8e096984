"""The documentation keeps up with the code."""

from pathlib import Path

import typer

from innonet.cli import app

DOCS = Path(__file__).resolve().parents[1] / "docs"


def command_names(group: typer.Typer, prefix: str = "innonet") -> list[str]:
    names = [f"{prefix} {c.name or c.callback.__name__}" for c in group.registered_commands]
    for sub in group.registered_groups:
        names += command_names(sub.typer_instance, f"{prefix} {sub.name}")
    return names


def test_every_cli_command_is_documented():
    reference = (DOCS / "cli.md").read_text()
    missing = [name for name in command_names(app) if f"`{name}" not in reference]
    assert missing == []
    assert len(command_names(app)) >= 14
