"""``homework bank import|export|query|tag`` and ``homework assign``: the item bank and timed homework."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from homework.cli._app import app
from homework.cli._store import (
    DataDir,
    DbOption,
    LegacyLedger,
    SchoolOption,
    open_service,
    refuse_ledger_file,
    store_url,
)

if TYPE_CHECKING:
    from homework._bank import ItemBank

bank_app = typer.Typer(help="The item bank: import/export CSV, Excel and JSON; query; tag word problems.",
                       no_args_is_help=True)
app.add_typer(bank_app, name="bank")

BankOption = Annotated[Path, typer.Option("--bank", help="The bank file (.csv, .xlsx, .json or .jsonl).")]
SHOWN_ISSUES = 20


def _load(path: Path, must_exist: bool = True) -> ItemBank:
    from homework._bank import ItemBank
    from homework._errors import ItemBankError
    from homework._taxonomy import taxonomy_graph

    bank = ItemBank(taxonomy_graph())
    if not path.exists():
        if must_exist:
            typer.echo(f"error: no bank at {path} (create one with `homework bank import FILE --bank {path}`)",
                       err=True)
            raise typer.Exit(2)
        return bank
    try:
        report = bank.import_file(path)
    except ItemBankError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if report.rejected:
        typer.echo(f"warning: {report.rejected} row(s) of the bank file {path} are invalid and were skipped",
                   err=True)
    return bank


def _range(text: str | None, kind: type = float) -> tuple | None:
    if text is None:
        return None
    low, _, high = text.partition("-")
    try:
        return kind(low), kind(high or low)
    except ValueError as exc:
        raise typer.BadParameter(f"expected a number or a range like 2-4, got {text!r}") from exc


@bank_app.command("import")
def import_items(
    files: Annotated[list[Path], typer.Argument(help="Item files: .csv, .xlsx, .json or .jsonl.")],
    bank_path: BankOption = Path("bank.csv"),
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any row is rejected.")] = False,
    school: Annotated[str | None, typer.Option(help="Import into this school's bank in the store (the "
                                               "service's) instead of the --bank file.")] = None,
    database_url: DbOption = None,
    data_dir: DataDir = None,
) -> None:
    """Import item files into the bank (an id already there is updated): the --bank file, or with --school
    the school's bank in the store (PostgreSQL: by COPY), which the service's targeted sets then use."""
    from tqdm import tqdm

    from homework._errors import HomeworkError

    if school is not None:
        _import_into_store(files, school, store_url(database_url, data_dir), strict)
        return
    bank = _load(bank_path, must_exist=False)
    rejected = 0
    for path in tqdm(files, desc="import", unit="file", disable=len(files) < 2):
        try:
            rejected += _shown(path, bank.import_file(path))
        except HomeworkError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
    bank.export(bank_path)
    typer.echo(f"{bank_path}: {len(bank)} items")
    if strict and rejected:
        raise typer.Exit(1)


def _shown(path: Path, report: Any) -> int:
    """Print one file's import report; its rejected rows."""
    typer.echo(f"{path}: {report.added} added, {report.updated} updated, {report.rejected} row(s) rejected")
    for issue in report.issues[:SHOWN_ISSUES]:
        typer.echo(f"  {path.name} {issue}")
    if len(report.issues) > SHOWN_ISSUES:
        typer.echo(f"  ... and {len(report.issues) - SHOWN_ISSUES} more")
    return int(report.rejected)


def _import_into_store(files: list[Path], school: str, url: str, strict: bool) -> None:
    from homework import HomeworkService
    from homework._errors import HomeworkError
    from homework.storage import open_engine

    rejected = 0
    try:
        service = HomeworkService(open_engine(url))
        for path in files:
            rejected += _shown(path, service.import_bank(school, [path]))
    except HomeworkError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{school}: {service.items(school).version()[0]} items in the store")
    if strict and rejected:
        raise typer.Exit(1)


