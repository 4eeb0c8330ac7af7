"""Rosters: a school's classes, their students and their teachers, read from a CSV file row by row.

One row per student (and, where it says so, the teacher who teaches that class a subject)::

    class_id,class_name,grade,student_id,student_name,teacher_id,teacher_name,subject
    c5-2,五(2)班,5,s2301,李雷,t-li,李老师,math
    c5-2,五(2)班,5,s2302,韩梅梅,,,
    c5-2,五(2)班,5,,,t-wang,王老师,chinese        <- a teacher row: no student

``class_id`` and ``grade`` are required; ``class_name`` (printed on papers and used by reports)
defaults to the id. A row names a student (``student_id`` and ``student_name``), a teacher
(``teacher_id``; ``teacher_name`` defaults to the id; ``subject`` empty means every subject, a
head teacher), or both. Ids are letters, digits, ``_ . -`` and at most 40 characters: student ids
go into the QR code of every sheet. Chinese headers are accepted too (班级编号, 班级, 年级, 学号,
姓名, 教师编号, 教师, 学科). The file may be UTF-8 (with or without BOM) or GB18030 (what Excel
writes on a Chinese Windows).

Every invalid row is reported as ``row N, field: reason`` (row 1 is the header) and the valid rows
are kept, as the item bank's import does; a student listed in two classes, or a class given two
grades or two names, is an error on the later row.

>>> roster = read_roster(b"class_id,grade,student_id,student_name,teacher_id\\n"
...                      b"c5-2,5,s1,Li Lei,t-li\\nc5-2,5,s 2,Han Meimei,\\nc5-2,15,s3,Lucy,\\nc5-2,5,s4,,\\n")
>>> [(r.class_id, r.student_id, r.teacher_id) for r in roster.rows]
[('c5-2', 's1', 't-li')]
>>> [str(issue) for issue in roster.issues]  # doctest: +NORMALIZE_WHITESPACE
["row 3, student_id: 's 2' is not an id (letters, digits, _ . - and at most 40 characters)",
 'row 4, grade: must be a whole number from 1 to 12, got 15', 'row 5, student_name: a student needs a name']
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from homework._bank import ImportIssue

__all__ = ["ROSTER_COLUMNS", "RosterFile", "RosterReport", "RosterRow", "read_roster"]

ROSTER_COLUMNS = ("class_id", "class_name", "grade", "student_id", "student_name", "teacher_id", "teacher_name",
                  "subject")
HEADER_ALIASES = {
    "班级编号": "class_id", "班级代码": "class_id", "class": "class_id", "班级": "class_name", "班级名称": "class_name",
    "年级": "grade", "学号": "student_id", "学生编号": "student_id", "姓名": "student_name", "学生姓名": "student_name",
    "学生": "student_name", "教师编号": "teacher_id", "教师工号": "teacher_id", "教师": "teacher_name",
    "教师姓名": "teacher_name", "任课教师": "teacher_name", "学科": "subject", "科目": "subject",
}
_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")


def _blank_is_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _an_id(value: Any) -> Any:
    value = _blank_is_none(value)
    if value is not None and not _ID.match(str(value)):
        raise ValueError(f"{value!r} is not an id (letters, digits, _ . - and at most 40 characters)")
    return value


def _a_grade(value: Any) -> int:
    value = _blank_is_none(value)
    try:
        grade = int(str(value))
    except ValueError:
        grade = 0
    if not 1 <= grade <= 12:
        raise ValueError(f"must be a whole number from 1 to 12, got {value}")
    return grade


Id = Annotated[str, BeforeValidator(_an_id)]
OptionalId = Annotated[str | None, BeforeValidator(_an_id)]
Text = Annotated[str | None, BeforeValidator(_blank_is_none)]


class RosterRow(BaseModel):
    """One valid row: a student in a class, a teacher of a class, or both."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    class_id: Id
    class_name: Text = None
    grade: Annotated[int, BeforeValidator(_a_grade)]
    student_id: OptionalId = None
    student_name: Text = None
    teacher_id: OptionalId = None
    teacher_name: Text = None
    subject: Annotated[str, BeforeValidator(lambda v: _blank_is_none(v) or "")] = ""

    @model_validator(mode="after")
    def _names_someone(self) -> RosterRow:
        if self.student_id is not None and self.student_name is None:
            raise _FieldError("student_name", "a student needs a name")
        if self.student_id is None and self.student_name is not None:
            raise _FieldError("student_id", f"student {self.student_name!r} needs an id")
        if self.teacher_id is None and (self.teacher_name or self.subject):
            raise _FieldError("teacher_id", "a teacher (or subject) needs a teacher id")
        if self.student_id is None and self.teacher_id is None:
            raise _FieldError("student_id", "the row names neither a student nor a teacher")
        return self

    @property
    def display_name(self) -> str:
        """The class's printed name (its id when the file gives none)."""
        return self.class_name or self.class_id


