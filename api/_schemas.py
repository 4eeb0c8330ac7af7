"""What the HTTP API sends and receives: input models (``...In``) apart from output models (``...Public``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from homework import Accepted, StoredPage, TargetedHomework, TargetRequest, TieredHomework, UploadStatus
from recommender import Pick

PAGE_STATUS = ("read, duplicate, not_on_roster, unknown_assignment, not_identified, not_registered, blank_page, "
               "bad_image")


class AcceptedPublic(BaseModel):
    """A file kept and queued (``POST /scans`` answers 202 with one per file)."""

    upload_id: int
    job_id: int
    name: str
    size: int
    duplicate_of: int | None = Field(description="Set when these exact bytes were uploaded before: the first upload.")
    upload_url: str
    job_url: str

    @classmethod
    def of(cls, accepted: Accepted) -> AcceptedPublic:
        return cls(upload_id=accepted.upload_id, job_id=accepted.job_id, name=accepted.name, size=accepted.size,
                   duplicate_of=accepted.duplicate_of, upload_url=f"/uploads/{accepted.upload_id}",
                   job_url=f"/jobs/{accepted.job_id}")


class JobPublic(BaseModel):
    job_id: int
    upload_id: int
    status: str = Field(description="queued, running, done or failed")
    attempts: int
    worker: str | None
    lease_until: float | None
    error: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None


class StoredPagePublic(BaseModel):
    page_id: int
    upload_id: int
    page_in_file: int = Field(description="0-based page of the uploaded file")
    status: str = Field(description=PAGE_STATUS)
    message: str
    assignment_id: str | None
    student_id: str | None
    sheet_page: int | None = Field(description="1-based page of the student's sheet")
    sheet_pages: int | None
    confidence: float | None
    file_url: str

    @classmethod
    def of(cls, page: StoredPage) -> StoredPagePublic:
        fields = {k: v for k, v in asdict(page).items() if k != "received_at"}
        fields["sheet_page"] = None if page.sheet_page is None else page.sheet_page + 1
        return cls(**fields, file_url=f"/scans/pages/{page.page_id}/file")


class UploadPublic(BaseModel):
    upload_id: int
    name: str
    size: int
    station: str | None
    received_at: float
    job: JobPublic
    pages: list[StoredPagePublic]

    @classmethod
    def of(cls, status: UploadStatus) -> UploadPublic:
        return cls(upload_id=status.upload_id, name=status.name, size=status.size, station=status.station,
                   received_at=status.received_at, job=JobPublic(**status.job),
                   pages=[StoredPagePublic.of(p) for p in status.pages])


class HealthPublic(BaseModel):
    database: str = Field(description="sqlite or postgresql")
    schema_revision: str | None
    jobs: dict[str, int] = Field(description="Jobs per status; 'queued' is the queue depth.")
    worker_heartbeat_age_s: float | None = Field(description="Seconds since a worker last said it was alive.")
    checked_age_s: float = Field(description="Seconds since the store was asked (it is asked in the background "
                                             "every HOMEWORK_HEALTH_INTERVAL_S, never in the request).")


class AssignmentPublic(BaseModel):
    assignment_id: str
    title: str
    students: int
    fields: int


class ReviewItemPublic(BaseModel):
    review_id: int
    assignment_id: str
    student_id: str
    field_id: str
    page_id: int
    reason: str
    status: str
    value_read: str | None
    confidence: float
    crop_url: str | None


class ResolveIn(BaseModel):
    value: str = Field(description="The answer the teacher reads on the crop (an option, a number, text, points).")


class AnswerPublic(BaseModel):
    assignment_id: str
    student_id: str
    field_id: str
    kind: str
    value: str | None
    confidence: float
    score: float | None
    max_score: float | None
    correct: bool | None
    grade_status: str
    grade_reason: str
    graded_by: str


# ------------------------------------------------------------------- targeted homework (stage 4)


SHEET_ID = r"^[A-Za-z0-9_.\-]{1,40}$"
"""What an answer sheet allows as a student id (it goes into the QR code)."""


class TargetedIn(BaseModel):
    """A teacher's request for each student's next set (or one sheet per tier with ``tiers``)."""

    model_config = ConfigDict(extra="forbid")

    students: list[Annotated[str, Field(pattern=SHEET_ID)]] = Field(min_length=1, max_length=10_000)
    subject: str = Field("math", min_length=1)
    grade: int = Field(ge=1, le=12, description="The class's grade: items up to it; its 双减 cap applies.")
    knowledge_points: list[str] = Field(default_factory=list, description="Empty: every point of the subject.")
    minutes: float = Field(gt=0, le=240, description="The teacher's minutes; less where the day's cap leaves less.")
    day: dt.date = Field(description="The day the sets are for (the cap counts every subject of that day).")
    test_date: dt.date | None = None
    tiers: bool = Field(False, description="One sheet per tier (A strongest, B, C) instead of one per student.")

    def request(self) -> TargetRequest:
        return TargetRequest(subject=self.subject, grade=self.grade, knowledge_points=tuple(self.knowledge_points),
                             minutes=self.minutes, test_date=self.test_date, tiers=self.tiers)


class PickPublic(BaseModel):
    item_id: str
    knowledge_point: str
    minutes: float
    purpose: str = Field(description="learn, prerequisite, review, test or extend")
    p_success: float
    mastery: float
    reason: str

    @classmethod
    def of(cls, pick: Pick) -> PickPublic:
        return cls(**{name: getattr(pick, name) for name in cls.model_fields})


class StudentSetPublic(BaseModel):
    student_id: str
    assignment_id: str | None = Field(description="Its answer sheet is registered: scans of it are graded.")
    tier: str | None
    item_ids: list[str]
    minutes: float
    budget: float
    budget_reason: str
    model_mastery: dict[str, float] = Field(
        default_factory=dict, description="The mastery model's P(correct) per knowledge point, before selection's "
        "corrections (a pick's mastery is the corrected value it was chosen on).")
    picks: list[PickPublic]


class TargetedPublic(BaseModel):
    day: dt.date
    subject: str
    grade: int
    mastery_model: str = Field(description="Where the mastery came from.")
    students: list[StudentSetPublic]
    notes: list[str]

    @classmethod
    def of_students(cls, result: TargetedHomework, source: str) -> TargetedPublic:
        rows = [StudentSetPublic(student_id=s, assignment_id=h.assignment.id if h.assignment else None, tier=None,
                                 item_ids=list(h.selection.item_ids), minutes=h.selection.total_minutes,
                                 budget=h.budget, budget_reason=h.budget_reason,
                                 model_mastery=h.selection.model_mastery,
                                 picks=[PickPublic.of(p) for p in h.selection.picks])
                for s, h in result.students.items()]
        return cls(day=result.day, subject=result.subject, grade=result.grade, mastery_model=source, students=rows,
                   notes=list(result.notes))

    @classmethod
    def of_tiers(cls, result: TieredHomework, request: TargetRequest, source: str) -> TargetedPublic:
        rows = []
        for student, tier in result.tier_of.items():
            chosen, assignment = result.selection.sets[tier], result.assignments.get(tier)
            rows.append(StudentSetPublic(student_id=student, assignment_id=assignment.id if assignment else None,
                                         tier=tier, item_ids=list(chosen.item_ids), minutes=chosen.total_minutes,
                                         budget=result.budget, budget_reason=f"tier {tier}: one sheet of "
                                         f"{result.budget:g} min for every tier (the smallest room under the cap)",
                                         model_mastery=chosen.model_mastery, picks=[PickPublic.of(p) for p in chosen.picks]))
        return cls(day=result.day, subject=request.subject, grade=request.grade, mastery_model=source,
                   students=rows, notes=list(result.notes))
