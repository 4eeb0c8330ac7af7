"""``homework roster import`` and ``homework roster show``: a school's classes, students and teachers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from homework.cli._app import app
from homework.cli._store import DataDir, DbOption, open_service

if TYPE_CHECKING:
    from homework import HomeworkService

roster_app = typer.Typer(name="roster", help="A school's roster: classes, students, teachers.", no_args_is_help=True)
app.add_typer(roster_app)

School = Annotated[str, typer.Option("--school", help="The school the roster belongs to.")]


def _service(database_url: str | None, data_dir: Path | None) -> HomeworkService:
    return open_service(database_url, data_dir)


@roster_app.command("import")
def roster_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The roster CSV.")],
    school: School,
    replace: Annotated[bool, typer.Option("--replace", help="Take students not listed out of the file's classes "
                                          "(refused while any row is invalid).")] = False,
    database_url: DbOption = None,
    data_dir: DataDir = None,
) -> None:
    """Import a roster CSV: class_id, class_name, grade, student_id, student_name, teacher_id, teacher_name,
    subject (one row per student; a teacher on the rows of each class they teach). Every invalid row is
    printed with its reason; the valid rows are kept. Exit code 1 when any row was rejected, 2 when
    nothing could be imported."""
    from homework import RosterError

    service = _service(database_url, data_dir)
    try:
        report = service.import_roster(school, file, replace=replace)
    except RosterError as exc:
        for issue in exc.issues:
            typer.echo(f"  {issue}", err=True)
        typer.echo(f"error: {str(exc).split(':')[0]}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{school}: {report.classes} class(es), {report.students} student(s), {report.teachers} "
               f"teacher(s) written; {report.rejected} row(s) rejected")
    if report.left:
        typer.echo(f"left their class: {', '.join(report.left)}")
    for issue in report.issues:
        typer.echo(f"  {issue}", err=True)
    if report.rejected:
        raise typer.Exit(1)


@roster_app.command("show")
def roster_show(school: School, database_url: DbOption = None, data_dir: DataDir = None) -> None:
    """Print the school's classes with their teachers and students."""
    roster = _service(database_url, data_dir).roster(school)
    classes = roster.classes()
    if not classes:
        typer.echo(f"{school} has no roster yet: homework roster import FILE --school {school}")
        return
    names = roster.people(s for c in classes for s in c.students)
    for c in classes:
        teachers = ", ".join(f"{t}" + (f" ({s})" if s else "") for t, s in c.teachers) or "no teacher"
        typer.echo(f"{c.class_id} {c.name} grade {c.grade}: {len(c.students)} student(s); {teachers}")
        typer.echo("  " + ", ".join(f"{s} {names[s].name}" for s in c.students))
