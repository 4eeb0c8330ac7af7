"""Assignments on sheets the library did not print: a foreign sheet, a roster with student numbers.

A :class:`ForeignAssignment` binds a :class:`scanning.ForeignSheet` (imported from an OMRChecker
template, see ``homework sheets import-template``) to the students who answer on it, each with the
number they bubble in the sheet's student-number grid. There is no QR code: the student is the one
whose ``number`` equals what the identity question reads, and nothing else::

    identity question read        outcome for the page
    ----------------------------  -------------------------------------------------------------
    clear, on the roster          read and graded for that student (one page per sheet)
    a digit doubly marked/unclear not_identified: kept for a human, with the digits in question
    a blank between marked digits not_identified: "incomplete student number" (blank columns at
                                  either end are padding: a 7-digit number in a 10-column grid)
    clear, not on the roster      not_identified: "number 0190890 is not on the roster of hw-7"

A page that is identified is graded with the sheet's own answer key (OMRChecker's marking: the
points of the accepted answer, ``incorrect`` or ``unmarked``); a field read with a double mark the
key does not accept, or an unclear mark, goes to the review queue with its crop, never graded.

>>> a = ForeignAssignment.model_validate({"assignment_id": "mock-1", "title": "Mock", "sheet": {
...     "name": "s", "page": [100, 100], "bubble_size": [10, 10], "identity": "Roll",
...     "fields": [{"id": "r1", "kind": "digit", "bubbles": [{"x": 5, "y": 5, "value": "0"}]}],
...     "questions": [{"id": "Roll", "parts": ["r1"]}]},
...     "students": [{"id": "s01", "name": "李雷", "number": "0"}]})
>>> a.by_number("0").id, a.by_number("1")
('s01', None)
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, model_validator

from homework._errors import HomeworkError
from scanning import ForeignReading, ForeignSheet, QuestionKey, SpecError
from scanning._omr import FieldReading

logger = logging.getLogger(__name__)

FORMAT = "foreign-assignment-1"
ID_PATTERN = r"^[A-Za-z0-9_.\-]{1,40}$"


class RosterEntry(BaseModel):
    """A student and the number they bubble on the sheet (学号 / roll number)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=40)
    number: str = Field(min_length=1, max_length=40)
    class_name: str | None = Field(None, validation_alias=AliasChoices("class_name", "class"))


class ForeignAssignment(BaseModel):
    """An assignment answered on a foreign sheet: the sheet, and the roster matched by number."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["foreign-assignment-1"] = "foreign-assignment-1"
    assignment_id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1, max_length=80)
    class_name: str = Field("", validation_alias=AliasChoices("class_name", "class"))
    sheet: ForeignSheet
    students: tuple[RosterEntry, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _roster(self) -> ForeignAssignment:
        if self.sheet.identity is None:
            raise ValueError("the sheet has no student-number question (identity): without a QR code a "
                             "page can only be matched to a student by the number bubbled on it")
        for what in ("id", "number"):
            values = [getattr(s, what) for s in self.students]
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ValueError(f"students: {what} {repeated} used twice")
        return self

    @property
    def fields(self) -> tuple[Any, ...]:
        """The sheet's questions (what a spec calls its fields)."""
        return self.sheet.questions

    def by_number(self, number: str) -> RosterEntry | None:
        """The student whose number this is, or None."""
        return next((s for s in self.students if s.number == number), None)


def load_foreign_assignment(data: ForeignAssignment | dict[str, Any] | str | bytes) -> ForeignAssignment:
    """A :class:`ForeignAssignment` from a dict or JSON; :class:`scanning.SpecError` naming what is wrong."""
    if isinstance(data, ForeignAssignment):
        return data
    try:
        if isinstance(data, dict):
            return ForeignAssignment.model_validate(data)
        return ForeignAssignment.model_validate_json(data)
    except ValidationError as exc:
        parts = [f"{'.'.join(str(p) for p in e['loc']) or 'assignment'}: {e['msg'].removeprefix('Value error, ')}"
                 for e in exc.errors()[:5]]
        raise SpecError(f"invalid foreign-sheet assignment: {'; '.join(parts)}") from exc


def is_foreign(data: dict[str, Any]) -> bool:
    """Whether stored or posted assignment JSON is a foreign-sheet assignment."""
    return data.get("format") == FORMAT or "sheet" in data


class NotIdentifiedError(HomeworkError):
    """The student number on a foreign sheet is unclear, incomplete or not on the roster."""


def identify(reading: ForeignReading, assignment: ForeignAssignment) -> RosterEntry:
    """The student whose number the page shows; :class:`NotIdentifiedError` saying why not.

    Columns left blank at either end are padding (a 7-digit number in a 10-column grid); a blank
    column between marked ones makes the number incomplete.
    """
    answer = reading.identity_reading
    if answer is None:
        raise NotIdentifiedError("the sheet has no student-number question")
    if answer.status == "needs_review":
        raise NotIdentifiedError(f"student number {answer.value or ''!r} is unclear ({answer.reason})")
    by_id = {f.field_id: f for f in reading.fields}
    parts = [by_id[p] for p in assignment.sheet.question(answer.field_id).parts]
    marked = [i for i, part in enumerate(parts) if part.status != "blank"]
    if not marked:
        raise NotIdentifiedError("no student number is marked")
    gaps = [p.field_id for p in parts[marked[0]:marked[-1] + 1] if p.status == "blank"]
    if gaps:
        raise NotIdentifiedError(f"incomplete student number {answer.value or ''!r}: nothing marked in "
                                 f"{', '.join(gaps)}")
    number = "".join(p.value or "" for p in parts)
    student = assignment.by_number(number)
    if student is None:
        raise NotIdentifiedError(f"student number {number!r} is not on the roster of {assignment.assignment_id}")
    return student


def graded_row(answer: FieldReading, key: QuestionKey | None) -> dict[str, Any]:
    """The grading columns of one answer: read status -> grade status, score, correct."""
    if answer.status == "needs_review":
        return {"score": None, "max_score": None if key is None else key.max_points, "correct": None,
                "grade_status": "needs_review", "grade_reason": answer.reason}
    if key is None:
        return {"score": None, "max_score": None, "correct": None, "grade_status": "ungraded", "grade_reason": "no key"}
    value = answer.value if answer.status == "ok" else ""
    return grade_value(value or "", key)


def grade_value(value: str, key: QuestionKey) -> dict[str, Any]:
    """Score ``value`` (the marks read, or a teacher's reading) with OMRChecker's marking."""
    score = key.score(value)
    verdict = "unmarked" if value == "" else ("correct" if value in key.answers else "incorrect")
    return {"score": score, "max_score": key.max_points, "correct": verdict == "correct",
            "grade_status": "graded", "grade_reason": f"{verdict}: {score:+g} ({key.section})"}


def question_crop(reading: ForeignReading, sheet: ForeignSheet, question_id: str) -> np.ndarray:
    """The aligned page around a question's bubbles, for the teacher who reviews it."""
    scale, image = reading.page.scale, reading.page.image
    boxes = []
    for part in sheet.question(question_id).parts:
        field = sheet.field(part)
        w, h = field.size or sheet.bubble_size
        boxes += [(b.x, b.y, b.x + w, b.y + h) for b in field.bubbles]
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    margin = max(sheet.bubble_size)
    top, left = max(0, int((y0 - margin) * scale)), max(0, int((x0 - margin) * scale))
    return image[top:int((y1 + margin) * scale) + 1, left:int((x1 + margin) * scale) + 1].copy()
