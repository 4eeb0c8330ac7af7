"""``homework report``: a class, student or school report as one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from homework.cli._app import app
from homework.cli._bank import BankOption, _load
from homework.cli._store import DbOption, LegacyLedger, SchoolOption, open_service, refuse_ledger_file


@app.command("report")
def report(
    class_name: Annotated[str | None, typer.Argument(metavar="CLASS", help="The class, as printed on its sheets "
                                                                           "(e.g. 六(2)班).")] = None,
    bank_path: BankOption = Path("bank.csv"),
    student: Annotated[str | None, typer.Option(help="A student's report (with the 错题本) instead.")] = None,
    overview: Annotated[bool, typer.Option("--overview", help="Every class side by side instead.")] = False,
    school_name: Annotated[str, typer.Option(help="School name shown in the reports (default: --school).")] = "",
    out: Annotated[Path, typer.Option(help="The HTML file to write.")] = Path("report.html"),
    db: DbOption = None,
    school: SchoolOption = "default",
    ledger_path: LegacyLedger = None,
) -> None:
    """Write a class report (or --student, or --overview) as HTML that opens offline, from the school's
    graded answers and ledger in the store (--db)."""
    from homework import ANY_ERROR
    from homework._reports import class_report, overview_report, student_report, write_report

    refuse_ledger_file(ledger_path)
    if (class_name is None) == (student is None) and not overview:
        typer.echo("error: name a CLASS, or give --student ID or --overview", err=True)
        raise typer.Exit(2)
    service = open_service(db, must_exist=True)
    try:
        bank = _load(bank_path)
        data = service.report_data(school, bank, school_name=school_name)
        html = (overview_report(data) if overview else student_report(data, student) if student
                else class_report(data, str(class_name)))
    except ANY_ERROR + (OSError,) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    path = write_report(html, out)
    typer.echo(f"{path}: {len(html.encode()) / 1024:.0f} KB")
