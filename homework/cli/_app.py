"""The ``homework`` command-line application object; commands live in sibling modules."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="homework",
    help="Paper-homework loop: pick timed homework, print and scan answer sheets, analyse, target.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Paper-homework loop: pick timed homework, print and scan answer sheets, analyse, target."""
