"""Reading scanned pages: image -> registered page -> identified sheet -> field readings.

:class:`SheetReader` holds the sheet specs a batch of scans may belong to (and an OCR backend);
:meth:`SheetReader.read_page` reads one page image and :meth:`SheetReader.read_file` every page of
a file. The steps, for an A4 page at 200 dpi (about 10-20 ms on one core, the JPEG decode aside)::

    grey page --detect_markers (on the page shrunk 4x)--> 4 marker quads
              --register--> homography page-mm -> pixels   (PageNotRegisteredError: kept for a human)
              --QR from its known square only--> "HW1|hw-7|s01|1/2|5f3a9c01"
              --spec + page index--> PageLayout; checksum must match (SheetNotIdentifiedError)
              --measure_bubbles--> fills --read_field--> one FieldReading per bubble field
              --writing boxes: warp the box interior--> OCR (scanning._ocr.read_answer)

A page that cannot be read is never dropped: :meth:`SheetReader.read_file` yields a
:class:`PageFailure` holding the error and the page image (or the raw bytes of a file that could
not be decoded at all), in input order, between the :class:`PageReading` of the other pages.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scanning._errors import (
    BadImageError,
    BlankPageError,
    OCRBackendError,
    PageNotRegisteredError,
    ScanningError,
    SheetNotIdentifiedError,
)
from scanning._geometry import PageLayout, Rect, marker_layout, qr_rect
from scanning._load import SourceRef, page_loaders
from scanning._omr import AMBIGUOUS, FieldReading, ink_levels, measure_bubbles, read_field, snap_field
from scanning._qr import QRPayload, decode_payload, layout_checksum
from scanning._register import Registration, detect_markers, register

logger = logging.getLogger(__name__)

QR_PX_PER_MM = 6.0
"""Scale the QR square is warped to: ~5 px per module for a version-3 symbol in 22 mm."""

CROP_PX_PER_MM = 8.0
"""Largest scale writing-box crops are cut at (200 dpi); a coarser scan keeps its own scale."""

BOX_INSET_MM = 0.9
"""How far inside a writing box's printed border its crop starts (the border is 0.3 mm)."""

REVIEW_PX_PER_MM = 5.0
"""Scale of a bubble field's review crop (127 dpi: every mark plain to see, a quarter of 200 dpi's pixels)."""

CROP_BELOW_CONFIDENCE = 0.75
"""A bubble field read with less confidence (or needing review) keeps a crop for the teacher."""


