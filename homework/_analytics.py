"""Stage 3 analytics as pandas frames: graded answers, mastery, item analysis and the 错题本.

Everything starts from two frames built once from the store's answer rows::

    store answers (one per sheet field)  --answer_frame-->  one row per student x item answered
                                         --sheet_frame--->  one row per student x assignment (minutes,
                                                            start time, score, class, school, day)

and every statistic is a plain function of those frames, so a report, an export or a notebook asks the
same question the same way. The time statistics and 双减 compliance live in :mod:`homework._timestats`.

>>> from homework._assignments import Assignment
>>> a = Assignment("hw1", "math", 5, ("i1", "i2"), (3.0, 4.0))
>>> rows = [dict(assignment_id="hw1", student_id=s, field_id=f, value=v, score=p, max_score=1.0,
...              correct=int(p), grade_status="graded", read_status="ok", page_id=1, updated_at=0.0)
...         for s, f, v, p in [("s1", "i1", "3", 1.0), ("s1", "i2", "5", 0.0), ("s2", "i1", "4", 0.0)]]
>>> frame = answer_frame(rows, [a])
>>> frame[["student_id", "item_id", "value", "share"]].to_string(index=False)
'student_id item_id value  share\\n        s1      i1     3    1.0\\n        s1      i2     5    0.0\\n        s2      i1     4    0.0'
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from homework._assignments import Assignment
from homework._bank import ItemBank
from homework._errors import HomeworkError
from homework._printing import MINUTES_FIELD, START_FIELD, field_items

__all__ = [
    "ANSWER_COLUMNS",
    "SHEET_COLUMNS",
    "answer_choices",
    "answer_frame",
    "item_statistics",
    "mastery_frame",
    "mistake_notebook",
    "roster_frame",
    "sheet_frame",
]

ANSWER_COLUMNS = ["assignment_id", "student_id", "field_id", "number", "item_id", "subject", "knowledge_points",
                  "item_type", "value", "key", "score", "max_score", "share", "correct", "status", "page_id"]
"""One row per student x item answered. ``share`` is score / max score (NaN until graded); ``status``
is ``graded`` or ``needs_review``; ``number`` the question number on the sheet."""

SHEET_COLUMNS = ["assignment_id", "student_id", "name", "class_name", "school", "subject", "grade", "day",
                 "started", "minutes", "estimated_minutes", "score", "max_score", "share", "in_review",
                 "recorded_at", "time_doubt"]
"""One row per student x assignment handed in. ``minutes`` is what the student wrote on the sheet
(NaN when unread), ``started`` the start time written on it (NaT when absent), ``recorded_at`` when the
store graded it (scan time: never the time the homework was done, only an upper bound on when it
ended), ``time_doubt`` why start and minutes do not fit together (empty when they do or are unknown)."""

ROSTER_COLUMNS = ["student_id", "name", "class_name", "school"]


def roster_frame(rows: Iterable[Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """Students with their name, class and school, one row each (a missing name is the id).

    >>> roster_frame([{"student_id": "s1", "name": "李雷", "class_name": "六(1)班"}]).iloc[0].tolist()
    ['s1', '李雷', '六(1)班', '']
    """
    frame = pd.DataFrame(list(rows) if not isinstance(rows, pd.DataFrame) else rows)
    if "student_id" not in frame:
        raise HomeworkError("a roster needs a student_id column")
    for column in ROSTER_COLUMNS[1:]:
        frame[column] = frame[column].fillna("").astype(str) if column in frame else ""
    frame["name"] = frame["name"].where(frame["name"] != "", frame["student_id"])
    repeated = frame["student_id"][frame["student_id"].duplicated()].tolist()
    if repeated:
        raise HomeworkError(f"student(s) {sorted(set(repeated))[:10]} listed twice in the roster")
    return frame[ROSTER_COLUMNS].reset_index(drop=True)


def _item_facts(bank: ItemBank | None, item_ids: list[str]) -> dict[str, tuple[tuple[str, ...], str, str]]:
    if bank is None:
        return {}
    return {item.id: (item.knowledge_points, item.type.value, " / ".join(item.answer))
            for item in bank.items([i for i in item_ids if i in bank])}


def answer_frame(answers: Iterable[Mapping[str, Any]], assignments: Sequence[Assignment],
                 bank: ItemBank | None = None) -> pd.DataFrame:
    """The answers to the assignments' items (store rows) as one frame, in sheet order per student.

    Without ``bank`` the knowledge points, item type and key are empty. Fields that are not items
    (the minutes and start-time boxes) are left out; :func:`sheet_frame` reads those.
    """
    fields = {a.id: {f: (n, i) for n, (f, i) in enumerate(field_items(a).items(), start=1)} for a in assignments}
    subjects = {a.id: a.subject for a in assignments}
    picked = [r for r in answers if r["field_id"] in fields.get(r["assignment_id"], {})]
    facts = _item_facts(bank, sorted({fields[r["assignment_id"]][r["field_id"]][1] for r in picked}))
    rows = []
    for r in picked:
        number, item_id = fields[r["assignment_id"]][r["field_id"]]
        kps, kind, key = facts.get(item_id, ((), "", ""))
        graded = r["grade_status"] == "graded" and bool(r["max_score"])
        share = float(r["score"]) / float(r["max_score"]) if graded else math.nan
        rows.append((r["assignment_id"], r["student_id"], r["field_id"], number, item_id, subjects[r["assignment_id"]],
                     kps, kind, r["value"], key, r["score"] if graded else math.nan,
                     r["max_score"] if graded else math.nan, share,
                     float(r["correct"]) if graded and r["correct"] is not None else math.nan,
                     r["grade_status"], r.get("page_id")))
    frame = pd.DataFrame(rows, columns=ANSWER_COLUMNS)
    return frame.sort_values(["assignment_id", "student_id", "number"], kind="stable").reset_index(drop=True)


def _clock(value: Any, day: Any) -> pd.Timestamp:
    """``"19:05"`` on ``day`` as a timestamp; NaT when either is unknown or the text is no time."""
    from homework._clock import parse_clock

    clock = parse_clock(value)
    if clock is None or day is None or pd.isna(day):
        return pd.NaT
    return pd.Timestamp(dt.datetime.combine(pd.Timestamp(day).date(), clock))


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def sheet_frame(answers: Iterable[Mapping[str, Any]], assignments: Sequence[Assignment],
                roster: pd.DataFrame | None = None, days: Mapping[str, dt.date] | None = None, *,
                items: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per student x assignment with answers: minutes written, start time, score, class, school.

    ``days`` gives each assignment's day (from the ledger); without it ``day`` is NaT and the 双减
    statistics leave the sheet out. ``roster`` (:func:`roster_frame`) gives names, classes and schools.
    Only ``read_status == "ok"`` minutes and start times count (a start time waiting for review
    does not): an unread box is unknown, not zero.
    ``items`` is :func:`answer_frame` of the same answers, when already made.
    """
    by_id = {a.id: a for a in assignments}
    rows = [dict(r) for r in answers if r["assignment_id"] in by_id]
    if not rows:
        return pd.DataFrame(columns=SHEET_COLUMNS)
    raw = pd.DataFrame(rows)
    items = answer_frame(rows, assignments) if items is None else items
    totals = items.assign(in_review=items["status"].eq("needs_review")).groupby(["assignment_id", "student_id"]).agg(
        score=("score", "sum"), max_score=("max_score", "sum"), in_review=("in_review", "sum"))
    keys = ["assignment_id", "student_id"]
    sheets = raw.groupby(keys).agg(recorded_at=("updated_at", "min")).join(totals, how="left").reset_index()
    sheets["minutes"] = sheets.set_index(keys).index.map(_field_values(raw, MINUTES_FIELD)).map(_number)
    started = sheets.set_index(keys).index.map(_field_values(raw, START_FIELD))
    sheets["day"] = pd.to_datetime(sheets["assignment_id"].map(dict(days or {})))
    sheets["started"] = [_clock(v, d) for v, d in zip(started, sheets["day"], strict=True)]
    sheets["started"] = pd.to_datetime(sheets["started"])
    sheets["subject"] = sheets["assignment_id"].map({a.id: a.subject for a in assignments})
    sheets["grade"] = sheets["assignment_id"].map({a.id: a.grade for a in assignments})
    sheets["estimated_minutes"] = sheets["assignment_id"].map({a.id: a.total_minutes for a in assignments})
    sheets["share"] = sheets["score"] / sheets["max_score"].where(sheets["max_score"] > 0)
    sheets["recorded_at"] = pd.to_datetime(sheets["recorded_at"], unit="s")
    sheets["time_doubt"] = [_doubt(s, m, r) for s, m, r in zip(sheets["started"], sheets["minutes"],
                                                                sheets["recorded_at"], strict=True)]
    people = roster_frame(roster if roster is not None else pd.DataFrame({"student_id": sheets["student_id"].unique()}))
    sheets = sheets.merge(people, on="student_id", how="left")
    for column in ("name", "class_name", "school"):
        sheets[column] = sheets[column].fillna("" if column != "name" else sheets["student_id"])
    return sheets[SHEET_COLUMNS].sort_values(["day", "assignment_id", "student_id"], kind="stable").reset_index(drop=True)


