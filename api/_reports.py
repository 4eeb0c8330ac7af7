"""Stage 3 over HTTP: a class's or a student's report, the school overview, the 错题本 and grade exports.

Every route is for staff (teacher, school admin) and reads what the caller's key sees of its school
(:class:`homework.SchoolView`: a teacher's own classes, an admin's whole school), so another school's,
or another class's, class or student is simply not found. Names and classes come from the roster.
The bank (``HOMEWORK_BANK``) gives stems, knowledge points and practice items; without it the reports
still show scores and times, and the 错题本 answers 503.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse

from api._deps import ServiceDep, View
from api._problems import ApiError, responses
from api._targeting import TargetingDep

reports = APIRouter(prefix="/reports", tags=["reports"], responses={**responses(401, 403, 404, 422), **responses(503)})

_PDF = "application/pdf"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _data(service: Any, view: Any, targeting: Any, *, need_bank: bool = False) -> Any:
    from homework._reports import report_data

    try:
        bank = targeting.bank(view.school)
    except ApiError:
        if need_bank:
            raise
        bank = None
    ledger = service.ledger(view.school).ledger()
    return report_data(view.records(bank, ledger), bank), view.intake.store


@reports.get("/classes/{class_name}", response_class=HTMLResponse)
def class_page(service: ServiceDep, view: View, targeting: TargetingDep,
               class_name: str) -> HTMLResponse:
    """The class report (self-contained HTML: mastery heatmap, items and distractors, times, 双减)."""
    from homework._reports import class_report

    name = view.check_class(class_name)
    data, _ = _data(service, view, targeting)
    return HTMLResponse(class_report(data, name))


@reports.get("/students/{student_id}", response_class=HTMLResponse)
def student_page(service: ServiceDep, view: View, targeting: TargetingDep,
                 student_id: str) -> HTMLResponse:
    """One student's report, with the 错题本."""
    from homework._reports import student_report

    view.check_students([student_id])
    data, _ = _data(service, view, targeting)
    return HTMLResponse(student_report(data, student_id))


@reports.get("/school", response_class=HTMLResponse)
def school_page(service: ServiceDep, view: View, targeting: TargetingDep) -> HTMLResponse:
    """The school's classes side by side (a teacher's: their own classes)."""
    from homework._reports import overview_report

    data, _ = _data(service, view, targeting)
    return HTMLResponse(overview_report(data, title=f"{view.school} 作业概况"))


@reports.get("/notebook.pdf", response_class=Response)
def notebook_pdf(service: ServiceDep, view: View, targeting: TargetingDep,
                 student: Annotated[list[str] | None, Query(description="Student ids (repeatable).")] = None,
                 class_name: Annotated[str | None, Query(description="Or every student of a class.")] = None,
                 ) -> Response:
    """The 错题本 as a printable A4 PDF, with each student's own writing cut from the scans."""
    from homework._notebook import write_notebook

    view.check_students(student or [])
    if class_name is not None:
        class_name = view.check_class(class_name)
    data, store = _data(service, view, targeting, need_bank=True)
    ids = list(student or []) or sorted(data.sheets.loc[data.sheets["class_name"] == class_name, "student_id"].unique())
    if not ids:
        raise ApiError(404, "not_found", "name students (student=...) or a class with homework (class_name=...)")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_notebook(data, Path(tmp) / "notebook.pdf", students=ids, store=store)
        return Response(path.read_bytes(), media_type=_PDF)


@reports.get("/grades.{fmt}", response_class=Response)
def grades(service: ServiceDep, view: View, targeting: TargetingDep,
           fmt: Literal["csv", "xlsx"],
           assignment_id: Annotated[str | None, Query(description="One assignment's grades.")] = None,
           class_name: Annotated[str | None, Query(description="Or a class over the days below.")] = None,
           start: dt.date | None = None, end: dt.date | None = None) -> Response:
    """Grades: one row per student, one column per question, totals and minutes (CSV or Excel)."""
    from homework._exports import assignments_between, grade_table, write_grades

    if (assignment_id is None) == (class_name is None):
        raise ApiError(422, "invalid_request", "give assignment_id, or class_name with start/end")
    if assignment_id is not None:
        view.check_assignment(assignment_id)
    else:
        class_name = view.check_class(str(class_name))
    data, _ = _data(service, view, targeting)
    ids = [assignment_id] if assignment_id else assignments_between(data.sheets, str(class_name), start, end)
    table = grade_table(data.answers, data.sheets, ids, class_name)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_grades(table, Path(tmp) / f"grades.{fmt}", title=assignment_id or str(class_name))
        return Response(path.read_bytes(), media_type=_XLSX if fmt == "xlsx" else "text/csv; charset=utf-8")
