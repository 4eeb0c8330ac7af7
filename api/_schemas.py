"""What the HTTP API sends and receives: input models (``...In``) apart from output models (``...Public``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PageOutcomePublic(BaseModel):
    page_id: int
    source: str
    status: str = Field(description="read, duplicate, unknown_assignment, not_identified, not_registered, blank_page, bad_image")
    message: str
    assignment_id: str | None
    student_id: str | None
    sheet_page: int | None = Field(description="1-based page of the student's sheet")
    sheet_pages: int | None
    graded: int
    to_review: int
    confidence: float | None


class UploadReportPublic(BaseModel):
    upload_id: int
    name: str
    pages: list[PageOutcomePublic]
    completed_sheets: list[tuple[str, str]]


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
    teacher: str = Field(min_length=1, max_length=64)


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
