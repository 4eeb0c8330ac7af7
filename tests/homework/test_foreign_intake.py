"""Scans of sheets the library did not print go through the same intake, review and answers.

Real scan: OMRChecker's sample5 camscanner-2.jpg (fixtures/omr_foreign/sample5, MIT), whose
roll number is E204420109 and whose score under its own evaluation.json is 55 (OMRChecker's snapshot).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from homework import ForeignAssignment, HomeworkError, UnknownAssignmentError
from homework._intake import Intake
from homework.storage import ScanStore
from scanning import SpecError, import_omrchecker, read_foreign_page

SAMPLE5 = Path(__file__).resolve().parents[2] / "fixtures" / "omr_foreign" / "sample5"
SCAN = SAMPLE5 / "camscanner-2.jpg"


@pytest.fixture(scope="module")
def sheet():
    return import_omrchecker(SAMPLE5)


def _intake(database_url: str, sheet, numbers: dict[str, str], *, flat: bool = False) -> Intake:
    intake = Intake(ScanStore(database_url), ocr=None)
    if flat:  # pages handed in already flattened onto the template (the whole image is the page)
        sheet = sheet.model_copy(update={"steps": ()})
    intake.register_foreign({"assignment_id": "mock-5", "title": "Technothlon mock", "sheet": sheet.model_dump(),
                             "students": [{"id": sid, "name": f"student {sid}", "number": number}
                                          for sid, number in numbers.items()]})
    return intake


def _flat_page(sheet, marks: list[tuple[str, str]]) -> bytes:
    """The scan flattened onto its template, with extra pencil marks (field, value) painted on."""
    reading = read_foreign_page(sheet, cv2.imread(str(SCAN), cv2.IMREAD_GRAYSCALE))
    page, scale = reading.page.image.copy(), reading.page.scale
    for field_id, value in marks:
        field = sheet.field(field_id)
        box = next(b for b in field.bubbles if b.value == value)
        w, h = field.size or sheet.bubble_size
        cv2.rectangle(page, (int((box.x + 0.1 * w) * scale), int((box.y + 0.1 * h) * scale)),
                      (int((box.x + 0.9 * w) * scale), int((box.y + 0.9 * h) * scale)), 30, -1)
    return cv2.imencode(".png", page)[1].tobytes()


def test_a_scan_is_identified_by_its_roll_number_and_graded_with_its_key(database_url: str, sheet) -> None:
    intake = _intake(database_url, sheet, {"s01": "E204420109", "s02": "E204420102"})
    report = intake.receive(SCAN, assignment_id="mock-5")
    (page,) = report.pages
    assert (page.status, page.student_id, page.graded, page.to_review) == ("read", "s01", 22, 0)
    assert report.completed_sheets == (("mock-5", "s01"),)
    assert sum(r["score"] for r in intake.store.answers("mock-5")) == 55.0
    q6 = intake.store.answer("mock-5", "s01", "q6")
    assert (q6["value"], q6["score"], q6["correct"]) == ("01", 3.0, True)
    assert intake.missing_pages("mock-5") == {"s02": [0]}
    rescanned = cv2.imencode(".png", cv2.imread(str(SCAN), cv2.IMREAD_GRAYSCALE))[1].tobytes()
    again = intake.receive(rescanned, name="again.png", assignment_id="mock-5")
    assert again.pages[0].status == "duplicate"


def test_an_upload_that_names_no_assignment_is_matched_by_sheet_and_number(database_url: str, sheet) -> None:
    intake = _intake(database_url, sheet, {"s01": "E204420109"})
    other = sheet.model_copy(update={"name": "other"})
    intake.register_foreign({"assignment_id": "mock-6", "title": "Another mock", "sheet": other.model_dump(),
                             "students": [{"id": "s09", "name": "韩梅梅", "number": "E204420100"}]})
    (page,) = intake.receive(SCAN).pages  # no QR, no assignment named: the roster number decides
    assert (page.status, page.assignment_id, page.student_id) == ("read", "mock-5", "s01")
    intake.register_foreign({"assignment_id": "mock-7", "title": "Same class again", "sheet": other.model_dump(),
                             "students": [{"id": "s01", "name": "李雷", "number": "E204420109"}]})
    rescanned = cv2.imencode(".png", cv2.imread(str(SCAN), cv2.IMREAD_GRAYSCALE))[1].tobytes()
    (page,) = intake.receive(rescanned, name="b.png").pages
    assert page.status == "not_identified" and "mock-5, mock-7" in page.message


def test_a_number_not_on_the_roster_is_kept_never_guessed(database_url: str, sheet) -> None:
    intake = _intake(database_url, sheet, {"s01": "E204420108"})
    (page,) = intake.receive(SCAN, assignment_id="mock-5").pages
    assert page.status == "not_identified" and page.student_id is None
    assert "E204420109" in page.message and "not on the roster" in page.message
    assert intake.store.answers("mock-5") == []
    assert [p.status for p in intake.store.pages(status="not_identified")] == ["not_identified"]


def test_a_doubly_marked_digit_is_kept_for_a_human(database_url: str, sheet) -> None:
    intake = _intake(database_url, sheet, {"s01": "E204420109"}, flat=True)
    (page,) = intake.receive(_flat_page(sheet, [("roll4", "7")]), name="p.png", assignment_id="mock-5").pages
    assert page.status == "not_identified"
    assert "unclear" in page.message and "roll4" in page.message
    assert intake.store.answers("mock-5") == []


def test_a_double_mark_goes_to_review_and_the_teacher_settles_it(database_url: str, sheet) -> None:
    intake = _intake(database_url, sheet, {"s01": "E204420109"}, flat=True)
    (page,) = intake.receive(_flat_page(sheet, [("q1", "A")]), name="p.png", assignment_id="mock-5").pages
    assert (page.status, page.student_id, page.to_review) == ("read", "s01", 1)
    (item,) = intake.store.reviews(assignment_id="mock-5")
    assert (item.field_id, item.value_read) == ("q1", "AC")
    crop = cv2.imdecode(np.frombuffer(intake.store.get_blob(item.crop_sha256), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert crop is not None and crop.shape[1] > crop.shape[0]  # the row of four options
    assert intake.store.answer("mock-5", "s01", "q1")["score"] is None
    answer = intake.resolve(item.review_id, "c", teacher="t1")
    assert (answer["value"], answer["score"], answer["grade_status"]) == ("c", 4.0, "graded")


def test_blank_columns_pad_a_number_only_at_its_ends(database_url: str, sheet) -> None:
    intake = _intake(database_url, sheet, {"s01": "E20442010"}, flat=True)
    page = cv2.imdecode(np.frombuffer(_flat_page(sheet, []), np.uint8), cv2.IMREAD_GRAYSCALE)
    scale = page.shape[1] / sheet.page[0]

    def rub_out(field_id: str, image: np.ndarray) -> bytes:
        field = sheet.field(field_id)
        xs = [b.x for b in field.bubbles]
        ys = [b.y for b in field.bubbles]
        w, h = field.size or sheet.bubble_size
        out = image.copy()
        cv2.rectangle(out, (int(min(xs) * scale) - 2, int(min(ys) * scale) - 2),
                      (int((max(xs) + w) * scale) + 2, int((max(ys) + h) * scale) + 2), 255, -1)
        return cv2.imencode(".png", out)[1].tobytes()

    (last_blank,) = intake.receive(rub_out("roll9", page), name="a.png", assignment_id="mock-5").pages
    assert (last_blank.status, last_blank.student_id) == ("read", "s01")
    (inner_blank,) = intake.receive(rub_out("roll5", page), name="b.png", assignment_id="mock-5").pages
    assert inner_blank.status == "not_identified" and "nothing marked in roll5" in inner_blank.message


def test_a_page_that_cannot_be_aligned_is_kept_with_the_reason(database_url: str, sheet) -> None:
    intake = _intake(database_url, sheet, {"s01": "E204420109"})
    blank = cv2.imencode(".png", np.full((1100, 1000), 240, np.uint8))[1].tobytes()
    (page,) = intake.receive(blank, name="blank.png", assignment_id="mock-5").pages
    assert page.status == "not_registered" and "marker was not found" in page.message
    (page,) = intake.receive(b"garbage", name="x.jpg", assignment_id="mock-5").pages
    assert page.status == "bad_image"


def test_registration_needs_a_number_question_and_unique_numbers(database_url: str, sheet) -> None:
    intake = Intake(ScanStore(database_url), ocr=None)
    body = {"assignment_id": "a", "title": "t", "sheet": sheet.model_dump(),
            "students": [{"id": "s1", "name": "n", "number": "1"}, {"id": "s2", "name": "m", "number": "1"}]}
    with pytest.raises(SpecError, match="number"):
        intake.register_foreign(body)
    no_identity = {**body, "sheet": {**sheet.model_dump(), "identity": None}, "students": body["students"][:1]}
    with pytest.raises(SpecError, match="student-number question"):
        intake.register_foreign(no_identity)
    with pytest.raises(HomeworkError, match="register_foreign"):
        intake.register(body)
    with pytest.raises(UnknownAssignmentError):
        intake.receive(SCAN, assignment_id="nope")
    assert isinstance(intake.register_foreign({**body, "students": body["students"][:1]}), ForeignAssignment)
    assert intake.knows("a")
    with pytest.raises(HomeworkError, match="did not print"):
        intake.sheets_pdf("a")


def test_reports_and_the_notebook_take_a_store_with_foreign_sheets(database_url: str, sheet, bank) -> None:
    import pandas as pd

    from homework._notebook import answer_crops
    from homework._records import store_records

    intake = _intake(database_url, sheet, {"s01": "E204420109"})
    intake.receive(SCAN)
    records = store_records(intake.store, bank)
    assert records.assignments == ()  # not bank items: nothing for mastery, and nothing breaks
    assert "s01" in set(records.roster["student_id"])
    row = intake.store.answer("mock-5", "s01", "q1")
    notebook = pd.DataFrame([{"assignment_id": "mock-5", "student_id": "s01", "field_id": "q1",
                              "page_id": row["page_id"]}])
    assert answer_crops(intake.store, notebook) == {}  # no layout to cut from: the reading is printed