def _doubt(started: Any, minutes: float, recorded: Any) -> str:
    from homework._clock import check_times

    if pd.isna(started) or pd.isna(minutes):
        return ""
    check = check_times(f"{started:%H:%M}", 1.0, float(minutes), day=started.date(),
                        scanned_at=None if pd.isna(recorded) else recorded.floor("s").to_pydatetime())
    return "; ".join(check.reasons)


def _field_values(raw: pd.DataFrame, field_id: str) -> dict[tuple[str, str], Any]:
    ok = raw[(raw["field_id"] == field_id) & (raw["read_status"] == "ok") & (raw["grade_status"] != "needs_review")]
    return dict(zip(zip(ok["assignment_id"], ok["student_id"], strict=True), ok["value"], strict=True))


def mastery_frame(answers: pd.DataFrame, *, model: Any = None, students: Sequence[str] | None = None,
                  knowledge_points: Sequence[str] | None = None) -> pd.DataFrame:
    """Mastery per student x knowledge point with its uncertainty and the number of answers behind it.

    With a fitted :mod:`recommender` ``model`` the model's P(correct) and std are used; without one, a
    Beta(1, 1) posterior over the student's graded shares on the point (mean, std), so a point seen
    once is uncertain whatever the answer. ``n_responses`` always counts this frame's graded answers.

    >>> frame = pd.DataFrame({"student_id": ["s1"] * 3, "knowledge_points": [("kp.a",)] * 3,
    ...                       "share": [1.0, 1.0, 0.0]})
    >>> mastery_frame(frame).round(3).to_dict("records")
    [{'student_id': 's1', 'knowledge_point': 'kp.a', 'p_correct': 0.6, 'std': 0.2, 'n_responses': 3}]
    """
    graded = answers[answers["share"].notna()].explode("knowledge_points").dropna(subset=["knowledge_points"])
    stats = graded.groupby(["student_id", "knowledge_points"])["share"].agg(["sum", "count"])
    students = list(students) if students is not None else sorted(answers["student_id"].unique())
    points = list(knowledge_points) if knowledge_points is not None else sorted(
        graded["knowledge_points"].unique())
    grid = pd.MultiIndex.from_product([students, points], names=["student_id", "knowledge_point"])
    stats = stats.rename_axis(["student_id", "knowledge_point"]).reindex(grid, fill_value=0)
    a, b = 1.0 + stats["sum"], 1.0 + stats["count"] - stats["sum"]
    out = pd.DataFrame({"p_correct": a / (a + b), "std": np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1))),
                        "n_responses": stats["count"].astype(int)}, index=grid).reset_index()
    if model is not None:
        believed = {(s, kp): m for s in students for kp, m in model.mastery(s, points).items()}
        out["p_correct"] = [believed[(s, k)].p_correct for s, k in zip(out["student_id"], out["knowledge_point"],
                                                                      strict=True)]
        out["std"] = [believed[(s, k)].std for s, k in zip(out["student_id"], out["knowledge_point"], strict=True)]
    return out


