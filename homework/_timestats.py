"""The district's four homework-time statistics and 双减 compliance, from :func:`homework.sheet_frame`.

======================  =====================================  ============================
statistic               question                               function
======================  =====================================  ============================
作业时段分布统计        when in the day is homework done?       :func:`time_of_day`
作业用时统计            how long does it take?                 :func:`duration_stats`
作业成绩与用时区间分布  how does the score go with the time?   :func:`score_by_minutes`
作业时间差异统计        who takes longer, and than estimated?  :func:`time_differences`
双减 compliance         who is over the grade's daily cap?     :func:`daily_minutes`, :func:`cap_compliance`
======================  =====================================  ============================

Each takes ``by``: a column of the sheet frame (``student_id``, ``class_name``, ``school``,
``subject``) or a list of them, or None for everyone together. Times are the ones written on the
sheets (minutes spent, start time); a sheet whose box was not read counts as unknown, never as zero,
and the scan time is never used as the time homework was done.

>>> sheets = pd.DataFrame({"student_id": ["a", "a", "b"], "class_name": "6(1)", "subject": "math",
...     "minutes": [20.0, 40.0, 30.0], "estimated_minutes": 25.0, "share": [0.9, 0.5, 0.7]})
>>> duration_stats(sheets, "student_id")[["student_id", "sheets", "mean", "median"]].values.tolist()
[['a', 2, 30.0, 30.0], ['b', 1, 30.0, 30.0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from homework._assignments import HomeworkCaps

__all__ = ["MINUTE_BANDS", "cap_compliance", "daily_minutes", "duration_stats", "score_by_minutes",
           "time_differences", "time_of_day"]

MINUTE_BANDS = (0, 10, 20, 30, 45, 60, 90)
"""Edges of the time-spent bands (minutes); the last band is open (90+)."""

By = str | Sequence[str] | None


def _keys(by: By) -> list[str]:
    return [] if by is None else [by] if isinstance(by, str) else list(by)


def _grouped(frame: pd.DataFrame, by: By) -> pd.core.groupby.DataFrameGroupBy:
    keys = _keys(by)
    return frame.groupby(keys, sort=True) if keys else frame.groupby(np.zeros(len(frame), dtype=int))


def _flat(stats: pd.DataFrame, by: By) -> pd.DataFrame:
    return stats.reset_index() if _keys(by) else stats.reset_index(drop=True)


def time_of_day(sheets: pd.DataFrame, by: By = None) -> pd.DataFrame:
    """作业时段分布: how many sheets were started in each hour of the day (0-23, every hour listed).

    >>> sheets = pd.DataFrame({"started": pd.to_datetime(["2026-11-23 19:05", "2026-11-23 19:40",
    ...                                                    "2026-11-23 21:10", None])})
    >>> table = time_of_day(sheets)
    >>> table[table["sheets"] > 0].values.tolist()
    [[19, 2], [21, 1]]
    """
    known = sheets[sheets["started"].notna()].assign(hour=lambda f: f["started"].dt.hour)
    keys = _keys(by)
    counts = known.groupby([*keys, "hour"]).size()
    groups = [known[k].unique() for k in keys]
    full = pd.MultiIndex.from_product([*[sorted(g) for g in groups], range(24)], names=[*keys, "hour"])
    return counts.reindex(full, fill_value=0).rename("sheets").reset_index()


def duration_stats(sheets: pd.DataFrame, by: By = None) -> pd.DataFrame:
    """作业用时: minutes written on the sheets per group: count, mean, median, 10th/90th percentile,
    the estimated minutes' mean, and how many sheets had no readable minutes (``unknown``)."""
    frame = sheets.assign(known=sheets["minutes"].notna())
    stats = _grouped(frame, by).agg(
        sheets=("known", "sum"), unknown=("known", lambda k: int((~k).sum())), mean=("minutes", "mean"),
        median=("minutes", "median"), p10=("minutes", lambda m: m.quantile(0.1)),
        p90=("minutes", lambda m: m.quantile(0.9)), estimated=("estimated_minutes", "mean"))
    stats["sheets"] = stats["sheets"].astype(int)
    return _flat(stats, by)


