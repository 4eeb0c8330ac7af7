"""Sheet layout invariants, the PDF (fonts, text), and PNG + JSON geometry checked against the pixels."""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

import scanning
from scanning import PageLayout, SheetSpec, SpecError, load_spec
from scanning._layout import content_area
from scanning._text import text_width

EXAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sheets" / "example.json"
ARUCO = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50))


def _big_spec(paper: str = "a4") -> SheetSpec:
    """Every field type, many times over: enough for several pages."""
    fields: list[dict[str, Any]] = []
    for i in range(1, 13):
        fields += [
            {"id": f"c{i}", "type": "single_choice", "options": 2 + i % 7},
            {"id": f"m{i}", "type": "multiple_choice", "options": 8},
            {"id": f"t{i}", "type": "true_false"},
            {"id": f"g{i}", "type": "grid_in", "columns": 1 + i % 8, "sign": i % 2 == 0, "decimal": i % 3 > 0},
            {"id": f"h{i}", "type": "handwriting", "kind": "number" if i % 2 else "text", "label": f"题{i}"},
            {"id": f"s{i}", "type": "score", "max_points": i + 8},
        ]
    fields.append({"id": "minutes", "type": "minutes"})
    return load_spec({
        "assignment_id": "big-1", "title": "Long sheet 长答题卡", "paper": paper,
        "students": [{"id": "a1", "name": "张伟"}, {"id": "a2", "name": "Liu Yang"}], "fields": fields,
    })


