"""Reports a teacher or a district opens in a browser: self-contained HTML with inline SVG plots.

Three reports over one :class:`ReportData` (the analytics frames of :mod:`homework._analytics`):

* :func:`class_report`: mastery heatmap (students x knowledge points), each assignment's items with
  facility and the answers given (distractors), time of day, minutes, score by minutes, estimated
  against actual minutes, and the 双减 cap day by day with the students over it;
* :func:`student_report`: one student's mastery, scores, minutes against the cap and the class, and
  the 错题本 with a practice item per mistake;
* :func:`overview_report`: a school's or district's classes side by side.

A file holds everything it shows (no script, no font or style from the network): it opens offline,
prints, and can be mailed. Plots come from :mod:`homework._charts`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from homework import _charts as charts
from homework._assignments import HomeworkCaps
from homework._bank import ItemBank
from homework._errors import NotFoundError
from homework._records import Records

__all__ = ["ReportData", "class_report", "overview_report", "report_data", "student_report", "write_report"]

HOURS = range(14, 24)
SUBJECTS = {"math": "数学", "chinese": "语文", "english": "英语", "physics": "物理", "chemistry": "化学",
            "biology": "生物", "history": "历史", "geography": "地理", "politics": "道德与法治", "science": "科学"}
MIN_BAND_SHEETS = 5
"""A time band's mean score is drawn only from this many sheets on."""


@dataclass(frozen=True)
class ReportData:
    """The frames every report reads: answers, sheets and mastery, plus the caps and the bank."""

    answers: pd.DataFrame
    sheets: pd.DataFrame
    mastery: pd.DataFrame
    caps: HomeworkCaps
    bank: ItemBank | None = None


def report_data(records: Records, bank: ItemBank | None, *, model: Any = None,
                caps: HomeworkCaps | None = None) -> ReportData:
    """Build the frames once from :class:`homework.Records` (store answers, assignments, roster, days);
    ``model`` is a fitted mastery model to show instead of the answers' own Beta estimate."""
    from homework._analytics import answer_frame, mastery_frame, sheet_frame

    frame = answer_frame(records.answers, records.assignments, bank)
    sheets = sheet_frame(records.answers, records.assignments, records.roster, records.days, items=frame)
    return ReportData(frame, sheets, mastery_frame(frame, model=model), caps or HomeworkCaps(), bank)


