"""Filled-in sheets with ground truth: plans, filling rendered pages, whole sets, checking readings.

The generator behind ``fixtures/scans``, the end-to-end tests, ``benchmarks/scan.py`` and the demo::

    spec --plan_field--> what each student puts in each field, and what a reader must report
         --render_page_images--> clean pages (the real PDF, rasterised) with pixel geometry
         --fill_page--> pencil marks and handwriting (scanning._pencil: real MNIST digits)
         --degrade_to_jpeg--> a scanner's or a phone's JPEG (scanning._damage)
         --> folder of pages + truth.json; check_page compares a reader's output with it

Everything is deterministic: each student draws from ``numpy.random.default_rng([seed, i])``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scanning._damage import Degradation, degrade_to_jpeg
from scanning._geometry import time_halves
from scanning._pencil import (
    NUMBER_CHARS,
    DigitBank,
    HandStyle,
    draw_bubble_mark,
    draw_stray_mark,
    place_in_box,
    write_number,
    write_text,
)

if TYPE_CHECKING:
    from scanning._geometry import PageLayout, WritingBox
    from scanning._read import PageReading
    from scanning._render import PixelGeometry
    from scanning._spec import Handwriting, SheetField, SheetSpec, Student

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# What a student does on a sheet, and what a reader should make of it


@dataclass(frozen=True)
class Mark:
    """One pencil mark on a bubble: the option it covers, the bubble's column, the mark's style."""

    option: str
    column: int = 0
    style: str = "full"


@dataclass(frozen=True)
class FieldFill:
    """What one student puts in one field, and the reading a correct reader reports.

    ``expected`` is the value (``"B"``, ``"AC"``, ``"T"``, ``"-3.5"``, ``"25"``, ``"3/4"``) or
    ``None`` for a blank; ``status`` is ``"ok"``, ``"blank"`` or ``"needs_review"``; ``case`` names
    the situation (``"clean"``, ``"partial"``, ``"double"``, ``"erasure+mark"``...). A handwritten
    field carries ``written`` and its ``source``: ``"mnist"`` (real handwriting) or ``"font"``
    (stand-in).
    """

    field_id: str
    expected: str | None
    status: str
    case: str
    marks: tuple[Mark, ...] = ()
    written: str | None = None
    source: str = ""
    stacked: bool = False

    @property
    def number_kind(self) -> str:
        """For a handwritten number: ``negative``, ``fraction``, ``decimal`` or ``integer``; else ``text``."""
        w = self.written or ""
        if self.source != "mnist":
            return "text"
        if w.startswith("-"):
            return "negative"
        return "fraction" if "/" in w else "decimal" if "." in w else "integer"

    def to_json(self) -> dict[str, object]:
        """The ground-truth record written to ``truth.json``."""
        out: dict[str, object] = {"expected": self.expected, "status": self.status, "case": self.case}
        if self.marks:
            out["marks"] = [[m.column, m.option, m.style] for m in self.marks]
        if self.written is not None:
            out.update(written=self.written, source=self.source, kind=self.number_kind, stacked=self.stacked)
        return out


_BUBBLE_CASES = (  # single choice / true-false: (case, probability)
    ("clean", 0.6), ("partial", 0.1), ("light", 0.08), ("blank", 0.06),
    ("double", 0.07), ("erasure+mark", 0.06), ("erasure", 0.03),
)
_WORDS = ("cat", "red", "sum", "area", "yes", "北京", "三角形", "分数", "乘法", "长方形")


def _random_number(kind: str, rng: np.random.Generator) -> str:
    """A random number written the way a pupil would: integer, decimal, fraction or negative."""
    if kind == "integer":
        return str(int(rng.integers(0, 1000)))
    if kind == "decimal":
        return f"{int(rng.integers(0, 100))}.{int(rng.integers(1, 100)):0{int(rng.integers(1, 3))}d}".rstrip("0")
    if kind == "fraction":
        den = int(rng.integers(2, 13))
        return f"{int(rng.integers(1, den))}/{den}"
    inner = _random_number(str(rng.choice(["integer", "decimal", "fraction"])), rng)
    return "-" + ("1" if inner == "0" else inner)


NUMBER_KINDS = ("integer", "decimal", "fraction", "negative")


def _choice_fill(field_id: str, letters: str, right: str, rng: np.random.Generator, ability: float) -> FieldFill:
    """A single-choice (or true/false) field: usually one mark, sometimes blank, doubled or erased."""
    names, probs = zip(*_BUBBLE_CASES, strict=True)
    case = str(rng.choice(names, p=np.array(probs) / sum(probs)))
    pick = right if right and rng.random() < ability else str(rng.choice(list(letters)))
    other = str(rng.choice([c for c in letters if c != pick]))
    if case == "blank":
        return FieldFill(field_id, None, "blank", case)
    if case == "double":
        marks = (Mark(pick, 0, "full"), Mark(other, 0, str(rng.choice(["full", "partial"]))))
        return FieldFill(field_id, "".join(sorted(pick + other)), "needs_review", case, marks)
    if case == "erasure":
        return FieldFill(field_id, None, "needs_review", case, (Mark(other, 0, "erased"),))
    if case == "erasure+mark":
        return FieldFill(field_id, pick, "needs_review", case, (Mark(pick, 0, "full"), Mark(other, 0, "erased")))
    style = "full" if case == "clean" else case
    return FieldFill(field_id, pick, "ok", case, (Mark(pick, 0, style),))


def _multi_fill(field_id: str, letters: str, right: frozenset[str], rng: np.random.Generator, ability: float) -> FieldFill:
    if rng.random() < 0.05:
        return FieldFill(field_id, None, "blank", "blank")
    if right and rng.random() < ability:
        chosen = sorted(right)
    else:
        chosen = sorted(rng.choice(list(letters), size=int(rng.integers(1, min(3, len(letters)) + 1)), replace=False))
    styles = rng.choice(["full", "full", "full", "partial", "light"], size=len(chosen))
    marks = tuple(Mark(str(c), 0, str(s)) for c, s in zip(chosen, styles, strict=True))
    case = "clean" if all(s == "full" for s in styles) else "mixed"
    return FieldFill(field_id, "".join(map(str, chosen)), "ok", case, marks)


def _digits_fill(field_id: str, value: str, columns: list[int], case: str = "clean") -> FieldFill:
    """A number bubbled left-aligned, one character per column (``columns`` are the digit columns)."""
    marks = []
    body = value
    if value.startswith("-"):
        marks.append(Mark("-", 0, "full"))
        body = value[1:]
    if len(body) > len(columns):
        raise ValueError(f"{value!r} does not fit in {len(columns)} columns of field {field_id!r}")
    marks += [Mark(ch, col, "full") for ch, col in zip(body, columns, strict=False)]
    return FieldFill(field_id, value, "ok", case, tuple(marks))


def _grid_value(n_cols: int, key_values: tuple[float, ...], rng: np.random.Generator, ability: float) -> str:
    for v in key_values[:1]:
        text = f"{v:g}"
        if rng.random() < ability and len(text.lstrip("-")) <= n_cols and "e" not in text:
            return text
    kind = str(rng.choice(["integer", "decimal", "negative"]))
    for _ in range(20):
        text = _random_number(kind, rng)
        if "/" not in text and len(text.lstrip("-")) <= n_cols:
            return text
    return str(int(rng.integers(0, 10)))


def _written_fill(field: Handwriting, rng: np.random.Generator, ability: float) -> FieldFill:
    """A handwriting box: a number from real digits, or a word/hanzi from the font stand-in."""
    key = field.key
    if rng.random() < 0.04:
        return FieldFill(field.id, None, "blank", "blank")
    if field.kind == "number":
        right = [s for s in getattr(key, "spellings", ()) if s and set(s) <= NUMBER_CHARS]
        if right and rng.random() < ability:
            text = str(rng.choice(right))
        else:
            text = _random_number(str(rng.choice(NUMBER_KINDS)), rng)
        return FieldFill(field.id, text, "ok", "written", written=text, source="mnist",
                         stacked="/" in text and rng.random() < 0.35)
    accepted = list(getattr(key, "accepted", ()))
    text = str(rng.choice(accepted)) if accepted and rng.random() < ability else str(rng.choice(_WORDS))
    return FieldFill(field.id, text, "ok", "written", written=text, source="font")


def _columns(layout: PageLayout, field_id: str) -> list[int]:
    return sorted({b.column for b in layout.bubbles if b.field_id == field_id and b.option.isdigit()})


def plan_field(field: SheetField, layout: PageLayout, rng: np.random.Generator, ability: float = 0.7) -> FieldFill:
    """Decide what a student (of the given ``ability``, 0-1) puts in one spec ``field`` on ``layout``."""
    from scanning._keys import ChoiceKey, NumberKey, TrueFalseKey
    from scanning._spec import (
        GridIn,
        Handwriting,
        Minutes,
        MultipleChoice,
        Score,
        SingleChoice,
        StartTime,
        TrueFalse,
    )

    key = field.key
    if isinstance(field, MultipleChoice):
        right = key.correct if isinstance(key, ChoiceKey) else frozenset()
        return _multi_fill(field.id, "ABCDEFGH"[: field.options], right, rng, ability)
    if isinstance(field, SingleChoice):
        picked = next(iter(key.correct)) if isinstance(key, ChoiceKey) else ""
        return _choice_fill(field.id, "ABCDEFGH"[: field.options], picked, rng, ability)
    if isinstance(field, TrueFalse):
        truth = ("T" if key.answer else "F") if isinstance(key, TrueFalseKey) else ""
        return _choice_fill(field.id, "TF", truth, rng, ability)
    if isinstance(field, GridIn):
        cols = _columns(layout, field.id)
        values = key.values if isinstance(key, NumberKey) else ()
        return _digits_fill(field.id, _grid_value(len(cols), values, rng, ability), cols)
    if isinstance(field, Score):
        points = str(int(rng.integers(0, field.max_points + 1)))
        return FieldFill(field.id, points, "ok", "clean", (Mark(points, 0, "full"),))
    if isinstance(field, Minutes):
        minutes = int(rng.integers(3, 60))
        marks = (Mark(str(minutes // 10), 0, "full"), Mark(str(minutes % 10), 1, "full"))
        return FieldFill(field.id, str(minutes), "ok", "clean", marks)
    if isinstance(field, Handwriting):
        return _written_fill(field, rng, ability)
    if isinstance(field, StartTime):
        clock = int(np.clip(rng.normal(19 * 60, 60), 15 * 60, 22 * 60 + 30))
        text = f"{clock // 60}:{clock % 60:02d}"
        return FieldFill(field.id, text, "ok", "written", written=text, source="mnist")
    raise ValueError(f"no plan for field type {type(field).__name__}")


# --------------------------------------------------------------------------------------------
# Filling a rendered page


def fill_page(
    image: np.ndarray, geometry: PixelGeometry | PageLayout, fills: dict[str, FieldFill], rng: np.random.Generator,
    bank: DigitBank | None = None, style: HandStyle | None = None, stray_marks: int = 1,
) -> np.ndarray:
    """Pencil ``fills`` onto a clean rendered page; ``geometry`` is the page's layout **in pixels**.

    Fields not on this page are ignored; a handwritten number needs the digit ``bank``. Adds
    ``stray_marks`` stray pencil marks away from every bubble and box. Returns a new grey image.
    """
    import cv2

    page = image.copy() if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    geometry = in_pixels(geometry)
    style = style or HandStyle.sample(rng)
    bubbles = {(b.field_id, b.column, b.option): b for b in geometry.bubbles}
    for box in geometry.boxes:
        fill = fills.get(box.field_id)
        if fill is not None and fill.written is not None:
            _write_box(page, box, fill, bank, style, rng)
    for fill in fills.values():
        for mark in fill.marks:
            b = bubbles.get((fill.field_id, mark.column, mark.option))
            if b is not None:
                draw_bubble_mark(page, b.cx, b.cy, b.r, mark.style, rng)
    for _ in range(stray_marks):
        _stray(page, geometry, rng)
    return page


def in_pixels(geometry: PixelGeometry | PageLayout) -> PageLayout:
    """A :class:`PageLayout` in pixels from a renderer's ``PixelGeometry`` (a layout passes through)."""
    from scanning._geometry import Marker, PageLayout, Rect

    if isinstance(geometry, PageLayout):
        return geometry

    page, k = geometry.page, geometry.scale

    def rect(r: Rect) -> Rect:
        return Rect(*geometry.rect(r))

    return replace(
        page,
        width_mm=float(geometry.width_px), height_mm=float(geometry.height_px),
        markers=tuple(Marker(m.marker_id, rect(m.rect)) for m in page.markers),
        qr=rect(page.qr),
        bubbles=tuple(replace(b, cx=geometry.point(b.cx, b.cy)[0], cy=geometry.point(b.cx, b.cy)[1], r=b.r * k)
                      for b in page.bubbles),
        boxes=tuple(replace(w, rect=rect(w.rect)) for w in page.boxes),
        texts=(),
    )