def _parts(page: PageLayout) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Every bubble and box as (field id, bounding box x0, y0, x1, y1) in mm."""
    parts = [(b.field_id, (b.cx - b.r, b.cy - b.r, b.cx + b.r, b.cy + b.r)) for b in page.bubbles]
    parts += [(w.field_id, (w.rect.x, w.rect.y, w.rect.x + w.rect.w, w.rect.y + w.rect.h)) for w in page.boxes]
    return parts


def _overlap(a: tuple[float, ...], b: tuple[float, ...], gap: float = 0.0) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_layout_fits_paginates_and_nothing_overlaps(paper: str) -> None:
    spec = _big_spec(paper)
    pages = scanning.layout_pages(spec)["a1"]
    width, height = scanning.PAPER_SIZES_MM[paper]
    x0, y0, x1, y1 = content_area(paper)
    assert len(pages) >= 3
    assert [p.page_index for p in pages] == list(range(len(pages)))
    assert {p.page_count for p in pages} == {len(pages)}
    order = {f.id: i for i, f in enumerate(spec.fields)}
    seen_order: list[int] = []
    for page in pages:
        assert (page.width_mm, page.height_mm) == (width, height)
        parts = _parts(page)
        for _, (a, b, c, d) in parts:  # inside the content area, clear of header and bottom markers
            assert x0 <= a and c <= x1 and y0 <= b and d <= y1
        for (fa, ra), (fb, rb) in itertools.combinations(parts, 2):
            assert not _overlap(ra, rb, gap=0.9), f"{fa} and {fb} overlap on page {page.page_index}"
        for b in page.bubbles:
            assert b.r == pytest.approx(2.5)
        on_page = sorted({order[fid] for fid, _ in parts})
        assert on_page == list(range(on_page[0], on_page[-1] + 1))  # a run of consecutive fields
        seen_order += on_page
        for text in page.texts:  # every printed string stays on the paper
            assert text.x > 0 and text.x + text_width(text.text, text.size) < width and 0 < text.y < height
    # every field on exactly one page, pages in the spec's order
    assert seen_order == list(range(len(spec.fields)))


def test_printed_text_stays_off_bubbles_and_boxes() -> None:
    for spec in (_big_spec(), load_spec(EXAMPLE)):
        for page in next(iter(scanning.layout_pages(spec).values())):
            parts = _parts(page)
            for text in page.texts:
                size_mm = text.size * 25.4 / 72
                x = text.x - (text_width(text.text, text.size) / 2 if text.anchor == "middle" else 0)
                bbox = (x, text.y - 0.75 * size_mm, x + text_width(text.text, text.size), text.y + 0.2 * size_mm)
                for field_id, part in parts:
                    assert not _overlap(bbox, part), f"{text.text!r} overlaps {field_id}"


def test_markers_sit_at_the_corners_with_distinct_ids_and_clear_of_qr() -> None:
    for paper, (width, height) in scanning.PAPER_SIZES_MM.items():
        page = scanning.layout_pages(_big_spec(paper))["a2"][0]
        corners = [(0, 0), (width, 0), (width, height), (0, height)]
        assert [m.marker_id for m in page.markers] == [0, 1, 2, 3]
        for marker, (cx, cy) in zip(page.markers, corners, strict=True):
            r = marker.rect
            assert r.w == r.h >= 12
            centre = (r.x + r.w / 2, r.y + r.h / 2)
            assert math.dist(centre, (cx, cy)) < 25  # near its own corner
            assert min(r.x, r.y, width - r.x - r.w, height - r.y - r.h) >= 5  # printable
        boxes = [(m.rect.x, m.rect.y, m.rect.x + m.rect.w, m.rect.y + m.rect.h) for m in page.markers]
        qr = page.qr
        boxes.append((qr.x, qr.y, qr.x + qr.w, qr.y + qr.h))
        for a, b in itertools.combinations(boxes, 2):
            assert not _overlap(a, b, gap=scanning._geometry.QUIET_ZONE_MM)
        for _, part in _parts(page):
            for box in boxes:
                assert not _overlap(part, box, gap=scanning._geometry.QUIET_ZONE_MM)
        assert qr == scanning.qr_rect(width)  # fixed, whatever the fields


def test_checksum_is_shared_by_students_and_differs_between_pages() -> None:
    pages = scanning.layout_pages(_big_spec())
    first, second = pages["a1"], pages["a2"]
    sums = [scanning.layout_checksum(p) for p in first]
    assert sums == [scanning.layout_checksum(p) for p in second]
    assert len(set(sums)) == len(sums)
    payload = scanning.page_payload(second[1])
    assert (payload.student_id, payload.page_index, payload.page_count) == ("a2", 1, len(second))
    assert scanning.decode_payload(scanning.encode_payload(payload)) == payload
    other = load_spec({**_big_spec().model_dump(), "fields": [{"id": "x", "type": "true_false"}]})
    assert scanning.layout_checksum(scanning.layout_pages(other)["a1"][0]) != sums[0]


def test_a_field_wider_than_the_page_is_a_spec_error() -> None:
    spec = load_spec({
        "assignment_id": "w", "title": "t", "students": [{"id": "s", "name": "n"}],
        "fields": [{"id": "long", "label": "Question twelve", "type": "handwriting", "width_mm": 180}],
    })
    with pytest.raises(SpecError, match="field 'long' .* does not fit on a page"):
        scanning.layout_pages(spec)


# --- rendering ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sheets")
    scanning.render_pdf(EXAMPLE, out / "sheets.pdf")
    scanning.render_png(EXAMPLE, out / "png", dpi=200)
    return out


def test_pdf_is_valid_embeds_both_fonts_and_holds_the_text(rendered: Path) -> None:
    import pypdfium2 as pdfium

    data = (rendered / "sheets.pdf").read_bytes()
    document = pdfium.PdfDocument(data)
    assert len(document) == 4  # 4 students x 1 page
    assert document[0].get_size() == pytest.approx((595.28, 841.89), abs=0.01)
    fonts = set(re.findall(rb"/BaseFont\s*/[A-Z]{6}\+([A-Za-z\-]+)", data))
    assert {b"DroidSansFallback", b"BitstreamVeraSans-Roman"} <= fonts
    assert data.count(b"/FontFile2") >= 2  # TrueType programs embedded, not referenced
    text = document[1].get_textpage().get_text_range()
    for expected in ("七年级数学", "Grade 7 maths", "韩梅梅", "s2302", "七年级(2)班", "用时", "minutes spent"):
        assert expected in text
    document.close()


def test_chinese_and_latin_text_leave_ink_where_printed() -> None:
    image, geometry = next(scanning.render_page_images(EXAMPLE, dpi=200))
    k = geometry.scale
    checked = 0
    for text in geometry.page.texts:
        if text.text not in ("十", "个", "10 解答", "9") and not text.text.startswith("姓名"):
            continue
        width = text_width(text.text, text.size)
        height = text.size * 25.4 / 72
        x, y = int(text.x * k), int((text.y - height * 0.8) * k)
        crop = image[y : int((text.y + 0.3) * k), x : int((text.x + width) * k)]
        assert (crop < 128).mean() > 0.03, f"no ink where {text.text!r} is printed"
        checked += 1
    assert checked == 5


def test_png_json_describes_the_pixels(rendered: Path) -> None:
    pngs = sorted((rendered / "png").glob("*.png"))
    assert [p.name for p in pngs] == [f"g7-math-w03_s230{i}_p1.png" for i in range(1, 5)]
    image = cv2.imread(str(pngs[2]), cv2.IMREAD_GRAYSCALE)
    info = json.loads(pngs[2].with_suffix(".json").read_text(encoding="utf-8"))
    assert image.shape == (info["height_px"], info["width_px"])
    assert info["qr_payload"]["student_id"] == "s2303"
    assert {b["field_id"] for b in info["bubbles"]} >= {"q1", "q3", "q4", "q6", "q10", "minutes"}
    assert {b["field_id"] for b in info["boxes"]} == {"q7", "q8", "q9"}

    corners, ids, _ = ARUCO.detectMarkers(image)
    found = {int(i): c[0] for c, i in zip(corners, ids.ravel(), strict=True)}
    expected = {m["id"]: np.array(m["corners"]) for m in info["markers"]}
    assert sorted(found) == sorted(expected) == [0, 1, 2, 3]
    for marker_id, corner in found.items():
        # ArUco puts corners on the outermost black pixels' centres, ~0.5 px inside the true edge
        assert np.abs(corner - expected[marker_id]).max() < 1.5

    small = cv2.resize(image, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    _, small_ids, _ = ARUCO.detectMarkers(small)
    assert sorted(small_ids.ravel().tolist()) == [0, 1, 2, 3]  # found on a 4x-reduced scan

    _, flipped_ids, _ = ARUCO.detectMarkers(cv2.rotate(image, cv2.ROTATE_180))
    assert flipped_ids is not None and len(flipped_ids) == 4

    import zxingcpp

    q = info["qr"]
    pad = 30
    crop = image[int(q["y"]) - pad : int(q["y"] + q["h"]) + pad, int(q["x"]) - pad : int(q["x"] + q["w"]) + pad]
    assert [r.text for r in zxingcpp.read_barcodes(crop)] == [info["qr_text"]]
    assert scanning.decode_payload(info["qr_text"]).checksum == info["qr_payload"]["checksum"]


def _ring_darkness(image: np.ndarray, cx: float, cy: float, radius: float) -> float:
    """Fraction of 36 directions along which the darkest pixel within +-1.5 px of ``radius`` is dark."""
    dark = 0
    for angle in np.linspace(0, 2 * np.pi, 36, endpoint=False):
        values = [
            image[int(round(cy + (radius + d) * np.sin(angle))), int(round(cx + (radius + d) * np.cos(angle)))]
            for d in np.linspace(-1.5, 1.5, 7)
        ]
        dark += min(values) < 150
    return dark / 36


def test_bubbles_and_boxes_land_on_printed_marks(rendered: Path) -> None:
    png = rendered / "png" / "g7-math-w03_s2301_p1.png"
    image = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
    info = json.loads(png.with_suffix(".json").read_text(encoding="utf-8"))
    for b in info["bubbles"]:
        assert _ring_darkness(image, b["cx"], b["cy"], b["r"]) > 0.9, b  # the printed circle is there
        assert _ring_darkness(image, b["cx"], b["cy"], b["r"] + 5) < 0.1, b  # and nothing just outside
        inside = image[int(b["cy"] - b["r"] / 2) : int(b["cy"] + b["r"] / 2), int(b["cx"] - b["r"] / 2) : int(b["cx"] + b["r"] / 2)]
        assert inside.min() > 90 and inside.mean() > 200  # option letter is light grey: empty reads empty
    for w in info["boxes"]:
        x0, y0, x1, y1 = (round(v) for v in (w["x"], w["y"], w["x"] + w["w"], w["y"] + w["h"]))
        assert image[y0 - 2 : y0 + 3, x0 + 5 : x1 - 5].min(axis=0).max() < 100  # top edge printed
        assert image[y1 - 2 : y1 + 3, x0 + 5 : x1 - 5].min(axis=0).max() < 100  # bottom edge printed
        assert image[y0 + 5 : y1 - 5, x0 + 5 : x1 - 5].min() == 255  # nothing printed inside


def test_in_memory_images_equal_the_pngs(rendered: Path) -> None:
    images = list(scanning.render_page_images(EXAMPLE, dpi=200))
    assert len(images) == 4
    image, geometry = images[3]
    png = rendered / "png" / "g7-math-w03_s2304_p1.png"
    assert np.array_equal(image, cv2.imread(str(png), cv2.IMREAD_GRAYSCALE))
    assert geometry.to_dict() == json.loads(png.with_suffix(".json").read_text(encoding="utf-8"))


def test_letter_paper_and_many_pages_in_one_pdf(tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    calls: list[tuple[int, int]] = []
    count = scanning.render_pdf(_big_spec("letter"), tmp_path / "big.pdf", progress=lambda d, t: calls.append((d, t)))
    pages_per_student = len(scanning.layout_pages(_big_spec("letter"))["a1"])
    assert count == 2 * pages_per_student and calls[-1] == (count, count)
    document = pdfium.PdfDocument(tmp_path / "big.pdf")
    assert len(document) == count
    assert document[0].get_size() == pytest.approx((612.0, 792.0), abs=0.01)
    document.close()


def test_cli_renders_pdf_and_pngs_and_reports_bad_specs(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from homework.cli import _commands  # noqa: F401  (registers the commands)
    from homework.cli._app import app

    runner = CliRunner()
    result = runner.invoke(app, ["sheets", "render", str(EXAMPLE), "--out", str(tmp_path / "s.pdf"),
                                 "--png", str(tmp_path / "png"), "--dpi", "100", "--paper", "letter"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF")
    assert len(list((tmp_path / "png").glob("*.json"))) == 4
    info = json.loads(next((tmp_path / "png").glob("*.json")).read_text(encoding="utf-8"))
    assert (info["width_px"], info["height_px"]) == (850, 1100)  # Letter at 100 dpi

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**json.loads(EXAMPLE.read_text(encoding="utf-8")), "paper": "a5"}), encoding="utf-8")
    result = runner.invoke(app, ["sheets", "render", str(bad), "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code == 2 and "paper" in result.output
    assert not (tmp_path / "x.pdf").exists()

    (tmp_path / "file").write_text("not a directory", encoding="utf-8")
    result = runner.invoke(app, ["sheets", "render", str(EXAMPLE), "--out", str(tmp_path / "file" / "x.pdf")])
    assert result.exit_code == 1 and "cannot write" in result.output
