"""Scan intake: files from scanner stations become graded answers and a teacher's review queue.

:class:`Intake` takes whole files (one page or hundreds, any order, many students mixed, a sheet's
pages split across uploads) and decides, page by page, what becomes of each. Nothing is dropped:
the file is kept as uploaded before anything is read, and every page gets a stored outcome::

    upload ──keep bytes──> read each page (scanning.SheetReader)
      ├─ bad_image            could not be decoded            ┐
      ├─ blank_page           nothing printed or written      │
      ├─ not_registered       no registration markers         │ kept for a human, with the reason
      ├─ not_identified       QR unreadable / other layout    │ (``ScanStore.pages(status=...)``)
      ├─ unknown_assignment   QR names an assignment we lack  │
      ├─ not_on_roster        the student is not on the sheet's roster, or (where the     ┘
      │                       school keeps one in the store) in none of its classes
      ├─ duplicate            this page of this sheet was already accepted: kept, not graded again
      └─ read                 answers graded; unconfident ones -> review queue (with their crop)

A sheet is complete when all of its pages were accepted, whatever the order they came in.

Sheets the library did not print (an OMRChecker template, a vendor 答题卡; see
:mod:`homework._foreign_intake`) have no QR code. A page without our markers is tried against
the school's assignments on foreign sheets (or only the one an upload names: ``receive(...,
assignment_id=...)``): the sheet's own steps must align it (page edges, corner markers, a
reference image) and the number bubbled on it must be on exactly one such assignment's roster.
A page whose number is unclear, incomplete, unknown or on two rosters is ``not_identified`` and
kept for a human; nothing is graded for a guessed student.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from sqlalchemy.exc import IntegrityError

from homework._errors import HomeworkError, NotFoundError, PageLimitError, UnknownAssignmentError
from homework._foreign_intake import (
    ForeignAssignment,
    NotIdentifiedError,
    graded_row,
    identify,
    is_foreign,
    load_foreign_assignment,
    question_crop,
)
from homework.storage import ScanStore, StoredPage
from scanning import (
    BadImageError,
    BlankPageError,
    PageNotRegisteredError,
    ScanningError,
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
class Accepted:
    """A file kept and queued: its upload and job, or the earlier upload of the same bytes."""

    upload_id: int
    job_id: int
    name: str
    size: int
    duplicate_of: int | None = None


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
    """Receives scanned files for the assignments whose sheet specs it knows, for one school.

    ``store`` keeps everything; ``ocr`` is an OCR backend or a backend name (see
    :func:`scanning.get_backend`), loaded on the first page that has writing boxes.

    Receiving is two steps, so that a server can answer before anything is read:
    :meth:`accept` keeps the file and queues a job (one transaction, nothing read), and
    :meth:`process` reads and grades every page of an accepted upload. :meth:`process` is
    idempotent: a page stored by an earlier, interrupted run is kept as it is, not read into the
    store twice. :meth:`receive` does both at once.
    """

    def __init__(self, store: ScanStore, *, ocr: Any = "rapidocr") -> None:
        from homework.storage import MasteryStore, RosterStore
        from scanning import get_backend

        self.store = store
        self.mastery = MasteryStore(store.engine, store.school)
        self.roster = RosterStore(store.engine, store.school)
        self._points: dict[str, dict[str, Any]] = {}  # field points of an assignment, once found
        self._ocr = get_backend(ocr) if isinstance(ocr, str) else ocr  # models load on first use
        self._reader: SheetReader | None = None
        self._specs: dict[str, tuple[int, SheetSpec]] | None = None  # parsed once; reloaded on a miss
        self._foreign: dict[str, tuple[int, ForeignAssignment]] = {}

    # -- assignments -----------------------------------------------------------------------

    def register(self, spec: SheetSpec | dict[str, Any] | str | Path, *, db: Any = None) -> SheetSpec:
        """Make an assignment's sheets known, so that their scans can be read.

        Registering it again with the same answer keys updates it; with different keys it becomes a
        new version, and later scans are graded against it (answers say which version graded them).
        ``db``: a transaction of the store to write it in (e.g. the ledger's, so a set and its sheet
        are recorded together).
        """
        if isinstance(spec, dict) and is_foreign(spec):
            raise HomeworkError("this is an assignment on a foreign sheet: register it with register_foreign")
        loaded = load_spec(spec)
        self.store.put_spec(loaded.assignment_id, loaded.model_dump_json(by_alias=False), _key_digest(loaded), db)
        self._specs, self._reader = None, None
        self.forget_points(loaded.assignment_id)
        return loaded

    def forget_points(self, assignment_id: str) -> None:
        """Read the assignment's field points from the store again (they were just rewritten)."""
        self._points.pop(assignment_id, None)

    def register_foreign(self, assignment: ForeignAssignment | dict[str, Any] | str, *,
                         db: Any = None) -> ForeignAssignment:
        """Make an assignment on a foreign sheet known: its sheet, and its roster with student numbers.
        A changed answer key makes a new version, as for our own sheets."""
        loaded = load_foreign_assignment(assignment)
        keys = json.dumps({q: k.model_dump(mode="json") for q, k in loaded.sheet.keys.items()}, sort_keys=True)
        self.store.put_spec(loaded.assignment_id, loaded.model_dump_json(),
                            hashlib.sha256(keys.encode()).hexdigest(), db)
        self._specs, self._reader = None, None
        return loaded

    def foreign(self, assignment_id: str) -> ForeignAssignment:
        """A registered assignment on a foreign sheet; :class:`UnknownAssignmentError` if there is none."""
        return self._foreign_versioned(assignment_id)[1]

    def _foreign_versioned(self, assignment_id: str) -> tuple[int, ForeignAssignment]:
        if assignment_id not in self._foreign:
            self._load_specs()
        if assignment_id not in self._foreign:
            raise UnknownAssignmentError(f"assignment {assignment_id!r} is not registered on a foreign sheet")
        return self._foreign[assignment_id]

    def spec(self, assignment_id: str) -> SheetSpec:
        """The registered spec of an assignment; :class:`UnknownAssignmentError` if there is none."""
        return self._versioned(assignment_id)[1]

    def spec_version(self, assignment_id: str) -> int:
        """The version of the assignment's newest spec (1 until its answer key changes)."""
        return self._versioned(assignment_id)[0]

    def _versioned(self, assignment_id: str) -> tuple[int, SheetSpec]:
        specs = self._specs
        if specs is None or assignment_id not in specs:
            specs = self._load_specs()  # registered since, perhaps by another process
        if assignment_id not in specs:
            raise UnknownAssignmentError(f"assignment {assignment_id!r} is not registered")
        return specs[assignment_id]

    def knows(self, assignment_id: str) -> bool:
        """Whether the assignment is registered (on one of our sheets or on a foreign one)."""
        return self._is_ours(assignment_id) or assignment_id in self._foreign

    def on_foreign_sheet(self, assignment_id: str) -> bool:
        """Whether the assignment is registered on a sheet this library did not print."""
        return self.knows(assignment_id) and not self._is_ours(assignment_id)

    def _is_ours(self, assignment_id: str) -> bool:
        try:
            self.spec(assignment_id)
        except UnknownAssignmentError:
            return False
        return True

    def _load_specs(self) -> dict[str, tuple[int, SheetSpec]]:
        stored = self.store.versioned_specs()
        self._foreign = {aid: (version, load_foreign_assignment(data))
                         for aid, (version, data) in stored.items() if is_foreign(data)}
        specs = {aid: (version, load_spec(data)) for aid, (version, data) in stored.items() if not is_foreign(data)}
        if self._specs is not None and specs.keys() != self._specs.keys():
            self._reader = None
        self._specs = specs
        return specs

    def sheets_pdf(self, assignment_id: str) -> bytes:
        """Every student's answer sheet of a registered assignment, as one printable PDF."""
        from io import BytesIO

        from scanning import render_pdf

        if not self._is_ours(assignment_id) and assignment_id in self._foreign:
            raise HomeworkError(f"assignment {assignment_id!r} is answered on a sheet this library did not "
                                "print (a foreign sheet): its sheets come from their own printer")
        out = BytesIO()
        render_pdf(self.spec(assignment_id), out)
        return out.getvalue()

    def _sheet_reader(self) -> SheetReader | None:
        if self._reader is None:
            specs = [spec for _, spec in self._load_specs().values()]
            if not specs:
                return None
            self._reader = SheetReader(specs, ocr=self._ocr)
        return self._reader

    # -- receiving -------------------------------------------------------------------------

    def accept(self, data: bytes, *, name: str, station: str | None = None,
               max_pages: int | None = None, uploaded_by: int | None = None) -> Accepted:
        """Keep a file and queue the job that reads it, in one transaction; no page is decoded here.

        The same bytes sent again by this school are recognised: no second upload is made, and the
        first upload and its job are returned with ``duplicate_of`` set. The pages are counted from the
        file's headers; more than ``max_pages`` raises :class:`PageLimitError` and keeps nothing.
        ``uploaded_by``: the key that sent it (a teacher follows the uploads they sent).
        """
        from homework.storage import JobQueue

        sha = hashlib.sha256(data).hexdigest()
        earlier = self.store.upload_with(sha)
        if earlier is not None:
            job = JobQueue(self.store.engine).job_of_upload(self.store.school, earlier)
            return Accepted(earlier, job, name, len(data), duplicate_of=earlier)
        pages = _count_pages(data, name)
        if max_pages is not None and pages is not None and pages > max_pages:
            raise PageLimitError(f"{name}: {pages} pages; at most {max_pages} per file (split it)")
        with self.store.transaction() as db:
            self.store.put_blob(data, db)
            upload_id = self.store.add_upload(db, name, sha, len(data), station, page_count=pages,
                                              uploaded_by=uploaded_by)
            job_id = JobQueue(self.store.engine).enqueue(db, self.store.school, upload_id)
        return Accepted(upload_id, job_id, name, len(data))

    def process(self, upload_id: int, *, progress: Callable[[PageOutcome], None] | None = None,
                assignment_id: str | None = None) -> UploadReport:
        """Read every page of an accepted upload, grade what can be graded; report each page's fate.

        ``assignment_id``: the upload holds sheets of this assignment on a foreign sheet (no QR).
        Without it, a page with none of our markers is tried against every foreign-sheet assignment.
        """
        upload = self.store.upload(upload_id)
        if upload is None:
            raise HomeworkError(f"no upload {upload_id}")
        data = self.store.get_blob(upload["sha256"])
        self._load_specs()
        named = self._foreign_versioned(assignment_id)[1] if assignment_id is not None and not self._is_ours(
            assignment_id) else None
        reader = self._sheet_reader()
        outcomes: list[PageOutcome] = []
        completed: list[tuple[str, str]] = []
        if named is not None or (reader is None and self._foreign):
            candidates = [named] if named is not None else [a for _, a in self._foreign.values()]
            results: Iterable[Any] = _foreign_pages(candidates, data, upload["name"])
        else:
            results = reader.read_file(data, name=upload["name"]) if reader else _no_specs(upload["name"])
        for index, result in enumerate(_guarded(results, upload["name"])):
            outcome = self._keep(upload_id, index, self._foreign_or(result))
            outcomes.append(outcome)
            if outcome.status == "read" and self._completes_sheet(outcome):
                completed.append((outcome.assignment_id or "", outcome.student_id or ""))
            if progress is not None:
                progress(outcome)
        return UploadReport(upload_id, upload["name"], tuple(outcomes), tuple(completed))

    def receive(self, data: bytes | str | Path, *, name: str | None = None, station: str | None = None,
                progress: Callable[[PageOutcome], None] | None = None,
                assignment_id: str | None = None) -> UploadReport:
        """Keep a file, read every page in it, grade what can be graded; report each page's fate.

        The same file twice is kept once: the second time reports the first upload's pages.
        ``assignment_id`` names the assignment of an upload of foreign sheets (see :meth:`process`).
        """
        from homework.storage import JobQueue

        if isinstance(data, str | Path):
            name = name or Path(data).name
            data = Path(data).read_bytes()
        accepted = self.accept(data, name=name or "upload", station=station)
        report = self.process(accepted.upload_id, progress=progress, assignment_id=assignment_id)
        JobQueue(self.store.engine).finish(accepted.job_id, worker=None)
        return report

    def receive_many(self, paths: Iterable[str | Path], **kw: Any) -> list[UploadReport]:
        return [self.receive(path, **kw) for path in paths]

    def _keep(self, upload_id: int, index: int, result: PageReading | PageFailure | ForeignPage) -> PageOutcome:
        with self.store.transaction() as db:
            stored = self.store.page_in_upload(db, upload_id, index)
        if stored is not None:  # a run before this one stored it (the job is being run again)
            return _outcome(stored, str(result.source))
        if isinstance(result, ForeignPage):
            return self._keep_foreign(upload_id, index, result)
        if isinstance(result, PageFailure):
            return self._keep_failure(upload_id, index, result)
        sheet = result.sheet
        version, spec = self._versioned(sheet.assignment_id)
        off = self._off_roster(sheet.student_id, {s.id for s in spec.students}, sheet.assignment_id)
        if off:
            return self._keep_off_roster(upload_id, index, result, off)
        key = (sheet.assignment_id, sheet.student_id, sheet.page_index, sheet.page_count)
        try:
            with self.store.transaction() as db:
                page_id = self.store.add_page(db, upload_id, index, "read", "read", key, result.confidence,
                                              spec_version=version)
                graded, to_review = self._grade_page(db, page_id, spec, version, result)
        except IntegrityError:  # this sheet page was accepted before (perhaps a moment ago, by another worker)
            return self._keep_duplicate(upload_id, index, result)
        return PageOutcome(page_id, str(result.source), "read", "read", *key, graded=graded,
                           to_review=to_review, confidence=result.confidence)

    def _keep_duplicate(self, upload_id: int, index: int, result: PageReading) -> PageOutcome:
        sheet = result.sheet
        key = (sheet.assignment_id, sheet.student_id, sheet.page_index, sheet.page_count)
        earlier = self.store.accepted_page(sheet.assignment_id, sheet.student_id, sheet.page_index)
        message = (
            f"page {sheet.page_index + 1}/{sheet.page_count} of {sheet.student_id}'s sheet for "
            f"{sheet.assignment_id} was already accepted (page #{earlier.page_id if earlier else '?'}); "
            "kept, not graded again"
        )
        with self.store.transaction() as db:
            page_id = self.store.add_page(db, upload_id, index, "duplicate", message, key, result.confidence)
        return PageOutcome(page_id, str(result.source), "duplicate", message, *key)

    def _off_roster(self, student_id: str, listed: set[str], assignment_id: str) -> str:
        """Why a page's student may not be graded for this assignment ("" when they may): they must be
        on the assignment's list and, where the school keeps a roster in the store, in one of its classes."""
        if student_id not in listed:
            return f"student {student_id!r} is not on this class's roster for {assignment_id}"
        if self.roster.has_roster() and not self.roster.enrolled(student_id):
            return (f"student {student_id!r} is not in any class of the school's roster (left, or never "
                    f"imported: homework roster import) for {assignment_id}")
        return ""

    def _keep_off_roster(self, upload_id: int, index: int, result: PageReading, why: str) -> PageOutcome:
        sheet = result.sheet
        key = (sheet.assignment_id, sheet.student_id, sheet.page_index, sheet.page_count)
        message = f"{why} (kept for a human, not graded)"
        with self.store.transaction() as db:
            page_id = self.store.add_page(db, upload_id, index, "not_on_roster", message, key, result.confidence)
        logger.info("%s: %s", result.source, message)
        return PageOutcome(page_id, str(result.source), "not_on_roster", message, *key)

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

    def _grade_page(self, db: Any, page_id: int, spec: SheetSpec, version: int,
                    page: PageReading) -> tuple[int, int]:
        points = self._field_points(page.assignment_id, db)
        rows = [self._graded_row(spec, version, page, page_id, reading) for reading in page.fields]
        self.store.put_answers(db, rows, because=f"scan, page #{page_id}")  # one batch for the page
        graded = to_review = 0
        evidence: list[tuple[str, float]] = []
        for reading, row in zip(page.fields, rows, strict=True):
            done, asked = self._review_if_needed(db, row, functools.partial(getattr, reading, "crop"))
            graded, to_review = graded + done, to_review + asked
            if done:
                evidence += _evidence(points.get(reading.field_id), row)
        if evidence:  # in the page's transaction: the page and its mastery evidence land exactly once
            self.mastery.add(db, page.student_id, next(iter(points.values())).subject, evidence)
        return graded, to_review

    @staticmethod
    def _graded_row(spec: SheetSpec, version: int, page: PageReading, page_id: int, reading: Any) -> dict[str, Any]:
        key = spec.field(reading.field_id).key
        row = _answer_row(page, reading, page_id, version)
        if reading.kind == "time" and reading.status == "ok":
            _check_start(row, reading, page)
        if key is not None:
            result = grade(key, reading)
            row.update(score=result.score, max_score=result.max_score, correct=bool(result.correct),
                       grade_status=result.status, grade_reason=result.reason)
        return row

    def _field_points(self, assignment_id: str, db: Any) -> dict[str, Any]:
        found = self._points.get(assignment_id)
        if found is None:
            found = self.mastery.field_points(assignment_id, db)
            if found:  # none yet may mean "registered a moment from now": ask again next page
                self._points[assignment_id] = found
        return found

    def _put_answer(self, db: Any, row: dict[str, Any], crop: Callable[[], np.ndarray | None]) -> tuple[int, int]:
        """Store one answer; one that needs review also gets a review item with its crop.
        Returns (1, 0) for an answer graded, (0, 1) for one sent to review, else (0, 0)."""
        self.store.put_answer(db, row, because=f"scan, page #{row['page_id']}")
        return self._review_if_needed(db, row, crop)

    def _review_if_needed(self, db: Any, row: dict[str, Any],
                          crop: Callable[[], np.ndarray | None]) -> tuple[int, int]:
        """A stored answer that needs review gets a review item with its crop; counts as in :meth:`_put_answer`."""
        if row["grade_status"] == "needs_review":
            image = crop()
            crop_sha = self.store.put_blob(_png(image), db) if image is not None else None
            self.store.add_review(db, assignment_id=row["assignment_id"], student_id=row["student_id"],
                                  field_id=row["field_id"], page_id=row["page_id"], crop_sha256=crop_sha,
                                  reason=row["grade_reason"])
            return 0, 1
        return int(row["grade_status"] == "graded"), 0

    # -- foreign sheets ----------------------------------------------------------------------

    def _foreign_or(self, result: Any) -> Any:
        """A page none of our sheets' markers were found on, read as a foreign sheet if one fits."""
        if (isinstance(result, PageFailure) and type(result.error) is PageNotRegisteredError and self._foreign
                and result.image is not None):
            candidates = [a for _, a in self._foreign.values()]
            return next(iter(_foreign_pages(candidates, None, str(result.source), image=result.image)))
        return result

    def _keep_foreign(self, upload_id: int, index: int, page: ForeignPage) -> PageOutcome:
        """One page of a foreign sheet: kept with its reason, or identified by number and graded."""
        if page.reading is None or page.assignment is None:
            return self._kept(upload_id, index, page.source, page.status, page.reason,
                              page.assignment.assignment_id if page.assignment else None)
        assignment, reading = page.assignment, page.reading
        try:
            student = identify(reading, assignment)
        except NotIdentifiedError as exc:
            return self._kept(upload_id, index, page.source, "not_identified", str(exc), assignment.assignment_id,
                              reading.confidence)
        off = self._off_roster(student.id, {s.id for s in assignment.students}, assignment.assignment_id)
        if off:
            return self._kept(upload_id, index, page.source, "not_on_roster", off, assignment.assignment_id,
                              reading.confidence)
        version, _ = self._foreign_versioned(assignment.assignment_id)
        key = (assignment.assignment_id, student.id, 0, 1)
        try:
            with self.store.transaction() as db:
                page_id = self.store.add_page(db, upload_id, index, "read", "read", key, reading.confidence,
                                              spec_version=version)
                graded, to_review = self._grade_foreign(db, page_id, assignment, version, student.id, reading)
        except IntegrityError:  # this student's sheet was accepted before
            earlier = self.store.accepted_page(assignment.assignment_id, student.id, 0)
            message = (f"{student.id}'s sheet for {assignment.assignment_id} was already accepted "
                       f"(page #{earlier.page_id if earlier else '?'}); kept, not graded again")
            with self.store.transaction() as db:
                page_id = self.store.add_page(db, upload_id, index, "duplicate", message, key, reading.confidence)
            return PageOutcome(page_id, page.source, "duplicate", message, *key)
        return PageOutcome(page_id, page.source, "read", "read", *key, graded=graded, to_review=to_review,
                           confidence=reading.confidence)

    def _kept(self, upload_id: int, index: int, source: str, status: str, reason: str, assignment_id: str | None,
              confidence: float | None = None) -> PageOutcome:
        message = f"{reason} (kept for a human)"
        with self.store.transaction() as db:
            page_id = self.store.add_page(db, upload_id, index, status, message, None, confidence)
        logger.info("%s: %s", source, message)
        return PageOutcome(page_id, source, status, message, assignment_id, confidence=confidence)

    def _grade_foreign(self, db: Any, page_id: int, assignment: ForeignAssignment, version: int, student_id: str,
                       reading: Any) -> tuple[int, int]:
        graded = to_review = 0
        sheet = assignment.sheet
        for answer in reading.answers:
            if answer.field_id == sheet.identity:
                continue
            row = {"assignment_id": assignment.assignment_id, "student_id": student_id, "field_id": answer.field_id,
                   "page_id": page_id, "kind": "foreign", "value": answer.value,
                   "confidence": float(answer.confidence), "read_status": answer.status,
                   "read_reason": answer.reason, "graded_by": "auto", "spec_version": version,
                   "updated_at": time.time(), **graded_row(answer, sheet.keys.get(answer.field_id))}
            done, asked = self._put_answer(db, row, functools.partial(question_crop, reading, sheet, answer.field_id))
            graded, to_review = graded + done, to_review + asked
        return graded, to_review

    def _completes_sheet(self, outcome: PageOutcome) -> bool:
        accepted, total = self.store.sheet_pages(outcome.assignment_id or "", outcome.student_id or "")
        return total is not None and len(accepted) == total

    # -- the teacher's side ----------------------------------------------------------------

    def resolve(self, review_id: int, value: str, *, teacher: str) -> dict[str, Any]:
        """Grade a reviewed answer with the value the teacher reads on the crop; returns the answer.
        (Groups, overrides and kept pages: :class:`homework._corrections.Corrections`.)"""
        from homework._corrections import Corrections

        try:
            return Corrections(self).resolve([(review_id, value)], teacher=teacher)[0]
        except NotFoundError as exc:
            raise KeyError(str(exc)) from exc

    def missing_pages(self, assignment_id: str) -> dict[str, list[int]]:
        """For each student of the assignment, the 0-based sheet pages not yet accepted."""
        if not self._is_ours(assignment_id):
            roster = self.foreign(assignment_id).students
            return {s.id: [0] for s in roster if not self.store.sheet_pages(assignment_id, s.id)[0]}
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


