"""Layout: a sheet spec becomes, for each student, a list of :class:`PageLayout` in millimetres.

Each field becomes a block (label, bubbles, box). Blocks flow in reading order over a grid of three
column slots; a block spans as many slots as it needs and drops into the highest free place at or
below the previous block (a skyline), so short questions fill the space beside a tall grid-in.
When a block does not fit above the bottom markers, a new page starts. The field placement is the
same for every student (so is each page's checksum); only the header text differs::

    +-----------------------------------------------------------+
    | [M0] Title                                   [QR] [M1]    |  header: title, name, class,
    |      姓名 Name  班级 Class  学号 ID                           |  assignment, page n/m
    | 1  (A)(B)(C)(D)    4  (.)(.)(.)     7  (A)(B)(C)(D)        |
    | 2  (A)(B)(C)(D)       (0)(0)(0)     8  [__________]        |  fields in 3 column slots
    | 3  (T)(F)             ...                                 |
    | [M3]                page 1/1                    [M2]      |
    +-----------------------------------------------------------+

>>> from scanning._spec import load_spec
>>> spec = load_spec({"assignment_id": "hw-1", "title": "Quiz 小测", "students": [
...     {"id": "s1", "name": "李雷"}, {"id": "s2", "name": "Han Meimei"}],
...     "fields": [{"id": str(i), "type": "single_choice"} for i in range(1, 101)]})
>>> pages = layout_pages(spec)
>>> list(pages), len(pages["s1"]), pages["s1"][0].page_count
(['s1', 's2'], 2, 2)
>>> sum(len(p.bubbles) for p in pages["s2"]), pages["s2"][1].bubbles[0].field_id
(400, '70')
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass, replace

from scanning._errors import SpecError
from scanning._geometry import (
    MARKER_INSET_MM,
    MARKER_SIZE_MM,
    PAPER_SIZES_MM,
    QUIET_ZONE_MM,
    Bubble,
    PageLayout,
    Rect,
    Text,
    WritingBox,
    marker_layout,
    qr_rect,
)
from scanning._spec import (
    GridIn,
    Handwriting,
    Minutes,
    MultipleChoice,
    Score,
    SheetSpec,
    SingleChoice,
    StartTime,
    Student,
    TrueFalse,
    load_spec,
)
from scanning._text import fit_size, text_width

logger = logging.getLogger(__name__)

PITCH = 6.5  # mm between bubble centres
RADIUS = 2.5  # bubble radius: 5 mm circles
LABEL_PT = 9.0
CAPTION_PT = 6.5
CAPTION_H = 4.0  # height of a caption line above a block
SLOTS = 3  # column slots across the page
GAP_X = 5.0
GAP_Y = 3.5
HEADER_BOTTOM = MARKER_INSET_MM + 22.0 + 8.0  # below the QR code and the header lines
BOX_SIZES = {"number": (40.0, 14.0), "text": (56.0, 14.0), "expression": (56.0, 14.0)}


@dataclass(frozen=True)
class Block:
    """One field's printed parts relative to the block's top-left corner, and the block's size."""

    w: float
    h: float
    bubbles: tuple[Bubble, ...] = ()
    boxes: tuple[WritingBox, ...] = ()
    texts: tuple[Text, ...] = ()

    def moved(self, dx: float, dy: float) -> Block:
        """The same block with its top-left corner at ``(dx, dy)``."""
        return Block(
            self.w,
            self.h,
            tuple(replace(b, cx=b.cx + dx, cy=b.cy + dy) for b in self.bubbles),
            tuple(replace(b, rect=replace(b.rect, x=b.rect.x + dx, y=b.rect.y + dy)) for b in self.boxes),
            tuple(replace(t, x=t.x + dx, y=t.y + dy) for t in self.texts),
        )


def _label(text: str) -> tuple[float, float]:
    """Font size and column width for a question label."""
    size = fit_size(text, LABEL_PT, 18.0)
    return size, max(8.0, text_width(text, size) + 2.5)


def _bubble_row(field_id: str, options: list[str], x0: float, y: float, column: int | None = None) -> list[Bubble]:
    return [
        Bubble(field_id, opt, x0 + PITCH / 2 + i * PITCH, y, RADIUS, i if column is None else column)
        for i, opt in enumerate(options)
    ]


def _choice_block(field: SingleChoice | TrueFalse) -> Block:
    options = ["T", "F"] if isinstance(field, TrueFalse) else list("ABCDEFGH"[: field.options])
    size, lw = _label(field.printed_label)
    row = [replace(b, column=0) for b in _bubble_row(field.id, options, lw, PITCH / 2)]
    texts = [Text(0.0, PITCH / 2 + 1.1, field.printed_label, size)]
    height = PITCH
    if isinstance(field, MultipleChoice):  # a small hint under the number keeps rows aligned
        texts.append(Text(0.0, PITCH + 1.6, "多选 multi", 5.0, 0.35))
        height += 2.0
        lw = max(lw, text_width("多选 multi", 5.0) + 1.0)
        row = [replace(b, column=0) for b in _bubble_row(field.id, options, lw, PITCH / 2)]
    return Block(lw + len(options) * PITCH, height, tuple(row), (), tuple(texts))


