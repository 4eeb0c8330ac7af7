"""District admins: every school's aggregates, read-only, and nothing else.

``GET /district/overview`` is the overview report (HTML) over every school of the store, one row per
school and class; ``GET /district/overview.json`` gives one row of aggregates per school. No route
here names a student, and a district key reads no school's answers, crops or scans (every other
route answers it 403), nor writes anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api._deps import DistrictAdmin, ServiceDep
from api._problems import ApiError, responses
from api._targeting import TargetingDep

district = APIRouter(prefix="/district", tags=["district"], responses=responses(401, 403, 404, 422))


class SchoolSummaryPublic(BaseModel):
    """One school's aggregates; shares are 0-1, ``null`` where nothing was graded or no day is known."""

    school_id: str
    name: str
    classes: int
    students: int
    sheets: int = Field(description="Answer sheets handed in (student x assignment).")
    mean_score_share: float | None = Field(description="Mean score / max score over the sheets.")
    facility: float | None = Field(description="Share of graded answers that were right (难度系数).")
    mean_mastery: float | None = Field(description="Mean P(correct) over the (student, knowledge point) pairs "
                                       "answered.")
    mean_daily_minutes: float | None = Field(description="Mean written-homework minutes per student and day.")
    max_daily_minutes: float | None
    student_days: int
    over_cap_days: int = Field(description="Student-days over the 双减 cap of the student's grade.")
    students_over_cap: int
    share_over: float | None = Field(description="over_cap_days / student_days.")


class DistrictPublic(BaseModel):
    schools: list[SchoolSummaryPublic] = Field(description="Schools with graded homework, by id.")
    schools_in_store: int


def _banks(targeting: TargetingDep) -> Callable[[str], Any]:
    def bank(school: str) -> Any:
        try:
            return targeting.bank(school)
        except ApiError:
            return None  # reports still show scores and times without a bank

    return bank


@district.get("/overview", response_class=HTMLResponse)
async def district_overview(service: ServiceDep, who: DistrictAdmin, targeting: TargetingDep) -> HTMLResponse:
    """Every school's classes side by side (self-contained HTML): 双减 compliance, mastery, times."""
    from homework._district import district_data
    from homework._reports import overview_report

    def render() -> str:
        return overview_report(district_data(service, _banks(targeting)), title="全区作业概况")

    return HTMLResponse(await run_in_threadpool(render))


@district.get("/overview.json")
async def district_summary(service: ServiceDep, who: DistrictAdmin, targeting: TargetingDep) -> DistrictPublic:
    """One row of aggregates per school: classes, students, sheets, score share, facility, mastery, daily
    minutes and 双减 compliance. No student is named."""
    from dataclasses import asdict

    from homework._district import district_data, school_summaries

    def summarize() -> DistrictPublic:
        names = dict(service.schools())
        rows = school_summaries(district_data(service, _banks(targeting)), names)
        return DistrictPublic(schools_in_store=len(names), schools=[SchoolSummaryPublic(**{
            k: None if isinstance(v, float) and math.isnan(v) else v for k, v in asdict(row).items()})
            for row in rows])

    return await run_in_threadpool(summarize)
