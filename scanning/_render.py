"""Rendering: layouts to a vector PDF (reportlab), and that PDF to page images (PDFium).

The PDF is the truth: PNGs and in-memory images are rasterised from it with PDFium
(pypdfium2), so what a test or the fixture generator sees is exactly what prints. Every image
comes with a :class:`PixelGeometry`: the page's layout in that image's pixels, in OpenCV's
convention (the centre of the top-left pixel is ``(0, 0)``; a point ``x`` mm from the page's left
edge is at ``x * dpi / 25.4 - 0.5``).

Why these libraries: reportlab writes vector PDF and embeds TrueType subsets (BSD licence;
PyMuPDF would be AGPL); PDFium is the renderer of Chrome and rasterises an A4 page at 200 dpi in
tens of milliseconds; segno draws the QR code as vector squares; OpenCV's ArUco module makes the
markers (the same module finds them when reading).

>>> from scanning._spec import load_spec
>>> spec = load_spec({"assignment_id": "hw-1", "title": "小测 Quiz", "students": [
...     {"id": "s1", "name": "李雷"}], "fields": [{"id": "1", "type": "true_false"}]})
>>> image, geometry = next(render_page_images(spec, dpi=100))
>>> image.shape, image.dtype.name, geometry.width_px
((1170, 827), 'uint8', 827)
>>> [round(v, 1) for v in geometry.markers[0][1][0]]  # top-left corner of marker 0: 8 mm in
[31.0, 31.0]
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from scanning._geometry import ARUCO_DICTIONARY, Marker, PageLayout, Rect, Text, time_halves
from scanning._layout import layout_pages
from scanning._qr import encode_payload, layout_checksum, page_payload, qr_modules
from scanning._spec import SheetSpec, load_spec
from scanning._text import PT_TO_MM, register_fonts, text_runs, text_width

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with ``(pages done, pages in all)`` after each page."""

BUBBLE_LINE_PT = 0.6
BUBBLE_GREY = 0.35  # outline: darker than the option letter, lighter than a pencil mark
OPTION_GREY = 0.62  # option letters inside bubbles: light, so an empty bubble reads as empty
OPTION_PT = 6.0
BOX_LINE_PT = 0.8
MM = 72.0 / 25.4  # points per millimetre


@dataclass(frozen=True)
class PixelGeometry:
    """A page's layout in one rendered image's pixels (OpenCV convention, see the module doc)."""

    page: PageLayout
    dpi: float
    width_px: int
    height_px: int

    @property
    def scale(self) -> float:
        """Pixels per millimetre."""
        return self.dpi / 25.4

    def point(self, x_mm: float, y_mm: float) -> tuple[float, float]:
        """A point on the page, in pixels."""
        return x_mm * self.scale - 0.5, y_mm * self.scale - 0.5

    def rect(self, rect: Rect) -> tuple[float, float, float, float]:
        """``(x, y, w, h)`` in pixels; ``(x, y)`` is the rectangle's top-left edge point."""
        x, y = self.point(rect.x, rect.y)
        return x, y, rect.w * self.scale, rect.h * self.scale

    @property
    def markers(self) -> list[tuple[int, list[tuple[float, float]]]]:
        """``(id, corners)`` per marker; corners clockwise from top-left, as ``cv2.aruco`` reports them."""
        result = []
        for marker in self.page.markers:
            r = marker.rect
            corners = [(r.x, r.y), (r.x + r.w, r.y), (r.x + r.w, r.y + r.h), (r.x, r.y + r.h)]
            result.append((marker.marker_id, [self.point(x, y) for x, y in corners]))
        return result

    def to_dict(self) -> dict[str, Any]:
        """Everything a reader or an integration needs, as JSON-ready data in pixels."""
        payload = page_payload(self.page)
        k = self.scale
        return {
            "dpi": self.dpi,
            "width_px": self.width_px,
            "height_px": self.height_px,
            "coordinates": "pixels; (0, 0) is the centre of the top-left pixel (OpenCV)",
            "qr_text": encode_payload(payload),
            "qr_payload": {
                "assignment_id": payload.assignment_id,
                "student_id": payload.student_id,
                "page_index": payload.page_index,
                "page_count": payload.page_count,
                "checksum": payload.checksum,
            },
            "qr": dict(zip("xywh", self.rect(self.page.qr), strict=True)),
            "markers": [{"id": i, "corners": [list(c) for c in cs]} for i, cs in self.markers],
            "bubbles": [
                {"field_id": b.field_id, "option": b.option, "column": b.column,
                 "cx": self.point(b.cx, b.cy)[0], "cy": self.point(b.cx, b.cy)[1], "r": b.r * k}
                for b in self.page.bubbles
            ],
            "boxes": [
                {"field_id": w.field_id, "kind": w.kind, **dict(zip("xywh", self.rect(w.rect), strict=True))}
                for w in self.page.boxes
            ],
        }


