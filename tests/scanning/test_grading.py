"""Grading: equivalent written forms, normalised text, partial credit, and when to ask a teacher."""

from __future__ import annotations

import pytest

from scanning import Answer, GradingPolicy, TextReading, grade, parse_key, parse_number


def _number(written: str, **key: object) -> bool:
    result = grade(parse_key({"kind": "number", **key}), Answer(written))
    assert result.status == "graded", result
    return result.correct


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("0.75", 0.75),
        ("3/4", 0.75),
        ("¾", 0.75),
        (".75", 0.75),
        ("０．７５", 0.75),
        ("6/8", 0.75),
        ("1,000", 1000),
        ("1 000", 1000),
        ("１０００", 1000),
        ("1,234.5", 1234.5),
        ("-2", -2),
        ("－2", -2),
        ("−2", -2),
        ("-1 1/2", -1.5),
        ("1又1/2", 1.5),
        ("1 1/2", 1.5),
        ("+3", 3),
        ("12.", 12),
        ("3 / 4", 0.75),
    ],
)
def test_equivalent_forms_of_a_number_are_right(written: str, value: float) -> None:
    assert _number(written, values=[value])


@pytest.mark.parametrize("written", ["0.76", "4/3", "-0.75", "1,00", "3/0", "abc", "7.5"])
def test_other_numbers_and_non_numbers_are_wrong(written: str) -> None:
    assert not _number(written, values=[0.75])


def test_units_after_the_number() -> None:
    assert _number("5cm", values=[5], units=["cm", "厘米"])
    assert _number("5 厘米", values=[5], units=["cm", "厘米"])
    assert _number("5元", values=[5], units=["元"])
    assert _number("￥5", values=[5], units=["¥"])
    assert _number("5", values=[5], units=["cm"])  # a bare number is fine unless a unit is required
    assert not _number("5", values=[5], units=["cm"], unit_required=True)
    assert not _number("5 kg", values=[5], units=["cm"])


def test_percent_only_when_the_key_allows_it() -> None:
    assert _number("75%", values=[0.75], percent=True)
    assert _number("75％", values=[0.75], percent=True)
    assert not _number("75%", values=[0.75])
    assert not _number("75%", values=[75])


def test_tolerance_absolute_and_relative() -> None:
    assert _number("3.14", values=[3.14159], abs_tol=0.01)
    assert not _number("3.1", values=[3.14159], abs_tol=0.01)
    assert _number("1010", values=[1000], rel_tol=0.02)
    assert not _number("1030", values=[1000], rel_tol=0.02)
    assert _number("1/3", values=["1/3"])  # exact fractions need no tolerance


def test_parse_number_reports_unit_and_percent() -> None:
    parsed = parse_number("12.5 厘米")
    assert parsed is not None and parsed.value == 12.5 and parsed.unit == "厘米" and not parsed.percent
    assert parse_number("") is None


@pytest.mark.parametrize(
    ("written", "accepted", "options", "right"),
    [
        ("PARIS", ["Paris"], {}, True),
        ("ｐａｒｉｓ", ["Paris"], {}, True),
        ("new  york", ["New York"], {}, True),
        ("newyork", ["New York"], {}, True),
        ("newyork", ["New York"], {"ignore_spaces": False}, False),
        ("Paris", ["paris"], {"case_sensitive": True}, False),
        ("北京，上海。", ["北京,上海."], {}, True),
        ("甲、乙", ["甲,乙"], {}, True),
        ("北京!", ["北京"], {"ignore_punctuation": True}, True),
        ("北京!", ["北京"], {}, False),
        ("首都", ["北京", "首都", "Beijing"], {}, True),
        ("上海", ["北京", "首都"], {}, False),
    ],
)
def test_text_normalisation_and_variants(
    written: str, accepted: list[str], options: dict, right: bool
) -> None:
    key = parse_key({"kind": "text", "accepted": accepted, **options})
    result = grade(key, Answer(written), GradingPolicy(guard_distance=0))
    assert result.status == "graded" and result.correct is right


def test_single_choice() -> None:
    key = parse_key({"kind": "choice", "correct": "B", "points": 2})
    assert grade(key, Answer("B")).score == 2
    wrong = grade(key, Answer({"C"}))
    assert wrong.status == "graded" and wrong.score == 0 and not wrong.correct


def test_multiple_choice_partial_credit_modes() -> None:
    exact = parse_key({"kind": "choice", "correct": "ABC", "multiple": True, "points": 3})
    assert grade(exact, Answer("AB")).score == 0
    assert grade(exact, Answer("CBA")).correct
    proportional = parse_key(
        {"kind": "choice", "correct": "ABC", "multiple": True, "points": 3, "partial_credit": "proportional"}
    )
    assert grade(proportional, Answer("AB")).score == pytest.approx(2)
    assert grade(proportional, Answer("ABD")).score == pytest.approx(1)  # 2 right - 1 wrong pick
    assert grade(proportional, Answer("AD")).score == 0
    lenient = proportional.model_copy(update={"wrong_penalty": 0.5})
    assert grade(lenient, Answer("ABD")).score == pytest.approx(1.5)
    subset = parse_key(
        {"kind": "choice", "correct": "AC", "multiple": True, "points": 5, "partial_credit": "subset"}
    )
    assert grade(subset, Answer("A")).score == pytest.approx(2.5)
    assert grade(subset, Answer("AB")).score == 0
    assert grade(subset, Answer("AC")).score == 5