def _grid_block(field: GridIn) -> Block:
    size, lw = _label(field.printed_label)
    first = 0 if field.sign else 1
    bubbles: list[Bubble] = []
    top_row = field.sign or field.decimal
    y0 = PITCH / 2
    for column in range(first, field.columns + 1):
        x = lw + PITCH / 2 + (column - first) * PITCH
        if column == 0:
            bubbles.append(Bubble(field.id, "-", x, y0, RADIUS, 0))
            continue
        if field.decimal:
            bubbles.append(Bubble(field.id, ".", x, y0, RADIUS, column))
        for digit in range(10):
            bubbles.append(Bubble(field.id, str(digit), x, y0 + (digit + top_row) * PITCH, RADIUS, column))
    width = lw + (field.columns + 1 - first) * PITCH
    height = (10 + top_row) * PITCH
    return Block(width, height, tuple(bubbles), (), (Text(0.0, y0 + 1.1, field.printed_label, size),))


def _box_block(field: Handwriting) -> Block:
    size, lw = _label(field.printed_label)
    default_w, default_h = BOX_SIZES[field.kind]
    w, h = field.width_mm or default_w, field.height_mm or default_h
    box = WritingBox(field.id, Rect(lw, 0.0, w, h), field.kind)
    return Block(lw + w, h, (), (box,), (Text(0.0, h / 2 + 1.1, field.printed_label, size),))


def _score_block(field: Score) -> Block:
    size, lw = _label(field.printed_label)
    per_row = min(field.max_points + 1, 11)
    bubbles: list[Bubble] = []
    for points in range(field.max_points + 1):
        row, col = divmod(points, per_row)
        x = lw + PITCH / 2 + col * PITCH
        bubbles.append(Bubble(field.id, str(points), x, CAPTION_H + PITCH / 2 + row * PITCH, RADIUS, 0))
    rows = math.ceil((field.max_points + 1) / per_row)
    caption = "教师评分 teacher's score"
    texts = (
        Text(0.0, CAPTION_H + PITCH / 2 + 1.1, field.printed_label, size),
        Text(lw, CAPTION_H - 1.2, caption, CAPTION_PT, 0.35),
    )
    width = max(lw + per_row * PITCH, lw + text_width(caption, CAPTION_PT))
    return Block(width, CAPTION_H + rows * PITCH, tuple(bubbles), (), texts)


def _minutes_block(field: Minutes) -> Block:
    caption = (f"{field.label}  " if field.label else "") + "用时(分钟) minutes spent"
    lw = 8.0
    digits = [str(d) for d in range(10)]
    bubbles = _bubble_row(field.id, digits, lw, CAPTION_H + PITCH / 2, column=0)
    bubbles += _bubble_row(field.id, digits, lw, CAPTION_H + 1.5 * PITCH, column=1)
    texts = (
        Text(lw, CAPTION_H - 1.2, caption, CAPTION_PT, 0.35),
        Text(0.0, CAPTION_H + PITCH / 2 + 1.0, "十", 7.0, 0.35),
        Text(0.0, CAPTION_H + 1.5 * PITCH + 1.0, "个", 7.0, 0.35),
    )
    width = max(lw + 10 * PITCH, lw + text_width(caption, CAPTION_PT))
    return Block(width, CAPTION_H + 2 * PITCH, tuple(bubbles), (), texts)


def _start_block(field: StartTime) -> Block:
    from scanning._geometry import TIME_GAP_MM, TIME_HALF_MM

    caption = "开始时间(时:分) started at"
    lw, h = 8.0, 12.0
    box = WritingBox(field.id, Rect(lw, CAPTION_H, 2 * TIME_HALF_MM + TIME_GAP_MM, h), "time")
    texts = (Text(lw, CAPTION_H - 1.2, caption, CAPTION_PT, 0.35),
             Text(0.0, CAPTION_H + h / 2 + 1.2, "开始", 7.0, 0.35))
    return Block(max(lw + box.rect.w, lw + text_width(caption, CAPTION_PT)), CAPTION_H + h, (), (box,), texts)


def field_block(field: object) -> Block:
    """The printed block of one spec field, at the origin."""
    if isinstance(field, SingleChoice | TrueFalse):
        return _choice_block(field)
    if isinstance(field, GridIn):
        return _grid_block(field)
    if isinstance(field, Handwriting):
        return _box_block(field)
    if isinstance(field, Score):
        return _score_block(field)
    if isinstance(field, Minutes):
        return _minutes_block(field)
    if isinstance(field, StartTime):
        return _start_block(field)
    raise TypeError(f"no layout for {type(field).__name__}")