def _marker_cells(marker_id: int) -> np.ndarray:
    """The marker as a 6x6 grid of cells (4x4 bits plus the black border), 1 = black."""
    import cv2

    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, ARUCO_DICTIONARY))
    image = cv2.aruco.generateImageMarker(dictionary, marker_id, 6)
    return (image < 128).astype(np.uint8)


def _dark_runs(row: Iterable[Any]) -> Iterator[tuple[int, int]]:
    """``(start, length)`` of each run of dark cells in a row."""
    start = None
    cells = list(row)
    for index, dark in enumerate([*cells, False]):
        if dark and start is None:
            start = index
        elif not dark and start is not None:
            yield start, index - start
            start = None


class _PageDrawer:
    """Draws one :class:`PageLayout` on a reportlab canvas (mm in, PDF points out)."""

    def __init__(self, canvas: Any, page: PageLayout) -> None:
        self.c, self.page = canvas, page

    def x(self, mm: float) -> float:
        return mm * MM

    def y(self, mm: float) -> float:
        return (self.page.height_mm - mm) * MM

    def cells(self, rect: Rect, grid: Any) -> None:
        """Fill the dark cells of a square grid spread over ``rect`` (merged into row runs)."""
        n = len(grid)
        cell = rect.w / n
        path = self.c.beginPath()
        for row_index, row in enumerate(grid):
            top = rect.y + row_index * cell
            for start, length in _dark_runs(row):
                path.rect(self.x(rect.x + start * cell), self.y(top + cell), length * cell * MM, cell * MM)
        self.c.setFillGray(0.0)
        self.c.drawPath(path, stroke=0, fill=1)

    def marker(self, marker: Marker) -> None:
        self.cells(marker.rect, _marker_cells(marker.marker_id))

    def qr(self) -> None:
        self.cells(self.page.qr, qr_modules(encode_payload(page_payload(self.page))))

    def bubbles(self) -> None:
        c = self.c
        c.setLineWidth(BUBBLE_LINE_PT)
        c.setStrokeGray(BUBBLE_GREY)
        for b in self.page.bubbles:
            c.circle(self.x(b.cx), self.y(b.cy), b.r * MM, stroke=1, fill=0)
        for b in self.page.bubbles:
            size = OPTION_PT if len(b.option) == 1 else OPTION_PT - 1.0
            shown = "−" if b.option == "-" else b.option  # a true minus sign reads better than "-"
            self.text(Text(b.cx, b.cy + size * 0.36 * PT_TO_MM, shown, size, OPTION_GREY, "middle"))

    def boxes(self) -> None:
        c = self.c
        c.setLineWidth(BOX_LINE_PT)
        c.setStrokeGray(0.0)
        for w in self.page.boxes:
            for r in time_halves(w.rect) if w.kind == "time" else (w.rect,):
                c.rect(self.x(r.x), self.y(r.y + r.h), r.w * MM, r.h * MM, stroke=1, fill=0)
            if w.kind == "time":
                r = w.rect
                self.text(Text(r.x + r.w / 2, r.y + r.h / 2 + 2.0, ":", 14.0, 0.0, "middle"))

    def text(self, t: Text) -> None:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        x = t.x
        if t.anchor != "start":
            width = text_width(t.text, t.size)
            x -= width / 2 if t.anchor == "middle" else width
        self.c.setFillGray(t.grey)
        x_pt = self.x(x)
        for font, run in text_runs(t.text):
            self.c.setFont(font, t.size)
            self.c.drawString(x_pt, self.y(t.y), run)
            x_pt += stringWidth(run, font, t.size)

    def draw_fixed(self) -> None:
        """What every student's copy of this page shares: markers, bubbles, boxes."""
        for marker in self.page.markers:
            self.marker(marker)
        self.bubbles()
        self.boxes()

    def draw(self, forms: dict[str, str]) -> None:
        """The page; its fixed part is drawn once per layout as a form (XObject) and reused."""
        checksum = layout_checksum(self.page)
        if checksum not in forms:
            forms[checksum] = f"layout{checksum}"
            self.c.beginForm(forms[checksum])
            self.draw_fixed()
            self.c.endForm()
        self.c.doForm(forms[checksum])
        self.qr()
        for t in self.page.texts:
            self.text(t)


