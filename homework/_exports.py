"""Grade exports: one row per student, one column per question, totals and minutes, as CSV or Excel.

:func:`grade_table` makes the table from the analytics frames (:func:`homework.answer_frame`,
:func:`homework.sheet_frame`) for one assignment or for every assignment of a class between two days;
:func:`write_grades` writes it. A question still waiting for a teacher is empty (not 0) and counted in
``待复核``; a student with no sheet for an assignment has empty cells for it.

>>> answers = pd.DataFrame({"assignment_id": "hw", "student_id": ["s1", "s1", "s2", "s2"], "number": [1, 2, 1, 2],
...     "score": [1.0, 0.0, 1.0, None], "max_score": [1.0, 1.0, 1.0, None],
...     "status": ["graded", "graded", "graded", "needs_review"]})
>>> sheets = pd.DataFrame({"assignment_id": "hw", "student_id": ["s1", "s2"], "name": ["李雷", "韩梅梅"],
...     "class_name": "六(1)班", "day": pd.to_datetime(["2026-11-23"] * 2), "minutes": [25.0, None]})
>>> grade_table(answers, sheets, ["hw"]).to_dict("records")[1]
{'学号': 's2', '姓名': '韩梅梅', '班级': '六(1)班', '第1题': 1.0, '第2题': nan, '总分': 1.0, '满分': 1.0, '得分率': 1.0, '用时（分钟）': nan, '待复核': 1}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from homework._errors import HomeworkError, NotFoundError

__all__ = ["assignments_between", "grade_table", "write_grades"]


def assignments_between(sheets: pd.DataFrame, class_name: str, start: dt.date | None = None,
                        end: dt.date | None = None) -> list[str]:
    """The class's assignments with a day in ``[start, end]`` (inclusive), in day order."""
    mine = sheets[(sheets["class_name"] == class_name) & sheets["day"].notna()]
    if start is not None:
        mine = mine[mine["day"].dt.date >= start]
    if end is not None:
        mine = mine[mine["day"].dt.date <= end]
    return list(mine.sort_values(["day", "assignment_id"], kind="stable")["assignment_id"].drop_duplicates())


def grade_table(answers: pd.DataFrame, sheets: pd.DataFrame, assignment_ids: Sequence[str],
                class_name: str | None = None) -> pd.DataFrame:
    """Students x questions of these assignments, with per-assignment totals and minutes (prefixed by
    the assignment id when there are several) and overall totals; ``class_name`` keeps one class."""
    if not assignment_ids:
        raise HomeworkError("no assignment to export (none of the class's assignments falls in those days)")
    people = sheets[sheets["assignment_id"].isin(assignment_ids)]
    if class_name is not None:
        people = people[people["class_name"] == class_name]
    if people.empty:
        raise NotFoundError(f"no sheets of {list(assignment_ids)[:5]}" + (f" in {class_name}" if class_name else ""))
    students = people.drop_duplicates("student_id").sort_values("student_id", kind="stable")
    table = pd.DataFrame({"姓名": students["name"].to_numpy(), "班级": students["class_name"].to_numpy()})
    index = pd.Index(students["student_id"], name="学号")
    several = len(assignment_ids) > 1
    parts = [_one_assignment(answers, people, a, index) for a in assignment_ids]
    if several:
        parts = [p.add_prefix(f"{a} ") for a, p in zip(assignment_ids, parts, strict=True)] + [_totals(parts)]
    ids = pd.DataFrame({"学号": index.to_numpy()}, index=index)
    return pd.concat([ids, table.set_index(index), *parts], axis=1).reset_index(drop=True)


def _totals(parts: list[pd.DataFrame]) -> pd.DataFrame:
    total = pd.concat([p["总分"] for p in parts], axis=1).sum(axis=1, min_count=1)
    full = pd.concat([p["满分"] for p in parts], axis=1).sum(axis=1, min_count=1)
    return pd.DataFrame({"总分": total, "满分": full, "得分率": (total / full.where(full > 0)).round(3),
                         "用时（分钟）": pd.concat([p["用时（分钟）"] for p in parts], axis=1).sum(axis=1, min_count=1),
                         "待复核": sum(p["待复核"] for p in parts)})


def _one_assignment(answers: pd.DataFrame, sheets: pd.DataFrame, assignment_id: str, students: pd.Index) -> pd.DataFrame:
    mine = answers[answers["assignment_id"] == assignment_id]
    scores = mine.pivot_table(index="student_id", columns="number", values="score", aggfunc="first", dropna=False)
    numbers = sorted(mine["number"].unique())
    scores = scores.reindex(index=students, columns=numbers)
    scores.columns = [f"第{n}题" for n in numbers]
    graded = mine[mine["status"] == "graded"].groupby("student_id")
    total, full = graded["score"].sum().reindex(students), graded["max_score"].sum().reindex(students)
    one = sheets[sheets["assignment_id"] == assignment_id].set_index("student_id")
    waiting = mine[mine["status"] == "needs_review"].groupby("student_id").size()
    extra = pd.DataFrame({"总分": total, "满分": full, "得分率": (total / full.where(full > 0)).round(3),
                          "用时（分钟）": one["minutes"].reindex(students),
                          "待复核": waiting.reindex(students, fill_value=0).astype(int)}, index=students)
    return pd.concat([scores, extra], axis=1)


def write_grades(table: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """Write the table as ``.csv`` (UTF-8 with a BOM, so Excel shows the Chinese) or ``.xlsx`` (a
    frozen header row, widths to fit, and the title in the sheet name)."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise HomeworkError(f"export to .csv or .xlsx, not {target.name!r}")
    target.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        table.to_csv(target, index=False, encoding="utf-8-sig")
        return target
    sheet = (title or "成绩")[:31]
    for bad in "[]:*?/\\":
        sheet = sheet.replace(bad, " ")
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name=sheet, index=False, freeze_panes=(1, 3))
        columns = writer.sheets[sheet].column_dimensions
        for n, name in enumerate(table.columns):
            from openpyxl.utils import get_column_letter

            columns[get_column_letter(n + 1)].width = max(8, min(30, 2 * len(str(name)) + 2))
    return target