@pytest.mark.parametrize(
    ("said", "right"), [("T", True), ("√", True), ("对", True), (True, True), ("×", False), ("错", False)]
)
def test_true_false(said: object, right: bool) -> None:
    assert grade(parse_key({"kind": "true_false", "answer": True}), Answer(said)).correct is right


def test_teacher_score_box() -> None:
    key = parse_key({"kind": "score", "max_points": 5})
    assert grade(key, Answer("4")).score == 4
    assert grade(key, Answer(7)).status == "needs_review"
    assert grade(key, Answer(None)).status == "needs_review"


def test_only_confident_readings_are_auto_graded() -> None:
    key = parse_key({"kind": "number", "values": [12]})
    assert grade(key, Answer("12", confidence=0.95)).status == "graded"
    unsure = grade(key, Answer("12", confidence=0.6))
    assert unsure.status == "needs_review" and unsure.score == 0 and "confidence" in unsure.reason
    lax = GradingPolicy(min_confidence={"number": 0.5})
    assert grade(key, Answer("12", confidence=0.6), lax).correct


def test_a_flagged_reading_goes_to_review() -> None:
    key = parse_key({"kind": "choice", "correct": "A"})
    result = grade(key, Answer({"A", "B"}, confidence=0.99, status="needs_review"))
    assert result.status == "needs_review" and not result.correct


def test_verification_grades_right_when_the_plain_reading_is_unsure() -> None:
    key = parse_key({"kind": "number", "values": ["4/7"]})
    reading = TextReading("417", confidence=0.5, key_probability=0.97)
    result = grade(key, reading)
    assert result.status == "graded" and result.correct and "verified" in result.reason


def test_one_slip_from_the_key_goes_to_review_not_wrong() -> None:
    key = parse_key({"kind": "number", "values": [449]})
    slip = grade(key, TextReading("949", confidence=0.99, key_probability=0.0002))
    assert slip.status == "needs_review"
    lost_point = grade(
        parse_key({"kind": "number", "values": [34.47]}), TextReading("3447", 0.99, key_probability=0)
    )
    assert lost_point.status == "needs_review"
    far = grade(key, TextReading("27", confidence=0.99, key_probability=0.0))
    assert far.status == "graded" and not far.correct


def test_a_confident_blank_is_no_answer_and_an_unsure_one_is_reviewed() -> None:
    key = parse_key({"kind": "number", "values": [3]})
    blank = grade(key, TextReading("", confidence=0.99, blank=True))
    assert blank.status == "graded" and blank.score == 0 and blank.reason == "no answer"
    assert grade(key, TextReading("", confidence=0.6, blank=True)).status == "needs_review"


def test_an_unsure_reading_far_from_a_ruled_out_key_is_graded_wrong() -> None:
    key = parse_key({"kind": "number", "values": [58]})
    ruled_out = grade(key, TextReading("213", confidence=0.6, key_probability=0.001))
    assert ruled_out.status == "graded" and not ruled_out.correct
    unverified = grade(key, TextReading("213", confidence=0.6))  # no verification: not enough
    assert unverified.status == "needs_review"
    key_possible = grade(key, TextReading("213", confidence=0.6, key_probability=0.1))
    assert key_possible.status == "needs_review"
    too_unsure = grade(key, TextReading("213", confidence=0.3, key_probability=0.001))
    assert too_unsure.status == "needs_review"
    slip = grade(key, TextReading("59", confidence=0.6, key_probability=0.001))
    assert slip.status == "needs_review"


def test_handwriting_that_is_not_a_number_is_reviewed_not_marked_wrong() -> None:
    key = parse_key({"kind": "number", "values": ["5/8"]})
    assert grade(key, TextReading("3/", confidence=0.9, key_probability=0.0)).status == "needs_review"
    assert grade(key, Answer("3/", confidence=0.9)).status == "graded"  # typed in: it is what it is


def test_a_clearly_written_near_miss_is_graded_wrong() -> None:
    key = parse_key({"kind": "number", "values": [449]})
    clear = TextReading("949", 0.99, (0.99, 0.98, 0.99), key_probability=0.0002, unambiguous=True)
    result = grade(key, clear)
    assert result.status == "graded" and not result.correct and "949" in result.reason
    # the same reading when the ink does not explain it (a glyph unsure, or marks unread): review
    assert grade(key, TextReading("949", 0.99, key_probability=0.0002, unambiguous=False)).status == "needs_review"
    # the key still a little plausible, or the reading a little unsure: review
    still = TextReading("949", 0.99, key_probability=0.01, unambiguous=True)
    assert grade(key, still).status == "needs_review"
    unsure = TextReading("949", 0.85, key_probability=0.0002, unambiguous=True)
    assert grade(key, unsure).status == "needs_review"
    wary = GradingPolicy(near_miss_min_confidence=1.01)
    assert grade(key, clear, wary).status == "needs_review"


def test_an_unread_box_says_why_not_blank() -> None:
    key = parse_key({"kind": "number", "values": ["1/6"]})
    rows = grade(key, TextReading("", 0.0, note="two rows of writing, but no fraction bar was found"))
    assert rows.status == "needs_review" and rows.reason == "two rows of writing, but no fraction bar was found"
