"""``homework notebook``: the 错题本 as a printable A4 PDF, for one student or a whole class."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from homework.cli._app import app
from homework.cli._bank import BankOption, _load


@app.command("notebook")
def notebook(
    out: Annotated[Path, typer.Argument(help="The PDF to write.")],
    student: Annotated[list[str] | None, typer.Option(help="A student id (repeatable).")] = None,
    class_name: Annotated[str | None, typer.Option("--class", help="Every student of this class.")] = None,
    store: Annotated[Path, typer.Option(help="Scan store folder (graded answers, scans).")] = Path("homework-data"),
    bank_path: BankOption = Path("bank.csv"),
    ledger_path: Annotated[Path | None, typer.Option("--ledger", help="Homework ledger (JSON): the days.")] = None,
) -> None:
    """Each wrong answer with the student's own writing, the key, the point, and an item to practise."""
    from tqdm import tqdm

    from homework import ANY_ERROR, HomeworkLedger, ScanStore
    from homework._notebook import write_notebook
    from homework._records import store_records
    from homework._reports import report_data

    if not store.is_dir():
        typer.echo(f"error: no scan store at {store}", err=True)
        raise typer.Exit(2)
    if not student and class_name is None:
        typer.echo("error: give --student ID or --class NAME", err=True)
        raise typer.Exit(2)
    try:
        bank = _load(bank_path)
        ledger = HomeworkLedger.from_json(ledger_path.read_text(encoding="utf-8")) if ledger_path else None
        scans = ScanStore(store)
        data = report_data(store_records(scans, bank, ledger), bank)
        ids = list(student or []) or sorted(data.sheets.loc[data.sheets["class_name"] == class_name, "student_id"].unique())
        if not ids:
            typer.echo(f"error: no homework of class {class_name!r} in {store}", err=True)
            raise typer.Exit(2)
        with tqdm(total=len(ids), desc="notebook (students)", unit="") as bar:
            path = write_notebook(data, out, students=ids, store=scans, progress=lambda _d, _t: bar.update(1))
    except ANY_ERROR + (OSError,) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{path}: 错题本 of {len(ids)} student(s)")
