"""The 错题本 as a printable A4 PDF: per student, each mistake with the student's own writing, the key,
the knowledge points and a fresh item on the same point to practise (the 错题 variant).

One student per section (a class prints as one file, each student starting on a new page)::

    错题本  王芳  六(2)班  2026-10-12 至 2026-11-20  共 7 题
    ────────────────────────────────────────────
    math-03 第4题 · 分数、比和比例
    4. 甲数是乙数的 5/8，乙数比甲数多 □/□。      (stem typeset: fractions stacked)
       你的答案 [the crop of the student's box]  (read: 3/8)     正确答案 3/5
       再练一题  一个长方体的宽是长的 2/3 ...      答：________
    ...
    再练一题的答案：1. 36  2. 40 ...               (the last lines of the section)

The crops are cut again from the stored scan (:func:`answer_crops`): the page is registered and the
field's box warped upright, as the reader cut it. Fonts are the sheets' embedded ones (CJK included).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from homework._errors import HomeworkError, NotFoundError
from homework._printing import MARGIN, MM, PAGE_H, PAGE_W, _Paper

__all__ = ["answer_crops", "render_notebook", "write_notebook"]

log = logging.getLogger(__name__)

CROP_MAX_MM = (70.0, 16.0)
"""The largest a student's crop is printed (width, height); it keeps its proportions."""


def _field_rect(layout: Any, field_id: str) -> Any:
    import scanning

    for box in layout.boxes:
        if box.field_id == field_id:
            return box.rect
    bubbles = [b for b in layout.bubbles if b.field_id == field_id]
    if not bubbles:
        return None
    x0, y0 = min(b.cx - b.r for b in bubbles) - 2, min(b.cy - b.r for b in bubbles) - 2
    return scanning.Rect(x0, y0, max(b.cx + b.r for b in bubbles) + 2 - x0, max(b.cy + b.r for b in bubbles) + 2 - y0)


def answer_crops(store: Any, notebook: pd.DataFrame) -> dict[tuple[str, str, str], np.ndarray]:
    """The student's own writing for each notebook row, cut again from the stored scan.

    Keyed by (assignment_id, student_id, field_id). A row whose page cannot be found, loaded or
    registered gets no crop (the notebook then prints the reading instead) and is logged.
    """
    import scanning
    from homework._foreign_intake import is_foreign
    from scanning._read import crop_region

    # sheets the library did not print have no layout to cut from: their rows print the reading
    specs = {a: scanning.load_spec(s) for a, s in store.specs().items() if not is_foreign(s)}
    pages = {p.page_id: p for p in store.pages(status="read")}
    images: dict[int, Any] = {}
    out = {}
    for row in notebook.itertuples(index=False):
        page = pages.get(int(row.page_id)) if pd.notna(row.page_id) else None
        if page is None or row.assignment_id not in specs or page.sheet_page is None:
            continue
        try:
            layout = scanning.layout_pages(specs[row.assignment_id])[row.student_id][page.sheet_page]
            rect = _field_rect(layout, row.field_id)
            if page.page_id not in images:
                name, data = store.upload_of(page.page_id)
                gray = scanning.load_pages(data, name=name)[page.page_in_file].image
                images[page.page_id] = (gray, scanning.register(gray, layout.markers))
            gray, registration = images[page.page_id]
            if rect is not None:
                out[(row.assignment_id, row.student_id, row.field_id)] = crop_region(
                    gray, registration.homography, rect, max_px_per_mm=8.0)
        except (scanning.ScanningError, KeyError, IndexError) as exc:
            log.warning("no crop for %s/%s/%s: %s", row.assignment_id, row.student_id, row.field_id, exc)
    return out


def render_notebook(notebook: pd.DataFrame, out: str | Path, *, people: Mapping[str, tuple[str, str]],
                    crops: Mapping[tuple[str, str, str], np.ndarray] | None = None, period: str = "",
                    progress: Callable[[int, int], None] | None = None) -> Path:
    """Write the notebook (:func:`homework.mistake_notebook`) of one or more students as one A4 PDF.

    ``people`` maps a student id to (name, class). Each student starts a new page; a student with no
    mistakes gets a page saying so.
    """
    from reportlab.pdfgen.canvas import Canvas

    import scanning

    if not people:
        raise HomeworkError("a notebook needs at least one student")
    scanning.register_fonts()
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    canvas = Canvas(str(target), pagesize=(PAGE_W * MM, PAGE_H * MM), pageCompression=1, invariant=1)
    canvas.setTitle("错题本")
    canvas.setCreator("homework-loop")
    for done, (student_id, (name, class_name)) in enumerate(people.items(), start=1):
        mine = notebook[notebook["student_id"] == student_id]
        paper = _Paper(canvas, f"错题本 · {name} · {class_name}")
        _student(paper, mine, name, class_name, period, crops or {})
        paper.finish_page()
        canvas.showPage()
        if progress is not None:
            progress(done, len(people))
    canvas.save()
    return target


