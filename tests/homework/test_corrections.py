"""A teacher's decisions on both engines, over real fixture scans: answer groups, overrides, corrected
resolutions and kept pages, each kept in the grade history and moving mastery evidence."""

from __future__ import annotations

import json

import cv2
import pytest
from scanfiles import SCANS, scan_file

from homework import HomeworkError, HomeworkService, NotFoundError, ReviewClosedError
from homework.storage import FieldPoint, open_engine

SPEC = json.loads((SCANS / "spec.json").read_text(encoding="utf-8"))


def _service(database_url: str, ocr, spec: dict | None = None) -> HomeworkService:  # noqa: ANN001
    """A school whose sheet's fields each test one knowledge point (``kp.<field>``), so grades are evidence."""
    service = HomeworkService(open_engine(database_url), ocr=ocr)
    intake = service.intake("sch-a")
    spec = spec or SPEC
    intake.register(spec)
    points = [FieldPoint(f["id"], f"item-{f['id']}", "math", 6, (f"kp.{f['id']}",), f["type"] == "handwriting")
              for f in spec["fields"]]
    with intake.store.transaction() as db:
        intake.mastery.put_field_points(db, spec["assignment_id"], points)
    return service


@pytest.fixture
def service(database_url: str, ocr) -> HomeworkService:  # noqa: ANN001
    """Three students' first pages read: the reader saw the same two marks on t4 for all three."""
    service = _service(database_url, ocr)
    for student in ("st04", "st06", "st07"):
        service.intake("sch-a").receive(scan_file(student, 0))
    return service


def _evidence(service: HomeworkService, student: str, point: str) -> tuple[int, float] | None:
    found = service.intake("sch-a").mastery.evidence([student]).get(student, {}).get(point)
    return None if found is None else (found.attempts, round(found.credit, 6))


def test_identical_readings_are_one_group_and_one_decision_grades_it(service: HomeworkService) -> None:
    store = service.intake("sch-a").store
    groups = service.review_groups("sch-a")
    (t4,) = [g for g in groups if g.field_id == "t4"]
    assert [i.student_id for i in t4.items] == ["st04", "st06", "st07"] and t4.reading == "ft"
    assert groups[0] == t4  # the largest group comes first
    assert sum(len(g.items) for g in groups) == len(store.reviews())
    others = [g for g in groups if g.group_id != t4.group_id]
    with pytest.raises(HomeworkError, match="not open in group"):
        service.resolve_group("sch-a", t4.group_id, teacher="t-li", review_ids=[*t4.review_ids, others[0].review_ids[0]])
    assert len(store.reviews()) == sum(len(g.items) for g in groups)  # all or nothing

    answers = service.resolve_group("sch-a", t4.group_id, teacher="t-li", value="T")
    assert [(a["student_id"], a["value"], a["correct"], a["graded_by"]) for a in answers] == [
        (s, "T", True, "t-li") for s in ("st04", "st06", "st07")]
    for item in t4.items:
        history = store.grade_history("fx-scan-1", item.student_id, "t4")
        assert [(h["grade_status"], h["graded_by"]) for h in history] == [("needs_review", "auto"), ("graded", "t-li")]
        assert history[-1]["reason"] == f"review #{item.review_id} resolved by t-li"
        assert _evidence(service, item.student_id, "kp.t4") == (1, 1.0)  # its first grade: one attempt
    assert t4.group_id not in {g.group_id for g in service.review_groups("sch-a")}
    with pytest.raises(NotFoundError, match="no open review group"):
        service.resolve_group("sch-a", t4.group_id, teacher="t-li")


def test_confirming_a_screenful_is_all_or_nothing(service: HomeworkService) -> None:
    store = service.intake("sch-a").store
    first, second, third = [r for r in store.reviews() if r.value_read][:3]
    service.resolve_many("sch-a", [(first.review_id, None)], teacher="t-li")
    assert store.answer("fx-scan-1", first.student_id, first.field_id)["value"] == first.value_read
    with pytest.raises(ReviewClosedError, match=f"{first.review_id} was already resolved"):
        service.resolve_many("sch-a", [(second.review_id, None), (first.review_id, "B")], teacher="t-li")
    assert second.review_id in {r.review_id for r in store.reviews()}  # rolled back with the rest
    blank = next((r for r in store.reviews() if r.value_read is None), None)
    if blank is not None:
        with pytest.raises(HomeworkError, match="type what the student wrote"):
            service.resolve_many("sch-a", [(blank.review_id, None)], teacher="t-li")
    done = service.resolve_many("sch-a", [(second.review_id, None), (third.review_id, "C")], teacher="t-li")
    assert [a["graded_by"] for a in done] == ["t-li", "t-li"] and done[1]["value"] == "C"