def _write_box(page: np.ndarray, box: WritingBox, fill: FieldFill, bank: DigitBank | None, style: HandStyle,
               rng: np.random.Generator) -> None:
    if box.kind == "time":  # hours and minutes, each in its own half
        for part, half in zip((fill.written or "").split(":"), time_halves(box.rect), strict=False):
            _write_box(page, replace(box, rect=half, kind="number"), replace(fill, written=part), bank, style, rng)
        return
    rect = box.rect
    height = max(8, round(rect.h * style.height))
    if fill.source == "mnist":
        if bank is None:
            raise ValueError("a handwritten number needs a DigitBank of real digits")
        ink = write_number(fill.written or "", bank, height, rng, replace(style, stacked=fill.stacked))
    else:
        ink = write_text(fill.written or "", round(height * 0.8), rng, style)
    place_in_box(page, ink, (rect.x, rect.y, rect.w, rect.h), style, rng)


def _stray(page: np.ndarray, geometry: PageLayout, rng: np.random.Generator) -> None:
    """One stray mark somewhere clear of bubbles, boxes, markers and the QR code (a few tries)."""
    h, w = page.shape[:2]
    keep_out = [(b.cx - 2.5 * b.r, b.cy - 2.5 * b.r, 5 * b.r, 5 * b.r) for b in geometry.bubbles]
    keep_out += [(r.x - 10, r.y - 10, r.w + 20, r.h + 20) for r in
                 [b.rect for b in geometry.boxes] + [m.rect for m in geometry.markers] + [geometry.qr]]
    size = 0.012 * w
    for _ in range(30):
        x, y = rng.uniform(0.08 * w, 0.92 * w), rng.uniform(0.08 * h, 0.92 * h)
        if all(not (rx - size < x < rx + rw + size and ry - size < y < ry + rh + size) for rx, ry, rw, rh in keep_out):
            draw_stray_mark(page, x, y, size, rng)
            return