def content_area(paper: str) -> tuple[float, float, float, float]:
    """``(x0, y0, x1, y1)`` in mm: where fields may go (below the header, above the bottom markers)."""
    width, height = PAPER_SIZES_MM[paper]
    bottom = height - MARKER_INSET_MM - MARKER_SIZE_MM - QUIET_ZONE_MM
    return MARKER_INSET_MM, HEADER_BOTTOM, width - MARKER_INSET_MM, bottom


def _place(blocks: list[tuple[str, Block]], paper: str) -> list[list[Block]]:
    """Blocks flowed over column slots and pages (skyline, reading order kept)."""
    x0, y0, x1, y1 = content_area(paper)
    slot = (x1 - x0 + GAP_X) / SLOTS
    pages: list[list[Block]] = [[]]
    skyline, floor = [y0] * SLOTS, y0
    for field_id, block in blocks:
        span = math.ceil((block.w + GAP_X) / slot - 1e-9)
        if span > SLOTS or y0 + block.h > y1:
            raise SpecError(f"fields: field {field_id!r} ({block.w:.0f} x {block.h:.0f} mm) does not fit on a page")
        best = _best_slot(skyline, span, floor)
        if best[1] + block.h > y1:
            pages.append([])
            skyline, floor = [y0] * SLOTS, y0
            best = (0, y0)
        col, top = best
        pages[-1].append(block.moved(x0 + col * slot, top))
        for c in range(col, col + span):
            skyline[c] = top + block.h + GAP_Y
        floor = top
    return pages


def _best_slot(skyline: list[float], span: int, floor: float) -> tuple[int, float]:
    """The leftmost slot where a block of ``span`` slots sits highest, not above ``floor``."""
    options = [(max([floor, *skyline[c : c + span]]), c) for c in range(SLOTS - span + 1)]
    top, col = min(options)
    return col, top


@functools.lru_cache(maxsize=32)
def _field_pages(spec: SheetSpec) -> tuple[tuple[Block, ...], ...]:
    blocks = [(f.id, field_block(f)) for f in spec.fields]
    return tuple(tuple(page) for page in _place(blocks, spec.paper))


def _header(spec: SheetSpec, student: Student, index: int, count: int) -> tuple[Text, ...]:
    width, height = PAPER_SIZES_MM[spec.paper]
    left = MARKER_INSET_MM + MARKER_SIZE_MM + QUIET_ZONE_MM
    room = qr_rect(width).x - QUIET_ZONE_MM - left
    who = f"姓名 Name: {student.name}    班级 Class: {spec.class_of(student) or '-'}    学号 ID: {student.id}"
    where = f"作业 Assignment: {spec.assignment_id}    第 {index + 1}/{count} 页 Page {index + 1} of {count}"
    rule = "用 2B 铅笔涂满圆圈，答案写在框内 · Fill bubbles completely; write answers inside the boxes"
    footer = f"{spec.assignment_id} · {student.id} · {index + 1}/{count}"
    return (
        Text(left, 14.0, spec.title, fit_size(spec.title, 13.0, room)),
        Text(left, 21.0, who, fit_size(who, 9.5, room)),
        Text(left, 27.0, where, fit_size(where, 8.0, room), 0.25),
        Text(left, 34.0, rule, fit_size(rule, 7.0, room), 0.35),
        Text(width / 2, height - MARKER_INSET_MM - 5.0, footer, 7.0, 0.35, "middle"),
    )


def student_pages(spec: SheetSpec, student: Student) -> tuple[PageLayout, ...]:
    """The pages of ``student``'s sheet."""
    width, height = PAPER_SIZES_MM[spec.paper]
    placed = _field_pages(spec)
    markers, qr = marker_layout(width, height), qr_rect(width)
    pages = []
    for index, blocks in enumerate(placed):
        pages.append(
            PageLayout(
                width, height, index, len(placed), markers, qr,
                bubbles=tuple(b for block in blocks for b in block.bubbles),
                boxes=tuple(b for block in blocks for b in block.boxes),
                assignment_id=spec.assignment_id,
                student_id=student.id,
                texts=_header(spec, student, index, len(placed)) + tuple(t for block in blocks for t in block.texts),
            )
        )
    return tuple(pages)


def layout_pages(spec: SheetSpec | dict[str, object] | str) -> dict[str, tuple[PageLayout, ...]]:
    """Every student's pages, keyed by student id in the spec's order.

    Accepts what :func:`scanning.load_spec` accepts. The reader uses
    ``layout_pages(spec)[payload.student_id][payload.page_index]`` and compares checksums.
    """
    spec = load_spec(spec)
    return {student.id: student_pages(spec, student) for student in spec.students}
