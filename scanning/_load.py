"""Loading scanned pages: PNG, JPEG, multi-page TIFF and PDF, from a path or from bytes.

Every input page becomes a :class:`PageImage`: an 8-bit grayscale array plus a :class:`SourceRef`
(file name and 0-based page index), so that whatever happens to the page later it can be traced back
to what the scanner sent. Bad input raises :class:`~scanning.BadImageError` naming the source:

- an empty file, or bytes that are none of the supported formats;
- a truncated JPEG (OpenCV would silently decode the missing part as grey, so the end-of-image
  marker is checked first) or a truncated PNG;
- an image larger than :data:`MAX_PIXELS`, detected from the file header *before* decoding
  (a decompression bomb of a few kilobytes must not allocate gigabytes).

A blank page is not a loading error: it loads, and registration later reports that it has no markers.

>>> import cv2, numpy as np
>>> ok, png = cv2.imencode(".png", np.full((40, 30), 255, np.uint8))
>>> [(p.source.page, p.image.shape) for p in load_pages(png.tobytes(), name="scan.png")]
[(0, (40, 30))]
>>> load_pages(b"%PDF-but-not-really", name="x.pdf")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
scanning._errors.BadImageError: x.pdf: not a readable PDF (...)
"""

from __future__ import annotations

import io
import logging
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from scanning._errors import BadImageError

logger = logging.getLogger(__name__)

MAX_PIXELS = 60_000_000
MIN_SIDE = 16  # a page of any paper at any scanner resolution has sides far longer than this
"""Largest page accepted, in pixels (an A3 page at 600 dpi is 70 MP; A4 at 300 dpi is 8.7 MP)."""

PDF_DPI = 200
"""Resolution at which PDF pages are rendered."""

_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpeg",
    b"II*\x00": "tiff",
    b"MM\x00*": "tiff",
    b"%PDF": "pdf",
}

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif"}


@dataclass(frozen=True)
class SourceRef:
    """Where a page came from: the file's name (or ``"<bytes>"``) and the 0-based page in it."""

    name: str
    page: int = 0

    def __str__(self) -> str:
        return f"{self.name} page {self.page + 1}"


@dataclass(frozen=True, eq=False)
class PageImage:
    """One input page as an 8-bit grayscale image (``uint8``, shape ``(height, width)``)."""

    image: np.ndarray
    source: SourceRef


def sniff_format(data: bytes) -> str | None:
    """The format of ``data`` from its first bytes: "png", "jpeg", "tiff", "pdf" or None.

    >>> sniff_format(b"%PDF-1.7 ..."), sniff_format(b"hello")
    ('pdf', None)
    """
    for magic, kind in _MAGIC.items():
        if data.startswith(magic):
            return kind
    return None


def load_pages(source: str | Path | bytes, *, name: str | None = None) -> list[PageImage]:
    """Every page of an image file (path or bytes) as grayscale :class:`PageImage` objects.

    Raises :class:`~scanning.BadImageError` when the file as a whole cannot be read. For a file
    whose pages should be decoded one at a time, use :func:`iter_pages`.
    """
    return list(iter_pages(source, name=name))


def iter_pages(source: str | Path | bytes, *, name: str | None = None) -> Iterator[PageImage]:
    """Yield the pages of an image file one at a time (a 300-page PDF is never all in memory).

    A bad file raises :class:`~scanning.BadImageError` at the first ``next()``; a page that fails
    to decode raises it naming that page (see :func:`page_loaders` to carry on past such a page).
    """
    for source_ref, decode in page_loaders(source, name=name):
        yield PageImage(decode(), source_ref)


def count_pages(source: str | Path | bytes, *, name: str | None = None) -> int:
    """How many pages a file holds, from its headers: no page is decoded (a progress bar's total, an
    upload's page count). Raises :class:`~scanning.BadImageError` as :func:`page_loaders` does.

    >>> import pypdfium2 as pdfium, io
    >>> pdf = pdfium.PdfDocument.new(); _ = [pdf.new_page(595, 842) for _ in range(3)]
    >>> buf = io.BytesIO(); pdf.save(buf); count_pages(buf.getvalue())
    3
    """
    return sum(1 for _ in page_loaders(source, name=name))


PageLoader = tuple[SourceRef, Callable[[], np.ndarray]]


def page_loaders(source: str | Path | bytes, *, name: str | None = None) -> Iterator[PageLoader]:
    """Yield ``(source_ref, decode)`` for every page; ``decode()`` returns the grayscale page.

    The file is checked (format, header sizes, truncation) before the first pair is yielded;
    ``decode()`` raises :class:`~scanning.BadImageError` for one bad page without ending the
    iteration, so a reader can keep every other page of a damaged multi-page file.
    """
    data, label = _read_bytes(source, name)
    kind = sniff_format(data)
    if kind is None:
        if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
            raise BadImageError(f"{label}: a HEIC/HEIF photo, which is not supported; send it as JPEG")
        raise BadImageError(f"{label}: not an image (PNG, JPEG, TIFF or PDF expected)")
    if kind == "pdf":
        yield from _pdf_pages(data, label)
    elif kind == "tiff":
        yield from _tiff_pages(data, label)
    else:
        _check_single(data, kind, label)
        yield SourceRef(label, 0), lambda: _decode_single(data, label)