class _FieldError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


@dataclass(frozen=True)
class RosterFile:
    """A roster file read and checked: its valid rows, and an issue for each rejected value."""

    rows: tuple[RosterRow, ...]
    issues: tuple[ImportIssue, ...]

    @property
    def rejected_rows(self) -> int:
        return len({issue.row for issue in self.issues})


@dataclass(frozen=True)
class RosterReport:
    """What a roster import did: rows kept and rejected (with the reasons), and what changed in the store."""

    classes: int
    students: int
    teachers: int
    left: tuple[str, ...]  # students taken out of a class by ``replace`` (no longer listed)
    rejected: int
    issues: tuple[ImportIssue, ...]


def read_roster(source: str | Path | bytes) -> RosterFile:
    """Read a roster CSV (a path, or the file's bytes) and check every row; see the module docstring."""
    data = Path(source).read_bytes() if isinstance(source, str | Path) else source
    reader = csv.DictReader(io.StringIO(_decode(data)))
    header = [HEADER_ALIASES.get((h or "").strip(), (h or "").strip().lower()) for h in reader.fieldnames or []]
    missing = [c for c in ("class_id", "grade") if c not in header]
    if missing:
        return RosterFile((), (ImportIssue(1, ", ".join(missing), f"missing column(s); the columns are "
                                                                    f"{', '.join(ROSTER_COLUMNS)}"),))
    rows: list[tuple[int, RosterRow]] = []
    issues: list[ImportIssue] = []
    for number, raw in enumerate(reader, start=2):
        values = {name: value for name, value in zip(header, raw.values(), strict=False) if name in ROSTER_COLUMNS}
        row, problems = _check(number, values)
        issues += problems
        if row is not None:
            rows.append((number, row))
    consistent, clashes = _consistent(rows)
    return RosterFile(tuple(consistent), tuple(sorted(issues + clashes, key=lambda i: i.row)))


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def _check(number: int, values: dict[str, Any]) -> tuple[RosterRow | None, list[ImportIssue]]:
    if not any(_blank_is_none(v) for v in values.values()):
        return None, []  # an empty line
    try:
        return RosterRow.model_validate(values), []
    except ValidationError as exc:
        issues = []
        for error in exc.errors():
            cause = error.get("ctx", {}).get("error")
            field = cause.field if isinstance(cause, _FieldError) else ".".join(str(p) for p in error["loc"])
            reason = str(cause) if cause is not None else error["msg"]
            issues.append(ImportIssue(number, field or "row", reason))
        return None, issues


def _consistent(rows: list[tuple[int, RosterRow]]) -> tuple[list[RosterRow], list[ImportIssue]]:
    """Rows that agree with the ones before them: one class per student, one grade and name per class."""
    classes: dict[str, tuple[int, str]] = {}
    placed: dict[str, str] = {}
    kept, issues = [], []
    for number, row in rows:
        grade, name = classes.setdefault(row.class_id, (row.grade, row.display_name))
        if grade != row.grade:
            issues.append(ImportIssue(number, "grade", f"class {row.class_id!r} is grade {grade} on an earlier row"))
        elif row.class_name is not None and name != row.class_name:
            issues.append(ImportIssue(number, "class_name", f"class {row.class_id!r} is named {name!r} on an earlier row"))
        elif row.student_id is not None and placed.setdefault(row.student_id, row.class_id) != row.class_id:
            issues.append(ImportIssue(number, "student_id", f"student {row.student_id!r} is in class "
                                                            f"{placed[row.student_id]!r} on an earlier row"))
        else:
            kept.append(row)
    return kept, issues