@dataclass(frozen=True, eq=False)
class PageReading:
    """A page that was read: whose sheet it is, how well it registered, what each field says.

    ``sheet`` is the QR payload (assignment, student, 0-based page index, page count, layout
    checksum), already checked against the spec's layout. ``fields`` are in layout order.
    ``image`` is the grey page as loaded (for the review queue and audits).
    """

    source: SourceRef
    sheet: QRPayload
    registration: Registration
    fields: tuple[FieldReading, ...]
    image: np.ndarray

    @property
    def assignment_id(self) -> str:
        return self.sheet.assignment_id

    @property
    def student_id(self) -> str:
        return self.sheet.student_id

    @property
    def page_index(self) -> int:
        return self.sheet.page_index

    @property
    def page_count(self) -> int:
        return self.sheet.page_count

    @property
    def layout_checksum(self) -> str:
        return self.sheet.checksum

    @property
    def ok(self) -> bool:
        """True: this is a page reading, not a :class:`PageFailure`."""
        return True

    @property
    def confidence(self) -> float:
        """The least confident of registration and every field."""
        return min([self.registration.confidence, *(f.confidence for f in self.fields)])

    @property
    def needs_review(self) -> tuple[FieldReading, ...]:
        """The fields a teacher must look at."""
        return tuple(f for f in self.fields if f.status == "needs_review")

    def field(self, field_id: str) -> FieldReading:
        """The reading of one field; :class:`KeyError` if the page has no such field."""
        for reading in self.fields:
            if reading.field_id == field_id:
                return reading
        raise KeyError(field_id)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (no images): sheet identity, registration, every field."""
        reg = self.registration
        return {
            "source": self.source.name,
            "page": self.source.page,
            "ok": True,
            **_sheet_dict(self.sheet),
            "registration": {
                "confidence": reg.confidence,
                "markers": list(reg.markers_found),
                "residual_mm": round(reg.residual_mm, 3),
                "px_per_mm": round(reg.px_per_mm, 2),
            },
            "fields": [
                {
                    "field_id": f.field_id,
                    "kind": f.kind,
                    "value": f.value,
                    "confidence": f.confidence,
                    "status": f.status,
                    "reason": f.reason,
                }
                for f in self.fields
            ],
        }


@dataclass(frozen=True, eq=False)
class PageFailure:
    """A page that could not be read, kept whole for a human.

    ``image`` is the decoded page (None when it could not be decoded; then ``data`` holds the
    file's bytes). ``sheet`` is the QR payload when the QR code was read but did not lead to a
    known layout (an unknown assignment, a checksum from another version of the sheet).
    """

    source: SourceRef
    error: ScanningError
    image: np.ndarray | None = None
    data: bytes | None = None
    sheet: QRPayload | None = None

    @property
    def ok(self) -> bool:
        """False: this page was not read."""
        return False

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: where the page came from, the error, the QR payload if read."""
        out = {"source": self.source.name, "page": self.source.page, "ok": False}
        out.update(
            error=type(self.error).__name__, message=str(self.error), image_kept=self.image is not None
        )
        if self.sheet is not None:
            out.update(_sheet_dict(self.sheet))
        return out


def _sheet_dict(sheet: QRPayload) -> dict[str, Any]:
    return {
        "assignment_id": sheet.assignment_id,
        "student_id": sheet.student_id,
        "page_index": sheet.page_index,
        "page_count": sheet.page_count,
        "layout_checksum": sheet.checksum,
    }


PageResult = PageReading | PageFailure


class SheetReader:
    """Reads scanned pages of the sheets described by ``specs``.

    ``specs``: one :class:`~scanning.SheetSpec` (or anything :func:`scanning.load_spec` takes), or
    several, for batches mixing assignments. ``ocr``: an OCR backend, or a backend name for
    :func:`scanning.get_backend` (:class:`~scanning.OCRBackendError` at once for an unknown name;
    its models load on the first box read); None reads no handwriting (boxes come back
    ``needs_review`` with their crop). An OCR failure on one box sends that box to review and
    keeps the rest of the page.
    """

    def __init__(self, specs: Any, *, ocr: Any = "rapidocr") -> None:
        from scanning._spec import load_spec

        loaded = [load_spec(s) for s in specs] if isinstance(specs, list | tuple) else [load_spec(specs)]
        self.specs = {spec.assignment_id: spec for spec in loaded}
        if isinstance(ocr, str):  # an unknown name fails here; the models load on first use
            from scanning._ocr import get_backend

            ocr = get_backend(ocr)
        self._ocr = ocr
        self._layouts: dict[str, tuple[PageLayout, ...]] = {}
        self._checksums: dict[str, tuple[str, ...]] = {}
        self._papers = sorted({_paper_size(spec) for spec in loaded})

    def read_page(self, image: np.ndarray, *, source: SourceRef | str = "page") -> PageReading:
        """Read one page image (grey or BGR ``uint8``).

        Raises :class:`~scanning.PageNotRegisteredError` (no markers: blank, foreign or torn page)
        or :class:`~scanning.SheetNotIdentifiedError` (QR unreadable, unknown assignment,
        checksum of another layout).
        """
        gray = _grey(image)
        ref = source if isinstance(source, SourceRef) else SourceRef(str(source))
        registration, paper = self._register(gray, ref)
        sheet = self._read_qr(gray, registration, paper, ref)
        return self._read_fields(gray, registration, sheet, ref)

    def read_as(self, image: np.ndarray, assignment_id: str, student_id: str, page_index: int, *,
                source: SourceRef | str = "page") -> PageReading:
        """Read one page as the page a person says it is, whatever its QR code says (or when it has
        none that can be read): a teacher assigns a kept page to a student.

        The page must register (:class:`~scanning.PageNotRegisteredError` otherwise); its fields are
        read on the spec's layout of that page; ``student_id`` is not checked against the roster.
        """
        from scanning._layout import student_pages

        spec = self.specs.get(assignment_id)
        if spec is None:
            raise SheetNotIdentifiedError(f"assignment {assignment_id!r} is not among the specs given")
        pages = student_pages(spec, spec.students[0])
        if not 0 <= page_index < len(pages):
            raise SheetNotIdentifiedError(f"{assignment_id!r} has {len(pages)} page(s); there is no page {page_index + 1}")
        gray = _grey(image)
        ref = source if isinstance(source, SourceRef) else SourceRef(str(source))
        registration, _ = self._register(gray, ref)
        sheet = QRPayload(assignment_id, student_id, page_index, len(pages), layout_checksum(pages[page_index]))
        return self._read_fields(gray, registration, sheet, ref)

    def read_file(self, source: str | Path | bytes, *, name: str | None = None) -> Iterator[PageResult]:
        """Yield a :class:`PageReading` or :class:`PageFailure` for every page of a file, in order.

        Pages are decoded one at a time. A file that cannot be opened at all (or has no pages)
        yields one :class:`PageFailure` holding its bytes.
        """
        loaders = page_loaders(source, name=name)
        try:
            first = next(loaders, None)
        except BadImageError as exc:
            yield PageFailure(SourceRef(_label(source, name), 0), exc, data=_raw(source))
            return
        if first is None:
            error = BadImageError(f"{_label(source, name)}: the file has no pages")
            yield PageFailure(SourceRef(_label(source, name), 0), error, data=_raw(source))
            return
        for ref, decode in itertools.chain([first], loaders):
            yield self._read_one(ref, decode)

    def read_files(self, sources: Iterable[str | Path]) -> Iterator[PageResult]:
        """:meth:`read_file` for each file in turn."""
        for path in sources:
            yield from self.read_file(path)

    # -- steps -----------------------------------------------------------------------------

    def _read_one(self, ref: SourceRef, decode: Any) -> PageResult:
        try:
            gray = decode()
        except BadImageError as exc:
            return PageFailure(ref, exc)
        sheet = None
        try:
            registration, paper = self._register(gray, ref)
            sheet = self._read_qr(gray, registration, paper, ref)
            return self._read_fields(gray, registration, sheet, ref)
        except ScanningError as exc:
            logger.info("%s: %s", ref, exc)
            if isinstance(exc, PageNotRegisteredError) and not isinstance(exc, BlankPageError):
                sheet = find_sheet_qr(gray)  # whose page it is, so it can be scanned again
            return PageFailure(ref, exc, image=gray, sheet=sheet)

    def _register(self, gray: np.ndarray, ref: SourceRef) -> tuple[Registration, tuple[float, float]]:
        found = detect_markers(gray)
        best: tuple[Registration, tuple[float, float]] | None = None
        error: PageNotRegisteredError | None = None
        for paper in self._papers:
            try:
                reg = register(gray, marker_layout(*paper), found=found, source=ref)
            except PageNotRegisteredError as exc:
                error = exc
                continue
            if best is None or reg.residual_mm < best[0].residual_mm:
                best = (reg, paper)
        if best is None:
            if _looks_blank(gray):
                raise BlankPageError(f"{ref}: blank page (no registration markers, no ink)")
            raise error or PageNotRegisteredError(f"{ref}: no registration markers")
        return best

    def _read_qr(
        self, gray: np.ndarray, reg: Registration, paper: tuple[float, float], ref: SourceRef
    ) -> QRPayload:
        text = read_qr(gray, reg.homography, qr_rect(paper[0]))
        if text is None:
            raise SheetNotIdentifiedError(f"{ref}: the QR code could not be read")
        try:
            return decode_payload(text)
        except SheetNotIdentifiedError as exc:
            raise SheetNotIdentifiedError(f"{ref}: {exc}") from None

    def _layout(self, sheet: QRPayload, ref: SourceRef) -> PageLayout:
        """The spec's layout of the page ``sheet`` names, checked against its checksum."""
        spec = self.specs.get(sheet.assignment_id)
        if spec is None:
            known = ", ".join(sorted(self.specs))
            raise SheetNotIdentifiedError(
                f"{ref}: the QR code names assignment {sheet.assignment_id!r}, which is not among the specs given ({known})"
            )
        if spec.assignment_id not in self._layouts:
            from scanning._layout import student_pages

            pages = student_pages(spec, spec.students[0])
            self._layouts[spec.assignment_id] = pages
            self._checksums[spec.assignment_id] = tuple(layout_checksum(page) for page in pages)
        pages = self._layouts[spec.assignment_id]
        if (
            sheet.page_count != len(pages)
            or self._checksums[spec.assignment_id][sheet.page_index] != sheet.checksum
        ):
            raise SheetNotIdentifiedError(
                f"{ref}: page {sheet.page_index + 1}/{sheet.page_count} of {sheet.assignment_id!r} was printed "
                f"from another version of the sheet (layout checksum {sheet.checksum} does not match the spec)"
            )
        return pages[sheet.page_index]

    def _read_fields(
        self, gray: np.ndarray, reg: Registration, sheet: QRPayload, ref: SourceRef
    ) -> PageReading:
        layout = self._layout(sheet, ref)
        spec = self.specs[sheet.assignment_id]
        ink = ink_levels(gray, reg, layout.markers)
        fills = measure_bubbles(gray, reg.homography, layout.bubbles, ink)
        by_field: dict[str, list[Any]] = {}
        for bubble, fill in zip(layout.bubbles, fills, strict=True):
            by_field.setdefault(bubble.field_id, []).append((bubble, fill))
        readings = {}
        for fid, pairs in by_field.items():
            reading = read_field(fid, spec.field(fid).type, [fill for _, fill in pairs])
            if any(f.state == AMBIGUOUS for f in reading.bubbles):  # a curled page? find the rings
                baseline = fills[0].darkness - fills[0].excess
                reading = snap_field(gray, reg.homography, [b for b, _ in pairs], reading, ink, baseline)
            if reading.status == "needs_review" or reading.confidence < CROP_BELOW_CONFIDENCE:
                crop = crop_region(
                    gray, reg.homography, _field_rect(layout, fid), max_px_per_mm=REVIEW_PX_PER_MM
                )
                reading = _with_crop(reading, crop)
            readings[fid] = reading
        for box in layout.boxes:
            readings[box.field_id] = self._read_box(gray, reg, box, spec.field(box.field_id))
        order = list(dict.fromkeys([b.field_id for b in layout.bubbles] + [b.field_id for b in layout.boxes]))
        order.sort(key=[f.id for f in spec.fields].index)
        return PageReading(ref, sheet, reg, tuple(readings[f] for f in order), gray)

    def _read_box(self, gray: np.ndarray, reg: Registration, box: Any, field: Any) -> FieldReading:
        if box.kind == "time":
            return self._read_time(gray, reg, box)
        crop = crop_region(gray, reg.homography, _inset(box.rect), max_px_per_mm=CROP_PX_PER_MM)
        backend = self._backend()
        if backend is None:
            return FieldReading(
                box.field_id, "handwriting", None, 0.0, "needs_review", "no OCR backend", crop=crop
            )
        from scanning._ocr import read_answer

        try:
            text = read_answer(crop, field.key, backend)
        except OCRBackendError as exc:  # the bubbles on this page are still worth keeping
            logger.warning("%s: OCR failed: %s", box.field_id, exc)
            return FieldReading(
                box.field_id, "handwriting", None, 0.0, "needs_review", f"OCR failed: {exc}", crop=crop
            )
        if text.blank:
            return FieldReading(
                box.field_id,
                "handwriting",
                None,
                round(text.confidence, 4),
                "blank",
                "empty box",
                crop=crop,
                key_probability=text.key_probability,
            )
        return FieldReading(
            box.field_id,
            "handwriting",
            text.text,
            round(float(text.confidence), 4),
            "ok",
            text.note,
            crop=crop,
            key_probability=text.key_probability,
            unambiguous=text.unambiguous,
        )

    def _read_time(self, gray: np.ndarray, reg: Registration, box: Any) -> FieldReading:
        """A start-time box: hours and minutes read apart as digits, joined as ``"19:05"``."""
        from scanning._geometry import time_halves
        from scanning._ocr import DIGITS, read_answer

        crop = crop_region(gray, reg.homography, box.rect, max_px_per_mm=CROP_PX_PER_MM)
        backend = self._backend()
        if backend is None:
            return FieldReading(box.field_id, "time", None, 0.0, "needs_review", "no OCR backend", crop=crop)
        try:
            halves = [read_answer(crop_region(gray, reg.homography, _inset(r), max_px_per_mm=CROP_PX_PER_MM),
                                  None, backend, charset=DIGITS) for r in time_halves(box.rect)]
        except OCRBackendError as exc:
            return FieldReading(box.field_id, "time", None, 0.0, "needs_review", f"OCR failed: {exc}", crop=crop)
        confidence = round(float(min(h.confidence for h in halves)), 4)
        if all(h.blank for h in halves):
            return FieldReading(box.field_id, "time", None, confidence, "blank", "empty box", crop=crop)
        if any(h.blank or not h.text for h in halves):
            return FieldReading(box.field_id, "time", None, 0.0, "needs_review", "half of the time is empty",
                                crop=crop)
        return FieldReading(box.field_id, "time", f"{halves[0].text}:{halves[1].text}", confidence, "ok", "",
                            crop=crop)

    def _backend(self) -> Any:
        return self._ocr


def read_page(
    image: np.ndarray, specs: Any, *, ocr: Any = "rapidocr", source: SourceRef | str = "page"
) -> PageReading:
    """Read one page image against ``specs`` (see :class:`SheetReader`; for many pages, make one)."""
    return SheetReader(specs, ocr=ocr).read_page(image, source=source)


def read_file(
    source: str | Path | bytes, specs: Any, *, ocr: Any = "rapidocr", name: str | None = None
) -> Iterator[PageResult]:
    """Every page of a file as a :class:`PageReading` or a :class:`PageFailure` (see :class:`SheetReader`)."""
    return SheetReader(specs, ocr=ocr).read_file(source, name=name)


# -- helpers ---------------------------------------------------------------------------------


def read_qr(gray: np.ndarray, homography: np.ndarray, rect: Rect, margin_mm: float = 3.0) -> str | None:
    """Decode the QR code printed in ``rect`` (mm): warp that square upright, then zxing-cpp.

    When that fails: the crop sharpened, up to three ways (an unsharp mask undoes a blurry phone
    photo's smear; it rescued 120 dpi-equivalent photos with 2.6 px modules), OpenCV's QR detector, and
    zxing-cpp on a square twice as large (a registration a few millimetres off). None when
    nothing decodes.
    """
    import cv2

    crop = crop_region(gray, homography, _grown(rect, margin_mm), px_per_mm=QR_PX_PER_MM)
    text = _zxing(crop)
    if text:
        return text
    for px_per_mm, sigma_mm, amount in _SHARPENINGS:
        image = (
            crop
            if px_per_mm == QR_PX_PER_MM
            else crop_region(gray, homography, _grown(rect, margin_mm), px_per_mm=px_per_mm)
        )
        soft = image.astype(np.float32)
        blur = cv2.GaussianBlur(soft, (0, 0), sigma_mm * px_per_mm)
        text = _zxing(np.clip(soft + amount * (soft - blur), 0, 255).astype(np.uint8))
        if text:
            return text
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(crop)
    if text:
        return str(text)
    return _zxing(crop_region(gray, homography, _grown(rect, margin_mm + rect.w / 2), px_per_mm=QR_PX_PER_MM))


def find_sheet_qr(gray: np.ndarray) -> QRPayload | None:
    """Search a whole page for one of our QR codes (for a page whose markers were not found).

    Slower than :func:`read_qr` (tens of milliseconds), so only used on pages that failed; None
    when there is no readable QR code of ours.
    """
    import zxingcpp

    for found in zxingcpp.read_barcodes(gray, formats=_QR_FORMATS()):
        try:
            return decode_payload(str(found.text))
        except SheetNotIdentifiedError:
            continue
    return None


_SHARPENINGS = ((QR_PX_PER_MM, 0.35, 2.0), (8.0, 0.375, 2.0), (8.0, 0.375, 4.0))
"""Unsharp masks tried on a QR code that did not decode: (px per mm, sigma in mm, amount)."""


def _grown(rect: Rect, by: float) -> Rect:
    return Rect(rect.x - by, rect.y - by, rect.w + 2 * by, rect.h + 2 * by)


def _zxing(image: np.ndarray) -> str | None:
    import zxingcpp

    found = zxingcpp.read_barcodes(image, formats=_QR_FORMATS(), try_rotate=False, try_downscale=False)
    return str(found[0].text) if found and found[0].text else None


def _QR_FORMATS() -> Any:  # noqa: N802 - reads as the constant it stands for
    import zxingcpp

    return zxingcpp.barcode_formats_from_str("QRCode")


def crop_region(
    gray: np.ndarray,
    homography: np.ndarray,
    rect: Rect,
    *,
    px_per_mm: float | None = None,
    max_px_per_mm: float = 12.0,
) -> np.ndarray:
    """The page region ``rect`` (mm) warped upright; at ``px_per_mm``, or the scan's own scale."""
    import cv2

    if px_per_mm is None:
        corners = np.array([[rect.x, rect.y], [rect.x + rect.w, rect.y], [rect.x, rect.y + rect.h]])
        from scanning._register import project

        p = project(homography, corners)
        native = max(float(np.linalg.norm(p[1] - p[0])) / rect.w, float(np.linalg.norm(p[2] - p[0])) / rect.h)
        px_per_mm = min(max_px_per_mm, native)
    k = float(px_per_mm)
    width, height = max(1, round(rect.w * k)), max(1, round(rect.h * k))
    # output pixel (u, v) -> page mm (x + (u + 0.5) / k, y + (v + 0.5) / k) -> image px
    to_mm = np.array([[1 / k, 0, rect.x + 0.5 / k], [0, 1 / k, rect.y + 0.5 / k], [0, 0, 1]])
    warp = homography @ to_mm
    return cv2.warpPerspective(
        gray,
        warp,
        (width, height),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )


def _inset(rect: Rect) -> Rect:
    """A writing box's interior, inside its printed border."""
    return Rect(rect.x + BOX_INSET_MM, rect.y + BOX_INSET_MM, rect.w - 2 * BOX_INSET_MM, rect.h - 2 * BOX_INSET_MM)


def _field_rect(layout: PageLayout, field_id: str, margin: float = 2.0) -> Rect:
    bubbles = [b for b in layout.bubbles if b.field_id == field_id]
    x0 = min(b.cx - b.r for b in bubbles) - margin
    y0 = min(b.cy - b.r for b in bubbles) - margin
    x1 = max(b.cx + b.r for b in bubbles) + margin
    y1 = max(b.cy + b.r for b in bubbles) + margin
    return Rect(x0, y0, x1 - x0, y1 - y0)


def _with_crop(reading: FieldReading, crop: np.ndarray) -> FieldReading:
    from dataclasses import replace

    return replace(reading, crop=crop)


def _grey(image: np.ndarray) -> np.ndarray:
    import cv2

    if (
        not isinstance(image, np.ndarray)
        or image.dtype != np.uint8
        or image.ndim not in (2, 3)
        or image.size == 0
    ):
        raise BadImageError(f"expected a grey or BGR uint8 image, got {getattr(image, 'dtype', type(image))}")
    image = np.ascontiguousarray(image)  # e.g. np.rot90 views have negative strides
    if image.ndim == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    return image


def _looks_blank(gray: np.ndarray) -> bool:
    """No ink at all: under 0.1 % of a reduced page darker than 60 % of its paper."""
    import cv2

    step = max(1, max(gray.shape) // 400)
    small = cv2.resize(
        gray, (max(1, gray.shape[1] // step), max(1, gray.shape[0] // step)), interpolation=cv2.INTER_AREA
    )
    paper = float(np.percentile(small, 90))
    return bool((small < 0.6 * paper).mean() < 0.001)


def _paper_size(spec: Any) -> tuple[float, float]:
    from scanning._geometry import PAPER_SIZES_MM

    return PAPER_SIZES_MM[spec.paper]


def _label(source: str | Path | bytes, name: str | None) -> str:
    return name or (str(source) if isinstance(source, str | Path) else "<bytes>")


def _raw(source: str | Path | bytes) -> bytes | None:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    try:
        return Path(source).read_bytes()
    except OSError:
        return None
