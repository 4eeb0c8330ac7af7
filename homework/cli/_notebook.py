"""``homework notebook``: the 错题本 as a printable A4 PDF, for one student or a whole class."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from homework.cli._app import app
from homework.cli._bank import BankOption, _load
from homework.cli._store import DbOption, LegacyLedger, SchoolOption, open_service, refuse_ledger_file


@app.command("notebook")
def notebook(
    out: Annotated[Path, typer.Argument(help="The PDF to write.")],
    student: Annotated[list[str] | None, typer.Option(help="A student id (repeatable).")] = None,
    class_name: Annotated[str | None, typer.Option("--class", help="Every student of this class.")] = None,
    bank_path: BankOption = Path("bank.csv"),
    db: DbOption = None,
    school: SchoolOption = "default",
    ledger_path: LegacyLedger = None,
) -> None:
    """Each wrong answer with the student's own writing, the key, the point, and an item to practise,
    from the school's graded answers and scans in the store (--db)."""
    from tqdm import tqdm

    from homework import ANY_ERROR
    from homework._notebook import write_notebook

    refuse_ledger_file(ledger_path)
    if not student and class_name is None:
        typer.echo("error: give --student ID or --class NAME", err=True)
        raise typer.Exit(2)
    service = open_service(db, must_exist=True)
    try:
        bank = _load(bank_path)
        data = service.report_data(school, bank)
        ids = list(student or []) or sorted(data.sheets.loc[data.sheets["class_name"] == class_name, "student_id"].unique())
        if not ids:
            typer.echo(f"error: no homework of class {class_name!r} in the store of {school}", err=True)
            raise typer.Exit(2)
        with tqdm(total=len(ids), desc="notebook (students)", unit="") as bar:
            path = write_notebook(data, out, students=ids, store=service.intake(school).store,
                                  progress=lambda _d, _t: bar.update(1))
    except ANY_ERROR + (OSError,) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{path}: 错题本 of {len(ids)} student(s)")