def _pages(spec: SheetSpec) -> list[PageLayout]:
    return [page for pages in layout_pages(spec).values() for page in pages]


def write_pdf(pages: list[PageLayout], out: str | Path | IO[bytes], title: str = "", progress: Progress | None = None) -> None:
    """Draw ``pages`` into one PDF (vector, both fonts embedded as subsets)."""
    from reportlab.pdfgen.canvas import Canvas

    register_fonts()
    target = str(out) if isinstance(out, str | Path) else out
    canvas = Canvas(target, pageCompression=1, invariant=1)
    canvas.setTitle(title)
    canvas.setCreator("homework-loop scanning")
    forms: dict[str, str] = {}
    for done, page in enumerate(pages, start=1):
        canvas.setPageSize((page.width_mm * MM, page.height_mm * MM))
        _PageDrawer(canvas, page).draw(forms)
        canvas.showPage()
        if progress is not None:
            progress(done, len(pages))
    canvas.save()


def render_pdf(spec: SheetSpec | dict[str, Any] | str | Path, out: str | Path | IO[bytes], progress: Progress | None = None) -> int:
    """Render every student's sheet into one PDF at ``out`` (path or binary file); return the page count.

    ``spec`` is anything :func:`scanning.load_spec` accepts.
    """
    spec = load_spec(spec)
    pages = _pages(spec)
    write_pdf(pages, out, spec.title, progress)
    logger.info("rendered %d pages for %d students", len(pages), len(spec.students))
    return len(pages)


def rasterize(pdf: bytes | str | Path, dpi: float = 200.0) -> Iterator[np.ndarray]:
    """Each page of a PDF as a grayscale ``uint8`` image at ``dpi`` (PDFium)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        for index in range(len(document)):
            page = document[index]
            bitmap = page.render(scale=dpi / 72.0, grayscale=True)
            image = np.array(bitmap.to_numpy(), dtype=np.uint8, copy=True)
            yield image.reshape(image.shape[0], image.shape[1])
    finally:
        document.close()


def render_page_images(
    spec: SheetSpec | dict[str, Any] | str | Path,
    dpi: float = 200.0,
    pages: list[PageLayout] | None = None,
    progress: Progress | None = None,
) -> Iterator[tuple[np.ndarray, PixelGeometry]]:
    """Every page as ``(grayscale uint8 image, PixelGeometry)``, rasterised from the real PDF.

    ``pages`` restricts rendering to some layouts (e.g. one student's, from :func:`layout_pages`).
    """
    spec = load_spec(spec)
    pages = _pages(spec) if pages is None else pages
    buffer = io.BytesIO()
    write_pdf(pages, buffer, spec.title)
    for done, (image, page) in enumerate(zip(rasterize(buffer.getvalue(), dpi), pages, strict=True), start=1):
        yield image, PixelGeometry(page, dpi, image.shape[1], image.shape[0])
        if progress is not None:
            progress(done, len(pages))


def page_file_stem(page: PageLayout) -> str:
    """``<assignment>_<student>_p<n>``: the file name (without suffix) of a page's PNG and JSON."""
    return f"{page.assignment_id}_{page.student_id}_p{page.page_index + 1}"


def render_png(
    spec: SheetSpec | dict[str, Any] | str | Path,
    out_dir: str | Path,
    dpi: float = 200.0,
    progress: Progress | None = None,
) -> list[Path]:
    """One PNG per page in ``out_dir``, each with a JSON beside it (:meth:`PixelGeometry.to_dict`).

    Returns the PNG paths.
    """
    import cv2

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for image, geometry in render_page_images(spec, dpi, progress=progress):
        stem = out / page_file_stem(geometry.page)
        if not cv2.imwrite(str(stem.with_suffix(".png")), image):
            raise OSError(f"could not write {stem.with_suffix('.png')}")
        stem.with_suffix(".json").write_text(json.dumps(geometry.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
        written.append(stem.with_suffix(".png"))
    return written
