"""``homework report``: a class, student or school report as one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from homework.cli._app import app
from homework.cli._bank import BankOption, _load


@app.command("report")
def report(
    class_name: Annotated[str | None, typer.Argument(metavar="CLASS", help="The class, as printed on its sheets "
                                                                           "(e.g. 六(2)班).")] = None,
    store: Annotated[Path, typer.Option(help="Scan store folder (graded answers, sheet specs).")] = Path("homework-data"),
    bank_path: BankOption = Path("bank.csv"),
    ledger_path: Annotated[Path | None, typer.Option("--ledger", help="Homework ledger (JSON): each assignment's "
                                                                      "day, for the 双减 statistics.")] = None,
    student: Annotated[str | None, typer.Option(help="A student's report (with the 错题本) instead.")] = None,
    overview: Annotated[bool, typer.Option("--overview", help="Every class side by side instead.")] = False,
    school: Annotated[str, typer.Option(help="School name shown in the reports.")] = "",
    out: Annotated[Path, typer.Option(help="The HTML file to write.")] = Path("report.html"),
) -> None:
    """Write a class report (or --student, or --overview) as HTML that opens offline."""
    from homework import ANY_ERROR, HomeworkLedger, ScanStore
    from homework._records import store_records
    from homework._reports import class_report, overview_report, report_data, student_report, write_report

    if not store.is_dir():
        typer.echo(f"error: no scan store at {store}", err=True)
        raise typer.Exit(2)
    if (class_name is None) == (student is None) and not overview:
        typer.echo("error: name a CLASS, or give --student ID or --overview", err=True)
        raise typer.Exit(2)
    try:
        bank = _load(bank_path)
        ledger = HomeworkLedger.from_json(ledger_path.read_text(encoding="utf-8")) if ledger_path else None
        data = report_data(store_records(ScanStore(store), bank, ledger, school=school), bank)
        html = (overview_report(data) if overview else student_report(data, student) if student
                else class_report(data, str(class_name)))
    except ANY_ERROR + (OSError,) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    path = write_report(html, out)
    typer.echo(f"{path}: {len(html.encode()) / 1024:.0f} KB")
