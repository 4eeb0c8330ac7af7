"""A teacher's changes to a school's grades and kept pages, each kept in the store's history.

:class:`Corrections` acts on one school's :class:`~homework.Intake`::

    resolve             readings of review items (one, a group, a screenful), graded in one transaction
    correct_resolution  a new reading for a review resolved before (a slip of the teacher's)
    override            a new reading, or the points, of any graded answer (an auto-grade the key got wrong)
    dismiss_page        a kept page marked dismissed, with who and why (the page and its file stay)
    assign_page         a kept page read and graded as a student's page of an assignment

Every change to an answer adds a row to ``grade_history`` (who, when, the new grade, why; the
row before it is the old one) and moves the student's mastery evidence by the difference, in the
change's own transaction: an answer graded for the first time adds an attempt, a changed grade
only moves the credit, so the sums stay those of a replay of the final grades.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from homework._errors import HomeworkError, NotFoundError, ReviewClosedError
from homework.storage import ReviewItem, StoredPage

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from homework._intake import Intake

log = logging.getLogger(__name__)

KEPT = ("not_identified", "not_on_roster", "unknown_assignment", "not_registered", "bad_image", "blank_page",
        "duplicate")
"""Statuses of pages kept for a human (a dismissed page has ``dismissed``)."""
ASSIGNABLE = ("not_identified", "not_on_roster", "unknown_assignment", "not_registered")
"""Kept pages that may hold a readable sheet; the others can only be dismissed."""


class Corrections:
    """A teacher's changes to one school's answers and kept pages (see the module docstring)."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake
        self.store = intake.store

    # -- answers -----------------------------------------------------------------------------------

    def resolve(self, decisions: Sequence[tuple[int, str | None]], *, teacher: str) -> list[dict[str, Any]]:
        """Grade review items with the teacher's readings, all in one transaction: ``(review id, value)``
        pairs, a value of ``None`` confirming what was read. Nothing changes when any item is unknown
        (:class:`NotFoundError`), already resolved (:class:`ReviewClosedError`) or has nothing read to confirm."""
        changes: list[tuple[ReviewItem, dict[str, Any], dict[str, Any]]] = []
        for review_id, value in decisions:
            item = self._review(review_id)
            if item.status != "open":
                raise ReviewClosedError(f"review item {review_id} was already resolved")
            old = self.store.answer(item.assignment_id, item.student_id, item.field_id)
            if value is None:
                if item.value_read is None or not item.value_read.strip():
                    raise HomeworkError(f"nothing was read for review item {review_id}: type what the student wrote")
                value = item.value_read
            changes.append((item, old, self.regraded(old, value, teacher=teacher)))
        with self.store.transaction() as db:
            for item, old, new in changes:
                if not self.store.close_review(db, item.review_id, teacher):
                    raise ReviewClosedError(f"review item {item.review_id} was already resolved")
                self._write(db, old, new, because=f"review #{item.review_id} resolved by {teacher}")
        return [new for _, _, new in changes]

    def correct_resolution(self, review_id: int, value: str, *, teacher: str, reason: str) -> dict[str, Any]:
        """A new reading for a review item resolved before; the earlier one stays in the history."""
        reason = _why(reason)
        item = self._review(review_id)
        if item.status == "open":
            raise HomeworkError(f"review item {review_id} is still open: resolve it (POST /review/{review_id})")
        old = self.store.answer(item.assignment_id, item.student_id, item.field_id)
        new = self.regraded(old, value, teacher=teacher)
        with self.store.transaction() as db:
            self._write(db, old, new, because=f"review #{review_id} corrected by {teacher}: {reason}")
        return new

    def override(self, assignment_id: str, student_id: str, field_id: str, *, teacher: str, reason: str,
                 value: str | None = None, score: float | None = None) -> dict[str, Any]:
        """Change a graded answer: a new reading graded against the key, or the points given outright
        (``score``, 0 to the question's maximum), or both. An answer still in the review queue is
        resolved there instead."""
        reason = _why(reason)
        if value is None and score is None:
            raise HomeworkError("give the answer's value, its score, or both")
        try:
            old = self.store.answer(assignment_id, student_id, field_id)
        except KeyError as exc:
            raise NotFoundError(f"no answer of {student_id} to {field_id} in {assignment_id}") from exc
        waiting = [r for r in self.store.reviews(assignment_id=assignment_id)
                   if (r.student_id, r.field_id) == (student_id, field_id)]
        if waiting:
            raise HomeworkError(f"this answer waits in the review queue (review item {waiting[0].review_id}): "
                                "resolve it there")
        new = self.regraded(old, old["value"] if value is None else value, teacher=teacher)
        if score is not None:
            new = _scored(new, score, teacher, reason)
        with self.store.transaction() as db:
            self._write(db, old, new, because=f"override by {teacher}: {reason}")
        return new

    def regraded(self, answer: dict[str, Any], value: str, *, teacher: str) -> dict[str, Any]:
        """``answer`` read as ``value`` by ``teacher`` and graded against its assignment's newest key."""
        from homework._intake import _start_value
        from scanning import Answer, grade

        intake, assignment_id, field_id = self.intake, answer["assignment_id"], answer["field_id"]
        value = value.strip()
        if not value:
            raise HomeworkError("an empty reading: type what the student wrote")
        new = {**answer, "value": value, "confidence": 1.0, "read_status": "ok", "read_reason": f"read by {teacher}",
               "graded_by": teacher, "updated_at": time.time(), "grade_status": "ungraded", "grade_reason": "no key",
               "score": None, "max_score": None, "correct": None}
        if not intake.knows(assignment_id):
            intake.spec(assignment_id)  # raises UnknownAssignmentError
        if not intake._is_ours(assignment_id):  # a foreign sheet: OMRChecker's marking
            from homework._foreign_intake import grade_value

            version, foreign = intake._foreign_versioned(assignment_id)
            qkey = foreign.sheet.keys.get(field_id)
            if qkey is not None:
                new.update(grade_value(value.upper() if value.isalpha() else value, qkey))
            return {**new, "spec_version": version}
        version, spec = intake._versioned(assignment_id)
        field = spec.field(field_id)
        if field.type == "start_time":
            new["value"] = _start_value(value)
        if field.key is not None:
            result = grade(field.key, Answer(new["value"], confidence=1.0))
            new.update(score=result.score, max_score=result.max_score, correct=bool(result.correct),
                       grade_status="graded", grade_reason=result.reason)
        return {**new, "spec_version": version}

    def _write(self, db: Connection, old: dict[str, Any], new: dict[str, Any], *, because: str) -> None:
        """Keep the new grade (and its history row) and move mastery by the difference, in ``db``."""
        self.store.put_answer(db, new, because=because)
        point = self.intake._field_points(new["assignment_id"], db).get(new["field_id"])
        if point is not None:
            self.intake.mastery.amend(db, new["student_id"], point.subject, mastery_changes(point, old, new))

    def _review(self, review_id: int) -> ReviewItem:
        try:
            return self.store.review(review_id)
        except KeyError as exc:
            raise NotFoundError(f"no review item {review_id}") from exc

    # -- kept pages --------------------------------------------------------------------------------

    def dismiss_page(self, page_id: int, *, teacher: str, reason: str) -> StoredPage:
        """Mark a kept page dismissed (not a sheet of ours, a test print...): it and its file stay."""
        page = self._kept_page(page_id)
        message = f"dismissed by {teacher} on {_now()}: {_why(reason)} (was {page.status}: {page.message})"
        with self.store.transaction() as db:
            self.store.set_page(db, page_id, status="dismissed", message=message)
        return self.store.page(page_id)

    def assign_page(self, page_id: int, *, assignment_id: str, student_id: str, teacher: str, reason: str,
                    page_index: int | None = None) -> tuple[StoredPage, int, int]:
        """Read a kept page as ``student_id``'s page of ``assignment_id`` (its ``page_index``, 0-based: by
        default the one its QR code named, else the first) and grade it like any scanned page.

        Returns the page and how many answers were graded and sent to review. Refused with the reason when
        the page cannot be read (no markers, not an image), the student is not on the assignment's roster,
        or that page of the student's sheet was accepted already.
        """
        reason = _why(reason)
        page = self._kept_page(page_id)
        if page.status not in ASSIGNABLE:
            raise HomeworkError(f"page {page_id} is kept as {page.status}: nothing can be read from it, "
                                "dismiss it (or scan the sheet again)")
        intake = self.intake
        if not intake.knows(assignment_id):
            intake.spec(assignment_id)  # raises UnknownAssignmentError
        ours = intake._is_ours(assignment_id)
        roster = intake.spec(assignment_id).students if ours else intake.foreign(assignment_id).students
        if student_id not in {s.id for s in roster}:
            raise HomeworkError(f"student {student_id!r} is not on the roster of {assignment_id}")
        index = page_index if page_index is not None else (page.sheet_page or 0)
        image = self._page_image(page)
        message = f"assigned to {student_id} by {teacher} on {_now()}: {reason} (was {page.status}: {page.message})"
        try:
            with self.store.transaction() as db:
                graded, to_review = (self._grade_ours(db, page, image, assignment_id, student_id, index, message)
                                     if ours else self._grade_foreign(db, page, image, assignment_id, student_id, message))
        except IntegrityError as exc:
            earlier = self.store.accepted_page(assignment_id, student_id, index)
            raise HomeworkError(f"page {index + 1} of {student_id}'s sheet for {assignment_id} was accepted already "
                                f"(page #{earlier.page_id if earlier else '?'}): dismiss this one") from exc
        log.info("page %d assigned to %s/%s by %s", page_id, assignment_id, student_id, teacher)
        return self.store.page(page_id), graded, to_review

    def _grade_ours(self, db: Connection, page: StoredPage, image: Any, assignment_id: str, student_id: str,
                    index: int, message: str) -> tuple[int, int]:
        intake = self.intake
        reader = intake._sheet_reader()
        if reader is None:
            raise HomeworkError("no sheet of this library is registered")
        reading = reader.read_as(image, assignment_id, student_id, index, source=f"page #{page.page_id}")
        version, spec = intake._versioned(assignment_id)
        self.store.set_page(db, page.page_id, status="read", message=message, assignment_id=assignment_id,
                            student_id=student_id, sheet_page=index, sheet_pages=reading.page_count,
                            confidence=reading.confidence, spec_version=version)
        return intake._grade_page(db, page.page_id, spec, version, reading)

    def _grade_foreign(self, db: Connection, page: StoredPage, image: Any, assignment_id: str, student_id: str,
                       message: str) -> tuple[int, int]:
        from scanning import read_foreign_page

        version, assignment = self.intake._foreign_versioned(assignment_id)
        reading = read_foreign_page(assignment.sheet, image)
        self.store.set_page(db, page.page_id, status="read", message=message, assignment_id=assignment_id,
                            student_id=student_id, sheet_page=0, sheet_pages=1, confidence=reading.confidence,
                            spec_version=version)
        return self.intake._grade_foreign(db, page.page_id, assignment, version, student_id, reading)

    def _kept_page(self, page_id: int) -> StoredPage:
        try:
            page = self.store.page(page_id)
        except KeyError as exc:
            raise NotFoundError(f"no page {page_id}") from exc
        if page.status not in KEPT:
            raise HomeworkError(f"page {page_id} is {page.status}, not a page kept for a human")
        return page

    def _page_image(self, page: StoredPage) -> Any:
        from scanning import BadImageError
        from scanning._load import page_loaders

        name, data = self.store.upload_of(page.page_id)
        try:
            for index, (_, decode) in enumerate(page_loaders(data, name=name)):
                if index == page.page_in_file:
                    return decode()
        except BadImageError as exc:
            raise HomeworkError(f"page {page.page_id} cannot be decoded ({exc}): dismiss it") from exc
        raise HomeworkError(f"page {page.page_id}: its file has no page {page.page_in_file + 1}")