# --------------------------------------------------------------------------------------------
# A whole set: spec -> rendered pages -> filled -> degraded -> files + truth.json


@dataclass(frozen=True)
class SynthPage:
    """One generated page file and its ground truth."""

    file: str
    assignment_id: str
    student_id: str
    page_index: int
    page_count: int
    profile: str
    kind: str
    dpi: int
    fields: dict[str, FieldFill]

    def to_json(self) -> dict[str, object]:
        """The page's entry in ``truth.json``."""
        head = {k: getattr(self, k) for k in ("file", "assignment_id", "student_id", "page_index",
                                                 "page_count", "profile", "kind", "dpi")}
        return {**head, "fields": {fid: f.to_json() for fid, f in self.fields.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SynthPage:
        """Read back an entry of ``truth.json``."""
        fields = {}
        for fid, f in data["fields"].items():
            marks = tuple(Mark(o, c, s) for c, o, s in f.get("marks", ()))
            fields[fid] = FieldFill(fid, f["expected"], f["status"], f["case"], marks, f.get("written"),
                                    f.get("source", ""), bool(f.get("stacked", False)))
        head = {k: data[k] for k in ("file", "assignment_id", "student_id", "page_index", "page_count",
                                      "profile", "kind", "dpi")}
        return cls(**head, fields=fields)


def read_truth(path: str | Path) -> list[SynthPage]:
    """The pages listed in a ``truth.json`` written by :func:`generate_set`."""
    import json

    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [SynthPage.from_json(p) for p in data["pages"]]


def _student_pages(
    spec: SheetSpec, student: Student, profiles: list[Degradation], first: int
) -> Iterator[tuple[PageLayout, Degradation, np.ndarray, PixelGeometry]]:
    """Yield ``(page layout, profile, image, pixel geometry)`` for one student's pages."""
    from scanning._layout import student_pages
    from scanning._render import render_page_images

    layouts = list(student_pages(spec, student))
    chosen = [profiles[(first + i) % len(profiles)] for i in range(len(layouts))]
    for dpi in sorted({p.dpi for p in chosen}):
        wanted = [layout for layout, p in zip(layouts, chosen, strict=True) if p.dpi == dpi]
        for image, geometry in render_page_images(spec, dpi=dpi, pages=wanted):
            yield geometry.page, chosen[layouts.index(geometry.page)], image, geometry


def generate_student(
    spec: SheetSpec, student: Student, profiles: list[Degradation], first: int, bank: DigitBank,
    rng: np.random.Generator,
) -> list[tuple[SynthPage, bytes]]:
    """One student's filled, damaged pages as ``(truth, JPEG bytes)``; page ``i`` gets profile ``first + i``."""
    from scanning._layout import student_pages
    from scanning._render import page_file_stem

    ability = float(rng.uniform(0.45, 0.95))
    style = HandStyle.sample(rng)
    layouts = student_pages(spec, student)
    home = {b.field_id: page for page in layouts for b in page.bubbles}
    fills = {f.id: plan_field(f, home.get(f.id, layouts[0]), rng, ability) for f in spec.fields}
    out = []
    for page, profile, image, geometry in _student_pages(spec, student, profiles, first):
        on_page = {b.field_id for b in page.bubbles} | {w.field_id for w in page.boxes}
        page_fills = {fid: f for fid, f in fills.items() if fid in on_page}
        filled = fill_page(image, geometry, page_fills, rng, bank=bank, style=style,
                           stray_marks=int(rng.integers(0, 3)))
        name = f"{page_file_stem(page)}_{profile.name}.jpg"
        truth = SynthPage(name, page.assignment_id, page.student_id, page.page_index, page.page_count,
                          profile.name, profile.kind, profile.dpi, page_fills)
        out.append((truth, degrade_to_jpeg(filled, profile, rng)))
    return sorted(out, key=lambda item: item[0].page_index)


def generate_set(
    spec: SheetSpec | dict[str, Any] | str | Path, out_dir: str | Path, profiles: list[Degradation],
    bank: DigitBank, seed: int = 0, progress: Callable[[int, int], None] | None = None,
) -> list[SynthPage]:
    """Render every student's sheet, fill, damage and write it to ``out_dir`` with ``truth.json``.

    Pages take the ``profiles`` in turn. Each student draws from ``default_rng([seed, i])``, so a
    student's pages do not depend on the others. ``progress(done, total)`` is called per student.
    """
    import json

    from scanning._spec import load_spec

    spec = load_spec(spec)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pages: list[SynthPage] = []
    for i, student in enumerate(spec.students):
        for truth, data in generate_student(spec, student, profiles, len(pages), bank, np.random.default_rng([seed, i])):
            (out / truth.file).write_bytes(data)
            pages.append(truth)
        if progress is not None:
            progress(i + 1, len(spec.students))
    doc = {"assignment_id": spec.assignment_id, "seed": seed, "profiles": [p.name for p in profiles],
           "pages": [p.to_json() for p in pages]}
    (out / "truth.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    log.info("generated %d pages for %d students in %s", len(pages), len(spec.students), out)
    return pages


# --------------------------------------------------------------------------------------------
# Checking a reader's output against the truth


@dataclass(frozen=True)
class FieldCheck:
    """One field as read and graded, next to its truth.

    ``kind`` groups figures: the field type for bubble fields; for writing boxes ``integer``,
    ``decimal``, ``fraction``, ``negative`` (real handwriting) or ``text`` (font stand-in).
    ``read_right``: the bubble reading (value and status) is what the truth says (None for boxes).
    ``auto_graded``: grading did not send it to review; ``graded_right``: its score is the score the
    student's true answer earns (None when not auto-graded or there is no key).
    """

    page: str
    field_id: str
    field_type: str
    kind: str
    case: str
    expected: str | None
    expected_status: str
    value: str | None
    status: str
    read_right: bool | None
    auto_graded: bool | None
    graded_right: bool | None


def check_page(truth: SynthPage, reading: PageReading, spec: SheetSpec) -> list[FieldCheck]:
    """Compare one :class:`PageReading` with its truth, field by field (grading with the spec's keys)."""
    from scanning._grading import Answer, grade

    checks = []
    for fid, fill in truth.fields.items():
        field, got = spec.field(fid), reading.field(fid)
        boxed = field.type == "handwriting"
        kind = fill.number_kind if boxed and fill.written else (f"blank {getattr(field, 'kind', '')}" if boxed else field.type)
        auto = right = None
        if field.key is not None:
            g = grade(field.key, got)
            auto = g.status == "graded"
            if auto:
                should = grade(field.key, Answer(fill.expected or ""))
                right = fill.status != "needs_review" and abs(g.score - should.score) < 1e-9
        read_right = None if boxed else (got.value == fill.expected and got.status == fill.status)
        checks.append(FieldCheck(truth.file, fid, field.type, kind, fill.case, fill.expected, fill.status,
                                 got.value, got.status, read_right, auto, right))
    return checks
