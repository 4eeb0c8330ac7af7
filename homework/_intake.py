"""Scan intake: files from scanner stations become graded answers and a teacher's review queue.

:class:`Intake` takes whole files (one page or hundreds, any order, many students mixed, a sheet's
pages split across uploads) and decides, page by page, what becomes of each. Nothing is dropped:
the file is kept as uploaded before anything is read, and every page gets a stored outcome::

    upload ──keep bytes──> read each page (scanning.SheetReader)
      ├─ bad_image            could not be decoded            ┐
      ├─ blank_page           nothing printed or written      │
      ├─ not_registered       no registration markers         │ kept for a human, with the reason
      ├─ not_identified       QR unreadable / other layout    │ (``ScanStore.pages(status=...)``)
      ├─ unknown_assignment   QR names an assignment we lack  ┘
      ├─ duplicate            this page of this sheet was already accepted: kept, not graded again
      └─ read                 answers graded; unconfident ones -> review queue (with their crop)

A sheet is complete when all of its pages were accepted, whatever the order they came in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from homework._errors import HomeworkError, ReviewClosedError, UnknownAssignmentError
from homework._store import ScanStore
from scanning import (
    Answer,
    BadImageError,
    BlankPageError,
    PageNotRegisteredError,
    SheetNotIdentifiedError,
    SheetSpec,
    grade,
    load_spec,
)
from scanning._read import PageFailure, PageReading, SheetReader

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageOutcome:
    """What became of one page of an upload."""

    page_id: int
    source: str
    status: str
    message: str
    assignment_id: str | None = None
    student_id: str | None = None
    sheet_page: int | None = None  # 0-based
    sheet_pages: int | None = None
    graded: int = 0
    to_review: int = 0
    confidence: float | None = None


@dataclass(frozen=True)
class UploadReport:
    """Every page of one upload with its outcome, and the sheets this upload completed."""

    upload_id: int
    name: str
    pages: tuple[PageOutcome, ...]
    completed_sheets: tuple[tuple[str, str], ...]

    @property
    def kept_for_human(self) -> tuple[PageOutcome, ...]:
        """Pages that could not be graded (bad image, no markers, unknown sheet, duplicate)."""
        return tuple(p for p in self.pages if p.status != "read")


_FAILURE_STATUS: tuple[tuple[type[Exception], str], ...] = (
    (BadImageError, "bad_image"),
    (BlankPageError, "blank_page"),
    (PageNotRegisteredError, "not_registered"),
    (SheetNotIdentifiedError, "not_identified"),
)


class Intake:
    """Receives scanned files for the assignments whose sheet specs it knows.

    ``store`` keeps everything; ``ocr`` is an OCR backend or a backend name (see
    :func:`scanning.get_backend`), loaded on the first page that has writing boxes.
    """

    def __init__(self, store: ScanStore, *, ocr: Any = "rapidocr") -> None:
        from scanning import get_backend

        self.store = store
        self._ocr = get_backend(ocr) if isinstance(ocr, str) else ocr  # models load on first use
        self._reader: SheetReader | None = None
        self._specs: dict[str, SheetSpec] | None = None  # parsed once; reloaded on a miss

    # -- assignments -----------------------------------------------------------------------

    def register(self, spec: SheetSpec | dict[str, Any] | str | Path) -> SheetSpec:
        """Make an assignment's sheets known, so that their scans can be read."""
        loaded = load_spec(spec)
        self.store.put_spec(loaded.assignment_id, loaded.model_dump_json(by_alias=False))
        self._specs, self._reader = None, None
        return loaded

    def spec(self, assignment_id: str) -> SheetSpec:
        """The registered spec of an assignment; :class:`UnknownAssignmentError` if there is none."""
        specs = self._specs
        if specs is None or assignment_id not in specs:
            specs = self._load_specs()  # registered since, perhaps by another process
        if assignment_id not in specs:
            raise UnknownAssignmentError(f"assignment {assignment_id!r} is not registered")
        return specs[assignment_id]

    def knows(self, assignment_id: str) -> bool:
        """Whether the assignment is registered."""
        try:
            self.spec(assignment_id)
        except UnknownAssignmentError:
            return False
        return True

    def _load_specs(self) -> dict[str, SheetSpec]:
        specs = {aid: load_spec(data) for aid, data in self.store.specs().items()}
        if self._specs is not None and specs.keys() != self._specs.keys():
            self._reader = None
        self._specs = specs
        return specs

    def sheets_pdf(self, assignment_id: str) -> bytes:
        """Every student's answer sheet of a registered assignment, as one printable PDF."""
        from io import BytesIO

        from scanning import render_pdf

        out = BytesIO()
        render_pdf(self.spec(assignment_id), out)
        return out.getvalue()

    def _sheet_reader(self) -> SheetReader | None:
        if self._reader is None:
            specs = list(self._load_specs().values())
            if not specs:
                return None
            self._reader = SheetReader(specs, ocr=self._ocr)
        return self._reader

    # -- receiving -------------------------------------------------------------------------

    def receive(self, data: bytes | str | Path, *, name: str | None = None, station: str | None = None,
                progress: Callable[[PageOutcome], None] | None = None) -> UploadReport:
        """Keep a file, read every page in it, grade what can be graded; report each page's fate."""
        if isinstance(data, str | Path):
            name = name or Path(data).name
            data = Path(data).read_bytes()
        name = name or "upload"
        sha = self.store.put_blob(data)
        with self.store.transaction() as db:
            upload_id = self.store.add_upload(db, name, sha, len(data), station)
        reader = self._sheet_reader()
        outcomes: list[PageOutcome] = []
        completed: list[tuple[str, str]] = []
        results = reader.read_file(data, name=name) if reader else _no_specs(name)
        for index, result in enumerate(results):
            outcome = self._keep(upload_id, index, result)
            outcomes.append(outcome)
            if outcome.status == "read" and self._completes_sheet(outcome):
                completed.append((outcome.assignment_id or "", outcome.student_id or ""))
            if progress is not None:
                progress(outcome)
        return UploadReport(upload_id, name, tuple(outcomes), tuple(completed))

    def receive_many(self, paths: Iterable[str | Path], **kw: Any) -> list[UploadReport]:
        return [self.receive(path, **kw) for path in paths]

    def _keep(self, upload_id: int, index: int, result: PageReading | PageFailure) -> PageOutcome:
        if isinstance(result, PageFailure):
            return self._keep_failure(upload_id, index, result)
        sheet = result.sheet
        key = (sheet.assignment_id, sheet.student_id, sheet.page_index, sheet.page_count)
        earlier = self.store.accepted_page(sheet.assignment_id, sheet.student_id, sheet.page_index)
        if earlier is not None:
            message = (
                f"page {sheet.page_index + 1}/{sheet.page_count} of {sheet.student_id}'s sheet for "
                f"{sheet.assignment_id} was already accepted (page #{earlier.page_id}); kept, not graded again"
            )
            with self.store.transaction() as db:
                page_id = self.store.add_page(db, upload_id, index, "duplicate", message, key, result.confidence)
            return PageOutcome(page_id, str(result.source), "duplicate", message, *key)
        spec = self.spec(sheet.assignment_id)
        with self.store.transaction() as db:
            page_id = self.store.add_page(db, upload_id, index, "read", "read", key, result.confidence)
            graded, to_review = self._grade_page(db, page_id, spec, result)
        return PageOutcome(page_id, str(result.source), "read", "read", *key, graded=graded,
                           to_review=to_review, confidence=result.confidence)

    def _keep_failure(self, upload_id: int, index: int, failure: PageFailure) -> PageOutcome:
        status = next((s for t, s in _FAILURE_STATUS if isinstance(failure.error, t)), "not_identified")
        key = None
        if failure.sheet is not None:
            s = failure.sheet
            key = (s.assignment_id, s.student_id, s.page_index, s.page_count)
            if not self.knows(s.assignment_id):
                status = "unknown_assignment"
        message = f"{failure.error} (kept for a human)"
        with self.store.transaction() as db:
            page_id = self.store.add_page(db, upload_id, index, status, message, key)
        logger.info("%s: %s", failure.source, message)
        return PageOutcome(page_id, str(failure.source), status, message, *(key or (None, None, None, None)))

    def _grade_page(self, db: Any, page_id: int, spec: SheetSpec, page: PageReading) -> tuple[int, int]:
        graded = to_review = 0
        for reading in page.fields:
            key = spec.field(reading.field_id).key
            row = _answer_row(page, reading, page_id)
            if key is not None:
                result = grade(key, reading)
                row.update(score=result.score, max_score=result.max_score, correct=int(result.correct),
                           grade_status=result.status, grade_reason=result.reason)
            self.store.put_answer(db, row)
            if row["grade_status"] == "needs_review":
                crop_sha = self.store.put_blob(_png(reading.crop)) if reading.crop is not None else None
                self.store.add_review(db, assignment_id=page.assignment_id, student_id=page.student_id,
                                      field_id=reading.field_id, page_id=page_id, crop_sha256=crop_sha,
                                      reason=row["grade_reason"])
                to_review += 1
            elif row["grade_status"] == "graded":
                graded += 1
        return graded, to_review

    def _completes_sheet(self, outcome: PageOutcome) -> bool:
        accepted, total = self.store.sheet_pages(outcome.assignment_id or "", outcome.student_id or "")
        return total is not None and len(accepted) == total

    # -- the teacher's side ----------------------------------------------------------------

    def resolve(self, review_id: int, value: str, *, teacher: str) -> dict[str, Any]:
        """Grade a reviewed answer with the value the teacher reads on the crop; returns the answer."""
        item = self.store.review(review_id)
        if item.status != "open":
            raise ReviewClosedError(f"review item {review_id} was already resolved")
        key = self.spec(item.assignment_id).field(item.field_id).key
        answer = self.store.answer(item.assignment_id, item.student_id, item.field_id)
        answer.update(value=value, confidence=1.0, read_status="ok", read_reason=f"read by {teacher}",
                      graded_by=teacher, updated_at=time.time(), grade_status="ungraded", grade_reason="no key")
        if key is not None:
            result = grade(key, Answer(value, confidence=1.0))
            answer.update(score=result.score, max_score=result.max_score, correct=int(result.correct),
                          grade_status="graded", grade_reason=result.reason)
        with self.store.transaction() as db:
            self.store.put_answer(db, answer)
            self.store.close_review(db, review_id, teacher)
        return answer

    def missing_pages(self, assignment_id: str) -> dict[str, list[int]]:
        """For each student of the assignment, the 0-based sheet pages not yet accepted."""
        spec = self.spec(assignment_id)
        from scanning import student_pages

        missing: dict[str, list[int]] = {}
        for student in spec.students:
            accepted, _ = self.store.sheet_pages(assignment_id, student.id)
            count = len(student_pages(spec, student))
            gaps = [p for p in range(count) if p not in accepted]
            if gaps:
                missing[student.id] = gaps
        return missing


def _no_specs(name: str) -> Iterable[PageFailure]:
    from scanning._load import SourceRef

    error = SheetNotIdentifiedError("no assignment is registered, so no sheet can be identified")
    yield PageFailure(SourceRef(name, 0), error)


def _answer_row(page: PageReading, reading: Any, page_id: int) -> dict[str, Any]:
    status = "ungraded"
    if reading.status == "needs_review":
        status = "needs_review"
    return {
        "assignment_id": page.assignment_id, "student_id": page.student_id, "field_id": reading.field_id,
        "page_id": page_id, "kind": reading.kind, "value": reading.value,
        "confidence": float(reading.confidence), "read_status": reading.status, "read_reason": reading.reason,
        "score": None, "max_score": None, "correct": None, "grade_status": status,
        "grade_reason": reading.reason or "no key", "graded_by": "auto", "updated_at": time.time(),
    }


def _png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise HomeworkError("could not encode a review crop as PNG")
    return buf.tobytes()

