"""``homework serve``: the HTTP API with its in-process workers, on uvicorn.

The command lives here, not in ``homework.cli``, because it starts the app of this package and
imports flow one way (``api -> homework``). :func:`main` is the ``homework`` program: the library's
commands plus this one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from homework.cli import app


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to bind. Keep 127.0.0.1 unless keys are made "
                                           "(homework keys create) and the network is the school's.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    database_url: Annotated[str | None, typer.Option("--database-url", envvar="HOMEWORK_DATABASE_URL",
                                                     help="The store (default: SQLite in the data folder).")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", envvar="HOMEWORK_DATA_DIR",
                                                  help="Folder of the default SQLite store.")] = None,
    workers: Annotated[int | None, typer.Option(min=0, max=64, help="Job-taking threads in the server "
                                                "(0: only `homework worker` processes read scans).")] = None,
) -> None:
    """Serve the HTTP API (settings from HOMEWORK_* variables; these options override them)."""
    import uvicorn

    from api._app import create_app
    from api._settings import Settings
    from homework import StoreError

    overrides = {"database_url": database_url, "data_dir": data_dir, "workers": workers}
    settings = Settings().model_copy(update={k: v for k, v in overrides.items() if v is not None})
    try:
        application = create_app(settings)
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    uvicorn.run(application, host=host, port=port)


def main() -> None:
    """Run the ``homework`` command line, ``serve`` included."""
    from homework.cli import main as library_main

    library_main()
