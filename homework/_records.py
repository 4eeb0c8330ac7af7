"""What the reports read: graded answers, the assignments they answer, the roster and each day.

:func:`store_records` gathers them from a :class:`homework.ScanStore` (answers, and the sheet specs
for names and classes) and a :class:`homework.HomeworkLedger` (the assignments and their days). An
assignment the ledger does not know is rebuilt from its sheet spec (fields named by bank item ids)
and has no day, so the 双减 statistics leave it out and the report says so.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd

from homework._assignments import Assignment, HomeworkLedger
from homework._bank import ItemBank
from homework._printing import MINUTES_FIELD, START_FIELD

__all__ = ["Records", "roster_from_specs", "store_records"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Records:
    """Store answer rows, the assignments they answer, the roster, and each assignment's day."""

    answers: list[dict[str, Any]]
    assignments: tuple[Assignment, ...]
    roster: pd.DataFrame
    days: dict[str, dt.date]


def roster_from_specs(specs: dict[str, dict[str, Any]], school: str = "") -> pd.DataFrame:
    """Every student named on a sheet spec, with the class printed on the sheet (the student's own
    class when the spec gives one); the latest spec wins when a student appears on several, except
    that a sheet without a class or a name (a targeted set's) keeps what an earlier sheet said.

    >>> spec = {"class_name": "六(1)班", "students": [{"id": "s1", "name": "李雷"}, {"id": "s2", "name": "韩梅梅",
    ...         "class_name": "六(2)班"}]}
    >>> roster_from_specs({"hw": spec}, school="实验小学").values.tolist()
    [['s1', '李雷', '六(1)班', '实验小学'], ['s2', '韩梅梅', '六(2)班', '实验小学']]
    """
    people: dict[str, dict[str, str]] = {}
    for spec in specs.values():
        for student in spec.get("students", []):
            before = people.get(student["id"], {})
            named = student.get("name") if student.get("name") not in (None, "", student["id"]) else None
            people[student["id"]] = {"student_id": student["id"],
                                     "name": named or before.get("name") or student["id"],
                                     "class_name": student.get("class_name") or spec.get("class_name")
                                     or before.get("class_name") or "", "school": school}
    return pd.DataFrame(list(people.values()), columns=["student_id", "name", "class_name", "school"])


def _from_spec(spec: dict[str, Any], bank: ItemBank) -> Assignment | None:
    ids = [f["id"] for f in spec.get("fields", []) if f.get("type") != "minutes"
           and f["id"] not in (MINUTES_FIELD, START_FIELD) and f["id"] in bank]
    if not ids:
        return None
    rows = bank.rows(ids)
    return Assignment(spec["assignment_id"], str(rows["subject"].iloc[0]), int(rows["grade"].max()), tuple(ids),
                      tuple(float(m) for m in rows["minutes"]), title=spec.get("title", ""))


def store_records(store: Any, bank: ItemBank, ledger: HomeworkLedger | None = None, *, school: str = "") -> Records:
    """The records of a scan store, with assignments and days from ``ledger`` where it has them."""
    specs = store.specs()
    known = {a.id: (a, day) for a, _, day in ledger.recorded()} if ledger else {}
    assignments, days = [], {}
    for assignment_id, spec in specs.items():
        if assignment_id in known:
            assignment, days[assignment_id] = known[assignment_id]
        elif (rebuilt := _from_spec(spec, bank)) is not None:
            assignment = rebuilt
            log.info("assignment %s is not in the ledger: rebuilt from its sheet, no day", assignment_id)
        else:
            continue
        assignments.append(assignment)
    return Records(store.answers(), tuple(assignments), roster_from_specs(specs, school), days)