def _guarded(results: Iterable[PageReading | PageFailure], name: str) -> Iterator[PageReading | PageFailure]:
    """The reader's results; a fault inside the reader ends the file with one more failed page that
    says so (kept for a human) instead of losing the upload's outcome."""
    from scanning._load import SourceRef

    done = 0
    try:
        for result in results:
            yield result
            done += 1
    except Exception as exc:  # noqa: BLE001 - a reader fault is data about this page, not a crash of the job
        logger.exception("%s: reading stopped at page %d", name, done + 1)
        error = BadImageError(f"{name}: the reader failed on this page ({type(exc).__name__}: {exc}); "
                              "the rest of the file was not read")
        yield PageFailure(SourceRef(name, done), error)


@dataclass(frozen=True, eq=False)
class ForeignPage:
    """A page read as a foreign sheet: the assignment it fits and its reading, or why it fits none."""

    source: str
    assignment: ForeignAssignment | None
    reading: Any = None  # a scanning.ForeignReading
    status: str = "read"
    reason: str = ""


def _foreign_pages(assignments: list[ForeignAssignment], data: bytes | None, name: str, *,
                   image: np.ndarray | None = None) -> Iterable[ForeignPage]:
    """Every page of an upload (or the one ``image``) read as the foreign sheet that fits it."""
    from scanning import ScanningError, load_foreign_image
    from scanning._load import page_loaders, sniff_format

    try:
        if image is not None:
            loaders: list[tuple[str, Callable[[], np.ndarray]]] = [(name, functools.partial(np.asarray, image))]
        elif data is not None and sniff_format(data) == "jpeg" and len(assignments) == 1:
            photo = load_foreign_image(assignments[0].sheet, data, name)  # decoded at the size it is read at
            loaders = [(f"{name} page 1", functools.partial(np.asarray, photo))]
        else:
            loaders = [(str(ref), decode) for ref, decode in page_loaders(data or b"", name=name)]
    except ScanningError as exc:
        yield ForeignPage(f"{name} page 1", assignments[0] if len(assignments) == 1 else None, None,
                          _status(exc), str(exc))
        return
    for source, decode in loaders:
        try:
            yield _fit(assignments, decode(), source)
        except ScanningError as exc:
            yield ForeignPage(source, assignments[0] if len(assignments) == 1 else None, None, _status(exc), str(exc))


