"""Time on paper: the handwritten start time (开始 __:__) beside the minutes, read, checked, reviewed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import cv2
import numpy as np
import pytest

from homework import HomeworkError, ItemBank, ScanStore, sheet_frame
from homework._assignments import AssignmentRequest, compose_assignment
from homework._clock import check_times
from homework._intake import Intake
from homework._printing import sheet_spec
from scanning import (
    DigitBank,
    FieldFill,
    HandStyle,
    fill_page,
    generate_set,
    get_backend,
    layout_pages,
    phone,
    render_page_images,
    scanner,
    time_halves,
)
from scanning._synth import Mark

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
STUDENTS = [(f"s{n:02d}", f"学生{n}") for n in range(1, 13)]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):
    bank = ItemBank()
    bank.import_file(FIXTURES / "bank" / "items.csv")
    assignment = compose_assignment(bank, AssignmentRequest(knowledge_points=("number.decimal",), minutes=6, grade=5,
                                                            seed=1), assignment_id="time-hw")
    spec = sheet_spec(bank, assignment, STUDENTS, class_name="五(1)班")
    out = tmp_path_factory.mktemp("time")
    intake = Intake(ScanStore(out / "store"), ocr=get_backend("rapidocr"))
    intake.register(spec)
    return bank, assignment, spec, intake, out


def test_the_start_box_sits_beside_the_minutes_in_two_halves(setup) -> None:
    _, _, spec, _, _ = setup
    page = layout_pages(spec)["s01"][-1]
    box = next(b for b in page.boxes if b.field_id == "started")
    hours, minutes = time_halves(box.rect)
    assert box.kind == "time" and hours.x + hours.w < minutes.x  # a gap for the printed colon
    minute_bubbles = [b for b in page.bubbles if b.field_id == "minutes"]
    assert minute_bubbles, "the minutes field is on the same page"
    assert min(abs(b.cy - box.rect.y) for b in minute_bubbles) < 30  # beside it, not a page away


def test_written_start_times_are_read_or_sent_to_review_never_accepted_wrong(setup) -> None:
    _, _, spec, intake, out = setup
    digits = DigitBank.load(FIXTURES / "handwriting" / "mnist_digits_500.npz")
    first = spec.model_copy(update={"students": spec.students[:-1]})  # s12 comes later, by hand
    truth = generate_set(first, out / "scans", [scanner(200, 0), scanner(300, 2), phone(8)], digits, seed=21)
    for page in truth:
        intake.receive(out / "scans" / page.file)
    written = {page.student_id: page.fields["started"].expected for page in truth if "started" in page.fields}
    answers = {a["student_id"]: a for a in intake.store.answers("time-hw") if a["field_id"] == "started"}
    assert set(answers) == set(written) == {s for s, _ in STUDENTS[:-1]}
    accepted = {s: a for s, a in answers.items() if a["grade_status"] != "needs_review"}
    assert len(accepted) >= len(answers) // 2
    for student, answer in accepted.items():
        assert answer["value"] == f"{dt.datetime.strptime(written[student], '%H:%M'):%H:%M}"
    reviews = {r.student_id: r for r in intake.store.reviews(assignment_id="time-hw") if r.field_id == "started"}
    assert set(reviews) == set(answers) - set(accepted)
    assert all(r.reason and r.crop_sha256 for r in reviews.values())


def _sheet_with(spec, student: str, fills: dict[str, FieldFill], seed: int) -> bytes:
    digits = DigitBank.load(FIXTURES / "handwriting" / "mnist_digits_500.npz")
    rng = np.random.default_rng(seed)
    image, geometry = next(render_page_images(spec, 200, pages=list(layout_pages(spec)[student])))
    page = fill_page(image, geometry, fills, rng, digits, HandStyle.sample(rng), stray_marks=0)
    return cv2.imencode(".png", page)[1].tobytes()


def test_an_implausible_start_goes_to_review_and_the_teacher_corrects_it(setup) -> None:
    _, assignment, spec, intake, _ = setup
    fills = {"started": FieldFill("started", "3:10", "ok", "written", written="3:10", source="mnist"),
             "minutes": FieldFill("minutes", "25", "ok", "clean", (Mark("2", 0, "full"), Mark("5", 1, "full")))}
    intake.receive(_sheet_with(spec.model_copy(update={"students": spec.students[-1:]}), "s12", fills, 5),
                   name="late.png")
    answer = intake.store.answer("time-hw", "s12", "started")
    assert answer["grade_status"] == "needs_review"
    assert "outside 06:00-23:00" in answer["grade_reason"] or "confidence" in answer["grade_reason"]
    review = next(r for r in intake.store.reviews(assignment_id="time-hw") if r.student_id == "s12"
                  and r.field_id == "started")
    day = dt.date(2026, 11, 23)
    before = sheet_frame(intake.store.answers("time-hw"), [assignment], days={"time-hw": day})
    assert pd_isna(before.set_index("student_id").loc["s12", "started"])  # waiting: not counted
    with pytest.raises(HomeworkError, match="not a time of day"):
        intake.resolve(review.review_id, "1905", teacher="王老师")
    intake.resolve(review.review_id, "19:05", teacher="王老师")
    after = sheet_frame(intake.store.answers("time-hw"), [assignment], days={"time-hw": day})
    assert after.set_index("student_id").loc["s12", "started"] == dt.datetime(2026, 11, 23, 19, 5)


def test_the_scan_time_only_bounds_the_end() -> None:
    day = dt.date(2026, 11, 23)
    assert check_times("19:05", 0.99, 30, day=day, scanned_at=dt.datetime(2026, 11, 24, 7, 40)).ok
    late = check_times("19:05", 0.99, 30, day=day, scanned_at=dt.datetime(2026, 11, 23, 19, 20))
    assert not late.ok and "ends after the sheet was scanned" in late.reasons[0]


def pd_isna(value: object) -> bool:
    import pandas as pd

    return bool(pd.isna(value))
