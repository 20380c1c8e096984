"""``python -m innonet``: the same as the ``innonet`` command."""

from innonet.cli import app

app()