def item_statistics(answers: pd.DataFrame) -> pd.DataFrame:
    """Classical item analysis, one row per assignment x item in sheet order.

    ``facility`` is the mean share of points (the p-value: low = hard); ``discrimination`` the
    correlation of the item's share with the student's mean share on the rest of the assignment (near
    0 or negative: the item does not separate strong from weak students, or its key is wrong; NaN
    with fewer than 3 graded students); ``top_wrong`` the most frequent wrong answer and
    ``top_wrong_rate`` the share of graded students who gave it (for a choice item, its strongest
    distractor; all choices are in :func:`answer_choices`).

    >>> frame = pd.DataFrame({"assignment_id": "hw", "student_id": ["a", "b", "c", "a", "b", "c"],
    ...     "number": [1, 1, 1, 2, 2, 2], "item_id": ["i1"] * 3 + ["i2"] * 3, "value": list("ABCAAB"),
    ...     "key": ["A"] * 6, "share": [1, 0, 0, 1, 1, 0.0], "status": "graded"})
    >>> item_statistics(frame)[["item_id", "graded", "facility", "discrimination", "top_wrong"]].round(2).values.tolist()
    [['i1', 3, 0.33, 0.5, 'B'], ['i2', 3, 0.67, 0.5, 'B']]
    """
    keys = ["assignment_id", "item_id", "number"]
    graded = answers["share"].notna()
    stats = answers.assign(graded=graded, review=answers["status"].eq("needs_review")).groupby(
        keys, sort=False).agg(key=("key", "first"), graded=("graded", "sum"), facility=("share", "mean"),
                             in_review=("review", "sum"))
    stats["discrimination"] = pd.Series(_discrimination(answers[graded]), dtype=float).reindex(
        stats.index.droplevel("number")).to_numpy()
    wrong = answers[graded & (answers["share"] < 1) & answers["value"].notna()]
    counts = wrong.assign(value=wrong["value"].astype(str)).groupby([*keys, "value"]).size().rename("n")
    top = counts.reset_index().sort_values([*keys, "n", "value"], ascending=[True, True, True, False, True],
                                           kind="stable").drop_duplicates(keys).set_index(keys)
    stats["top_wrong"] = top["value"].reindex(stats.index).fillna("")
    stats["top_wrong_rate"] = (top["n"].reindex(stats.index).fillna(0) / stats["graded"].where(stats["graded"] > 0)
                               ).fillna(0.0)
    stats[["graded", "in_review"]] = stats[["graded", "in_review"]].astype(int)
    columns = ["assignment_id", "item_id", "number", "key", "graded", "facility", "discrimination", "top_wrong",
               "top_wrong_rate", "in_review"]
    return stats.reset_index()[columns].sort_values(["assignment_id", "number"], kind="stable").reset_index(drop=True)


