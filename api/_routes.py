"""Routers: assignments (sheets), scans (uploads from scanner stations), review queue, answers, targeted sets."""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Response, UploadFile, status

from api._deps import IntakeDep, SettingsDep
from api._schemas import (
    AnswerPublic,
    AssignmentPublic,
    PageOutcomePublic,
    ResolveIn,
    ReviewItemPublic,
    TargetedIn,
    TargetedPublic,
    UploadReportPublic,
)
from api._targeting import TargetingDep
from homework import (
    history_from_answers,
    render_question_paper,
    sheet_spec,
    targeted_homework,
    tiered_homework,
)
from homework._taxonomy import taxonomy_graph

assignments = APIRouter(prefix="/assignments", tags=["assignments"])
scans = APIRouter(prefix="/scans", tags=["scans"])
review = APIRouter(prefix="/review", tags=["review"])
targeted = APIRouter(prefix="/targeted", tags=["targeted homework"])


@assignments.post("", status_code=status.HTTP_201_CREATED)
def register_assignment(intake: IntakeDep, spec: Annotated[dict[str, Any], Body()]) -> AssignmentPublic:
    """Register an assignment's answer-sheet spec (the JSON format in the README)."""
    loaded = intake.register(spec)
    return AssignmentPublic(assignment_id=loaded.assignment_id, title=loaded.title,
                            students=len(loaded.students), fields=len(loaded.fields))


@assignments.get("/{assignment_id}/sheets.pdf", response_class=Response)
def sheets_pdf(intake: IntakeDep, assignment_id: str) -> Response:
    """Every student's answer sheet, ready to print."""
    return Response(intake.sheets_pdf(assignment_id), media_type="application/pdf")


@assignments.get("/{assignment_id}/questions.pdf", response_class=Response)
def questions_pdf(targeting: TargetingDep, assignment_id: str) -> Response:
    """The question paper of a set made by ``POST /targeted`` (one per student, or per tier), to print
    beside its answer sheet. Rendered when asked from the ledger's record of the set and the bank."""
    found = targeting.saved_ledger().find(assignment_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"no targeted set {assignment_id!r}: question papers are kept for sets made by "
                            "POST /targeted (a spec registered by POST /assignments has its own paper)")
    assignment, students, _ = found
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "questions.pdf"
        render_question_paper(targeting.bank(), assignment, [(s, s) for s in sorted(students)], path)
        return Response(path.read_bytes(), media_type="application/pdf")


@assignments.get("/{assignment_id}/answers")
def answers(intake: IntakeDep, assignment_id: str) -> list[AnswerPublic]:
    intake.spec(assignment_id)  # 404 for an unknown assignment
    return [AnswerPublic(**{**row, "correct": None if row["correct"] is None else bool(row["correct"])})
            for row in intake.store.answers(assignment_id)]


@assignments.get("/{assignment_id}/missing-pages")
def missing_pages(intake: IntakeDep, assignment_id: str) -> dict[str, list[int]]:
    """For each student, the 1-based sheet pages not received yet."""
    return {s: [p + 1 for p in pages] for s, pages in intake.missing_pages(assignment_id).items()}


@scans.post("", status_code=status.HTTP_201_CREATED)
async def upload(intake: IntakeDep, settings: SettingsDep, files: list[UploadFile],
                 station: str | None = None) -> list[UploadReportPublic]:
    """Post scanned files (PNG, JPEG, TIFF, PDF; any number of pages each); every page gets an outcome."""
    reports = []
    limit = settings.max_upload_mb * 1024 * 1024
    for file in files:
        data = await file.read(limit + 1)
        if len(data) > limit:
            raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                                f"{file.filename}: larger than {settings.max_upload_mb} MB")
        report = intake.receive(data, name=file.filename or "upload", station=station)
        pages = [PageOutcomePublic(**{**asdict(p), "sheet_page": None if p.sheet_page is None else p.sheet_page + 1})
                 for p in report.pages]
        reports.append(UploadReportPublic(upload_id=report.upload_id, name=report.name, pages=pages,
                                          completed_sheets=list(report.completed_sheets)))
    return reports


@scans.get("/pages/{page_id}/file", response_class=Response)
def page_file(intake: IntakeDep, page_id: int) -> Response:
    """The original file a page came in (for a human looking at a page that was not read)."""
    try:
        name, data = intake.store.upload_of(page_id)
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no page {page_id}") from exc
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@scans.get("/kept")
def kept_pages(intake: IntakeDep) -> list[dict[str, Any]]:
    """Pages kept for a human: not readable, not ours, unknown assignment, or duplicates."""
    return [asdict(p) for p in intake.store.pages() if p.status != "read"]


@review.get("")
def review_queue(intake: IntakeDep, assignment_id: str | None = None) -> list[ReviewItemPublic]:
    items = intake.store.reviews(assignment_id=assignment_id)
    return [ReviewItemPublic(**{k: v for k, v in asdict(i).items() if k != "crop_sha256"},
                             crop_url=f"/review/{i.review_id}/crop.png" if i.crop_sha256 else None)
            for i in items]


@review.get("/{review_id}/crop.png", response_class=Response)
def review_crop(intake: IntakeDep, review_id: int) -> Response:
    try:
        item = intake.store.review(review_id)
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    if item.crop_sha256 is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"review item {review_id} has no crop")
    return Response(intake.store.get_blob(item.crop_sha256), media_type="image/png")


@review.post("/{review_id}")
def resolve(intake: IntakeDep, review_id: int, body: ResolveIn) -> AnswerPublic:
    """A teacher's reading of a flagged answer; it is graded against the key."""
    try:
        row = intake.resolve(review_id, body.value, teacher=body.teacher)
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no review item {review_id}") from exc
    return AnswerPublic(**{**row, "correct": None if row["correct"] is None else bool(row["correct"])})


@targeted.post("")
def targeted_sets(intake: IntakeDep, targeting: TargetingDep, body: TargetedIn) -> TargetedPublic:
    """Each student's next set picked by mastery (stage 4), within the teacher's minutes and the 双减 cap
    of that day; every set is recorded in the ledger and its answer sheet registered for scanning."""
    bank = targeting.bank()
    if targeting.settings.model is not None:  # the class's own answers are all selection needs
        history = history_from_answers(intake.store.answers(students=body.students), bank)
        model, source = targeting.mastery(history)
    else:  # BKT is fitted on every answer the store holds (one school's worth)
        everyone = history_from_answers(intake.store.answers(), bank)
        model, source = targeting.mastery(everyone)
        history = everyone[everyone["student_id"].isin(set(body.students))]
    request = body.request()
    common: dict[str, Any] = {"scope": request, "day": body.day, "history": history, "graph": taxonomy_graph()}
    with targeting.ledger() as ledger:
        if body.tiers:
            tiers = tiered_homework(bank, model, body.students, ledger=ledger, **common)
            sheets = [(a, tiers.students(t)) for t, a in tiers.assignments.items()]
            public = TargetedPublic.of_tiers(tiers, request, source)
        else:
            sets = targeted_homework(bank, model, body.students, ledger=ledger, **common)
            sheets = [(a, [s]) for s, a in sets.assignments.items()]
            public = TargetedPublic.of_students(sets, source)
        for assignment, students in sheets:  # inside: a sheet that cannot be made leaves the ledger as it was
            intake.register(sheet_spec(bank, assignment, [(s, s) for s in students]))
    return public
