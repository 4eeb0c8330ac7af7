"""Scan intake on the committed fixture scans: every page gets an outcome and nothing is lost."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from scanfiles import SCANS, scan_file

from homework import ReviewClosedError, UnknownAssignmentError
from homework._intake import Intake
from homework.storage import ScanStore


@pytest.fixture
def intake(database_url: str, ocr) -> Intake:
    intake = Intake(ScanStore(database_url), ocr=ocr)
    intake.register(SCANS / "spec.json")
    return intake


def test_pages_of_one_sheet_complete_it_in_any_order_across_uploads(intake: Intake) -> None:
    second = intake.receive(scan_file("st02", 1))
    assert [p.status for p in second.pages] == ["read"]
    assert second.completed_sheets == ()
    assert intake.missing_pages("fx-scan-1")["st02"] == [0]

    first = intake.receive(scan_file("st02", 0))
    assert first.completed_sheets == (("fx-scan-1", "st02"),)
    assert "st02" not in intake.missing_pages("fx-scan-1")
    answers = [a for a in intake.store.answers("fx-scan-1") if a["student_id"] == "st02"]
    assert len(answers) == len({a["field_id"] for a in answers}) > 10
    intake.receive(scan_file("st01", 0))
    assert intake.store.answers(students=["st02"]) == answers  # one student's, read by the index
    assert {a["student_id"] for a in intake.store.answers("fx-scan-1", students=["st01", "st02"])} == {"st01", "st02"}
    assert intake.store.answers(students=[]) == []


def test_the_same_page_twice_is_kept_but_not_graded_again(intake: Intake) -> None:
    path = scan_file("st01", 0)
    first = intake.receive(path)
    before = intake.store.answers("fx-scan-1")
    rescanned = cv2.imencode(".png", cv2.imread(str(path), cv2.IMREAD_GRAYSCALE))[1].tobytes()
    again = intake.receive(rescanned, name="again.png")  # other bytes, the same sheet page
    (page,) = again.pages
    assert page.status == "duplicate"
    assert "already accepted" in page.message
    assert intake.store.answers("fx-scan-1") == before
    name, data = intake.store.upload_of(page.page_id)
    assert data == rescanned and name == "again.png"
    assert intake.store.upload_of(first.pages[0].page_id) == (path.name, path.read_bytes())


def test_the_same_file_twice_is_one_upload(intake: Intake) -> None:
    data = scan_file("st01", 0).read_bytes()
    first = intake.accept(data, name="a.jpg")
    second = intake.accept(data, name="b.jpg")
    assert (second.upload_id, second.job_id, second.duplicate_of) == (first.upload_id, first.job_id, first.upload_id)
    assert first.duplicate_of is None


def test_processing_an_upload_twice_leaves_one_result(intake: Intake) -> None:
    accepted = intake.accept(scan_file("st02", 0).read_bytes(), name="p.jpg")
    once = intake.process(accepted.upload_id)
    answers, reviews = intake.store.answers("fx-scan-1"), intake.store.reviews()
    twice = intake.process(accepted.upload_id)  # e.g. a worker died before marking the job done
    assert [p.page_id for p in twice.pages] == [p.page_id for p in once.pages]
    assert [p.status for p in twice.pages] == ["read"]
    assert intake.store.answers("fx-scan-1") == answers and intake.store.reviews() == reviews
    assert len(intake.store.pages()) == 1


def test_a_student_off_the_roster_is_kept_for_review_not_graded(database_url: str, ocr) -> None:
    spec = json.loads((SCANS / "spec.json").read_text(encoding="utf-8"))
    spec["students"] = [s for s in spec["students"] if s["id"] != "st03"]
    intake = Intake(ScanStore(database_url), ocr=ocr)
    intake.register(spec)
    (page,) = intake.receive(scan_file("st03", 0)).pages
    assert page.status == "not_on_roster" and "not on this class's roster" in page.message
    assert intake.store.answers("fx-scan-1") == []
    assert [p.page_id for p in intake.store.pages(status="not_on_roster")] == [page.page_id]


def test_a_new_answer_key_is_a_new_version_and_grades_say_which(intake: Intake) -> None:
    intake.receive(scan_file("st02", 0))
    assert intake.spec_version("fx-scan-1") == 1
    intake.register(SCANS / "spec.json")  # the same keys again: still version 1
    assert intake.spec_version("fx-scan-1") == 1
    spec = json.loads((SCANS / "spec.json").read_text(encoding="utf-8"))
    key = spec["fields"][0]["key"]
    key["correct"] = "D" if key["correct"] != "D" else "C"
    intake.register(spec)
    assert intake.spec_version("fx-scan-1") == 2
    assert {a["spec_version"] for a in intake.store.answers("fx-scan-1")} == {1}
    intake.receive(scan_file("st03", 0))
    versions = {a["student_id"]: a["spec_version"] for a in intake.store.answers("fx-scan-1")}
    assert versions == {"st02": 1, "st03": 2}


def test_every_grade_change_is_in_the_history(intake: Intake) -> None:
    intake.receive(scan_file("st01", 0))
    item = intake.store.reviews(assignment_id="fx-scan-1")[0]
    intake.resolve(item.review_id, "A", teacher="t-wang")
    history = intake.store.grade_history("fx-scan-1", item.student_id, item.field_id)
    assert [h["graded_by"] for h in history] == ["auto", "t-wang"]
    assert history[0]["grade_status"] == "needs_review" and history[1]["value"] == "A"
    assert history[1]["reason"] == f"review #{item.review_id} resolved by t-wang"


def test_many_students_pages_mixed_in_one_file(intake: Intake, tmp_path: Path) -> None:
    picks = [("st03", 1), ("st01", 0), ("st03", 0), ("st01", 1)]
    pages = [cv2.imread(str(scan_file(s, p)), cv2.IMREAD_GRAYSCALE) for s, p in picks]
    tiff = tmp_path / "batch.tif"
    with tifffile.TiffWriter(tiff) as writer:
        for page in pages:
            writer.write(page, compression="zlib")
    report = intake.receive(tiff)
    assert [(p.status, p.student_id, p.sheet_page) for p in report.pages] == [
        ("read", s, p) for s, p in picks
    ]
    assert sorted(report.completed_sheets) == [("fx-scan-1", "st01"), ("fx-scan-1", "st03")]


def test_unreadable_and_foreign_pages_are_kept_with_their_reason(intake: Intake) -> None:
    junk = intake.receive(b"GIF89a not a scan", name="junk.gif")
    truncated = intake.receive(scan_file("st04", 0).read_bytes()[:5000], name="cut.jpg")
    blank = intake.receive(cv2.imencode(".png", np.full((1700, 1200), 250, np.uint8))[1].tobytes(), name="blank.png")
    statuses = [r.pages[0].status for r in (junk, truncated, blank)]
    assert statuses == ["bad_image", "bad_image", "blank_page"]
    kept = intake.store.pages(status="bad_image") + intake.store.pages(status="blank_page")
    assert {intake.store.upload_of(p.page_id)[0] for p in kept} == {"junk.gif", "cut.jpg", "blank.png"}
    assert all("kept for a human" in r.pages[0].message for r in (junk, truncated, blank))


def test_a_page_of_an_unknown_assignment_is_kept(database_url: str, ocr) -> None:
    spec = json.loads((SCANS / "spec.json").read_text(encoding="utf-8"))
    spec["assignment_id"] = "another-hw"
    intake = Intake(ScanStore(database_url), ocr=ocr)
    intake.register(spec)
    (page,) = intake.receive(scan_file("st05", 1)).pages
    assert page.status == "unknown_assignment"
    assert page.assignment_id == "fx-scan-1"
    with pytest.raises(UnknownAssignmentError, match="fx-scan-1"):
        intake.missing_pages("fx-scan-1")


def test_a_teacher_resolves_the_review_queue(intake: Intake) -> None:
    intake.receive(scan_file("st01", 0))
    queue = intake.store.reviews(assignment_id="fx-scan-1")
    assert queue, "the fixture page has answers flagged for review"
    item = queue[0]
    assert item.crop_sha256 is not None
    crop = cv2.imdecode(np.frombuffer(intake.store.get_blob(item.crop_sha256), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert crop is not None and crop.size > 0
    spec = intake.spec("fx-scan-1")
    key = spec.field(item.field_id).key
    assert key is not None
    answer = intake.resolve(item.review_id, "A", teacher="t-wang")
    assert answer["grade_status"] == "graded" and answer["graded_by"] == "t-wang"
    assert item.review_id not in {r.review_id for r in intake.store.reviews()}
    with pytest.raises(ReviewClosedError, match="already resolved"):
        intake.resolve(item.review_id, "B", teacher="t-wang")


def test_an_assignment_registered_by_another_process_is_found(database_url: str, ocr) -> None:
    station = Intake(ScanStore(database_url), ocr=ocr)
    assert not station.knows("fx-scan-1")
    Intake(ScanStore(database_url), ocr=ocr).register(SCANS / "spec.json")  # e.g. another API worker
    (page,) = station.receive(scan_file("st07", 0)).pages
    assert page.status == "read" and station.knows("fx-scan-1")
