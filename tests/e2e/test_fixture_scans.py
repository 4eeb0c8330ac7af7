"""End to end on the committed scan fixtures: every page through the real reader, OCR and grading.

Like OMRChecker's snapshot tests, the truth is stored beside the images (``fixtures/scans/truth.json``,
written by the generator that filled the pages with real handwritten digits and pencil marks, see
``fixtures/scans/SOURCE.md``). Every bubble must read as the truth says; no doubly marked or erased
single-choice question may be auto-graded; handwritten answers are either auto-graded right or sent
to review.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from scanning import FieldCheck, PageReading, SheetReader, SynthPage, check_page, load_spec, read_truth
from scanning._omr import EMPTY, FILLED

SCANS = Path(__file__).resolve().parents[2] / "fixtures" / "scans"
REGENERATE = "if the sheet layout changed on purpose, run .venv/bin/python fixtures/scans/make_fixtures.py"


@pytest.fixture(scope="module")
def spec():  # noqa: ANN201
    return load_spec(SCANS / "spec.json")


@pytest.fixture(scope="module")
def truth() -> list[SynthPage]:
    return read_truth(SCANS / "truth.json")


@pytest.fixture(scope="module")
def readings(spec, truth: list[SynthPage]) -> dict[str, PageReading]:  # noqa: ANN001
    reader = SheetReader(spec)
    out = {}
    for page in truth:
        (result,) = list(reader.read_file(SCANS / page.file))
        assert result.ok, f"{page.file}: {result.error} ({REGENERATE})"
        out[page.file] = result
    return out


@pytest.fixture(scope="module")
def checks(spec, truth: list[SynthPage], readings: dict[str, PageReading]) -> list[FieldCheck]:  # noqa: ANN001
    return [c for page in truth for c in check_page(page, readings[page.file], spec)]


def test_fixture_set_spans_every_field_type_resolution_rotation_and_phone_photos(spec, truth) -> None:  # noqa: ANN001
    assert {p.dpi for p in truth} == {150, 200, 300}
    scans = {p.profile.split("-")[1] for p in truth if p.kind == "scanner"}
    assert scans == {"rot0", "rot90", "rot180", "rot270"}
    assert sum(p.kind == "phone" for p in truth) >= 3
    types = {spec.field(fid).type for p in truth for fid in p.fields}
    assert types == {"single_choice", "multiple_choice", "true_false", "grid_in", "handwriting", "score", "minutes"}
    cases = Counter(f.case for p in truth for f in p.fields.values())
    for case in ("partial", "light", "blank", "double", "erasure+mark"):
        assert cases[case] > 0, f"no {case!r} mark in the fixtures"
    kinds = Counter(f.number_kind for p in truth for f in p.fields.values() if f.written)
    assert all(kinds[k] > 0 for k in ("integer", "decimal", "fraction", "negative", "text"))
    assert sum((SCANS / p.file).stat().st_size for p in truth) < 3_000_000


def test_every_page_is_identified_from_its_qr_code(truth, readings) -> None:  # noqa: ANN001
    for page in truth:
        got = readings[page.file]
        assert (got.assignment_id, got.student_id, got.page_index, got.page_count) == (
            page.assignment_id, page.student_id, page.page_index, page.page_count)


def test_every_bubble_field_reads_as_the_truth_says(checks: list[FieldCheck]) -> None:
    bubble_checks = [c for c in checks if c.read_right is not None]
    assert len(bubble_checks) >= 250
    wrong = [(c.page, c.field_id, c.case, c.expected, c.expected_status, c.value, c.status)
             for c in bubble_checks if not c.read_right]
    assert wrong == []


def test_every_marked_bubble_reads_filled_and_every_untouched_one_empty(truth, readings) -> None:  # noqa: ANN001
    for page in truth:
        for fid, fill in page.fields.items():
            if fill.written is not None or fill.status == "needs_review":
                continue  # writing boxes; doubles and erasures are judged per field
            marked = {(m.column, m.option) for m in fill.marks}
            for bubble in readings[page.file].field(fid).bubbles:
                want = FILLED if (bubble.column, bubble.option) in marked else EMPTY
                assert bubble.state == want, f"{page.file} {fid} {bubble}"


def test_no_doubly_marked_or_erased_single_choice_is_auto_graded(checks: list[FieldCheck]) -> None:
    risky = [c for c in checks if c.case in ("double", "erasure+mark", "erasure")]
    assert len(risky) >= 5
    assert [c for c in risky if c.auto_graded] == []
    assert all(c.status == "needs_review" for c in risky)


def test_handwriting_is_auto_graded_right_or_sent_to_review(checks: list[FieldCheck], readings) -> None:  # noqa: ANN001
    boxes = [c for c in checks if c.field_type == "handwriting" and c.expected is not None]
    real = [c for c in boxes if c.kind != "text"]
    assert len(real) >= 60
    assert [c for c in boxes if c.auto_graded and not c.graded_right] == []
    auto = sum(bool(c.auto_graded) for c in real) / len(real)
    assert auto >= 0.7, f"only {auto:.0%} of real handwritten answers were auto-graded"
    for c in boxes:
        if not c.auto_graded:  # the review queue gets it, with the crop for the teacher
            assert readings[c.page].field(c.field_id).crop is not None


def test_blank_boxes_are_not_graded_as_answers(checks: list[FieldCheck]) -> None:
    blanks = [c for c in checks if c.field_type == "handwriting" and c.expected is None]
    assert blanks, "the fixtures should hold a blank writing box"
    assert all(c.value is None and c.graded_right is not False for c in blanks)
