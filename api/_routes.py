"""Routers: assignments (sheets), scans (uploads from scanner stations), uploads and their jobs, the review
queue, answers, targeted sets, health. Every route calls the service (or a school's intake) of :mod:`homework`."""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Request, Response, UploadFile, status
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool

from api._deps import ServiceDep, SettingsDep, Staff, Uploader, View
from api._problems import ApiError, responses
from api._schemas import (
    AcceptedPublic,
    AnswerPublic,
    AssignmentPublic,
    HealthPublic,
    JobPublic,
    ResolveIn,
    ReviewItemPublic,
    StoredPagePublic,
    TargetedIn,
    TargetedPublic,
    UploadPublic,
)
from api._targeting import TargetingDep
from homework import PageLimitError, render_question_paper
from homework._foreign_intake import is_foreign

Id = Annotated[int, PathParam(ge=1, le=2**31 - 1, description="A positive id (at most 2^31 - 1).")]

_SCHOOL_ROUTE = responses(401, 403, 404, 422)
assignments = APIRouter(prefix="/assignments", tags=["assignments"], responses=_SCHOOL_ROUTE)
scans = APIRouter(prefix="/scans", tags=["scans"], responses=_SCHOOL_ROUTE)
review = APIRouter(prefix="/review", tags=["review"], responses={**_SCHOOL_ROUTE, **responses(409)})
targeted = APIRouter(prefix="/targeted", tags=["targeted homework"], responses={**_SCHOOL_ROUTE, **responses(503)})
uploads = APIRouter(prefix="/uploads", tags=["scans"], responses=_SCHOOL_ROUTE)
jobs = APIRouter(prefix="/jobs", tags=["scans"], responses=_SCHOOL_ROUTE)
health = APIRouter(tags=["health"])


@assignments.post("", status_code=status.HTTP_201_CREATED)
def register_assignment(view: View, spec: Annotated[dict[str, Any], Body()]) -> AssignmentPublic:
    """Register an assignment's answer-sheet spec (the JSON format in the README), or an assignment
    on a foreign sheet: ``{"assignment_id", "title", "sheet", "students": [{"id", "name", "number"}]}``
    with the sheet from ``POST /sheet-templates`` (its scans are matched by the number on them).
    A teacher registers assignments for students of their own classes only."""
    students = [str(s.get("id")) for s in spec.get("students", []) if isinstance(s, dict)]
    view.check_register(str(spec.get("assignment_id", "")), students)
    intake = view.intake
    loaded = intake.register_foreign(spec) if is_foreign(spec) else intake.register(spec)
    return AssignmentPublic(assignment_id=loaded.assignment_id, title=loaded.title,
                            students=len(loaded.students), fields=len(loaded.fields))


@assignments.get("/{assignment_id}/sheets.pdf", response_class=Response)
def sheets_pdf(view: View, assignment_id: str) -> Response:
    """Every student's answer sheet (a teacher's: their students'), ready to print, with the names and
    classes of the school's roster (the spec's, or ids, for students the roster does not know)."""
    return Response(view.sheets_pdf(assignment_id), media_type="application/pdf")


