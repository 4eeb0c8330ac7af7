"""The store the commands work on, named the same way everywhere.

``--db URL`` (or ``HOMEWORK_DATABASE_URL``) names the database; without it every command, like
``homework serve``, uses the SQLite file in ``HOMEWORK_DATA_DIR`` or else the per-user data folder
(:func:`homework.storage.default_data_dir`). ``--school`` is the school acted for. The ledger is in
the store: an old ``--ledger FILE`` is refused with the command that imports it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from homework._service import HomeworkService

DbOption = Annotated[str | None, typer.Option(
    "--db", "--database-url", envvar="HOMEWORK_DATABASE_URL", metavar="URL",
    help="The store, e.g. postgresql+psycopg://user@host/homework (default: the SQLite file in "
         "HOMEWORK_DATA_DIR, else the per-user data folder, as `homework serve` uses).")]
DataDir = Annotated[Path | None, typer.Option("--data-dir", envvar="HOMEWORK_DATA_DIR",
                                              help="Folder of the default SQLite store (without --db).")]
SchoolOption = Annotated[str, typer.Option("--school", help="The school (its id in the store).")]
LegacyLedger = Annotated[Path | None, typer.Option("--ledger", hidden=True,
                                                   help="Gone: the ledger is in the store (see `homework db "
                                                        "import-ledger`).")]


def store_url(db: str | None, data_dir: Path | None = None) -> str:
    """``db``, else the SQLite file of ``data_dir``, ``HOMEWORK_DATA_DIR`` or the per-user data folder."""
    from homework.storage import default_data_dir, sqlite_url

    if db:
        return db
    folder = data_dir or (Path(os.environ["HOMEWORK_DATA_DIR"]) if os.environ.get("HOMEWORK_DATA_DIR")
                          else default_data_dir())
    return sqlite_url(folder)


def open_service(db: str | None, data_dir: Path | None = None, *, ocr: str = "rapidocr",
                 must_exist: bool = False) -> HomeworkService:
    """The service over the store (migrated to the newest schema); exit 2 with the reason when it cannot
    open, or, with ``must_exist`` (commands that only read), when its SQLite file is not there yet."""
    from homework._errors import StoreError
    from homework._service import HomeworkService
    from homework.storage import open_engine

    url = store_url(db, data_dir)
    path = url.split("///", 1)[-1] if url.startswith("sqlite") else ""
    if must_exist and path and path != ":memory:" and not Path(path).is_file():
        typer.echo(f"error: no store at {path} (give --db URL; `homework serve` or `homework db upgrade` makes one)",
                   err=True)
        raise typer.Exit(2)
    try:
        return HomeworkService(open_engine(url), ocr=ocr)
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def refuse_ledger_file(path: Path | None) -> None:
    """Exit 2, saying what to do, when an old ``--ledger FILE`` is given."""
    if path is not None:
        typer.echo(f"error: --ledger is gone: the 双减 ledger is kept in the store (--db). Import {path} once "
                   f"with `homework db import-ledger {path} --school SCHOOL`, then leave --ledger out.", err=True)
        raise typer.Exit(2)
