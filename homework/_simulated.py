"""Simulated classes for reports, benchmarks and tests: weeks of homework answered by simulated students.

Real answers come from scans; a report over 30 assignments needs weeks of them. This module makes such a
history from the bank's real items with :class:`recommender.LearnerSimulator` (students who learn and
forget; minutes per item from the bank's estimate, the student's speed and noise) and writes it as the
store's own answer rows, so every analytics function reads it exactly as it reads scanned homework.
What the simulator does not model is drawn plainly and said here: wrong numeric answers come from three
per-item misconceptions (the key off by a factor, a digit or a step); each student starts homework
around a habitual evening time (mean 19:00, sd 50 min between students, 30 min day to day); 3 % of
minutes boxes are unread; a few answers wait for review; the sheets are scanned the next morning.
Every third day a Chinese assignment (15-30 min) shares the day, so some days go over the 双减 cap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from homework._assignments import Assignment, AssignmentRequest, compose_assignment
from homework._bank import ItemBank
from homework._printing import MINUTES_FIELD, START_FIELD, field_items
from homework._records import Records

__all__ = ["simulate_records"]

UNIT = ("number.fraction", "number.decimal", "number.percent", "ratio.proportion", "percent.price")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["子涵", "欣怡", "梓萱", "浩然", "宇轩", "诗涵", "俊杰", "雨桐", "思远", "佳怡", "一诺", "明轩", "若曦",
         "子墨", "嘉怡", "博文", "可馨", "天佑", "梦瑶", "泽宇"]


def _roster(classes: Sequence[tuple[str, int]], school: str, rng: np.random.Generator) -> pd.DataFrame:
    rows: list[dict[str, str]] = []
    names = rng.permutation([s + g for s in SURNAMES for g in GIVEN])  # 400 distinct names
    for c, (name, size) in enumerate(classes):
        for n in range(size):
            full = str(names[len(rows) % len(names)])
            rows.append({"student_id": f"c{c + 1}s{n + 1:02d}", "name": full, "class_name": name, "school": school})
    return pd.DataFrame(rows)


def _schedule(bank: ItemBank, count: int, grade: int, start: dt.date,
              minutes: float) -> list[tuple[Assignment, dt.date]]:
    out: list[tuple[Assignment, dt.date]] = []
    day = start
    for n in range(count):
        kps = (UNIT[n % len(UNIT)], UNIT[(n + 1) % len(UNIT)])
        request = AssignmentRequest(knowledge_points=kps, minutes=minutes, grade=grade, seed=n,
                                    exclude=tuple(i for a, _ in out for i in a.item_ids))
        out.append((compose_assignment(bank, request, assignment_id=f"math-{n + 1:02d}"), day))
        day += dt.timedelta(days=3 if day.weekday() == 4 else 1)  # school days only
    return out


def _wrong_value(key: str, choice: int) -> str:
    percent = key.endswith("%")
    try:
        value = float(key.rstrip("%"))
    except ValueError:
        return key + "?"
    wrong = [value * 10, value + 1, value / 2][choice]
    return f"{wrong:g}" + ("%" if percent else "")


def simulate_records(bank: ItemBank, *, classes: Sequence[tuple[str, int]] = (("六(1)班", 50),),
                     school: str = "示范小学", assignments: int = 30, grade: int = 6,
                     start: dt.date = dt.date(2026, 10, 12), minutes: float = 25, seed: int = 0) -> Records:
    """Weeks of math homework (one assignment a school day) for ``classes`` (name, size) of one school.

    >>> bank = ItemBank(); _ = bank.import_file(FIXTURES / "bank" / "items.csv")
    >>> records = simulate_records(bank, classes=[("六(1)班", 4)], assignments=2)
    >>> len(records.roster), [a.id for a in records.assignments], len(records.answers) > 20
    (4, ['math-01', 'math-02', 'yw-01'], True)
    """
    from homework._taxonomy import _PREREQUISITES
    from recommender import Curriculum, LearnerSimulator

    rng = np.random.default_rng(seed)
    roster = _roster(classes, school, rng)
    schedule = _schedule(bank, assignments, grade, start, minutes)
    curriculum = Curriculum.from_frame(bank.frame, _PREREQUISITES, seed=seed)
    sim = LearnerSimulator(curriculum, n_students=len(roster), seed=seed)
    habit = rng.normal(19 * 60, 50, len(roster))
    rows: list[dict[str, Any]] = []
    chinese: list[tuple[Assignment, dt.date]] = []
    for n, (assignment, day) in enumerate(schedule):
        positions = curriculum.item_index(assignment.item_ids)
        keys = {item.id: item.answer[0] for item in bank.items(list(assignment.item_ids))}
        for s, student in enumerate(roster["student_id"]):
            correct, spent = sim.answer(s, positions)
            started = habit[s] + rng.normal(0, 30)
            rows += _sheet_rows(assignment, student, day, keys, correct, spent, started, rng)
        if n % 3 == 1:
            chinese.append((Assignment(f"yw-{len(chinese) + 1:02d}", "chinese", grade, (f"yw-reading-{n}",),
                                       (float(rng.choice([15, 20, 30])),)), day))
        sim.next_day()
    for assignment, day in chinese:
        for s, student in enumerate(roster["student_id"]):
            spent = np.array([assignment.minutes[0] * rng.lognormal(0, 0.3)])
            rows += _sheet_rows(assignment, student, day, {assignment.item_ids[0]: "A"},
                                rng.random(1) < 0.75, spent, habit[s] - 70 + rng.normal(0, 30), rng)
    everything = [a for a, _ in schedule] + [a for a, _ in chinese]
    return Records(rows, tuple(everything), roster, {a.id: d for a, d in [*schedule, *chinese]})


def _sheet_rows(assignment: Assignment, student: str, day: dt.date, keys: dict[str, str], correct: np.ndarray,
                spent: np.ndarray, started: float, rng: np.random.Generator) -> list[dict[str, Any]]:
    scanned = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(7, 30)).timestamp() + rng.uniform(0, 2400)
    base = {"assignment_id": assignment.id, "student_id": student, "page_id": 0, "updated_at": scanned,
            "confidence": 0.99, "read_reason": "", "grade_reason": "", "graded_by": "auto"}
    rows = []
    for (field, item_id), right in zip(field_items(assignment).items(), correct, strict=True):
        review = rng.random() < 0.02
        value = keys[item_id] if right else _wrong_value(keys[item_id], int(rng.choice(3, p=[0.5, 0.3, 0.2])))
        rows.append({**base, "field_id": field, "kind": "handwriting", "value": value, "read_status": "ok",
                     "score": None if review else float(right), "max_score": None if review else 1.0,
                     "correct": None if review else int(right),
                     "grade_status": "needs_review" if review else "graded"})
    total = float(np.round(spent.sum()))
    clock = int(np.clip(started, 15 * 60, 22 * 60 + 30))
    for field, value, ok in ((MINUTES_FIELD, f"{min(total, 99):g}", rng.random() > 0.03),
                             (START_FIELD, f"{clock // 60:02d}:{clock % 60:02d}", True)):
        rows.append({**base, "field_id": field, "kind": field, "value": value if ok else None,
                     "read_status": "ok" if ok else "blank", "score": None, "max_score": None, "correct": None,
                     "grade_status": "ungraded"})
    return rows