def _discrimination(graded: pd.DataFrame) -> dict[tuple[str, str], float]:
    """Item-rest correlation per (assignment, item): each item's share against the student's mean share
    on the assignment's other items, over the students graded on both (at least 3; NaN otherwise)."""
    sheet, sheets = pd.factorize(graded["assignment_id"] + "\x1f" + graded["student_id"])
    item, items = pd.factorize(pd.MultiIndex.from_arrays([graded["assignment_id"], graded["item_id"]]))
    x = np.full((len(sheets), len(items)), np.nan)
    x[sheet, item] = graded["share"].to_numpy(dtype=float)  # one row per sheet: only its assignment's items
    seen = ~np.isnan(x)
    total, count = np.nansum(x, axis=1, keepdims=True), seen.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        rest = (total - np.nan_to_num(x)) / (count - seen)
    both = seen & np.isfinite(rest)
    return {key: _corr(x[both[:, j], j], rest[both[:, j], j]) for j, key in enumerate(items)}


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


def answer_choices(answers: pd.DataFrame, top: int = 4) -> pd.DataFrame:
    """How often each answer was given per item: every option of a choice item, the ``top`` most
    frequent answers of any other item (the rest summed as ``其他``), with ``rate`` over graded answers.

    >>> frame = pd.DataFrame({"assignment_id": "hw", "item_id": "i1", "number": 1, "item_type": "single_choice",
    ...     "value": list("ABBC"), "key": "A", "share": [1.0, 0, 0, 0], "status": "graded"})
    >>> answer_choices(frame)[["answer", "count", "rate", "is_key"]].values.tolist()
    [['A', 1, 0.25, True], ['B', 2, 0.5, False], ['C', 1, 0.25, False]]
    """
    keys = ["assignment_id", "item_id", "number"]
    graded = answers[answers["status"] == "graded"]
    graded = graded.assign(answer=graded["value"].fillna("（空白）").astype(str), right=graded["share"] >= 1)
    counts = graded.groupby([*keys, "answer"], sort=False).agg(count=("right", "size"), right=("right", "any"),
                                                              key=("key", "first"), kind=("item_type", "first"))
    counts = counts.reset_index()
    keyed = [a in {k.strip() for k in str(k).split("/")} for a, k in zip(counts["answer"], counts["key"], strict=True)]
    counts["is_key"] = counts["right"].to_numpy() | np.array(keyed, dtype=bool)
    counts["rank"] = counts.sort_values("count", ascending=False, kind="stable").groupby(keys).cumcount()
    choice = counts["kind"].astype(str).str.endswith("choice")
    counts.loc[~choice & (counts["rank"] >= top) & ~counts["is_key"], "answer"] = "其他"
    counts = counts.groupby([*keys, "answer"], sort=False).agg(count=("count", "sum"), is_key=("is_key", "any"))
    counts = counts.reset_index()
    counts["rate"] = counts["count"] / counts.groupby(keys)["count"].transform("sum")
    counts["other"] = counts["answer"] == "其他"
    order = counts.sort_values(["assignment_id", "number", "other", "answer"], kind="stable")
    return order[[*keys, "answer", "count", "rate", "is_key"]].reset_index(drop=True)