def _fit(assignments: list[ForeignAssignment], image: np.ndarray, source: str) -> ForeignPage:
    """The one assignment whose sheet aligns this page and whose roster has its number."""
    from scanning import ScanningError, read_foreign_page

    readings: dict[str, Any] = {}  # one reading per sheet, shared by assignments on the same sheet
    fits, failures = [], []
    for assignment in assignments:
        sheet_key = assignment.sheet.model_dump_json()
        try:
            reading = readings.get(sheet_key) or read_foreign_page(assignment.sheet, image)
        except ScanningError as exc:
            failures.append(exc)
            continue
        readings[sheet_key] = reading
        fits.append((assignment, reading))
    if len(assignments) == 1:
        if failures:
            raise failures[0]
        return ForeignPage(source, *fits[0])
    if not fits:
        raise failures[0] if len(failures) == 1 else PageNotRegisteredError(
            "no registration markers, and no foreign sheet of this school aligns it")
    known = [(a, r) for a, r in fits if _number_on_roster(a, r)]
    if len(known) == 1:
        return ForeignPage(source, *known[0])
    if len(known) > 1:
        names = ", ".join(a.assignment_id for a, _ in known)
        return ForeignPage(source, None, None, "not_identified", f"its student number is on the rosters of {names}: "
                           "upload it naming its assignment")
    return ForeignPage(source, *fits[0]) if len(fits) == 1 else ForeignPage(
        source, None, None, "not_identified", "it fits several foreign sheets and its number is on none of their "
        "rosters")


