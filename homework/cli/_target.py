"""``homework target``: each student's next set picked by mastery (stage 4), shown with reasons, printed."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from homework.cli._app import app
from homework.cli._bank import BankOption, _load
from homework.cli._store import DbOption, LegacyLedger, SchoolOption, open_service, refuse_ledger_file


@app.command("target")
def target(
    student: Annotated[list[str], typer.Option("--student", help="ID[:NAME] of a student (repeatable).")],
    kp: Annotated[list[str] | None, typer.Option("--kp", help="Knowledge point in scope (repeatable; "
                                                              "default every point of the subject).")] = None,
    bank_path: BankOption = Path("bank.csv"),
    model: Annotated[Path | None, typer.Option(help="A fitted mastery model saved with model.to_json() (default: "
                                                    "the district's newest refit, else BKT fitted on the "
                                                    "school's graded answers in the store).")] = None,
    minutes: Annotated[float, typer.Option(min=0.5, max=240, help="The teacher's minutes per student.")] = 20.0,
    grade: Annotated[int, typer.Option(min=1, max=12, help="The class's grade.")] = 5,
    subject: Annotated[str, typer.Option(help="Subject")] = "math",
    day: Annotated[str | None, typer.Option(help="Day the sets are for, YYYY-MM-DD (default today).")] = None,
    tiers: Annotated[bool, typer.Option("--tiers", help="One sheet per tier A/B/C instead of one per student.")]
    = False,
    record: Annotated[bool, typer.Option("--record", help="Record the sets in the school's ledger (the 双减 cap "
                                         "checked in the same transaction) and register their answer sheets; "
                                         "without it they are planned against the ledger, nothing is kept.")]
    = False,
    out: Annotated[Path | None, typer.Option(help="Write the sets (items, minutes, reasons) as JSON here.")] = None,
    class_name: Annotated[str, typer.Option("--class-name", help="The class printed on papers and sheets.")] = "",
    print_to: Annotated[Path | None, typer.Option("--print", help="Print every student's paper and sheet into "
                                                                  "this folder, merged into targeted.pdf.")] = None,
    db: DbOption = None,
    school: SchoolOption = "default",
    ledger_path: LegacyLedger = None,
) -> None:
    """Pick each student's next set from the bank by mastery, within the minutes and the 双减 cap of the
    school's ledger in the store (--db), whose graded answers are the history."""
    from homework import ANY_ERROR, TargetRequest
    from homework._targeting import load_mastery_model

    refuse_ledger_file(ledger_path)
    bank = _load(bank_path)
    ids = [s.split(":", 1)[0] for s in student]
    names = {s.split(":", 1)[0]: s.split(":", 1)[-1] for s in student}
    when = dt.date.fromisoformat(day) if day else dt.date.today()
    service = open_service(db)
    try:
        bank.check_knowledge_points(kp or ())
        fitted = (load_mastery_model(model), str(model)) if model else None
        request = TargetRequest(subject=subject, grade=grade, knowledge_points=tuple(kp or ()), minutes=minutes)
        run = service.targeted(school, bank, ids, scope=request, day=when, tiers=tiers, model=fitted, record=record,
                               class_name=class_name, names=names)
    except ANY_ERROR + (OSError,) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    result = run.result
    typer.echo(f"mastery: {run.source}; {run.history_answers} graded answers as history")
    if tiers:
        _show_tiers(result)
    else:
        _show_students(result)
    typer.echo(f"recorded for {when.isoformat()} in the ledger of {school}; answer sheets registered" if record
               else "planned only (--record keeps them in the ledger)")
    if out is not None:
        out.write_text(json.dumps(_as_json(result, tiers), ensure_ascii=False, indent=1), encoding="utf-8")
        typer.echo(f"{out}: written")
    if print_to is not None:
        _print(bank, result, print_to, names, class_name)


def _show_students(result: Any) -> None:
    for student, mine in result.students.items():
        typer.echo(f"{student}: {mine.selection.total_minutes:g} min ({mine.budget_reason})")
        for pick in mine.selection.picks:
            typer.echo(f"  {pick.item_id:<14} {pick.minutes:>4g} min  {pick.reason}")
    for note in result.notes:
        typer.echo(f"note: {note}")


def _show_tiers(result: Any) -> None:
    for tier, assignment in sorted(result.assignments.items()):
        typer.echo(f"tier {tier} ({', '.join(result.students(tier))}): {assignment.id}, "
                   f"{assignment.total_minutes:g} min")
        for pick in result.selection.sets[tier].picks:
            typer.echo(f"  {pick.item_id:<14} {pick.minutes:>4g} min  {pick.reason}")
    for note in result.notes:
        typer.echo(f"note: {note}")


def _as_json(result: Any, tiers: bool) -> dict[str, Any]:
    if tiers:
        return {"tiers": {t: {"id": a.id, "students": result.students(t), "items": list(a.item_ids),
                              "reasons": [p.reason for p in result.selection.sets[t].picks]}
                          for t, a in result.assignments.items()}, "notes": list(result.notes)}
    return {"students": {s: {"id": m.assignment.id if m.assignment else None, "items": list(m.selection.item_ids),
                             "minutes": m.selection.total_minutes, "budget": m.budget, "why": m.budget_reason,
                             "reasons": [p.reason for p in m.selection.picks]}
                         for s, m in result.students.items()}, "notes": list(result.notes)}


def _print(bank: Any, result: Any, folder: Path, names: dict[str, str], class_name: str) -> None:
    from tqdm import tqdm

    from homework._targeting import print_targeted

    with tqdm(total=len(result.assignments), desc="print", unit=" sets") as bar:
        pdf = print_targeted(bank, result, folder, names=names, class_name=class_name,
                             progress=lambda done, _total: bar.update(1))
    typer.echo(f"{pdf}: every set's question paper and its students' answer sheets")
