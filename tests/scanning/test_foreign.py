"""Sheets this library did not print: OMRChecker import, registration without our markers, reading.

Real images: OMRChecker's public samples (fixtures/omr_foreign, MIT), compared with the answers in
OMRChecker's own snapshot (quoted in fixtures/omr_foreign/SOURCE.md).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from scanning import (
    BadImageError,
    PageNotRegisteredError,
    SpecError,
    import_omrchecker,
    load_foreign_image,
    load_foreign_sheet,
    read_foreign_page,
)

FOREIGN = Path(__file__).resolve().parents[2] / "fixtures" / "omr_foreign"

SHEET1 = ["E503110026", "B", "", "D", "B", "6", "11", "20", "7", "16", "B", "D", "C", "D", "A", "D", "B", "A",
          "C", "C", "D"]
CAMSCANNER2 = ["E204420109", "C", "C", "B", "C", "C", "01", "19", "10", "10", "18", "D", "A", "D", "D", "D", "C",
               "C", "C", "C", "D", "B", "A"]


def _gray(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    return image


def _weighted_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "weighted"
    shutil.copytree(FOREIGN / "weighted", folder)
    return folder


def test_import_maps_blocks_labels_and_custom_labels() -> None:
    sheet = import_omrchecker(FOREIGN / "sample1")
    assert [q.id for q in sheet.questions][:3] == ["Roll", "q1", "q2"]
    assert sheet.identity == "Roll"
    assert sheet.question("Roll").parts == ("Medium", *(f"roll{i}" for i in range(1, 10)))
    roll1 = sheet.field("roll1")  # QTYPE_INT: ten digits going down from the block's origin
    assert roll1.kind == "digit" and [b.value for b in roll1.bubbles] == list("0123456789")
    assert (roll1.bubbles[0].x, roll1.bubbles[0].y, roll1.bubbles[1].y) == (225, 282, 282 + 46)
    roll2 = sheet.field("roll2")  # the next label is labelsGap to the right
    assert roll2.bubbles[0].x == 225 + 58
    q2 = sheet.field("q2")  # QTYPE_MCQ4 goes across, labels down
    assert [b.value for b in q2.bubbles] == list("ABCD")
    assert (q2.bubbles[1].x - q2.bubbles[0].x, q2.bubbles[0].y) == (59, 860 + 50)
    assert [s.kind for s in sheet.steps] == ["crop_page", "crop_on_markers"]
    assert sheet.question("q5").parts == ("q5_1", "q5_2")


def test_import_reads_weighted_and_multiple_correct_keys(tmp_path: Path) -> None:
    sheet = import_omrchecker(_weighted_dir(tmp_path))
    assert sheet.keys["q1"].answers == {"C": 3.0}
    assert sheet.keys["q3"].answers == {"A": 3.0, "C": 3.0}
    assert sheet.keys["q4"].answers == {"B": 2.0, "C": 1.5}
    assert (sheet.keys["q1"].incorrect, sheet.keys["q1"].unmarked) == (-1.0, 0.0)


def test_import_reads_answer_key_csv_and_sections(tmp_path: Path) -> None:
    folder = _weighted_dir(tmp_path)
    (folder / "answer_key.csv").write_text("q1,C\nq2,E\nq3,\"A,C\"\nq4,\"[['B', 2], ['C', '3/2']]\"\nq5,B\n")
    (folder / "evaluation.json").write_text(json.dumps({
        "source_type": "csv", "options": {"answer_key_csv_path": "answer_key.csv"},
        "marking_schemes": {"DEFAULT": {"correct": "1", "incorrect": "0", "unmarked": "0"},
                            "HARD": {"questions": ["q4..5"], "marking": {"correct": 4, "incorrect": -1, "unmarked": 0}}}}))
    keys = import_omrchecker(folder).keys
    assert keys["q3"].answers == {"A": 1.0, "C": 1.0}
    assert keys["q4"].answers == {"B": 2.0, "C": 1.5}
    assert (keys["q5"].answers, keys["q5"].incorrect, keys["q5"].section) == ({"B": 4.0}, -1.0, "HARD")


@pytest.mark.parametrize(("change", "named"), [
    (lambda t: t["fieldBlocks"]["MCQ_Block_1"].update(fieldType="QTYPE_MCQ9"), "QTYPE_MCQ9"),
    (lambda t: t["preProcessors"].append({"name": "WarpOnPoints", "options": {}}), "WarpOnPoints"),
    (lambda t: t["fieldBlocks"]["MCQ_Block_1"].update(origin=[280, 60]), "outside the page"),
    (lambda t: t.update(customLabels={"x": ["q9"]}), "no field block has"),
    (lambda t: t["fieldBlocks"]["MCQ_Block_1"].update(fieldLabels=["q5..1"]), "count up"),
])
def test_unsupported_or_wrong_template_names_the_feature(tmp_path: Path, change, named: str) -> None:
    folder = _weighted_dir(tmp_path)
    template = json.loads((folder / "template.json").read_text())
    change(template)
    (folder / "template.json").write_text(json.dumps(template))
    with pytest.raises(SpecError, match=named):
        import_omrchecker(folder)


def test_auto_align_is_refused_by_name(tmp_path: Path) -> None:
    folder = _weighted_dir(tmp_path)
    (folder / "config.json").write_text(json.dumps({"alignment_params": {"auto_align": True}}))
    with pytest.raises(SpecError, match="auto_align"):
        import_omrchecker(folder)


def test_answer_key_read_from_a_filled_sheet(tmp_path: Path) -> None:
    folder = _weighted_dir(tmp_path)
    shutil.copy(FOREIGN / "omrchecker_sample2_adrian_omr_2.png", folder / "key.png")
    (folder / "evaluation.json").write_text(json.dumps({"source_type": "csv", "options": {
        "answer_key_csv_path": "missing.csv", "answer_key_image_path": "key.png"},
        "marking_schemes": {"DEFAULT": {"correct": "2", "incorrect": "-2/3", "unmarked": "0"}}}))
    keys = import_omrchecker(folder).keys
    assert {q: list(k.answers) for q, k in keys.items()} == {"q1": ["C"], "q2": ["E"], "q3": ["A"], "q4": ["B"],
                                                             "q5": ["B"]}
    assert keys["q1"].incorrect == pytest.approx(-2 / 3)
    (folder / "key.png").write_bytes(cv2.imencode(".png", np.full((504, 341), 255, np.uint8))[1].tobytes())
    with pytest.raises(SpecError, match="no clear answer for any question"):
        import_omrchecker(folder)


def test_block_empty_value(tmp_path: Path) -> None:
    folder = _weighted_dir(tmp_path)
    template = json.loads((folder / "template.json").read_text())
    template["fieldBlocks"]["MCQ_Block_1"]["emptyValue"] = "no"
    (folder / "template.json").write_text(json.dumps(template))
    (folder / "evaluation.json").unlink()
    sheet = import_omrchecker(folder)
    page = read_foreign_page(sheet, _gray(FOREIGN / "omrchecker_sample2_adrian_omr_2.png")).page.image.copy()
    cv2.rectangle(page, (60, 158), (300, 196), 255, -1)  # rub out q3's row (y 164..189)
    values = read_foreign_page(sheet.model_copy(update={"steps": ()}), page).values()
    assert values == {"q1": "C", "q2": "E", "q3": "no", "q4": "B", "q5": "B"}


def test_sheet_round_trips_as_json() -> None:
    sheet = import_omrchecker(FOREIGN / "sample1")
    again = load_foreign_sheet(sheet.model_dump_json())
    assert again == sheet
    with pytest.raises(SpecError, match="identity"):
        load_foreign_sheet({**sheet.model_dump(), "identity": "nope"})
    with pytest.raises(SpecError, match="invalid foreign sheet"):
        load_foreign_sheet("{}")


def test_phone_photo_through_page_edges_and_markers_matches_omrchecker() -> None:
    sheet = import_omrchecker(FOREIGN / "sample1")
    photo = load_foreign_image(sheet, (FOREIGN / "omrchecker_sample1_sheet1.jpg").read_bytes())
    reading = read_foreign_page(sheet, photo)
    assert reading.page.methods == ("page edges", "markers")
    assert list(reading.values().values()) == SHEET1
    assert reading.answer("Roll").status == "ok"
    assert reading.answer("q2").status == "blank"


def test_scan_with_markers_scores_with_sectioned_marking() -> None:
    sheet = import_omrchecker(FOREIGN / "sample5")
    reading = read_foreign_page(sheet, _gray(FOREIGN / "sample5" / "camscanner-2.jpg"))
    assert list(reading.values().values()) == CAMSCANNER2
    assert sum(sheet.keys[q].score(v) for q, v in reading.values().items() if q in sheet.keys) == 55.0


def test_weighted_answers_score_like_omrchecker(tmp_path: Path) -> None:
    sheet = import_omrchecker(_weighted_dir(tmp_path))
    reading = read_foreign_page(sheet, _gray(FOREIGN / "omrchecker_sample2_adrian_omr_2.png"))
    values = reading.values()
    assert values == {"q1": "C", "q2": "E", "q3": "A", "q4": "B", "q5": "B"}
    assert sum(sheet.keys[q].score(v) for q, v in values.items()) == 10.0  # 3 + 3 + 3 + 2 - 1


def _paint(gray: np.ndarray, sheet: Any, field_id: str, value: str, scale: float) -> None:
    """Fill one more bubble on an already flat page image (template units * scale = pixels)."""
    field = sheet.field(field_id)
    box = next(b for b in field.bubbles if b.value == value)
    w, h = field.size or sheet.bubble_size
    centre = (int((box.x + w / 2) * scale), int((box.y + h / 2) * scale))
    cv2.circle(gray, centre, int(min(w, h) * scale * 0.4), 40, -1)


def test_a_second_mark_goes_to_review_never_graded(tmp_path: Path) -> None:
    sheet = import_omrchecker(_weighted_dir(tmp_path))
    flat = read_foreign_page(sheet, _gray(FOREIGN / "omrchecker_sample2_adrian_omr_2.png")).page.image.copy()
    plain = sheet.model_copy(update={"steps": ()})  # the page is already flat: the whole image
    _paint(flat, plain, "q2", "A", 1.0)
    reading = read_foreign_page(plain, flat)
    assert reading.answer("q2").value == "AE"
    assert reading.answer("q2").status == "needs_review"
    assert reading.answer("q1").status == "ok"


def test_a_large_jpeg_is_decoded_reduced_and_read_the_same() -> None:
    sheet = import_omrchecker(FOREIGN / "sample5")
    photo = _gray(FOREIGN / "sample5" / "camscanner-2.jpg")
    big = cv2.resize(photo, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    data = cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()
    reduced = load_foreign_image(sheet, data)
    assert reduced.shape[0] < big.shape[0] // 1.9
    assert list(read_foreign_page(sheet, reduced).values().values()) == CAMSCANNER2
    with pytest.raises(BadImageError):
        load_foreign_image(sheet, b"not an image")


def test_a_page_that_cannot_be_aligned_says_why() -> None:
    sheet = import_omrchecker(FOREIGN / "sample5")
    with pytest.raises(PageNotRegisteredError, match="marker was not found"):
        read_foreign_page(sheet, np.full((1100, 1000), 235, np.uint8))