@bank_app.command("export")
def export_items(out: Annotated[Path, typer.Argument(help="File to write; the suffix picks the format.")],
                 bank_path: BankOption = Path("bank.csv")) -> None:
    """Export the whole bank as CSV, Excel (.xlsx) or JSON (.json/.jsonl)."""
    from homework._errors import ItemBankError

    bank = _load(bank_path)
    try:
        bank.export(out)
    except (ItemBankError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{out}: {len(bank)} items")


@bank_app.command("query")
def query_items(
    bank_path: BankOption = Path("bank.csv"),
    subject: Annotated[str | None, typer.Option(help="e.g. math")] = None,
    grade: Annotated[list[int] | None, typer.Option(help="Grade (repeatable).")] = None,
    kp: Annotated[list[str] | None, typer.Option("--kp", help="Knowledge point (repeatable).")] = None,
    descendants: Annotated[bool, typer.Option(help="Also points that build on --kp.")] = False,
    item_type: Annotated[str | None, typer.Option("--type", help="e.g. numeric, single_choice")] = None,
    difficulty: Annotated[str | None, typer.Option(help="1-5, or a range like 2-4")] = None,
    minutes: Annotated[str | None, typer.Option(help="Estimated minutes, e.g. 1-3")] = None,
    text: Annotated[str | None, typer.Option(help="Substring of the stem")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows to print")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per item.")] = False,
) -> None:
    """Find items by subject, grade, knowledge point, type, difficulty, minutes and text."""
    from homework._errors import ItemBankError

    bank = _load(bank_path)
    try:
        bank.check_knowledge_points(kp or ())
        rows = bank.query_positions(subject=subject, grade=grade or None, knowledge_points=kp or None,
                                    descendants=descendants, type=item_type, difficulty=_range(difficulty, int),
                                    minutes=_range(minutes), text=text)
    except ItemBankError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    shown = bank.take(rows[:limit])
    for row in shown.itertuples(index=False):
        if as_json:
            typer.echo(json.dumps({c: getattr(row, c) for c in ("id", "grade", "type", "knowledge_points",
                                                                  "difficulty", "minutes", "stem")},
                                  ensure_ascii=False, default=str))
        else:
            typer.echo(f"{row.id:<16} g{row.grade} d{row.difficulty} {row.minutes:>4.1f}min "
                       f"{row.knowledge_points:<40} {row.stem[:40]}")
    typer.echo(f"{len(rows)} match(es)", err=as_json)


@bank_app.command("points")
def points(bank_path: BankOption = Path("bank.csv"),
           as_json: Annotated[bool, typer.Option("--json", help="One JSON object per point.")] = False) -> None:
    """List the knowledge points: id, name, items in the bank and prerequisites (the ids --kp takes)."""
    bank = _load(bank_path, must_exist=False)
    counts = bank.knowledge_point_counts()
    graph = bank.graph
    for kp in bank.knowledge_points():
        known = graph is not None and kp in graph
        point = graph.point(kp) if graph is not None and known else None
        pres = sorted(graph.prerequisites(kp)) if graph is not None and known else []
        row = {"id": kp, "name": point.name if point else "", "name_zh": point.name_zh if point else "",
               "items": int(counts.get(kp, 0)), "prerequisites": pres}
        if as_json:
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            name = f"{row['name_zh']} {row['name']}".strip()
            typer.echo(f"{kp:<26} {row['items']:>6} items  {name[:40]:<40} after: {', '.join(pres) or '-'}")


@bank_app.command("tag")
def tag(text: Annotated[str, typer.Argument(help="Problem text")],
        equation: Annotated[str, typer.Option(help="Solution equation, e.g. x=6/(2/5)-6")] = "",
        answer: Annotated[str, typer.Option(help="Answer")] = "") -> None:
    """Tag a word problem: knowledge points, steps, difficulty, minutes and grade."""
    from homework._taxonomy import tag_problem

    result = tag_problem(text, equation, answer)
    typer.echo(json.dumps({"knowledge_points": result.knowledge_points, "steps": result.steps,
                           "difficulty": result.difficulty, "minutes": result.minutes, "grade": result.grade,
                           "confidence": result.confidence}, ensure_ascii=False))


