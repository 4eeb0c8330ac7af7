"""``homework version``."""

from __future__ import annotations

from importlib.metadata import version

import typer

from homework.cli._app import app


@app.command("version")
def show_version() -> None:
    """Print the installed version."""
    typer.echo(version("homework-loop"))