@assignments.get("/{assignment_id}/questions.pdf", response_class=Response)
def questions_pdf(service: ServiceDep, view: View, targeting: TargetingDep, assignment_id: str) -> Response:
    """The question paper of a set made by ``POST /targeted`` (one per student, or per tier), to print
    beside its answer sheet. Rendered when asked from the ledger's record of the set and the bank, with
    each student's name and class from the school's roster (ids for students it does not know)."""
    found = service.ledger(view.school).find(assignment_id)
    mine = sorted(s for s in found[1] if view.sees(s)) if found is not None else []
    if found is None or not mine:
        raise ApiError(status.HTTP_404_NOT_FOUND, "not_found",
                       f"no targeted set {assignment_id!r}: question papers are kept for sets made by "
                       "POST /targeted (a spec registered by POST /assignments has its own paper)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "questions.pdf"
        render_question_paper(targeting.bank(view.school), found[0], view.people(mine), path)
        return Response(path.read_bytes(), media_type="application/pdf")


@assignments.get("/{assignment_id}/answers")
def answers(view: View, assignment_id: str) -> list[AnswerPublic]:
    """The graded answers of the assignment (a teacher's: of their students)."""
    return [AnswerPublic(**{**row, "correct": None if row["correct"] is None else bool(row["correct"])})
            for row in view.answers(assignment_id)]


@assignments.get("/{assignment_id}/missing-pages")
def missing_pages(view: View, assignment_id: str) -> dict[str, list[int]]:
    """For each student, the 1-based sheet pages not received yet."""
    return {s: [p + 1 for p in pages] for s, pages in view.missing_pages(assignment_id).items()}


@scans.post("", status_code=status.HTTP_202_ACCEPTED, responses=responses(413))
async def upload(service: ServiceDep, who: Uploader, settings: SettingsDep, files: list[UploadFile],
                 station: str | None = None) -> list[AcceptedPublic]:
    """Post scanned files (PNG, JPEG, TIFF, PDF; any number of pages each). Each file is kept and queued
    for the workers, nothing is read here: follow ``upload_url`` (or ``job_url``) for every page's outcome.
    The same file sent again is recognised and answered with its first upload (``duplicate_of``)."""
    if len(files) > settings.max_files_per_request:
        raise ApiError(status.HTTP_413_CONTENT_TOO_LARGE, "too_many_files",
                       f"{len(files)} files in one request; at most {settings.max_files_per_request}", accepted=[])
    accepted: list[AcceptedPublic] = []
    limit = settings.max_upload_mb * 1024 * 1024
    for file in files:
        data = await file.read(limit + 1)
        if len(data) > limit:
            raise _too_large("upload_too_large", f"{file.filename}: larger than {settings.max_upload_mb} MB; "
                             f"{len(accepted)} file(s) before it were kept", accepted)
        try:
            kept = await run_in_threadpool(service.accept_upload, who.school, data, name=file.filename or "upload",
                                           station=station, max_pages=settings.max_pages_per_file,
                                           uploaded_by=who.key_id)
        except PageLimitError as exc:
            raise _too_large("too_many_pages", f"{exc}; {len(accepted)} file(s) before it were kept",
                             accepted) from exc
        accepted.append(AcceptedPublic.of(kept))
    return accepted


def _too_large(code: str, detail: str, accepted: list[AcceptedPublic]) -> ApiError:
    return ApiError(status.HTTP_413_CONTENT_TOO_LARGE, code, detail,
                    accepted=[a.model_dump() for a in accepted])


@uploads.get("/{upload_id}")
def upload_status(view: View, upload_id: Id) -> UploadPublic:
    """An upload, its job, and every page's outcome so far (pages not read are listed with the reason).
    A teacher sees the uploads they sent, and the pages of their students in others."""
    return UploadPublic.of(view.upload_status(upload_id))


@jobs.get("/{job_id}")
def job_status(service: ServiceDep, who: Uploader, job_id: Id) -> JobPublic:
    """A scan job: queued, running (a worker holds its lease), done or failed (with the error)."""
    if who.role == "station":  # a station follows any of its school's jobs; it reads no results
        return JobPublic(**service.job_status(who.school, job_id))
    return JobPublic(**service.view(who).job_status(job_id))


@health.get("/health", responses=responses(503))
async def health_check(request: Request) -> HealthPublic:
    """The database (its schema revision), the job queue's depth and the newest worker heartbeat, as the
    store said them at most ``HOMEWORK_HEALTH_INTERVAL_S`` ago (``checked_age_s``); 503 when it did not answer.
    Answered on the event loop from memory, so it stays fast while the store and the workers are busy."""
    snap = request.app.state.health.snapshot
    now = time.time()
    if snap.error is not None:
        raise ApiError(status.HTTP_503_SERVICE_UNAVAILABLE, "database_unavailable",
                       f"the store did not answer {now - snap.taken_at:.1f} s ago: {snap.error}")
    return HealthPublic(database=snap.database, schema_revision=snap.schema_revision, jobs=snap.jobs,
                        worker_heartbeat_age_s=None if snap.heartbeat_at is None else round(now - snap.heartbeat_at, 3),
                        checked_age_s=round(now - snap.taken_at, 3))


@scans.get("/pages/{page_id}/file", response_class=Response)
def page_file(view: View, page_id: Id) -> Response:
    """The original file a page came in (for a human looking at a page that was not read). A teacher
    gets the files they sent, and those whose every page is one of their students'."""
    name, data = view.page_file(page_id)
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type="application/octet-stream", headers={"Content-Disposition": disposition})


@scans.get("/kept")
def kept_pages(view: View) -> list[StoredPagePublic]:
    """Pages kept for a human: not readable, not ours, unknown assignment, off the roster, or duplicates
    (a teacher's: of their students, their assignments, or uploads they sent)."""
    return [StoredPagePublic.of(p) for p in view.kept_pages()]


@review.get("")
def review_queue(view: View, assignment_id: str | None = None) -> list[ReviewItemPublic]:
    """Answers waiting for a teacher (a teacher's: their students'), each with its crop's URL."""
    items = view.reviews(assignment_id)
    return [ReviewItemPublic(**{k: v for k, v in asdict(i).items() if k != "crop_sha256"},
                             crop_url=f"/review/{i.review_id}/crop.png" if i.crop_sha256 else None)
            for i in items]


@review.get("/{review_id}/crop.png", response_class=Response)
def review_crop(view: View, review_id: Id) -> Response:
    """The crop of the page a review item asks about (PNG)."""
    return Response(view.crop(review_id), media_type="image/png")


@review.post("/{review_id}")
def resolve(view: View, review_id: Id, body: ResolveIn) -> AnswerPublic:
    """A teacher's reading of a flagged answer; it is graded against the key and signed by the key's
    teacher (or the admin key), never by a name in the body."""
    row = view.resolve(review_id, body.value)
    return AnswerPublic(**{**row, "correct": None if row["correct"] is None else bool(row["correct"])})


@targeted.post("")
def targeted_sets(service: ServiceDep, who: Staff, view: View, targeting: TargetingDep,
                  body: TargetedIn) -> TargetedPublic:
    """Each student's next set picked by mastery (stage 4), within the teacher's minutes and the 双减 cap
    of that day; every set is recorded in the ledger and its answer sheet registered for scanning.
    A teacher picks for students of their own classes only."""
    view.check_students(body.students)
    request = body.request()
    run = service.targeted(who.school, targeting.bank(who.school), body.students, scope=request, day=body.day,
                           tiers=body.tiers, model=targeting.model())
    result, source = run.result, run.source
    if body.tiers:
        return TargetedPublic.of_tiers(result, request, source)
    return TargetedPublic.of_students(result, source)