def test_a_resolution_corrected_and_an_auto_grade_overridden_keep_their_history(service: HomeworkService) -> None:
    corrections, store = service.corrections("sch-a"), service.intake("sch-a").store
    (t4,) = [g for g in service.review_groups("sch-a") if g.field_id == "t4"]
    item = t4.items[0]
    service.resolve_many("sch-a", [(item.review_id, "T")], teacher="t-li")
    with pytest.raises(HomeworkError, match="say why"):
        corrections.correct_resolution(item.review_id, "F", teacher="t-li", reason="  ")
    fixed = corrections.correct_resolution(item.review_id, "F", teacher="t-wang", reason="misread the erased mark")
    assert fixed["correct"] is False and fixed["score"] == 0
    assert _evidence(service, item.student_id, "kp.t4") == (1, 0.0)  # the same attempt, now wrong
    history = store.grade_history("fx-scan-1", item.student_id, "t4")
    assert [(h["value"], h["graded_by"]) for h in history] == [("FT", "auto"), ("T", "t-li"), ("F", "t-wang")]
    assert history[-1]["reason"] == f"review #{item.review_id} corrected by t-wang: misread the erased mark"
    with pytest.raises(HomeworkError, match="still open"):
        corrections.correct_resolution(t4.items[1].review_id, "T", teacher="t-li", reason="x")

    auto = next(a for a in store.answers("fx-scan-1") if a["student_id"] == "st04" and a["field_id"] == "c3")
    assert auto["graded_by"] == "auto" and auto["grade_status"] == "graded"
    before = _evidence(service, "st04", "kp.c3")
    other = "A" if auto["value"] != "A" else "B"
    changed = corrections.override("fx-scan-1", "st04", "c3", teacher="t-li", reason="the key was wrong", value=other)
    assert changed["value"] == other and changed["graded_by"] == "t-li"
    scored = corrections.override("fx-scan-1", "st04", "c3", teacher="t-li", reason="half marks: working shown",
                                  score=0.5)
    assert (scored["score"], scored["correct"], scored["value"]) == (0.5, False, other)
    assert _evidence(service, "st04", "kp.c3") == (before[0], 0.5)  # no new attempt; the credit is the new grade's
    history = store.grade_history("fx-scan-1", "st04", "c3")
    assert [h["reason"] for h in history[-2:]] == ["override by t-li: the key was wrong",
                                                   "override by t-li: half marks: working shown"]
    with pytest.raises(HomeworkError, match="outside 0..1"):
        corrections.override("fx-scan-1", "st04", "c3", teacher="t-li", reason="x", score=2)
    with pytest.raises(HomeworkError, match="waits in the review queue"):
        corrections.override("fx-scan-1", t4.items[1].student_id, "t4", teacher="t-li", reason="x", value="T")
    with pytest.raises(NotFoundError):
        corrections.override("fx-scan-1", "st99", "c3", teacher="t-li", reason="x", value="A")


def test_kept_pages_are_assigned_to_a_student_or_dismissed(database_url: str, ocr) -> None:  # noqa: ANN001
    spec = json.loads(json.dumps(SPEC))
    spec["students"] = [s for s in spec["students"] if s["id"] != "st03"] + [{"id": "st09", "name": "赵敏"}]
    service = _service(database_url, ocr, spec)
    intake, corrections = service.intake("sch-a"), service.corrections("sch-a")
    (off,) = intake.receive(scan_file("st03", 1)).pages
    assert off.status == "not_on_roster"
    with pytest.raises(HomeworkError, match="not on the roster"):
        corrections.assign_page(off.page_id, assignment_id="fx-scan-1", student_id="st03", teacher="t-li", reason="x")

    page, graded, to_review = corrections.assign_page(off.page_id, assignment_id="fx-scan-1", student_id="st09",
                                                      teacher="t-li", reason="wrote a classmate's sheet")
    assert (page.status, page.student_id, page.sheet_page) == ("read", "st09", 1)
    assert page.message.startswith("assigned to st09 by t-li") and "was not_on_roster" in page.message
    answers = intake.store.answers("fx-scan-1", students=["st09"])
    assert graded > 0 and len(answers) == graded + to_review + sum(a["grade_status"] == "ungraded" for a in answers)
    assert intake.missing_pages("fx-scan-1")["st09"] == [0]
    graded_points = {f"kp.{a['field_id']}" for a in answers if a["grade_status"] == "graded" and a["max_score"]}
    assert set(intake.mastery.evidence(["st09"])["st09"]) == graded_points

    rescanned = cv2.imencode(".png", cv2.imread(str(scan_file("st03", 1)), cv2.IMREAD_GRAYSCALE))[1].tobytes()
    (again,) = intake.receive(rescanned, name="again.png").pages
    with pytest.raises(HomeworkError, match="accepted already"):
        corrections.assign_page(again.page_id, assignment_id="fx-scan-1", student_id="st09", teacher="t-li", reason="x")
    assert intake.store.page(again.page_id).status == "not_on_roster"  # unchanged

    (junk,) = intake.receive(b"GIF89a not a scan", name="junk.gif").pages
    with pytest.raises(HomeworkError, match="nothing can be read"):
        corrections.assign_page(junk.page_id, assignment_id="fx-scan-1", student_id="st09", teacher="t-li", reason="x")
    dismissed = corrections.dismiss_page(junk.page_id, teacher="t-li", reason="a test print")
    assert dismissed.status == "dismissed" and dismissed.message.startswith("dismissed by t-li on ")
    assert "a test print (was bad_image:" in dismissed.message
    assert intake.store.upload_of(junk.page_id) == ("junk.gif", b"GIF89a not a scan")  # kept
    with pytest.raises(HomeworkError, match="not a page kept"):
        corrections.dismiss_page(junk.page_id, teacher="t-li", reason="again")
    with pytest.raises(NotFoundError):
        corrections.dismiss_page(10**6, teacher="t-li", reason="x")