def mistake_notebook(answers: pd.DataFrame, bank: ItemBank, *, student_id: str | None = None,
                     done: Mapping[str, set[str]] | None = None) -> pd.DataFrame:
    """The 错题本: each graded wrong answer with its stem, the student's answer, the key, the
    knowledge points, and a fresh bank item on the same points for practice (a 错题 variant).

    The variant shares the wrong item's first knowledge point, subject and type family, is as close in
    difficulty as the bank allows, and is none of the items the student has answered (``done`` adds
    items answered elsewhere). An item no longer in the bank keeps its row with an empty stem. ``variant_id`` is empty when the bank has no such item. ``page_id`` says
    where the student's own writing is (see :func:`homework.answer_crop`).
    """
    wrong = answers[(answers["share"] < 1) & answers["status"].eq("graded")]
    if student_id is not None:
        wrong = wrong[wrong["student_id"] == student_id]
    seen = {s: set(g) | set((done or {}).get(s, set())) for s, g in answers.groupby("student_id")["item_id"]}
    items = {i.id: i for i in bank.items(list(dict.fromkeys(i for i in wrong["item_id"] if i in bank)))}
    pools: dict[tuple[str, str, str], pd.DataFrame] = {}
    picks = []
    for r in wrong.itertuples(index=False):
        item = items.get(r.item_id)
        picks.append(_variant(bank, item, seen.setdefault(r.student_id, set()), pools) if item else "")
        seen[r.student_id].add(picks[-1])
    variants = {i.id: i for i in bank.items([p for p in dict.fromkeys(picks) if p])}
    rows = []
    for r, pick in zip(wrong.itertuples(index=False), picks, strict=True):
        item, variant = items.get(r.item_id), variants.get(pick)
        rows.append((r.student_id, r.assignment_id, r.number, r.item_id, item.stem if item else "", r.value, r.key,
                     item.knowledge_points if item else (), r.page_id, r.field_id,
                     variant.id if variant else "", variant.stem if variant else "",
                     " / ".join(variant.answer) if variant else ""))
    return pd.DataFrame(rows, columns=["student_id", "assignment_id", "number", "item_id", "stem", "answered", "key",
                                       "knowledge_points", "page_id", "field_id", "variant_id", "variant_stem",
                                       "variant_key"])


def _variant(bank: ItemBank, item: Any, avoid: set[str], pools: dict[tuple[str, str, str], pd.DataFrame]) -> str:
    if not item.knowledge_points:
        return ""
    key = (item.subject, item.knowledge_points[0], item.type.value)
    if key not in pools:
        found = bank.query(subject=key[0], knowledge_points=key[1], type=key[2])
        pools[key] = pd.DataFrame({"id": found["id"].astype(str), "difficulty": found["difficulty"].astype(int),
                                   "grade": found["grade"].astype(int)})
    rows = pools[key][~pools[key]["id"].isin(avoid | {item.id})]
    if rows.empty:
        return ""
    distance = (rows["difficulty"] - item.difficulty).abs() * 10 + (rows["grade"] - item.grade).abs()
    return str(rows.loc[distance.sort_values(kind="stable").index[0], "id"])
