"""Rosters over HTTP: a school admin imports the school's classes, students and teachers; staff read them.

``POST /rosters`` takes the CSV of :mod:`homework._rosters` (one row per student, teachers on the
rows of the classes they teach); every invalid row comes back with its row number, field and reason
and the valid rows are kept. ``GET /rosters`` lists the classes the key sees (a teacher's own).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api._deps import SchoolAdmin, ServiceDep, SettingsDep, View
from api._problems import ApiError, responses

rosters = APIRouter(prefix="/rosters", tags=["rosters"], responses=responses(401, 403, 404, 413, 422))


class RosterIssuePublic(BaseModel):
    row: int = Field(description="The file's row (the header is row 1).")
    field: str
    reason: str


class RosterImportPublic(BaseModel):
    """What an import did."""

    classes: int = Field(description="Classes written (added or updated).")
    students: int
    teachers: int
    left: list[str] = Field(description="Students taken out of their class (replace=true, no longer listed).")
    rejected_rows: int
    issues: list[RosterIssuePublic]


class TeacherPublic(BaseModel):
    teacher_id: str
    subject: str = Field(description='The subject taught; "" for every subject (a head teacher).')


class StudentPublic(BaseModel):
    student_id: str
    name: str


class ClassPublic(BaseModel):
    class_id: str
    name: str
    grade: int
    teachers: list[TeacherPublic]
    students: list[StudentPublic]


@rosters.post("", responses=responses(413))
async def import_roster(service: ServiceDep, who: SchoolAdmin, settings: SettingsDep, file: UploadFile,
                        replace: Annotated[bool, Query(description="Take students not listed out of the file's "
                                                       "classes (refused while any row is invalid).")] = False,
                        ) -> RosterImportPublic:
    """Import the school's roster from a CSV (columns ``class_id, class_name, grade, student_id, student_name,
    teacher_id, teacher_name, subject``; UTF-8 or GB18030). A file with no valid row is a 422 listing
    every row's problem."""
    limit = settings.max_upload_mb * 1024 * 1024
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, "upload_too_large", f"{file.filename}: larger than {settings.max_upload_mb} MB")
    report = await run_in_threadpool(service.import_roster, who.school, data, replace=replace)
    return RosterImportPublic(classes=report.classes, students=report.students, teachers=report.teachers,
                              left=list(report.left), rejected_rows=report.rejected,
                              issues=[RosterIssuePublic(row=i.row, field=i.field, reason=i.reason)
                                      for i in report.issues])


@rosters.get("")
def list_classes(view: View) -> list[ClassPublic]:
    """The roster's classes this key sees (a teacher's own; an admin's whole school), with teachers and students."""
    classes = view.service.roster(view.school).classes(None if view.teacher is None else view.teacher.classes)
    people = {p["id"]: p["name"] for p in view.people(s for c in classes for s in c.students)}
    return [ClassPublic(class_id=c.class_id, name=c.name, grade=c.grade,
                        teachers=[TeacherPublic(teacher_id=t, subject=s) for t, s in c.teachers],
                        students=[StudentPublic(student_id=s, name=people[s]) for s in c.students])
            for c in classes]