def _number_on_roster(assignment: ForeignAssignment, reading: Any) -> bool:
    try:
        identify(reading, assignment)
    except NotIdentifiedError:
        return False
    return True


def _status(error: Exception) -> str:
    return next((s for t, s in _FAILURE_STATUS if isinstance(error, t)), "not_identified")


def _evidence(point: Any, row: dict[str, Any]) -> list[tuple[str, float]]:
    """``(knowledge point, credit)`` pairs a graded answer adds to its student's mastery."""
    if point is None or not row.get("max_score"):
        return []
    credit = float(row["score"] or 0.0) / float(row["max_score"])
    return [(kp, credit) for kp in point.knowledge_points]


def _no_specs(name: str) -> Iterable[PageFailure]:
    from scanning._load import SourceRef

    error = SheetNotIdentifiedError("no assignment is registered, so no sheet can be identified")
    yield PageFailure(SourceRef(name, 0), error)


def _count_pages(data: bytes, name: str) -> int | None:
    """The file's page count from its headers (``None`` when it cannot be opened: the worker says why)."""
    from scanning import count_pages

    try:
        return count_pages(data, name=name)
    except ScanningError:
        return None


def _key_digest(spec: SheetSpec) -> str:
    """A fingerprint of the spec's answer keys: it changes exactly when a key changes."""
    keys = [(f.id, f.key.model_dump(mode="json") if f.key is not None else None) for f in spec.fields]
    return hashlib.sha256(json.dumps(keys, sort_keys=True, default=str).encode()).hexdigest()