def _student(paper: _Paper, mine: pd.DataFrame, name: str, class_name: str, period: str,
             crops: Mapping[tuple[str, str, str], np.ndarray]) -> None:
    from homework._reports import _kp_names

    names = _kp_names()
    paper.y += 8
    paper.text(MARGIN, f"错题本  {name}", 16)
    paper.y += 7
    paper.text(MARGIN, f"{class_name}    {period}    共 {len(mine)} 题", 10, 0.3)
    paper.y += 3
    if mine.empty:
        paper.paragraph(MARGIN, "这段时间没有错题。", 11)
        return
    keys = []
    for n, row in enumerate(mine.itertuples(index=False), start=1):
        paper.need(40)
        paper.c.setStrokeGray(0.75)
        paper.c.line(MARGIN * MM, (PAGE_H - paper.y - 2) * MM, (PAGE_W - MARGIN) * MM, (PAGE_H - paper.y - 2) * MM)
        paper.y += 3
        points = "、".join(names.get(k, k) for k in row.knowledge_points)
        paper.paragraph(MARGIN, f"{n}.  {row.assignment_id} 第{row.number}题 · {points}", 9, 0.4)
        paper.stem(MARGIN + 4, row.stem or f"（题目 {row.item_id} 不在题库中）", 10.5)
        _answer(paper, row, crops.get((row.assignment_id, row.student_id, row.field_id)))
        if row.variant_id:
            paper.y += 1
            paper.stem(MARGIN + 4, f"再练一题：{row.variant_stem}", 10.5)
            paper.y += 1
            paper.stem(MARGIN + 4, "答：(())", 10.5)
            keys.append(f"{n}. {row.variant_key}")
        paper.y += 2
    if keys:
        paper.y += 4
        paper.paragraph(MARGIN, "再练一题的答案：" + "    ".join(keys), 8.5, 0.45)


def _answer(paper: _Paper, row: Any, crop: np.ndarray | None) -> None:
    answered = "（空白）" if not isinstance(row.answered, str) or not row.answered.strip() else row.answered
    if crop is None:
        paper.paragraph(MARGIN + 4, f"你的答案：{answered}        正确答案：{row.key}", 10.5)
        return
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    scale = min(CROP_MAX_MM[0] / crop.shape[1], CROP_MAX_MM[1] / crop.shape[0])
    width, height = crop.shape[1] * scale, crop.shape[0] * scale
    paper.need(height + 3)
    paper.y += 2
    paper.text(MARGIN + 4, "你的答案：", 10.5, y_mm=paper.y + height / 2 + 1.5)
    left = MARGIN + 24
    paper.c.drawImage(ImageReader(Image.fromarray(crop)), left * MM, (PAGE_H - paper.y - height) * MM,
                      width * MM, height * MM)
    paper.c.setStrokeGray(0.6)
    paper.c.rect(left * MM, (PAGE_H - paper.y - height) * MM, width * MM, height * MM)
    paper.text(left + width + 4, f"（读作 {answered}）    正确答案：{row.key}", 10.5, y_mm=paper.y + height / 2 + 1.5)
    paper.y += height + 1


def write_notebook(data: Any, out: str | Path, *, students: list[str], store: Any = None,
                   progress: Callable[[int, int], None] | None = None) -> Path:
    """The 错题本 PDF of these students from :class:`homework._reports.ReportData` (which needs its bank);
    with ``store`` each mistake shows the student's own writing cut from the scan."""
    from homework._analytics import mistake_notebook

    if data.bank is None:
        raise HomeworkError("the 错题本 needs the item bank (stems and practice items)")
    sheets = data.sheets[data.sheets["student_id"].isin(students)]
    missing = sorted(set(students) - set(sheets["student_id"]))
    if missing:
        raise NotFoundError(f"no homework of student(s) {missing[:10]} in these records")
    notebook = mistake_notebook(data.answers[data.answers["student_id"].isin(students)], data.bank)
    first = sheets.drop_duplicates("student_id").set_index("student_id")
    people = {s: (str(first.loc[s, "name"]), str(first.loc[s, "class_name"])) for s in students}
    days = sheets["day"].dropna()
    period = f"{days.min():%Y-%m-%d} 至 {days.max():%Y-%m-%d}" if len(days) else ""
    crops = answer_crops(store, notebook) if store is not None else {}
    return render_notebook(notebook, out, people=people, crops=crops, period=period, progress=progress)
