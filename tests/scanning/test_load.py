"""Loading pages: every supported format, from a path and from bytes, and each kind of bad file."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest

from scanning import BadImageError
from scanning._load import MAX_PIXELS, SourceRef, iter_pages, load_pages, page_loaders, sniff_format


@pytest.fixture(scope="module")
def gray() -> np.ndarray:
    rng = np.random.default_rng(7)
    image = np.full((300, 200), 235, np.uint8)
    image[50:120, 40:160] = 20
    return np.clip(image + rng.normal(0, 4, image.shape), 0, 255).astype(np.uint8)


def _encode(ext: str, image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(ext, image)
    assert ok
    return buf.tobytes()


@pytest.mark.parametrize("ext", [".png", ".jpg"])
def test_png_and_jpeg_load_as_grayscale_from_path_and_bytes(tmp_path, gray, ext) -> None:
    data = _encode(ext, cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))
    path = tmp_path / f"scan{ext}"
    path.write_bytes(data)
    from_path, from_bytes = load_pages(path), load_pages(data, name="upload")
    assert from_path[0].source == SourceRef(str(path), 0)
    assert from_bytes[0].source == SourceRef("upload", 0)
    for page in (from_path[0], from_bytes[0]):
        assert page.image.shape == gray.shape and page.image.dtype == np.uint8
        assert np.abs(page.image.astype(int) - gray).mean() < 3


def test_multipage_tiff_yields_every_page_in_order(tmp_path, gray) -> None:
    import tifffile

    pages = np.stack([np.full_like(gray, 40 * (k + 1)) for k in range(3)])
    path = tmp_path / "batch.tif"
    tifffile.imwrite(path, pages, compression="zlib", photometric="minisblack")
    loaded = load_pages(path)
    assert [p.source.page for p in loaded] == [0, 1, 2]
    assert [int(p.image.mean()) for p in loaded] == [40, 80, 120]


def test_pdf_pages_render_at_200_dpi(gray) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    for k in range(2):
        pdf.rect(100, 100, 200, 200, fill=1)
        pdf.drawString(100, 700, f"page {k + 1}")
        pdf.showPage()
    pdf.save()
    loaded = load_pages(buf.getvalue(), name="sheets.pdf")
    assert [str(p.source) for p in loaded] == ["sheets.pdf page 1", "sheets.pdf page 2"]
    assert loaded[0].image.shape == (2339, 1654)  # A4 at 200 dpi
    assert loaded[0].image.min() == 0 and loaded[0].image.max() == 255


def test_not_an_image_names_the_file(tmp_path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some text, not a scan")
    with pytest.raises(BadImageError, match=r"notes.txt: not an image"):
        load_pages(path)


def test_empty_and_missing_files(tmp_path) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(BadImageError, match="empty.jpg: empty file"):
        load_pages(tmp_path / "empty.jpg")
    with pytest.raises(BadImageError, match="cannot read file"):
        load_pages(tmp_path / "missing.jpg")


def test_truncated_jpeg_is_refused_rather_than_half_decoded(gray) -> None:
    data = _encode(".jpg", gray)
    with pytest.raises(BadImageError, match="truncated JPEG"):
        load_pages(data[: len(data) // 2], name="cut.jpg")
    with pytest.raises(BadImageError, match="truncated JPEG"):
        load_pages(data[:200], name="cut.jpg")


def test_trailing_bytes_after_a_complete_jpeg_are_fine(gray) -> None:
    assert load_pages(_encode(".jpg", gray) + b"\x00" * 16 + b"camera trailer")[0].image.shape == gray.shape


def test_truncated_png_is_refused(gray) -> None:
    data = _encode(".png", gray)
    with pytest.raises(BadImageError, match="truncated PNG"):
        load_pages(data[: len(data) - 40])


def _png_header_only(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    body = struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    idat = zlib.compress(b"\x00" * 1024)  # a few bytes claiming a gigantic image
    body += struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    return b"\x89PNG\r\n\x1a\n" + body + struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))


def test_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = _png_header_only(100_000, 100_000)
    assert len(bomb) < 200
    with pytest.raises(BadImageError, match="exceeds the 60 megapixel limit"):
        load_pages(bomb, name="bomb.png")


def test_decompression_bomb_jpeg_header_is_refused(gray) -> None:
    data = bytearray(_encode(".jpg", gray))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 60000, 60000)
    with pytest.raises(BadImageError, match="60000x60000 pixels exceeds"):
        load_pages(bytes(data))
    assert MAX_PIXELS == 60_000_000


def test_a_bad_page_in_a_multipage_file_does_not_hide_the_others(gray) -> None:
    import tifffile

    buf = io.BytesIO()
    tifffile.imwrite(buf, np.stack([gray, gray]), compression="zlib", photometric="minisblack")
    data = bytearray(buf.getvalue())
    with tifffile.TiffFile(io.BytesIO(bytes(data))) as tif:
        offset = tif.pages[0].dataoffsets[0]
    data[offset : offset + 64] = b"\x00" * 64  # damage the first page's compressed strip
    outcomes = []
    for ref, decode in page_loaders(bytes(data), name="damaged.tif"):
        try:
            outcomes.append((ref.page, decode().shape))
        except BadImageError as exc:
            outcomes.append((ref.page, str(exc)))
    assert outcomes[1] == (1, gray.shape)
    assert outcomes[0][0] == 0 and outcomes[0][1] in (gray.shape, "damaged.tif page 1: TIFF page could not be decoded")


def test_sniff_and_lazy_iteration(gray) -> None:
    assert sniff_format(_encode(".png", gray)) == "png"
    assert sniff_format(b"II*\x00....") == "tiff"
    pages = iter_pages(b"garbage", name="g.bin")
    with pytest.raises(BadImageError, match="g.bin: not an image"):
        next(pages)


def test_an_iphone_heic_photo_gets_a_specific_message() -> None:
    heic_start = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    with pytest.raises(BadImageError, match="IMG_0001.HEIC: a HEIC/HEIF photo, which is not supported; send it as JPEG"):
        load_pages(heic_start, name="IMG_0001.HEIC")