def _band_labels(edges: Sequence[float]) -> list[str]:
    return [f"{lo:g}-{hi:g}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)] + [f"{edges[-1]:g}+"]


def score_by_minutes(sheets: pd.DataFrame, by: By = None, bands: Sequence[float] = MINUTE_BANDS) -> pd.DataFrame:
    """作业成绩与作业用时区间分布: per time-spent band (``[lo, hi)`` minutes), the sheets in it and
    their mean score share; every band is listed, empty ones with 0 sheets.

    >>> sheets = pd.DataFrame({"minutes": [5.0, 12.0, 18.0, 50.0], "share": [0.4, 0.8, 0.9, 0.6]})
    >>> score_by_minutes(sheets)[["band", "sheets", "mean_share"]].head(3).round(2).values.tolist()
    [['0-10', 1, 0.4], ['10-20', 2, 0.85], ['20-30', 0, nan]]
    """
    labels = _band_labels(bands)
    known = sheets[sheets["minutes"].notna() & sheets["share"].notna()]
    band = pd.cut(known["minutes"], [*bands, np.inf], right=False, labels=labels)
    stats = known.assign(band=band).groupby([*_keys(by), "band"], observed=False).agg(
        sheets=("share", "size"), mean_share=("share", "mean"), mean_minutes=("minutes", "mean"))
    return stats.reset_index()


def time_differences(sheets: pd.DataFrame, by: By = "student_id") -> pd.DataFrame:
    """作业时间差异: each group's mean minutes against everyone's (``vs_all``: difference, ``ratio_all``)
    and against the teacher's estimate (``vs_estimate``, ``ratio_estimate``: actual / estimated,
    over the sheets with both).

    >>> sheets = pd.DataFrame({"subject": ["math", "math", "chinese"], "minutes": [30.0, 50.0, 20.0],
    ...                        "estimated_minutes": [25.0, 25.0, 20.0]})
    >>> time_differences(sheets, "subject")[["subject", "mean", "vs_all", "ratio_estimate"]].values.tolist()
    [['chinese', 20.0, -13.333333333333336, 1.0], ['math', 40.0, 6.666666666666664, 1.6]]
    """
    known = sheets[sheets["minutes"].notna()]
    overall = known["minutes"].mean()
    stats = _grouped(known, by).agg(sheets=("minutes", "size"), mean=("minutes", "mean"), std=("minutes", "std"),
                                    actual=("minutes", "sum"), estimated=("estimated_minutes", "sum"),
                                    mean_estimated=("estimated_minutes", "mean"))
    stats["vs_all"] = stats["mean"] - overall
    stats["ratio_all"] = stats["mean"] / overall
    stats["vs_estimate"] = stats["mean"] - stats["mean_estimated"]
    stats["ratio_estimate"] = stats["actual"] / stats["estimated"].where(stats["estimated"] > 0)
    return _flat(stats.drop(columns=["actual", "estimated"]), by)


def daily_minutes(sheets: pd.DataFrame, caps: HomeworkCaps | None = None) -> pd.DataFrame:
    """Each student's written-homework minutes per day over all subjects against the grade's 双减 cap.

    ``minutes`` sums what the student wrote (NaN when no sheet of the day has readable minutes);
    ``unknown`` counts that day's sheets with no readable minutes (so a day under the cap with
    unknowns is not proven compliant); ``over`` is minutes past
    the cap (0 when within; NaN when the grade has no cap). Sheets without a day are left out.

    >>> sheets = pd.DataFrame({"student_id": ["a", "a", "b"], "class_name": "6(1)", "school": "x",
    ...     "grade": 6, "day": pd.to_datetime(["2026-11-23"] * 3), "minutes": [40.0, 35.0, 30.0]})
    >>> daily_minutes(sheets)[["student_id", "minutes", "cap", "over"]].values.tolist()
    [['a', 75.0, 60.0, 15.0], ['b', 30.0, 60.0, 0.0]]
    """
    caps = caps or HomeworkCaps()
    dated = sheets[sheets["day"].notna()]
    days = dated.assign(unknown=dated["minutes"].isna()).groupby(["student_id", "day"]).agg(
        class_name=("class_name", "first"), school=("school", "first"), grade=("grade", "max"),
        minutes=("minutes", "sum"), sheets=("minutes", "size"), unknown=("unknown", "sum")).reset_index()
    days["minutes"] = days["minutes"].where(days["unknown"] < days["sheets"])
    cap_of = {int(g): (band.minutes if (band := caps.cap_for(int(g))) else np.nan) for g in days["grade"].unique()}
    days["cap"] = days["grade"].map(cap_of).astype(float)
    days["over"] = (days["minutes"] - days["cap"]).clip(lower=0)
    return days


def cap_compliance(sheets: pd.DataFrame, caps: HomeworkCaps | None = None, by: By = "class_name") -> pd.DataFrame:
    """双减 compliance per group: students, student-days, days over the cap, students ever over it,
    the share of student-days over, and the mean and highest daily minutes.

    >>> sheets = pd.DataFrame({"student_id": ["a", "a", "b"], "class_name": "6(1)", "school": "x",
    ...     "grade": 6, "day": pd.to_datetime(["2026-11-23"] * 3), "minutes": [40.0, 35.0, 30.0]})
    >>> cap_compliance(sheets)[["class_name", "students", "over_days", "students_over", "max_minutes"]].values.tolist()
    [['6(1)', 2, 1, 1, 75.0]]
    """
    days = daily_minutes(sheets, caps).assign(is_over=lambda f: f["over"] > 0)
    stats = _grouped(days, by).agg(
        students=("student_id", "nunique"), student_days=("day", "size"), over_days=("is_over", "sum"),
        students_over=("student_id", lambda s: s[days.loc[s.index, "is_over"]].nunique()),
        mean_minutes=("minutes", "mean"), max_minutes=("minutes", "max"), cap=("cap", "max"))
    stats["over_days"] = stats["over_days"].astype(int)
    stats["share_over"] = stats["over_days"] / stats["student_days"]
    return _flat(stats, by)
