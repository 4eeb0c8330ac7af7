"""``homework demo``: print a class's sheets, fill them with real handwriting, scan, grade, summarise."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from homework.cli._app import app

_STEPS = {  # progress step -> (bar label, unit)
    "fill_and_scan": ("fill + scan", "students"),
    "receive_scans": ("read + grade", "pages"),
    "answer_and_scan": ("homework: answer + scan", "students"),
    "receive_homework": ("homework: read + grade", "pages"),
}


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the PDF, the scans and the store.")] = Path("demo-out"),
    students: Annotated[int, typer.Option("--students", min=1, max=200, help="Class size.")] = 12,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulated pencils and scanners.")] = 2026,
) -> None:
    """Run the paper loop on the fixtures: sheets -> pencil -> scanner -> reading -> grades."""
    from tqdm import tqdm

    from homework._demo import run_demo

    bars: dict[str, Any] = {}

    def progress(step: str, done: int, total: int) -> None:
        label, unit = _STEPS.get(step, (step, "it"))
        if step not in bars:  # the library reports (step, 0, total) as a step starts: the clock starts there
            bars[step] = tqdm(total=total, desc=label, unit=f" {unit}", leave=True)
        bars[step].update(done - bars[step].n)
        if done >= total:
            bars[step].close()  # closed as the step ends, so its elapsed time is the step's own

    try:
        summary = run_demo(out, seed=seed, students=students, progress=progress)
    finally:
        for bar in bars.values():
            bar.close()
    _print(summary)


def _pad(text: str, width: int) -> str:
    """Pad to ``width`` terminal columns (a hanzi takes two)."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def _print(s: Any) -> None:
    typer.echo(f"\n{s.assignment_id}: {len(s.students)} students, {s.pages} pages; sheets: {s.pdf}")
    typer.echo(f"{'student':<10} {'name':<12} {'score':>11} {'auto':>5} {'review':>6}")
    for r in s.students:
        typer.echo(f"{r.student_id:<10} {_pad(r.name, 12)} {r.score:>5g} / {r.max_score:<3g} {r.auto_graded:>5} {r.to_review:>6}")
    auto = sum(r.auto_graded for r in s.students)
    review = sum(r.to_review for r in s.students)
    typer.echo("uploads: " + ", ".join(s.uploads))
    by_type = ", ".join(f"{n} {t}" for t, n in sorted(s.review_by_type.items()))
    typer.echo(f"answers auto-graded: {auto}, sent to the teacher's review queue: {review} ({by_type})")
    for line in s.review_examples:
        typer.echo(f"  review: {line}")
    right, total = s.bubble_fields_right
    hw_right, hw_auto = s.handwriting_auto_right
    typer.echo(f"against the generator's truth: bubble fields read right {right}/{total}; "
               f"handwritten answers auto-graded right {hw_right}/{hw_auto} (of {s.handwriting_boxes} boxes)")
    if s.kept_for_human:
        typer.echo("pages kept for a human: " + "; ".join(s.kept_for_human))
    if s.loop is not None:
        _print_loop(s.loop)
    read_s = s.seconds.get("receive_scans", 0.0)
    typer.echo("timing: " + ", ".join(f"{k} {v:.1f} s" for k, v in s.seconds.items())
               + f"; reading {s.pages_read / read_s if read_s else 0:.1f} pages/s incl. OCR and storage")


def _print_loop(loop: Any) -> None:
    typer.echo(f"\nhomework from the item bank: {loop.assignment_id}, {loop.items} items, {loop.minutes:g} min "
               f"(双减: {loop.cap_message})")
    if loop.refused_message:
        typer.echo(f"  a second assignment the same day was refused: {loop.refused_message}")
    typer.echo(f"  printed: {loop.papers[0]} and {loop.papers[1]}")
    typer.echo(f"  graded answers: {loop.answers_graded} -> mastery model; in review: {loop.answers_in_review}; "
               f"wrong-answer notebook entries: {loop.wrong_answers}")
    table = loop.mastery.pivot(index="student_id", columns="knowledge_point", values="p_correct")
    typer.echo("  mastery (P(correct) next, BKT) per student x knowledge point:")
    typer.echo("    " + f"{'student':<10}" + "".join(f"{kp:>18}" for kp in table.columns) + f"{'minutes':>9}")
    for student, row in table.iterrows():
        spent = loop.minutes_spent.get(student)
        typer.echo("    " + f"{student:<10}" + "".join(f"{v:>18.2f}" for v in row)
                   + f"{spent if spent is not None else '-':>9}")
    if loop.targeted is not None:
        _print_targeted(loop.targeted, loop.tiers)
    if loop.reports:
        typer.echo("\nfor the teacher (stage 3): class report, the 错题本 of the student with the most mistakes, grades:")
        for path in loop.reports:
            typer.echo(f"  {path}")


def _print_targeted(targeted: Any, tiers: Any, shown: int = 2) -> None:
    typer.echo(f"\nnext sets (stage 4, 个性作业) for {targeted.day}, picked by that mastery from the bank:")
    typer.echo(f"    {'student':<10}{'items':>6}{'minutes':>9}  budget")
    for student, mine in targeted.students.items():
        items = len(mine.assignment) if mine.assignment else 0
        typer.echo(f"    {student:<10}{items:>6}{mine.selection.total_minutes:>9g}  {mine.budget_reason}")
    for student, mine in list(targeted.students.items())[:shown]:
        typer.echo(f"  why {student} gets these items:")
        for pick in mine.selection.picks:
            typer.echo(f"    {pick.item_id:<12} {pick.purpose:<12} {pick.reason}")
        for note in mine.selection.notes:
            typer.echo(f"    ({note})")
    for note in targeted.notes:
        typer.echo(f"  note: {note}")
    if tiers is not None:
        sizes = ", ".join(f"{t} {len(tiers.students(t))} students / {a.total_minutes:g} min"
                          for t, a in sorted(tiers.assignments.items()))
        typer.echo(f"  or one sheet per tier (分层, A strongest, {tiers.budget:g} min each): {sizes}")
