"""Printing an assignment: per student a question paper (PDF, Chinese stems rendered) and the
answer sheet from :mod:`scanning`, or both in one combined document.

The answer sheet has one field per item, chosen by the item's type, and a last "minutes spent" field
whose readings feed :func:`homework.recalibrate_bank`::

    item type        sheet field                           answer key
    single_choice    single_choice (one bubble per option)  choice
    multiple_choice  multiple_choice                        choice (multiple)
    true_false       true_false                             true_false
    numeric          handwriting, number                    number (all accepted values, tolerance)
    short_text       handwriting, text                      text
    subjective       score (the teacher bubbles 0..points)  score
    (last)           minutes                                none

The question paper uses the sheets' embedded fonts (``scanning.register_fonts``), so Chinese prints
the same on any printer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homework._assignments import Assignment
from homework._bank import ItemBank
from homework._errors import AssignmentError
from homework._items import Item, ItemType, item_answer_key

__all__ = ["PrintedAssignment", "field_items", "print_assignment", "render_question_paper", "sheet_spec"]

log = logging.getLogger(__name__)

MINUTES_FIELD = "minutes"
START_FIELD = "started"
"""The sheet field holding the start time the student wrote (``"19:05"``), where the sheet has one."""
_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
MM = 72.0 / 25.4
PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 18.0
STEM_PT, LINE_MM = 11.0, 6.2
FRACTION_DROP_MM = 1.6
"""How much of a fraction line's extra height goes below its baseline (the denominator's room)."""


def _field(item: Item, number: int, points: float) -> dict[str, Any]:
    field: dict[str, Any] = {"id": _field_id_of(item.id, number), "label": str(number),
                             "key": item_answer_key(item, points)}
    kind = item.type
    if kind in (ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE):
        field.update(type=kind.value, options=len(item.options))
    elif kind is ItemType.TRUE_FALSE:
        field["type"] = "true_false"
    elif kind in (ItemType.NUMERIC, ItemType.SHORT_TEXT):
        field.update(type="handwriting", kind="number" if kind is ItemType.NUMERIC else "text")
    else:
        field.update(type="score", max_points=max(1, round(points)))
        field["key"] = {"kind": "score", "max_points": max(1, round(points))}
    return field


def _students(students: Sequence[Mapping[str, str] | tuple[str, str]]) -> list[dict[str, str]]:
    out = [dict(s) if isinstance(s, Mapping) else {"id": s[0], "name": s[1]} for s in students]
    if not out:
        raise AssignmentError("print for at least one student")
    return out


def sheet_spec(bank: ItemBank, assignment: Assignment, students: Sequence[Mapping[str, str] | tuple[str, str]],
               *, class_name: str = "", title: str = "", points: Mapping[str, float] | None = None,
               minutes_field: bool = True) -> Any:
    """The :class:`scanning.SheetSpec` of ``assignment``: one field per item, keyed by its answer key.

    Field ids are the item ids where they fit a sheet id (else ``q1, q2, ...``); labels are question
    numbers. ``points`` gives an item's points (default 1; a subjective item's score range). With
    ``minutes_field`` the sheet ends with the student's start time (开始 __:__) and minutes spent.
    """
    import scanning

    items = bank.items(list(assignment.item_ids))
    fields = [_field(item, n, (points or {}).get(item.id, 1.0)) for n, item in enumerate(items, start=1)]
    if minutes_field:
        fields += [{"id": START_FIELD, "type": "start_time", "label": ""},
                   {"id": MINUTES_FIELD, "type": "minutes", "label": ""}]
    spec = {"assignment_id": assignment.id, "title": (title or assignment.title or assignment.id)[:80],
            "class_name": class_name, "students": _students(students), "fields": fields}
    try:
        return scanning.load_spec(spec)
    except scanning.SpecError as exc:
        raise AssignmentError(f"cannot make an answer sheet for {assignment.id!r}: {exc}") from exc


def field_items(assignment: Assignment) -> dict[str, str]:
    """Sheet field id -> item id for the sheet :func:`sheet_spec` makes of ``assignment``.

    Field ids are item ids only where those fit a sheet id, so the map is rebuilt from the
    assignment's item order (the same numbering :func:`sheet_spec` uses), never guessed from the spec.

    >>> a = Assignment("hw", "math", 5, ("m23k-1", "id with spaces"), (2.0, 3.0))
    >>> field_items(a)
    {'m23k-1': 'm23k-1', 'q2': 'id with spaces'}
    """
    return {_field_id_of(item_id, n): item_id for n, item_id in enumerate(assignment.item_ids, start=1)}


def _field_id_of(item_id: str, number: int) -> str:
    return item_id if _ID.match(item_id) and item_id != MINUTES_FIELD else f"q{number}"


# ----------------------------------------------------------------------------------- question paper


def _wrap(text: str, size: float, width_mm: float) -> list[str]:
    """Greedy line breaks by measured width; a closing punctuation mark never starts a line."""
    import scanning

    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for char in paragraph:
            if line and scanning.text_width(line + char, size) > width_mm and char not in "，。．、；：？！）)】”,.;:?!":
                lines.append(line)
                line = char.lstrip()
            else:
                line += char
        lines.append(line)
    return lines


class _Paper:
    """A reportlab canvas with a cursor, mixed Chinese/Latin text and automatic page breaks."""

    def __init__(self, canvas: Any, footer: str) -> None:
        self.c, self.footer, self.page, self.y = canvas, footer, 1, MARGIN

    def text(self, x_mm: float, text: str, size: float, grey: float = 0.0, y_mm: float | None = None) -> None:
        """Mixed Chinese/Latin ``text`` with its baseline at ``y_mm`` (default the cursor)."""
        from reportlab.pdfbase.pdfmetrics import stringWidth

        import scanning

        self.c.setFillGray(grey)
        x = x_mm * MM
        for font, run in scanning.text_runs(text):
            self.c.setFont(font, size)
            self.c.drawString(x, (PAGE_H - (self.y if y_mm is None else y_mm)) * MM, run)
            x += stringWidth(run, font, size)

    def stem(self, x_mm: float, text: str, size: float = STEM_PT, grey: float = 0.0) -> None:
        """A typeset stem (fractions stacked, powers raised, blanks drawn), wrapped to the margin."""
        import scanning
        from homework._stemdraw import layout_stem, line_height

        for line in layout_stem(text, size, PAGE_W - MARGIN - x_mm, scanning.text_width):
            height = line_height(line, LINE_MM)
            self.need(height)
            self.y += height - (FRACTION_DROP_MM if height > LINE_MM else 0.0)
            self._boxes(x_mm, line, size, grey)
            self.y += FRACTION_DROP_MM if height > LINE_MM else 0.0

    def _boxes(self, x: float, line: list[Any], size: float, grey: float) -> None:
        import scanning
        from homework._stemdraw import SUP

        run, run_x = "", x
        for box in line + [None]:
            if box is None or box.token.kind != "text":
                if run:
                    self.text(run_x, run, size, grey)
                if box is None:
                    break
                run = ""
            t = box.token
            if t.kind == "text":
                run, run_x = (run + t.text, run_x) if run else (t.text, x)
            elif t.kind == "frac":
                self._fraction(x, t, size, grey, scanning.text_width)
            elif t.kind == "sup":
                self.text(x, t.text, size * SUP, grey, y_mm=self.y - size * 0.16)
            else:
                self._blank(x, box.width, bool(t.below))
            x += box.width

    def _fraction(self, x: float, t: Any, size: float, grey: float, width_of: Any) -> None:
        from homework._stemdraw import SMALL

        if t.whole:
            self.text(x, t.whole, size, grey)
            x += width_of(t.whole, size)
        small = size * SMALL
        body = max(width_of(t.text, small), width_of(t.below, small)) + 1.0
        bar = self.y - size * 0.105  # mid x-height, in mm below the cursor's baseline
        self.text(x + (body - width_of(t.text, small)) / 2, t.text, small, grey, y_mm=bar - 0.7)
        self.text(x + (body - width_of(t.below, small)) / 2, t.below, small, grey, y_mm=bar + 0.6 + small * 0.3)
        self.c.setStrokeGray(grey)
        self.c.setLineWidth(0.5)
        self.c.line(x * MM, (PAGE_H - bar) * MM, (x + body) * MM, (PAGE_H - bar) * MM)

    def _blank(self, x: float, width: float, fraction: bool) -> None:
        self.c.setStrokeGray(0.0)
        self.c.setLineWidth(0.5)
        if not fraction:
            self.c.line((x + 1) * MM, (PAGE_H - self.y - 0.8) * MM, (x + width - 1) * MM, (PAGE_H - self.y - 0.8) * MM)
            return
        bar = self.y - STEM_PT * 0.105
        for top in (bar - 4.2, bar + 0.7):
            self.c.rect((x + 1.2) * MM, (PAGE_H - top - 3.5) * MM, (width - 2.4) * MM, 3.5 * MM)
        self.c.line((x + 0.6) * MM, (PAGE_H - bar) * MM, (x + width - 0.6) * MM, (PAGE_H - bar) * MM)

    def need(self, height_mm: float) -> None:
        if self.y + height_mm > PAGE_H - MARGIN:
            self.finish_page()
            self.c.showPage()
            self.page += 1
            self.y = MARGIN

    def finish_page(self) -> None:
        saved = self.y
        self.y = PAGE_H - MARGIN / 2
        self.text(MARGIN, f"{self.footer}  第 {self.page} 页", 8, 0.45)
        self.y = saved

    def paragraph(self, x_mm: float, text: str, size: float = STEM_PT, grey: float = 0.0) -> None:
        for line in _wrap(text, size, PAGE_W - MARGIN - x_mm):
            self.need(LINE_MM)
            self.y += LINE_MM
            self.text(x_mm, line, size, grey)


def _draw_student(paper: _Paper, items: list[Item], assignment: Assignment, student: Mapping[str, str],
                  class_name: str, title: str) -> None:
    paper.y += 8
    paper.text(MARGIN, title, 16)
    paper.y += 8
    class_name = student.get("class_name") or class_name  # a student's own class first, as on the sheets
    paper.text(MARGIN, f"班级 {class_name or '______'}    姓名 {student['name']}    学号 {student['id']}    "
               f"预计用时 约 {assignment.total_minutes:g} 分钟", 10)
    paper.y += 6
    paper.text(MARGIN, "答案写在答题卡上；做完后在答题卡“用时”一栏涂写实际用了多少分钟。", 9, 0.35)
    paper.y += 4
    for number, (item, minutes) in enumerate(zip(items, assignment.minutes, strict=True), start=1):
        paper.y += 2
        paper.stem(MARGIN, f"{number}. {item.stem}")
        if item.stem_en:
            paper.paragraph(MARGIN + 5, item.stem_en, 9.5, 0.25)
        for letter, option in zip("ABCDEFGH", item.options, strict=False):
            paper.stem(MARGIN + 5, f"{letter}. {option}", 10.5)
        if item.type is ItemType.TRUE_FALSE:
            paper.paragraph(MARGIN + 5, "（判断对错）", 10, 0.35)
        paper.paragraph(PAGE_W - MARGIN - 28, f"（约 {minutes:g} 分钟）", 8.5, 0.45)


def render_question_paper(bank: ItemBank, assignment: Assignment,
                          students: Sequence[Mapping[str, str] | tuple[str, str]], out: str | Path, *,
                          class_name: str = "", title: str = "",
                          progress: Callable[[int, int], None] | None = None) -> list[int]:
    """Write every student's question paper into one PDF; return each student's page count."""
    from reportlab.pdfgen.canvas import Canvas

    import scanning

    scanning.register_fonts()
    items = bank.items(list(assignment.item_ids))
    people = _students(students)
    canvas = Canvas(str(out), pagesize=(PAGE_W * MM, PAGE_H * MM), pageCompression=1, invariant=1)
    canvas.setTitle(title or assignment.title or assignment.id)
    canvas.setCreator("homework-loop")
    counts = []
    for done, student in enumerate(people, start=1):
        paper = _Paper(canvas, f"{assignment.id} · {student['id']}")
        _draw_student(paper, items, assignment, student, class_name, title or assignment.title or assignment.id)
        paper.finish_page()
        canvas.showPage()
        counts.append(paper.page)
        if progress is not None:
            progress(done, len(people))
    canvas.save()
    return counts


# ----------------------------------------------------------------------------------- both


@dataclass(frozen=True)
class PrintedAssignment:
    """The files printed for an assignment and the sheet spec the scanner will read them with."""

    questions: Path
    sheets: Path
    combined: Path | None
    spec: Any
    pages_per_student: dict[str, tuple[int, int]]


def print_assignment(bank: ItemBank, assignment: Assignment,
                     students: Sequence[Mapping[str, str] | tuple[str, str]], out_dir: str | Path, *,
                     class_name: str = "", title: str = "", combined: bool = False,
                     points: Mapping[str, float] | None = None,
                     progress: Callable[[int, int], None] | None = None) -> PrintedAssignment:
    """Write ``questions.pdf`` and ``sheets.pdf`` (and with ``combined`` one ``combined.pdf`` holding,
    per student, the question paper then the answer sheet) plus ``spec.json`` into ``out_dir``."""
    import scanning

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    spec = sheet_spec(bank, assignment, students, class_name=class_name, title=title, points=points)
    (out / "spec.json").write_text(spec.model_dump_json(indent=1), encoding="utf-8")
    question_pages = render_question_paper(bank, assignment, students, out / "questions.pdf",
                                           class_name=class_name, title=title, progress=progress)
    scanning.render_pdf(spec, out / "sheets.pdf")
    layout = scanning.layout_pages(spec)
    pages = {s.id: (q, len(layout[s.id])) for s, q in zip(spec.students, question_pages, strict=True)}
    merged = _combine(out, pages) if combined else None
    log.info("printed %s for %d students into %s", assignment.id, len(pages), out)
    return PrintedAssignment(out / "questions.pdf", out / "sheets.pdf", merged, spec, pages)


def _combine(out: Path, pages: dict[str, tuple[int, int]]) -> Path:
    import pypdfium2 as pdfium

    questions, sheets = pdfium.PdfDocument(out / "questions.pdf"), pdfium.PdfDocument(out / "sheets.pdf")
    merged = pdfium.PdfDocument.new()
    q_at = s_at = 0
    for q_count, s_count in pages.values():
        merged.import_pages(questions, list(range(q_at, q_at + q_count)))
        merged.import_pages(sheets, list(range(s_at, s_at + s_count)))
        q_at, s_at = q_at + q_count, s_at + s_count
    target = out / "combined.pdf"
    merged.save(target)
    for doc in (merged, questions, sheets):
        doc.close()
    return target