def mastery_changes(point: Any, old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, int, float]]:
    """``(knowledge point, attempts, credit)`` to add when an answer's grade goes from ``old`` to ``new``.

    >>> from homework.storage import FieldPoint
    >>> point = FieldPoint("q1", "i1", "math", 6, ("number.fraction",), True)
    >>> review = {"grade_status": "needs_review", "score": None, "max_score": None}
    >>> right, wrong = ({"grade_status": "graded", "score": s, "max_score": 2.0} for s in (2.0, 0.0))
    >>> mastery_changes(point, review, right), mastery_changes(point, right, wrong)
    ([('number.fraction', 1, 1.0)], [('number.fraction', 0, -1.0)])
    """
    before, after = _credit(old), _credit(new)
    if before is None and after is None:
        return []
    attempts = int(after is not None) - int(before is not None)
    change = (after or 0.0) - (before or 0.0)
    return [(kp, attempts, change) for kp in point.knowledge_points]


def _credit(row: dict[str, Any]) -> float | None:
    if row.get("grade_status") != "graded" or not row.get("max_score"):
        return None
    return float(row["score"] or 0.0) / float(row["max_score"])


def _scored(answer: dict[str, Any], score: float, teacher: str, reason: str) -> dict[str, Any]:
    top = answer.get("max_score")
    if top is None:
        raise HomeworkError("this question has no key, so no maximum to score against: give its value")
    if not 0 <= score <= top:
        raise HomeworkError(f"a score of {score:g} is outside 0..{top:g}")
    return {**answer, "score": float(score), "correct": score >= top, "grade_status": "graded",
            "grade_reason": f"{score:g} of {top:g} given by {teacher}: {_why(reason)}"}


def _why(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise HomeworkError("say why (a reason is kept with every change)")
    return reason[:500]


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
