"""A district's view: every school's homework side by side, as aggregates only.

:func:`district_data` gathers each school's report records (answers, assignments, roster, days)
into one :class:`~homework.ReportData`, with every student and assignment id prefixed by its school
(two schools may both have a student ``st01``). :func:`school_summaries` turns it into one row per
school: classes, students and sheets; mean score share; facility (share of graded answers right);
mean mastery over the (student, knowledge point) pairs answered; daily minutes; and 双减 compliance
(student-days over the cap, students ever over it). The HTML overview is
:func:`homework._reports.overview_report` over every school (one row per school and class).

Nothing here names a student: a district admin reads these, never a school's answers, crops or scans.

>>> summary = SchoolSummary("s1", "实验小学", 2, 80, 160, 0.81, 0.78, 0.66, 24.0, 55.0, 400, 3, 2, 0.0075)
>>> summary.share_over
0.0075
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from homework._errors import NotFoundError

if TYPE_CHECKING:
    from homework._records import Records
    from homework._reports import ReportData
    from homework._service import HomeworkService

__all__ = ["SchoolSummary", "district_data", "school_summaries"]


@dataclass(frozen=True)
class SchoolSummary:
    """One school's aggregates (no student is named). Shares are 0-1; NaN where nothing was graded."""

    school_id: str
    name: str
    classes: int
    students: int
    sheets: int
    mean_score_share: float
    facility: float
    mean_mastery: float
    mean_daily_minutes: float
    max_daily_minutes: float
    student_days: int
    over_cap_days: int
    students_over_cap: int
    share_over: float


def district_data(service: HomeworkService, bank_of: Callable[[str], Any]) -> ReportData:
    """Every school's report records as one :class:`ReportData` (ids prefixed ``school/``), each read with
    its school's bank (``bank_of(school)``, or ``None``); :class:`NotFoundError` when no school has
    graded homework yet."""
    from homework._records import store_records
    from homework._reports import report_data

    parts, banks = [], []
    for school_id, name in service.schools():
        ledger = service.ledger(school_id).ledger()
        bank = bank_of(school_id)
        records = store_records(service.intake(school_id).store, bank, ledger, school=name)
        if records.answers:
            parts.append(_prefixed(records, school_id))
            banks.append(bank)
    if not parts:
        raise NotFoundError("no school has graded homework yet")
    merged = dataclasses.replace(
        parts[0], answers=[a for p in parts for a in p.answers],
        assignments=tuple(a for p in parts for a in p.assignments),
        roster=pd.concat([p.roster for p in parts], ignore_index=True),
        days={k: v for p in parts for k, v in p.days.items()})
    return report_data(merged, _one_bank(banks))


def _one_bank(banks: list[Any]) -> Any:
    """The banks of the schools as one (items by id; the first school's copy of an id wins)."""
    from homework._bank import ItemBank

    present = [b for b in banks if b is not None]
    if len({id(b) for b in present}) <= 1:
        return present[0] if present else None
    frames = pd.concat([b.frame for b in present], ignore_index=True).drop_duplicates("id")
    return ItemBank.from_canonical(frames.astype({c: object for c in ("subject", "type", "source")}))


def _prefixed(records: Records, school: str) -> Records:
    def tag(value: str) -> str:
        return f"{school}/{value}"

    answers = [{**a, "assignment_id": tag(a["assignment_id"]), "student_id": tag(a["student_id"])}
               for a in records.answers]
    assignments = tuple(dataclasses.replace(a, id=tag(a.id)) for a in records.assignments)
    roster = records.roster.assign(student_id=records.roster["student_id"].map(tag),  # a class per school
                                   class_name=[f"{s} · {c}" for s, c in zip(records.roster["school"],
                                                                            records.roster["class_name"],
                                                                            strict=True)])
    return dataclasses.replace(records, answers=answers, assignments=assignments, roster=roster,
                               days={tag(k): v for k, v in records.days.items()})


def school_summaries(data: ReportData, names: dict[str, str]) -> list[SchoolSummary]:
    """One :class:`SchoolSummary` per school of ``data`` (``names``: school id -> name), by id."""
    from homework._timestats import cap_compliance

    sheets = data.sheets.assign(school_id=data.sheets["student_id"].str.split("/", n=1).str[0])
    answers = data.answers.assign(school_id=data.answers["student_id"].str.split("/", n=1).str[0])
    mastery = data.mastery[data.mastery["n_responses"] > 0]
    mastery = mastery.assign(school_id=mastery["student_id"].str.split("/", n=1).str[0])
    with_days = sheets.dropna(subset=["day"]).assign(school=lambda f: f["school_id"])
    compliance = (cap_compliance(with_days, data.caps, by="school").set_index("school")
                  if not with_days.empty else pd.DataFrame())
    out = []
    for school_id, mine in sheets.groupby("school_id"):
        days = compliance.loc[school_id] if school_id in compliance.index else None
        out.append(SchoolSummary(
            str(school_id), names.get(str(school_id), str(school_id)), int(mine["class_name"].nunique()),
            int(mine["student_id"].nunique()), len(mine), _mean(mine["share"]),
            _mean(answers.loc[answers["school_id"] == school_id, "correct"]),
            _mean(mastery.loc[mastery["school_id"] == school_id, "p_correct"]),
            _number(days, "mean_minutes"), _number(days, "max_minutes"), int(_number(days, "student_days", 0)),
            int(_number(days, "over_days", 0)), int(_number(days, "students_over", 0)),
            _number(days, "share_over")))
    return out


def _mean(values: pd.Series) -> float:
    clean = pd.to_numeric(values, errors="coerce").dropna()
    return float(clean.mean()) if len(clean) else math.nan


def _number(row: pd.Series | None, column: str, missing: float = math.nan) -> float:
    return missing if row is None or pd.isna(row[column]) else float(row[column])
