"""Whole files of real fixture scans through the reader: mixed, out of order, damaged, foreign.

Each file is made here from the committed scans (``fixtures/scans``) the way scanner stations make
them: a multi-page TIFF or PDF with many students' pages in any order, a blank sheet or a page from
another system in between, a truncated transfer. Every page must come back, in order, read or
kept with the reason it could not be.
"""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest

from scanning import (
    BadImageError,
    PageNotRegisteredError,
    SheetNotIdentifiedError,
    SheetReader,
    load_spec,
    read_truth,
)

ROOT = Path(__file__).resolve().parents[2]
SCANS = ROOT / "fixtures" / "scans"


@pytest.fixture(scope="module")
def reader() -> SheetReader:
    return SheetReader(load_spec(SCANS / "spec.json"))


@pytest.fixture(scope="module")
def pages() -> dict[str, np.ndarray]:
    """Fixture pages by ``student/page`` (1-based page), as decoded images (phone photos in colour)."""
    out = {}
    for page in read_truth(SCANS / "truth.json"):
        image = cv2.imread(str(SCANS / page.file), cv2.IMREAD_UNCHANGED)
        out[f"{page.student_id}/{page.page_index + 1}"] = image
    return out


def _identity(result) -> str:  # noqa: ANN001
    return f"{result.student_id}/{result.page_index + 1}"


def _foreign_page() -> np.ndarray:
    """A page from another system: printed text and a table, no registration markers, no QR code."""
    page = np.full((2339, 1654), 245, np.uint8)
    for i in range(30):
        cv2.putText(page, f"Invoice line {i}: 12 x widget  $ {i * 7}.50", (120, 200 + 65 * i),
                    cv2.FONT_HERSHEY_SIMPLEX, 1.2, 20, 2)
    cv2.rectangle(page, (100, 150), (1550, 2200), 0, 3)
    return page


def test_tiff_with_students_mixed_out_of_order_blank_and_foreign_pages(reader, pages, tmp_path) -> None:  # noqa: ANN001
    import tifffile

    order = ["st03/2", "st01/1", "blank", "st03/1", "foreign", "st05/2", "st01/1"]
    images = {**pages, "blank": np.full((2339, 1654), 250, np.uint8), "foreign": _foreign_page()}
    path = tmp_path / "batch.tif"
    with tifffile.TiffWriter(path) as tif:
        for name in order:
            img = images[name]
            tif.write(img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2RGB), photometric=
                      "minisblack" if img.ndim == 2 else "rgb", compression="zlib")
    results = list(reader.read_file(path))
    assert len(results) == len(order)
    for name, result in zip(order, results, strict=True):
        if name in ("blank", "foreign"):
            assert not result.ok and isinstance(result.error, PageNotRegisteredError)
            assert result.image is not None  # kept for a human
            if name == "blank":
                assert "blank page" in str(result.error)
        else:
            assert result.ok, result.error
            assert _identity(result) == name  # the same page twice is read twice: intake dedupes
    assert [r.source.page for r in results] == list(range(len(order)))


def test_pdf_of_scanned_pages_reads_every_page(reader, pages, tmp_path) -> None:  # noqa: ANN001
    from PIL import Image

    order = ["st07/2", "st02/1", "st02/2"]
    frames = [Image.fromarray(pages[n] if pages[n].ndim == 2 else cv2.cvtColor(pages[n], cv2.COLOR_BGR2RGB))
              for n in order]
    path = tmp_path / "scans.pdf"
    frames[0].save(path, save_all=True, append_images=frames[1:], resolution=200.0)
    results = list(reader.read_file(path))
    assert [r.ok for r in results] == [True, True, True]
    assert [_identity(r) for r in results] == order


def test_truncated_transfer_is_kept_byte_for_byte(reader) -> None:  # noqa: ANN001
    data = (SCANS / "fx-scan-1_st01_p1_scan150-rot0.jpg").read_bytes()
    cut = data[: len(data) // 2]
    (result,) = list(reader.read_file(cut, name="upload-17.jpg"))
    assert not result.ok and isinstance(result.error, BadImageError)
    assert result.data == cut
    assert "upload-17.jpg" in str(result.error)


def test_a_sheet_of_an_assignment_the_reader_was_not_given(pages) -> None:  # noqa: ANN001
    other = SheetReader(load_spec(ROOT / "fixtures" / "sheets" / "example.json"))
    ok, encoded = cv2.imencode(".jpg", pages["st04/1"])
    (result,) = list(other.read_file(encoded.tobytes(), name="st04.jpg"))
    assert not result.ok and isinstance(result.error, SheetNotIdentifiedError)
    assert "fx-scan-1" in str(result.error)
    assert result.sheet is not None and result.sheet.student_id == "st04"  # the QR code was read
    assert result.image is not None


def test_a_page_turned_and_shrunk_by_a_fax_like_path_still_reads(reader, pages) -> None:  # noqa: ANN001
    """A 200 dpi scan downsampled to ~150 dpi and re-encoded at JPEG quality 60, upside down."""
    img = pages["st05/1"]
    small = cv2.resize(img, None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", np.rot90(small, 2).copy(), [cv2.IMWRITE_JPEG_QUALITY, 60])
    (result,) = list(reader.read_file(io.BytesIO(encoded.tobytes()).getvalue(), name="resent.jpg"))
    assert result.ok and _identity(result) == "st05/1"
