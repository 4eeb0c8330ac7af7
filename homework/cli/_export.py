"""``homework export``: grades per assignment, or per class over a date range, as CSV or Excel."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from homework.cli._app import app
from homework.cli._bank import BankOption, _load


@app.command("export")
def export(
    out: Annotated[Path, typer.Argument(help="grades.csv or grades.xlsx")],
    assignment: Annotated[str | None, typer.Option(help="One assignment's grades.")] = None,
    class_name: Annotated[str | None, typer.Option("--class", help="A class: every assignment in the date range "
                                                                   "(needs --ledger for the days).")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (with --class).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (with --class).")] = None,
    store: Annotated[Path, typer.Option(help="Scan store folder (graded answers, sheet specs).")] = Path("homework-data"),
    bank_path: BankOption = Path("bank.csv"),
    ledger_path: Annotated[Path | None, typer.Option("--ledger", help="Homework ledger (JSON): assignments and "
                                                                      "their days.")] = None,
) -> None:
    """One row per student, one column per question, totals and minutes."""
    from homework import ANY_ERROR, HomeworkLedger, ScanStore
    from homework._exports import assignments_between, grade_table, write_grades
    from homework._records import store_records
    from homework._reports import report_data

    if (assignment is None) == (class_name is None):
        typer.echo("error: give --assignment ID or --class NAME (with --from/--to)", err=True)
        raise typer.Exit(2)
    if not store.is_dir():
        typer.echo(f"error: no scan store at {store}", err=True)
        raise typer.Exit(2)
    try:
        first, last = (dt.date.fromisoformat(d) if d else None for d in (start, end))
        bank = _load(bank_path)
        ledger = HomeworkLedger.from_json(ledger_path.read_text(encoding="utf-8")) if ledger_path else None
        data = report_data(store_records(ScanStore(store), bank, ledger), bank)
        ids = [assignment] if assignment else assignments_between(data.sheets, str(class_name), first, last)
        table = grade_table(data.answers, data.sheets, ids, class_name)
        path = write_grades(table, out, title=assignment or f"{class_name} {start or ''}-{end or ''}")
    except ANY_ERROR + (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{path}: {len(table)} students, {len(ids)} assignment(s)")