def write_report(html: str, path: str | Path) -> Path:
    """Write a report (UTF-8) and return its path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    return target


# ----------------------------------------------------------------------------------- page parts

_STYLE = """
body{font-family:'Noto Sans CJK SC','Droid Sans Fallback','Microsoft YaHei',sans-serif;margin:24px auto;
max-width:1000px;color:#222;line-height:1.45}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;border-bottom:2px solid #1565c0;padding-bottom:3px;margin-top:28px}
.sub{color:#666;font-size:13px}.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:20px}.card span{font-size:12px;color:#666}
.card.warn b{color:#c62828}table{border-collapse:collapse;font-size:12.5px;margin:6px 0}
td,th{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}th{background:#f3f6fb}
td.num{text-align:right}.note{font-size:12px;color:#666}.row{display:flex;flex-wrap:wrap;gap:18px}
details{margin:4px 0}summary{cursor:pointer;font-size:14px}svg.chart{max-width:100%;height:auto}
.frac{display:inline-flex;flex-direction:column;vertical-align:middle;text-align:center;font-size:.85em;
line-height:1.05}.frac>span:first-child{border-bottom:1px solid currentColor;padding:0 2px}
.blank{display:inline-block;min-width:3em;border-bottom:1px solid #222}
@media print{details{display:block}summary{display:none}h2{break-after:avoid}svg.chart{break-inside:avoid}}
"""


def _page(title: str, subtitle: str, sections: list[str]) -> str:
    return ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1><div class=\"sub\">{escape(subtitle)}</div>"
            + "".join(sections) + "</body></html>")


def _cards(cards: Sequence[tuple[str, str, bool]]) -> str:
    return '<div class="cards">' + "".join(
        f'<div class="card{" warn" if warn else ""}"><b>{escape(value)}</b><span>{escape(label)}</span></div>'
        for value, label, warn in cards) + "</div>"


STEM_COLUMNS = frozenset({"题目", "再练一题"})
"""Table columns holding item stems, typeset (stacked fractions...); answers are shown as written."""


def _table(frame: pd.DataFrame, formats: Mapping[str, str] | None = None, limit: int = 60) -> str:
    if frame.empty:
        return '<p class="note">（无）</p>'
    rows = list(frame.head(limit).itertuples(index=False, name=None))
    more = f'<p class="note">另有 {len(frame) - limit} 行未列出。</p>' if len(frame) > limit else ""
    return _html_table([str(c) for c in frame.columns], rows, formats or {}) + more


def _html_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], formats: Mapping[str, str]) -> str:
    """Rows as an HTML table; numbers right-aligned in ``formats[header]``, stems (:data:`STEM_COLUMNS`)
    typeset, everything else escaped as it is."""
    body = []
    for row in rows:
        cells = []
        for column, value in zip(headers, row, strict=True):
            number = isinstance(value, float | int) and not isinstance(value, bool)
            text = "" if number and not math.isfinite(float(value)) else (
                format(value, formats[column]) if column in formats and number else str(value))
            shown = _cell(text) if column in STEM_COLUMNS else escape(text)
            cells.append(f'<td class="num">{escape(text)}</td>' if number else f"<td>{shown}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _cell(text: str) -> str:
    from homework._typeset import stem_html

    return stem_html(text)


def _kp_names() -> dict[str, str]:
    from homework._taxonomy import TAXONOMY

    return {kp.id: kp.name_zh or kp.name for kp in TAXONOMY}


def _kp_order(points: Iterable[str]) -> list[str]:
    from homework._taxonomy import TAXONOMY

    rank = {kp.id: n for n, kp in enumerate(TAXONOMY)}
    return sorted(set(points), key=lambda p: (rank.get(p, len(rank)), p))


def _section(title: str, *parts: str, note: str = "") -> str:
    return f"<h2>{escape(title)}</h2>" + (f'<p class="note">{escape(note)}</p>' if note else "") + "".join(parts)


def _date_span(sheets: pd.DataFrame) -> str:
    days = sheets["day"].dropna()
    return f"{days.min():%Y-%m-%d} 至 {days.max():%Y-%m-%d}" if len(days) else "日期未知"


# ----------------------------------------------------------------------------------- shared plots


def _mastery_heatmap(data: ReportData, students: pd.DataFrame, title: str) -> str:
    mastery = data.mastery[data.mastery["student_id"].isin(students["student_id"])]
    points = _kp_order(mastery.loc[mastery["n_responses"] > 0, "knowledge_point"])
    if not points:
        return '<p class="note">还没有批改过的答案。</p>'
    ids = list(students["student_id"])
    values = mastery.pivot_table(index="student_id", columns="knowledge_point", values="p_correct").reindex(
        index=ids, columns=points).to_numpy().tolist()
    counts = mastery.pivot_table(index="student_id", columns="knowledge_point", values="n_responses").reindex(
        index=ids, columns=points).fillna(0).astype(int).to_numpy().tolist()
    names = _kp_names()
    return charts.heatmap(list(students["name"]), [names.get(p, p) for p in points], values, counts, title=title)


def _time_of_day(sheets: pd.DataFrame, title: str) -> str:
    from homework._timestats import time_of_day

    table = time_of_day(sheets)
    hours = table.set_index("hour")["sheets"]
    early, late = int(hours[hours.index < HOURS.start].sum()), int(hours[hours.index >= 22].sum())
    values = [(f"{h}:00", float(hours.get(h, 0))) for h in HOURS]
    unknown = int(sheets["started"].isna().sum())
    note = f"开始时间来自答题卡上学生写的“开始”时间；{unknown} 份没有可读的开始时间。" if unknown else \
        "开始时间来自答题卡上学生写的“开始”时间。"
    if early:
        note += f" {early} 份在 {HOURS.start}:00 以前开始。"
    return charts.bars(values, title=title, unit="份", highlight=[h >= 22 for h in HOURS]) + (
        f'<p class="note">{escape(note)}{" 22:00 以后开始的有 " + str(late) + " 份（红色）。" if late else ""}</p>')


def _score_by_minutes(sheets: pd.DataFrame, title: str) -> str:
    from homework._timestats import score_by_minutes

    known = sheets[sheets["minutes"].notna() & sheets["share"].notna()]
    bands = score_by_minutes(sheets)
    line = [(float(r.mean_minutes), float(r.mean_share) * 100) for r in bands.itertuples()
            if r.sheets >= MIN_BAND_SHEETS]
    points = [(float(m), float(s) * 100, f"{n} · {a}: {m:g} 分钟, {s:.0%}")
              for m, s, n, a in zip(known["minutes"], known["share"], known["name"], known["assignment_id"], strict=True)]
    plot = charts.scatter(points, title=title, x_label="用时（分钟）", y_label="得分率 %", line=line,
                          y_range=(0, 100), width=460)
    table = bands.assign(mean_share=bands["mean_share"] * 100).rename(columns={
        "band": "用时区间（分钟）", "sheets": "份数", "mean_share": "平均得分率 %", "mean_minutes": "平均用时"})
    return f'<div class="row">{plot}<div>{_table(table, {"平均得分率 %": ".0f", "平均用时": ".1f"})}</div></div>'


def _estimated_vs_actual(sheets: pd.DataFrame, title: str) -> str:
    known = sheets[sheets["minutes"].notna()]
    known = known.assign(subject=known["subject"].map(lambda x: SUBJECTS.get(x, x)))
    per = known.groupby(["assignment_id", "subject"]).agg(estimated=("estimated_minutes", "first"),
                                                           actual=("minutes", "median"), n=("minutes", "size"))
    points = [(float(r.estimated), float(r.actual), f"{a}（{s}）：预计 {r.estimated:g}，实际中位 {r.actual:g} 分钟，{r.n} 份")
              for (a, s), r in per.iterrows()]
    ratio = known["minutes"].sum() / known["estimated_minutes"].sum() if len(known) else math.nan
    note = (f"每个点是一次作业：横轴是布置时预计的分钟数，纵轴是学生写下的实际用时中位数。虚线上方的作业比预计更费时。"
            f"合计实际/预计 = {ratio:.2f}。")
    return charts.scatter(points, title=title, x_label="预计（分钟）", y_label="实际中位数（分钟）", diagonal=True) + \
        f'<p class="note">{escape(note)}</p>'


def _cap_strip(data: ReportData, sheets: pd.DataFrame, title: str) -> tuple[str, pd.DataFrame]:
    from homework._timestats import daily_minutes

    days = daily_minutes(sheets, data.caps)
    if days.empty:
        return '<p class="note">作业没有日期（台账里没有这些作业），无法对照双减上限。</p>', days
    names = dict(zip(sheets["student_id"], sheets["name"], strict=False))
    columns, values = [], []
    for day, one in days.groupby("day"):
        columns.append(f"{day:%m-%d}")
        values.append([(float(m), f"{names.get(s, s)} {day:%m-%d}: {m:g} 分钟") for s, m in
                       zip(one["student_id"], one["minutes"], strict=True)])
    caps = days["cap"].dropna()
    return charts.dot_strip(columns, values, cap=float(caps.max()) if len(caps) else None, title=title), days


# ----------------------------------------------------------------------------------- class report


def class_report(data: ReportData, class_name: str, *, title: str = "") -> str:
    """The class report as one HTML page (see the module docstring for its sections)."""
    sheets = data.sheets[data.sheets["class_name"] == class_name]
    if sheets.empty:
        known = sorted(set(data.sheets["class_name"]))
        raise NotFoundError(f"no homework of class {class_name!r} in these records (classes: {known[:20]})")
    answers = data.answers[data.answers["student_id"].isin(sheets["student_id"])]
    students = sheets[["student_id", "name"]].drop_duplicates("student_id").sort_values("student_id")
    strip, days = _cap_strip(data, sheets, "每位学生每天的书面作业总时长（所有学科）")
    sections = [
        _class_cards(sheets, days),
        _section("知识点掌握", _mastery_heatmap(data, students, "学生 × 知识点：掌握程度"),
                 note="颜色：红 = 未掌握，黄 = 一半，绿 = 掌握；角上的数字是答题数，题少的格子颜色更淡（估计不确定）。"),
        _section("题目分析", _items_part(answers, sheets.groupby("assignment_id")["day"].first()),
                 note="每道题一条：绿色是答对的比例（难度系数），其他颜色是最常见的错误答案。区分度低于 0.2 的题要看一看。"),
        _section("作业时段分布", _time_of_day(sheets, "开始做作业的时间")),
        _section("作业用时", _durations_part(sheets)),
        _section("成绩与用时", _score_by_minutes(sheets, "用时与得分率（红线：各用时区间的平均）")),
        _section("预计与实际用时", _estimated_vs_actual(sheets, "预计用时与实际用时")),
        _section("双减：每日作业总量", strip, _over_cap_table(days, sheets)),
    ]
    school = sheets["school"].iloc[0]
    subtitle = f"{school} · {_date_span(sheets)} · {len(students)} 名学生 · {sheets['assignment_id'].nunique()} 次作业"
    return _page(title or f"{class_name} 作业报告", subtitle, sections)


def _class_cards(sheets: pd.DataFrame, days: pd.DataFrame) -> str:
    over = int((days["over"] > 0).sum()) if len(days) else 0
    known = sheets["minutes"].dropna()
    ratio = known.sum() / sheets.loc[known.index, "estimated_minutes"].sum() if len(known) else math.nan
    return _cards([
        (f"{sheets['share'].mean():.0%}", "平均得分率", False),
        (f"{known.median():.0f} 分钟" if len(known) else "-", "每次作业用时中位数", False),
        (f"{ratio:.2f}", "实际 / 预计用时", ratio > 1.2),
        (f"{over}", f"超过双减上限的人·天（共 {len(days)}）", over > 0),
        (f"{int(sheets['in_review'].sum())}", "待老师复核的答案", False),
    ])


def _items_part(answers: pd.DataFrame, days: pd.Series) -> str:
    from homework._analytics import answer_choices, item_statistics

    stats, choices = item_statistics(answers), answer_choices(answers)
    parts = []
    order = list(days.sort_values(kind="stable").index) + sorted(set(answers["assignment_id"]) - set(days.index))
    per_item: dict[tuple[str, int], list[tuple[str, float, bool]]] = {}
    for c in choices.itertuples(index=False):
        per_item.setdefault((c.assignment_id, c.number), []).append((c.answer, float(c.rate), bool(c.is_key)))
    by_assignment = {a: one for a, one in stats.groupby("assignment_id", sort=False)}
    low = stats[(stats["discrimination"] < 0.2) | (stats["facility"] < 0.3)]
    worth: dict[str, list[tuple[Any, ...]]] = {}
    for r in low.itertuples(index=False):
        worth.setdefault(r.assignment_id, []).append((r.number, r.item_id, r.facility, r.discrimination, r.top_wrong,
                                                      r.top_wrong_rate))
    headers = ["题号", "题目编号", "难度系数", "区分度", "最常见错答", "比例"]
    formats = {"难度系数": ".2f", "区分度": ".2f", "比例": ".0%"}
    for n, assignment_id in enumerate(reversed(order)):
        mine = by_assignment[assignment_id]
        labels = [f"第{r}题" for r in mine["number"]]
        segments = [per_item.get((assignment_id, r), []) for r in mine["number"]]
        chart = charts.stacked_bars(labels, segments, title=f"{assignment_id}：各题作答分布")
        rows = worth.get(assignment_id, [])
        table = _html_table(headers, rows, formats) if rows else '<p class="note">（无）</p>'
        when = days.get(assignment_id)
        parts.append(f'<details{" open" if n == 0 else ""}><summary>{escape(assignment_id)}'
                     f'{f" · {when:%m-%d}" if when is not None and pd.notna(when) else ""} · {len(mine)} 题 · '
                     f'平均难度系数 {mine["facility"].mean():.2f}</summary>{chart}<p class="note">值得讲评的题（难度系数低于 0.3 '
                     f'或区分度低于 0.2）：</p>{table}</details>')
    return "".join(parts)


def _durations_part(sheets: pd.DataFrame) -> str:
    from homework._timestats import duration_stats, score_by_minutes, time_differences

    bands = score_by_minutes(sheets)
    counts = [(str(b), float(n)) for b, n in zip(bands["band"], bands["sheets"], strict=True)]
    chart = charts.bars(counts, title="每次作业的用时（分钟）", unit="份", width=420)
    per_subject = duration_stats(sheets.assign(subject=sheets["subject"].map(lambda x: SUBJECTS.get(x, x))),
                                 "subject").rename(columns={
        "subject": "学科", "sheets": "份数", "unknown": "未读到", "mean": "平均", "median": "中位数", "p10": "10%",
        "p90": "90%", "estimated": "预计"})
    slow = time_differences(sheets, ["student_id", "name"]).sort_values("vs_all", ascending=False)
    slow = slow[["name", "sheets", "mean", "vs_all", "ratio_estimate"]].rename(columns={
        "name": "学生", "sheets": "份数", "mean": "平均用时", "vs_all": "比全班多", "ratio_estimate": "实际/预计"})
    fmt = {c: ".1f" for c in ("平均", "中位数", "10%", "90%", "预计", "平均用时", "比全班多")} | {"实际/预计": ".2f"}
    return (f'<div class="row">{chart}<div>{_table(per_subject, fmt)}</div></div>'
            f'<p class="note">用时最长的学生（与全班平均相比）：</p>{_table(slow, fmt, limit=8)}')


def _over_cap_table(days: pd.DataFrame, sheets: pd.DataFrame) -> str:
    if days.empty:
        return ""
    over = days[days["over"] > 0]
    names = dict(zip(sheets["student_id"], sheets["name"], strict=False))
    table = over.groupby("student_id").agg(days=("day", "size"), most=("minutes", "max"), over=("over", "max"))
    table = table.sort_values(["days", "most"], ascending=False).reset_index()
    table.insert(0, "学生", table["student_id"].map(names))
    unknown = int(days["unknown"].sum())
    note = f"{len(over)} 个人·天超过上限。" + (f" {unknown} 份作业没有读到用时，未计入（这些天不能算作达标）。" if unknown else "")
    return f'<p class="note">{escape(note)}</p>' + _table(
        table.drop(columns="student_id").rename(columns={"days": "超标天数", "most": "最多一天（分钟）",
                                                         "over": "最多超出"}), {"最多一天（分钟）": ".0f", "最多超出": ".0f"},
        limit=15)


# ----------------------------------------------------------------------------------- student report


def student_report(data: ReportData, student_id: str, *, title: str = "") -> str:
    """One student's report: mastery per point, scores, minutes against cap and class, and the 错题本."""
    from homework._timestats import daily_minutes

    sheets = data.sheets[data.sheets["student_id"] == student_id]
    if sheets.empty:
        raise NotFoundError(f"no homework of student {student_id!r} in these records")
    name, class_name = sheets["name"].iloc[0], sheets["class_name"].iloc[0]
    classmates = data.sheets[data.sheets["class_name"] == class_name]
    mastery = data.mastery[(data.mastery["student_id"] == student_id) & (data.mastery["n_responses"] > 0)]
    names = _kp_names()
    ordered = mastery.set_index("knowledge_point").loc[_kp_order(mastery["knowledge_point"])]
    bars = charts.bars([(names.get(p, p), round(float(r.p_correct) * 100)) for p, r in ordered.iterrows()],
                       title="各知识点掌握程度（%，竖线：± 不确定度；红色：低于 50% 且至少 3 题）", unit="%",
                       reference=80, reference_label="掌握 80%", width=640, height=240,
                       highlight=[float(r.p_correct) < 0.5 and r.n_responses >= 3 for _, r in ordered.iterrows()],
                       errors=[float(r["std"]) * 100 for _, r in ordered.iterrows()])
    days = daily_minutes(sheets, data.caps)
    cap = days["cap"].dropna()
    minutes = charts.bars([(f"{d:%m-%d}", float(m)) for d, m in zip(days["day"], days["minutes"], strict=True)],
                          title="每天的书面作业总时长（所有学科）", unit="分钟",
                          reference=float(cap.max()) if len(cap) else None, reference_label="双减上限",
                          highlight=list(days["over"] > 0), width=640)
    mean_class = classmates.groupby("assignment_id")["share"].mean()
    points = [(float(i), float(s) * 100, f"{a}: {s:.0%}（全班 {mean_class.get(a, math.nan):.0%}）")
              for i, (a, s) in enumerate(zip(sheets["assignment_id"], sheets["share"], strict=True)) if pd.notna(s)]
    line = [(float(i), float(mean_class.get(a, math.nan)) * 100) for i, a in enumerate(sheets["assignment_id"])]
    scores = charts.scatter(points, title="每次作业的得分率（红线：全班平均）", x_label="第几次作业", y_label="得分率 %",
                            line=[p for p in line if math.isfinite(p[1])], y_range=(0, 100), width=640)
    sections = [
        _student_cards(sheets, classmates, days, name),
        _section("知识点掌握", bars, _table(ordered.reset_index().assign(
            knowledge_point=lambda f: f["knowledge_point"].map(lambda p: names.get(p, p)))[
            ["knowledge_point", "p_correct", "std", "n_responses"]].rename(columns={
                "knowledge_point": "知识点", "p_correct": "掌握程度", "std": "不确定度（±）", "n_responses": "答题数"}),
            {"掌握程度": ".0%", "不确定度（±）": ".2f"})),
        _section("成绩", scores),
        _section("用时与双减", minutes, _time_of_day(sheets, "开始做作业的时间")),
        _section("错题本", _notebook_part(data, student_id)),
    ]
    return _page(title or f"{name} 的作业报告", f"{class_name} · {student_id} · {_date_span(sheets)}", sections)


def _student_cards(sheets: pd.DataFrame, classmates: pd.DataFrame, days: pd.DataFrame, name: str) -> str:
    mine, theirs = sheets["minutes"].median(), classmates["minutes"].median()
    over = int((days["over"] > 0).sum())
    return _cards([(f"{sheets['share'].mean():.0%}", f"平均得分率（全班 {classmates['share'].mean():.0%}）", False),
                   (f"{mine:.0f} 分钟" if pd.notna(mine) else "-", f"用时中位数（全班 {theirs:.0f} 分钟）", False),
                   (str(over), "超过双减上限的天数", over > 0), (str(len(sheets)), "交回的作业", False)])


def _notebook_part(data: ReportData, student_id: str) -> str:
    if data.bank is None:
        return '<p class="note">没有题库，无法列出题目。</p>'
    from homework._analytics import mistake_notebook

    notebook = mistake_notebook(data.answers, data.bank, student_id=student_id)
    names = _kp_names()
    table = notebook.assign(points=notebook["knowledge_points"].map(lambda ks: "、".join(names.get(k, k) for k in ks)))
    return _table(table[["assignment_id", "number", "stem", "answered", "key", "points", "variant_stem"]].rename(
        columns={"assignment_id": "作业", "number": "题号", "stem": "题目", "answered": "你的答案", "key": "正确答案",
                 "points": "知识点", "variant_stem": "再练一题"}), limit=200)


# ----------------------------------------------------------------------------------- overview


def overview_report(data: ReportData, *, school: str | None = None, title: str = "") -> str:
    """A school's (or, with ``school=None``, every school's) classes side by side."""
    from homework._timestats import cap_compliance, duration_stats

    sheets = data.sheets if school is None else data.sheets[data.sheets["school"] == school]
    if sheets.empty:
        raise NotFoundError(f"no homework of school {school!r} in these records")
    keys = ["school", "class_name"]
    compliance = cap_compliance(sheets, data.caps, by=keys)
    durations = duration_stats(sheets.assign(subject=sheets["subject"].map(lambda x: SUBJECTS.get(x, x))),
                               [*keys, "subject"])
    scores = sheets.groupby(keys)["share"].mean().rename("mean_share").reset_index()
    summary = compliance.merge(scores, on=keys, how="outer")
    bars = charts.bars([(c, float(s) * 100) for c, s in zip(summary["class_name"], summary["share_over"], strict=True)],
                       title="各班超过双减上限的人·天比例（%）", unit="%", highlight=list(summary["share_over"] > 0.05))
    classes = sheets[["class_name"]].drop_duplicates().rename(columns={"class_name": "name"})
    class_mastery = data.mastery.merge(sheets[["student_id", "class_name"]].drop_duplicates(), on="student_id")
    grouped = class_mastery.groupby(["class_name", "knowledge_point"]).agg(
        p_correct=("p_correct", "mean"), n_responses=("n_responses", "sum")).reset_index()
    heat = _mastery_heatmap(ReportData(data.answers, sheets, grouped.rename(columns={"class_name": "student_id"}),
                                       data.caps), classes.assign(student_id=classes["name"]), "班级 × 知识点：平均掌握程度")
    sections = [
        _section("各班概况", _table(summary.rename(columns={
            "school": "学校", "class_name": "班级", "students": "学生", "student_days": "人·天", "over_days": "超标人·天",
            "students_over": "曾超标学生", "mean_minutes": "日均分钟", "max_minutes": "最多一天", "cap": "上限",
            "share_over": "超标比例", "mean_share": "平均得分率"}),
            {"日均分钟": ".1f", "最多一天": ".0f", "超标比例": ".1%", "平均得分率": ".0%", "上限": ".0f"}), bars),
        _section("知识点掌握", heat),
        _section("作业用时（班级 × 学科）", _table(durations.rename(columns={
            "school": "学校", "class_name": "班级", "subject": "学科", "sheets": "份数", "unknown": "未读到",
            "mean": "平均", "median": "中位数", "p10": "10%", "p90": "90%", "estimated": "预计"}),
            {c: ".1f" for c in ("平均", "中位数", "10%", "90%", "预计")})),
        _section("作业时段分布", _time_of_day(sheets, "开始做作业的时间（全部班级）")),
        _section("预计与实际用时", _estimated_vs_actual(sheets, "预计用时与实际用时")),
    ]
    where = school or "全区"
    return _page(title or f"{where} 作业概况", f"{_date_span(sheets)} · {sheets['class_name'].nunique()} 个班 · "
                 f"{sheets['student_id'].nunique()} 名学生", sections)