def _read_bytes(source: str | Path | bytes, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray | memoryview):
        data, label = bytes(source), name or "<bytes>"
    else:
        path = Path(source)
        label = name or str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise BadImageError(f"{label}: cannot read file ({exc.strerror})") from exc
    if not data:
        raise BadImageError(f"{label}: empty file")
    return data, label


def _check_pixels(width: int, height: int, label: str) -> None:
    if width <= 0 or height <= 0:
        raise BadImageError(f"{label}: image header gives an empty size {width}x{height}")
    if min(width, height) < MIN_SIDE:
        raise BadImageError(f"{label}: image of {width}x{height} pixels is too small to be a scanned page "
                            f"(each side at least {MIN_SIDE} pixels)")
    if width * height > MAX_PIXELS:
        raise BadImageError(
            f"{label}: image of {width}x{height} pixels exceeds the {MAX_PIXELS // 1_000_000} megapixel "
            "limit (possible decompression bomb); not decoded"
        )


def _check_single(data: bytes, kind: str, label: str) -> None:
    """Check a PNG or JPEG's header size and completeness before decoding it."""
    if kind == "png":
        if len(data) < 24 or data[12:16] != b"IHDR":
            raise BadImageError(f"{label}: truncated PNG (no image header)")
        width, height = struct.unpack(">II", data[16:24])
        _check_pixels(width, height, label)
        if b"IEND" not in data[-32:]:
            raise BadImageError(f"{label}: truncated PNG (no end chunk)")
    else:
        width, height, scan_start = _jpeg_header(data, label)
        _check_pixels(width, height, label)
        if data.rfind(b"\xff\xd9") < scan_start:
            raise BadImageError(f"{label}: truncated JPEG (no end-of-image marker after the scan data)")


def _jpeg_header(data: bytes, label: str) -> tuple[int, int, int]:
    """Walk a JPEG's marker segments: (width, height, offset of the first scan's data)."""
    pos, size = 2, None
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise BadImageError(f"{label}: corrupt JPEG (bad segment marker at byte {pos})")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and pos + 9 <= len(data):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            size = (width, height)
        if marker == 0xDA:
            if size is None:
                break
            return size[0], size[1], pos + 2 + length
        pos += 2 + length
    raise BadImageError(f"{label}: truncated JPEG (no frame header or scan data)")


def _decode_single(data: bytes, label: str) -> np.ndarray:
    import cv2

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None or image.size == 0:
        raise BadImageError(f"{label}: the image data could not be decoded")
    return image


def _tiff_pages(data: bytes, label: str) -> Iterator[PageLoader]:
    import tifffile

    try:
        with tifffile.TiffFile(io.BytesIO(data)) as tif:
            shapes = [(page.imagewidth, page.imagelength) for page in tif.pages]  # type: ignore[union-attr]
    except Exception as exc:  # tifffile raises many types for damaged files
        raise BadImageError(f"{label}: not a readable TIFF ({exc})") from exc
    for width, height in shapes:
        _check_pixels(width, height, label)
    buf = np.frombuffer(data, np.uint8)
    for index in range(len(shapes)):
        yield SourceRef(label, index), partial(_decode_tiff_page, buf, SourceRef(label, index))


def _decode_tiff_page(buf: np.ndarray, source_ref: SourceRef) -> np.ndarray:
    import cv2

    ok, mats = cv2.imdecodemulti(buf, cv2.IMREAD_GRAYSCALE, None, (source_ref.page, source_ref.page + 1))
    if not ok or not mats:
        raise BadImageError(f"{source_ref}: TIFF page could not be decoded")
    return mats[0]


def _pdf_pages(data: bytes, label: str) -> Iterator[PageLoader]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise BadImageError(f"{label}: not a readable PDF ({exc})") from exc
    try:
        for index in range(len(pdf)):
            yield SourceRef(label, index), partial(_render_pdf_page, pdf, SourceRef(label, index))
    finally:
        pdf.close()


def _render_pdf_page(pdf: object, source_ref: SourceRef) -> np.ndarray:
    import pypdfium2 as pdfium

    scale = PDF_DPI / 72
    try:
        page = pdf[source_ref.page]  # type: ignore[index]
        width_pt, height_pt = page.get_size()
        _check_pixels(round(width_pt * scale), round(height_pt * scale), str(source_ref))
        image = page.render(scale=scale, grayscale=True).to_numpy()
    except pdfium.PdfiumError as exc:
        raise BadImageError(f"{source_ref}: PDF page could not be rendered ({exc})") from exc
    if image.ndim == 3:
        image = image[..., 0]
    return np.array(image, copy=True, order="C")