@app.command("assign")
def assign(
    bank_path: BankOption = Path("bank.csv"),
    items: Annotated[str | None, typer.Option(help="Explicit item ids, comma-separated.")] = None,
    kp: Annotated[list[str] | None, typer.Option("--kp", help="Knowledge point to practise (repeatable).")] = None,
    minutes: Annotated[float, typer.Option(help="About how many minutes.")] = 30.0,
    grade: Annotated[int, typer.Option(min=1, max=12, help="The class's grade.")] = 5,
    subject: Annotated[str, typer.Option(help="Subject")] = "math",
    difficulty: Annotated[str, typer.Option(help="mixed, basic, improve, extend, or a range like 2-4")] = "mixed",
    tiers: Annotated[bool, typer.Option("--tiers", help="Make basic/improve/extend variants (分层).")] = False,
    already: Annotated[float, typer.Option(help="Minutes of written homework the class already has that day, "
                                                "all subjects, that the store's ledger does not know of.")] = 0.0,
    seed: Annotated[int, typer.Option(help="Random seed for the choice of items.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Write the assignment(s) as JSON here.")] = None,
    print_to: Annotated[Path | None, typer.Option("--print", help="Print question papers and answer sheets "
                                                                  "into this folder (one subfolder each).")] = None,
    student: Annotated[list[str] | None, typer.Option(help="ID:NAME of a student (repeatable).")] = None,
    class_name: Annotated[str, typer.Option(help="Class printed on the papers, e.g. 五(2)班")] = "",
    combined: Annotated[bool, typer.Option(help="Also one PDF with each student's paper then sheet.")] = False,
    record: Annotated[bool, typer.Option("--record", help="Record it in the school's ledger in the store (the "
                                         "双减 cap checked in the same transaction) and register its answer "
                                         "sheets for scanning (needs --student).")] = False,
    day: Annotated[str | None, typer.Option(help="Day the homework is for, YYYY-MM-DD (default today).")] = None,
    db: DbOption = None,
    school: SchoolOption = "default",
    ledger_path: LegacyLedger = None,
) -> None:
    """Build homework from explicit items or from a request, show its minutes and check the 双减 caps
    against the school's ledger in the store (--db)."""
    from homework._errors import CapExceededError

    refuse_ledger_file(ledger_path)
    bank = _load(bank_path)
    made = _make(bank, items, kp, minutes, grade, subject, difficulty, tiers, seed)
    when = dt.date.fromisoformat(day) if day else dt.date.today()
    people = [(s.split(":", 1)[0], s.split(":", 1)[-1]) for s in student or []]
    if record and (tiers or not people):
        typer.echo("error: --record records one set for its students: give --student ID:NAME, without --tiers",
                   err=True)
        raise typer.Exit(2)
    service = open_service(db)
    failed = _show_checks(service, school, bank, made, [p for p, _ in people] or ["class"], when, already)
    if record and not failed:
        try:
            service.assign_homework(school, made[""], people, when, bank=bank, class_name=class_name)
        except CapExceededError as exc:  # another teacher recorded minutes since the check above
            typer.echo(f"refused: {exc}", err=True)
            raise typer.Exit(3) from exc
        typer.echo(f"recorded for {len(people)} student(s) on {when.isoformat()} in the ledger of {school}; "
                   "its answer sheets are registered for scanning")
    if out is not None:
        out.write_text(json.dumps({tier or "assignment": {"id": a.id, "subject": a.subject, "grade": a.grade,
                                                          "tier": a.tier, "items": list(a.item_ids),
                                                          "minutes": list(a.minutes), "total": a.total_minutes}
                                   for tier, a in made.items()}, ensure_ascii=False, indent=1), encoding="utf-8")
        typer.echo(f"{out}: written")
    if print_to is not None:
        _print(bank, made, print_to, student or [], class_name, combined)
    if failed:
        raise typer.Exit(3)


def _make(bank: ItemBank, items: str | None, kp: list[str] | None, minutes: float, grade: int, subject: str,
          difficulty: str, tiers: bool, seed: int) -> dict[str, Any]:
    """The set(s) asked for: explicit items, or composed by the service (exit 2 or 3 with the reason)."""
    from homework._assignments import AssignmentRequest, HomeworkCaps, build_assignment
    from homework._errors import AssignmentError, CapExceededError, ItemBankError
    from homework._service import HomeworkService

    try:
        HomeworkCaps().allow_homework(grade)
        bank.check_knowledge_points(kp or ())
        if items:
            return {"": build_assignment(bank, [i.strip() for i in items.split(",") if i.strip()], grade=grade)}
        if not kp:
            raise AssignmentError("give --items or at least one --kp")
        level: Any = _range(difficulty, int) if difficulty[:1].isdigit() else difficulty
        request = AssignmentRequest(knowledge_points=tuple(kp), minutes=minutes, grade=grade, subject=subject,
                                    difficulty=level, seed=seed)
        return HomeworkService.compose(bank, request, tiers=tiers)
    except CapExceededError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(3) from exc
    except (AssignmentError, ItemBankError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _show_checks(service: Any, school: str, bank: ItemBank, made: dict[str, Any], ids: list[str], when: dt.date,
                 already: float) -> bool:
    """Print each set with its items and its 双减 check against the store's ledger; whether any failed."""
    failed = False
    for tier, assignment in made.items():
        typer.echo(f"{assignment.id}{f' [{tier}]' if tier else ''}: {len(assignment)} items, "
                   f"{assignment.total_minutes:g} min")
        for item_id, item_minutes in zip(assignment.item_ids, assignment.minutes, strict=True):
            typer.echo(f"  {item_id:<16} {item_minutes:>4.1f} min  {bank.get(item_id).stem[:50]}")
        check = service.check_homework(school, assignment, ids, when, already=already)
        typer.echo(f"  双减 check: {'ok' if check.ok else 'REFUSED: ' + check.message}")
        failed |= not check.ok
    return failed


def _print(bank: ItemBank, made: dict, folder: Path, students: list[str], class_name: str, combined: bool) -> None:
    from tqdm import tqdm

    from homework._errors import AssignmentError
    from homework._printing import print_assignment

    people = [(s.split(":", 1)[0], s.split(":", 1)[-1]) for s in students]
    if not people:
        typer.echo("error: --print needs at least one --student ID:NAME", err=True)
        raise typer.Exit(2)
    for assignment in made.values():
        try:
            with tqdm(total=len(people), desc=f"print {assignment.id}", unit="student") as bar:
                printed = print_assignment(bank, assignment, people, folder / assignment.id, class_name=class_name,
                                           combined=combined, progress=lambda done, total: bar.update(done - bar.n))
        except (AssignmentError, OSError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
        typer.echo(f"{printed.questions.parent}: questions.pdf, sheets.pdf{', combined.pdf' if combined else ''}, "
                   "spec.json")