def _outcome(page: StoredPage, source: str) -> PageOutcome:
    sheet = (page.assignment_id, page.student_id, page.sheet_page, page.sheet_pages)
    return PageOutcome(page.page_id, source, page.status, page.message, *sheet, confidence=page.confidence)


def _answer_row(page: PageReading, reading: Any, page_id: int, version: int) -> dict[str, Any]:
    status = "ungraded"
    if reading.status == "needs_review":
        status = "needs_review"
    return {
        "assignment_id": page.assignment_id, "student_id": page.student_id, "field_id": reading.field_id,
        "page_id": page_id, "kind": reading.kind, "value": reading.value,
        "confidence": float(reading.confidence), "read_status": reading.status, "read_reason": reading.reason,
        "score": None, "max_score": None, "correct": None, "grade_status": status,
        "grade_reason": reading.reason or "no key", "graded_by": "auto", "spec_version": version,
        "updated_at": time.time(),
    }


def _check_start(row: dict[str, Any], reading: Any, page: PageReading) -> None:
    """A start time that makes no sense with the minutes on the same page goes to review (with why)."""
    from homework._clock import check_times

    minutes = next((f.value for f in page.fields if f.kind == "minutes" and f.status == "ok"), None)
    check = check_times(reading.value, reading.confidence, float(minutes) if minutes else None)
    if check.start is not None:
        row["value"] = check.start
    if not check.ok:
        row.update(grade_status="needs_review", grade_reason="; ".join(check.reasons))


def _start_value(value: str) -> str:
    from homework._clock import parse_clock

    clock = parse_clock(value)
    if clock is None:
        raise HomeworkError(f"{value!r} is not a time of day: write the start time as 19:05")
    return f"{clock:%H:%M}"


def _png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise HomeworkError("could not encode a review crop as PNG")
    return buf.tobytes()

