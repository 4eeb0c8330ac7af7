"""``homework export``: grades per assignment, or per class over a date range, as CSV or Excel."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from homework.cli._app import app
from homework.cli._bank import BankOption, _load
from homework.cli._store import DbOption, LegacyLedger, SchoolOption, open_service, refuse_ledger_file


@app.command("export")
def export(
    out: Annotated[Path, typer.Argument(help="grades.csv or grades.xlsx")],
    assignment: Annotated[str | None, typer.Option(help="One assignment's grades.")] = None,
    class_name: Annotated[str | None, typer.Option("--class", help="A class: every assignment in the date range "
                                                                   "(days from the store's ledger).")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (with --class).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (with --class).")] = None,
    bank_path: BankOption = Path("bank.csv"),
    db: DbOption = None,
    school: SchoolOption = "default",
    ledger_path: LegacyLedger = None,
) -> None:
    """One row per student, one column per question, totals and minutes, from the store (--db)."""
    from homework import ANY_ERROR
    from homework._exports import assignments_between, grade_table, write_grades

    refuse_ledger_file(ledger_path)
    if (assignment is None) == (class_name is None):
        typer.echo("error: give --assignment ID or --class NAME (with --from/--to)", err=True)
        raise typer.Exit(2)
    service = open_service(db, must_exist=True)
    try:
        first, last = (dt.date.fromisoformat(d) if d else None for d in (start, end))
        bank = _load(bank_path)
        data = service.report_data(school, bank)
        ids = [assignment] if assignment else assignments_between(data.sheets, str(class_name), first, last)
        table = grade_table(data.answers, data.sheets, ids, class_name)
        path = write_grades(table, out, title=assignment or f"{class_name} {start or ''}-{end or ''}")
    except ANY_ERROR + (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{path}: {len(table)} students, {len(ids)} assignment(s)")
