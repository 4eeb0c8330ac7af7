"""The page pipeline on rendered, pencilled pages: identity, every field, rotations, perspective,
every input format, and each kind of bad page (kept, never dropped)."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
import scanpages as sp

from scanning import (
    BadImageError,
    BlankPageError,
    PageFailure,
    PageNotRegisteredError,
    PageReading,
    SheetNotIdentifiedError,
    SheetReader,
    layout_checksum,
    read_page,
    render_pdf,
)

FOREIGN = Path(__file__).resolve().parents[2] / "fixtures" / "omr_foreign"


@pytest.fixture(scope="module")
def pages() -> list:
    return sp.rendered()


@pytest.fixture(scope="module")
def filled(pages) -> np.ndarray:
    image, geometry = pages[0]
    return sp.write_in_box(sp.pencil(image, geometry, sp.MARKS), geometry, "q8", "42")


@pytest.fixture(scope="module")
def reader() -> SheetReader:
    return SheetReader(sp.spec(), ocr=None)


def _values(reading: PageReading) -> dict:
    return {f.field_id: (f.value, f.status) for f in reading.fields if f.kind != "handwriting"}


def test_a_page_identifies_itself_and_every_field_is_read(reader, pages, filled) -> None:
    reading = reader.read_page(filled, source="scan.png")
    layout = pages[0][1].page
    assert (reading.assignment_id, reading.student_id, reading.page_index, reading.page_count) == ("hw-read", "s1", 0, 1)
    assert reading.layout_checksum == layout_checksum(layout)
    assert _values(reading) == sp.EXPECTED
    assert [f.field_id for f in reading.fields] == [f["id"] for f in sp.SPEC["fields"]]
    assert reading.registration.markers_found == (0, 1, 2, 3) and reading.registration.confidence > 0.9
    assert {f.field_id for f in reading.needs_review} == {"q2", "q4", "q8"}
    for f in reading.fields:
        assert 0.0 <= f.confidence <= 1.0
        assert (f.crop is not None) == (f.status == "needs_review" or f.confidence < 0.75)  # for review


def test_writing_box_crop_is_the_box_interior_without_its_border(reader, pages, filled) -> None:
    box = next(b for b in pages[0][1].page.boxes if b.field_id == "q8")
    crop = reader.read_page(filled).field("q8").crop
    scale = 200 / 25.4  # the scan's own scale (crops are never cut finer than 8 px/mm)
    assert np.allclose(crop.shape, ((box.rect.h - 1.8) * scale, (box.rect.w - 1.8) * scale), atol=1.5)
    assert crop[:, :3].min() > 200 and crop[:3, :].min() > 200  # no printed border at the edges
    assert crop.min() < 100  # the writing is in it


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_quarter_turns_read_the_same(reader, filled, turns) -> None:
    turned = np.ascontiguousarray(np.rot90(filled, turns))
    assert _values(reader.read_page(turned)) == sp.EXPECTED


def test_fifteen_degree_phone_photo_in_colour_reads_the_same(reader, filled) -> None:
    photo = cv2.cvtColor(sp.tilt(filled), cv2.COLOR_GRAY2BGR)
    reading = reader.read_page(photo)
    assert _values(reading) == sp.EXPECTED
    assert reading.student_id == "s1"


def test_pdf_with_many_students_reads_every_page(reader) -> None:
    buf = io.BytesIO()
    render_pdf(sp.spec(), buf)
    results = list(reader.read_file(buf.getvalue(), name="class.pdf"))
    assert [(r.source.page, r.student_id) for r in results] == [(0, "s1"), (1, "s2"), (2, "s3")]
    assert all(f.status == "blank" for r in results for f in r.fields if f.kind != "handwriting")


def test_multipage_tiff_mixing_students_keeps_a_blank_page_in_place(reader, pages, filled) -> None:
    import tifffile

    blank = np.full_like(filled, 245)
    stack = np.stack([sp.pencil(*pages[2], {"q1": [("A", 0, "full")]}), blank, filled])
    buf = io.BytesIO()
    tifffile.imwrite(buf, stack, compression="zlib", photometric="minisblack")
    results = list(reader.read_file(buf.getvalue(), name="batch.tif"))
    assert [r.ok for r in results] == [True, False, True]
    assert results[0].student_id == "s3" and results[0].field("q1").value == "A"
    assert results[2].student_id == "s1" and _values(results[2]) == sp.EXPECTED
    failure = results[1]
    assert isinstance(failure.error, BlankPageError) and "batch.tif page 2: blank page" in str(failure.error)
    assert isinstance(failure.error, PageNotRegisteredError)
    assert failure.image is not None and failure.image.shape == blank.shape  # kept for a human


def test_a_file_that_is_not_an_image_is_kept_as_bytes(reader, tmp_path) -> None:
    path = tmp_path / "homework.docx"
    path.write_bytes(b"PK\x03\x04 not a scan")
    (failure,) = reader.read_file(path)
    assert isinstance(failure, PageFailure) and isinstance(failure.error, BadImageError)
    assert "homework.docx: not an image" in str(failure.error)
    assert failure.data == b"PK\x03\x04 not a scan"


def test_truncated_jpeg_and_decompression_bomb_fail_clearly(reader, filled) -> None:
    data = sp.encode(filled)
    (cut,) = reader.read_file(data[: len(data) * 2 // 3], name="cut.jpg")
    assert "truncated JPEG" in str(cut.error) and cut.data is not None
    bomb = bytearray(data)
    sof = bomb.index(b"\xff\xc0")
    bomb[sof + 5 : sof + 9] = struct.pack(">HH", 50000, 50000)
    (big,) = reader.read_file(bytes(bomb), name="huge.jpg")
    assert isinstance(big.error, BadImageError) and "exceeds the 60 megapixel limit" in str(big.error)


@pytest.mark.parametrize("name", ["omrchecker_sample1_sheet1.jpg", "omrchecker_sample2_adrian_omr_2.png"])
def test_a_sheet_from_another_system_is_not_registered_and_kept(reader, name) -> None:
    (failure,) = reader.read_file(FOREIGN / name)
    assert isinstance(failure.error, PageNotRegisteredError)
    assert "found 0 of the page's 4 registration markers" in str(failure.error)
    assert failure.image is not None and failure.image.ndim == 2


def test_unknown_assignment_keeps_what_the_qr_says(filled) -> None:
    other = dict(sp.SPEC, assignment_id="hw-other")
    (failure,) = SheetReader(other, ocr=None).read_file(sp.encode(filled), name="a.jpg")
    assert isinstance(failure.error, SheetNotIdentifiedError)
    assert "names assignment 'hw-read', which is not among the specs given (hw-other)" in str(failure.error)
    assert failure.sheet.assignment_id == "hw-read" and failure.sheet.student_id == "s1"


def test_a_sheet_printed_from_another_version_of_the_spec(filled) -> None:
    changed = dict(sp.SPEC, fields=[dict(sp.SPEC["fields"][0], options=5), *sp.SPEC["fields"][1:]])
    with pytest.raises(SheetNotIdentifiedError, match="printed from another version of the sheet"):
        read_page(filled, changed, ocr=None)


def test_an_unreadable_qr_code(reader, pages, filled) -> None:
    geometry = pages[0][1]
    x, y, w, h = (int(v) for v in geometry.rect(geometry.page.qr))
    torn = filled.copy()
    torn[y : y + h, x + w // 3 : x + w] = 255
    with pytest.raises(SheetNotIdentifiedError, match="scan.jpg page 3: the QR code could not be read"):
        reader.read_page(torn, source=sp_source("scan.jpg", 2))


def sp_source(name: str, page: int):  # noqa: ANN201
    from scanning import SourceRef

    return SourceRef(name, page)


def test_handwriting_goes_to_the_ocr_backend(filled) -> None:
    """The default backend (PP-OCR through RapidOCR, models in the wheel) reads the box."""
    reading = read_page(filled, sp.spec()).field("q8")
    assert (reading.value, reading.status) == ("42", "ok")
    assert reading.confidence > 0.8 and reading.crop is not None


def test_to_dict_is_json_ready(reader, filled) -> None:
    import json

    data = json.loads(json.dumps(reader.read_page(filled).to_dict()))
    assert data["student_id"] == "s1" and data["fields"][0] == {
        "field_id": "q1", "kind": "single_choice", "value": "B", "confidence": 1.0, "status": "ok", "reason": ""
    }


def test_one_reader_for_several_assignments_on_a4_and_letter(filled) -> None:
    letter = dict(sp.SPEC, assignment_id="hw-letter", paper="letter", students=[{"id": "u9", "name": "Lucy"}])
    image, geometry = sp.rendered(spec_data=letter)[0]
    marked = sp.pencil(image, geometry, {"q1": [("D", 0, "full")]})
    reader = SheetReader([sp.SPEC, letter], ocr=None)
    on_letter, on_a4 = reader.read_page(np.rot90(marked)), reader.read_page(filled)
    assert (on_letter.assignment_id, on_letter.student_id, on_letter.field("q1").value) == ("hw-letter", "u9", "D")
    assert (on_a4.assignment_id, _values(on_a4)) == ("hw-read", sp.EXPECTED)


def test_an_unknown_ocr_backend_fails_when_the_reader_is_made() -> None:
    from scanning import OCRBackendError

    with pytest.raises(OCRBackendError, match="unknown OCR backend 'tesseract'"):
        SheetReader(sp.SPEC, ocr="tesseract")


def test_a_curled_page_is_read_where_its_bubbles_really_are(reader, filled) -> None:
    """The middle of the page bulges 1.5 mm away from where the corner markers put it."""
    h, w = filled.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bulge = 1.5 * 200 / 25.4 * np.sin(np.pi * yy / h)
    dx, dy = bulge * np.sin(np.pi * xx / w), bulge * np.sin(2 * np.pi * xx / w)
    curled = cv2.remap(filled, xx + dx, yy + dy, cv2.INTER_LINEAR, borderValue=255)
    assert _values(reader.read_page(curled)) == sp.EXPECTED


def test_a_page_with_torn_markers_still_says_whose_it_is(reader, pages, filled) -> None:
    geometry = pages[0][1]
    torn = filled.copy()
    for marker in geometry.page.markers[1:]:  # three of the four markers torn off
        x, y, w, h = (int(v) for v in geometry.rect(marker.rect))
        torn[y - 4 : y + h + 4, x - 4 : x + w + 4] = 255
    (failure,) = reader.read_file(sp.encode(torn), name="torn.jpg")
    assert isinstance(failure.error, PageNotRegisteredError) and "found 1 of the page's 4" in str(failure.error)
    assert (failure.sheet.assignment_id, failure.sheet.student_id, failure.sheet.page_index) == ("hw-read", "s1", 0)
