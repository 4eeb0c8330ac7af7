"""OCR on real handwritten digits (the MNIST slice): accuracy floors, charset, verification, backends.

Floors, not benchmarks: ``benchmarks/scan.py`` measures the figures on thousands of answers.
"""

from __future__ import annotations

import itertools
import socket

import _handwriting as hw
import numpy as np
import pytest

from scanning import (
    NUMERIC,
    BadImageError,
    GradingPolicy,
    OCRBackendError,
    find_ink,
    get_backend,
    grade,
    parse_key,
    read_answer,
)
from scanning._ctc import best_path, restrict, string_probability


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    return hw.load_digits()


@pytest.fixture(scope="module")
def backend():
    return get_backend("rapidocr")


def _answers(rng: np.random.Generator) -> list[tuple[str, bool]]:
    """40 answers a pupil might write: integers, decimals, negatives, fractions (some stacked)."""
    out = []
    for i in range(40):
        kind = i % 5
        if kind == 0:
            text = str(int(rng.integers(0, 1000)))
        elif kind == 1:
            text = f"{int(rng.integers(0, 100))}.{int(rng.integers(1, 10))}"
        elif kind == 2:
            text = f"-{int(rng.integers(1, 100))}"
        else:
            den = int(rng.integers(2, 13))
            text = f"{int(rng.integers(1, den))}/{den}"
        out.append((text, kind == 4))
    return out


@pytest.fixture(scope="module")
def readings(digits, backend):
    rng = np.random.default_rng(2024)
    rows = []
    for text, stacked in _answers(rng):
        crop = hw.box_crop(text, rng, *digits, stacked=stacked)
        key = parse_key({"kind": "number", "values": [text]})
        rows.append((text, stacked, crop, key, read_answer(crop, key, backend)))
    return rows


def test_most_composed_answers_read_exactly_and_confident_ones_are_right(readings, backend) -> None:
    # plain recognition, no key. Inline fractions are left out of this floor: the model reads a
    # handwritten '/' as '1' (verification handles them, see the next test)
    plain = [
        (t, read_answer(crop, None, backend, charset=NUMERIC))
        for t, stacked, crop, _, _ in readings
        if "/" not in t or stacked
    ]
    exact = sum(r.text == t for t, r in plain)
    assert exact >= 0.8 * len(plain), [(t, r.text) for t, r in plain if r.text != t]
    confident = [(t, r) for t, r in plain if r.confidence >= 0.9]
    assert len(confident) >= 0.6 * len(plain)
    assert sum(r.text == t for t, r in confident) >= 0.95 * len(confident)


def test_right_answers_verify_and_grade_right(readings) -> None:
    verified = [r.key_probability is not None and r.key_probability >= 0.5 for *_, r in readings]
    assert sum(verified) >= 0.85 * len(readings)
    # the reading is the likeliest of the greedy string and the key's spellings
    assert sum(r.text == t for t, *_, r in readings) >= 0.85 * len(readings)
    grades = [grade(key, r) for *_, key, r in readings]
    assert not [g for g in grades if g.status == "graded" and not g.correct]  # no right answer marked wrong
    assert sum(g.status == "graded" for g in grades) >= 0.8 * len(grades)


def test_wrong_keys_are_not_verified(readings, backend) -> None:
    wrong = 0
    for text, _, crop, _, _ in readings[:15]:
        other = str(int(text.replace("/", "").replace(".", "").replace("-", "")) + 3)
        r = read_answer(crop, parse_key({"kind": "number", "values": [other]}), backend)
        result = grade(parse_key({"kind": "number", "values": [other]}), r)
        wrong += result.status == "graded" and result.correct
    assert wrong == 0


def test_verification_scores_the_true_string_above_wrong_ones(readings, backend) -> None:
    higher = 0
    for text, stacked, crop, _, _ in readings:
        if stacked:
            continue
        image = find_ink(crop).image
        wrong = [text + "1", text[:-1] + str((int(text[-1]) + 1) % 10), text[1:] or "0"]
        true_score, *wrong_scores = backend.verify(image, [text, *wrong], NUMERIC)
        higher += true_score > max(wrong_scores)
    assert higher >= 0.9 * sum(not s for _, s, *_ in readings)


def test_charset_restriction_changes_decoding(readings, backend) -> None:
    changed = 0
    for _, _, crop, _, _ in readings:
        image = find_ink(crop).image
        free = backend.recognize([image])[0].text
        numeric = backend.recognize([image], NUMERIC)[0].text
        assert set(numeric) <= set(NUMERIC)
        changed += free != numeric
    assert changed >= 3  # unrestricted, the model also reads letters, CJK and other symbols


def test_restricted_reads_score_only_the_charset_and_match_the_whole_model(readings, backend) -> None:
    """A numeric read skips the 18,710-symbol classifier; its probabilities are the whole model's, restricted."""
    model = backend._load()
    assert backend._head is not None  # onnx is installed: the fast path is what runs here
    allowed = backend.allowed(NUMERIC)
    for _, _, crop, _, _ in readings[:10]:
        image = find_ink(crop).image
        whole = restrict(backend._frames(model, image), allowed)
        fast = backend.frame_probabilities(image, NUMERIC)
        assert fast.shape == whole.shape
        assert np.abs(fast - whole).max() < 1e-5
        (text, peaks), (whole_text, whole_peaks) = (
            best_path(fast, backend.characters),
            best_path(whole, backend.characters),
        )
        assert text == whole_text and peaks == pytest.approx(whole_peaks, abs=1e-5)


def test_ctc_forward_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=4)
    totals: dict[tuple[int, ...], float] = {}
    for path in itertools.product(range(3), repeat=4):
        collapsed = tuple(k for t, k in enumerate(path) if k and (t == 0 or k != path[t - 1]))
        totals[collapsed] = totals.get(collapsed, 0.0) + float(
            np.prod([probs[t, k] for t, k in enumerate(path)])
        )
    for labels in [(), (1,), (1, 1), (1, 2), (2, 1, 2)]:
        assert string_probability(probs, list(labels)) == pytest.approx(totals.get(labels, 0.0))
    assert sum(totals.values()) == pytest.approx(1.0)
    masked = restrict(probs, np.array([2]))
    assert best_path(masked, ["", "a", "b"])[0] in {"", "b", "bb", "bbb"} and np.allclose(masked.sum(1), 1)


def test_a_written_12_cannot_verify_as_the_fraction_1_2() -> None:
    # columns: blank, '1', '/', '2'; frames read "1 1 _ 2": one wide '1' must not split into "1/"
    probs = np.full((4, 4), 1e-4)
    probs[[0, 1, 2, 3], [1, 1, 0, 3]] = 1.0
    probs /= probs.sum(1, keepdims=True)
    assert string_probability(probs, [1, 2, 3], {1: 1}) < 1e-6
    probs = np.full((5, 4), 1e-4)
    probs[[0, 1, 2, 3, 4], [1, 0, 1, 0, 3]] = 1.0  # "1 _ 1 _ 2": a separate slash read as '1'
    probs /= probs.sum(1, keepdims=True)
    assert string_probability(probs, [1, 2, 3], {1: 1}) > 0.99


def test_blank_box_reads_blank_and_grades_as_no_answer(backend) -> None:
    crop = np.full((96, 300), 240, np.uint8)
    crop[:2, :] = 60
    reading = read_answer(crop, parse_key({"kind": "number", "values": [5]}), backend)
    assert reading.blank and reading.text == "" and reading.key_probability == 0.0
    assert grade(parse_key({"kind": "number", "values": [5]}), reading).reason == "no answer"


def test_bad_crops_and_backends_raise_clear_errors(backend) -> None:
    with pytest.raises(BadImageError, match="uint8"):
        backend.recognize([np.zeros((48, 100), np.float32)])
    with pytest.raises(BadImageError, match="too small"):
        read_answer(np.zeros((0, 0), np.uint8), None, backend)
    with pytest.raises(OCRBackendError, match="unknown OCR backend"):
        get_backend("tesseract")
    with pytest.raises(OCRBackendError, match="cannot write"):
        backend.recognize([np.full((48, 100), 255, np.uint8)], charset="0123456789\ue000")
    with pytest.raises(OCRBackendError, match="cannot load"):
        get_backend("rapidocr", model_path="/nonexistent/model.onnx").recognize(
            [np.full((48, 64), 255, np.uint8)]
        )


def test_the_default_backend_never_touches_the_network(monkeypatch, digits) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the OCR backend tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    fresh = get_backend("rapidocr")
    crop = hw.box_crop("42", np.random.default_rng(9), *digits)
    assert read_answer(crop, None, fresh, charset=NUMERIC).text == "42"


@pytest.mark.paddle
def test_paddleocr_backend_reads_like_the_default_one(readings, tmp_path) -> None:
    pytest.importorskip("paddleocr")  # the optional extra: pip install 'homework-loop[paddle]'
    from scanning._ocr_paddle import write_model_dir

    folder = write_model_dir(tmp_path / "pp-ocr-rec")  # a local PaddleOCR model folder
    assert {p.name for p in folder.iterdir()} == {"inference.onnx", "inference.yml"}
    paddle = get_backend("paddleocr", model_dir=folder)
    rows = [row for row in readings if not row[1]][:10]
    agree = right = 0
    for _, _, crop, key, default in rows:
        reading = read_answer(crop, key, paddle)
        agree += reading.text == default.text
        right += reading.key_probability is not None and reading.key_probability >= 0.5
    assert agree >= 8 and right >= 8


def _printed(text: str) -> np.ndarray:
    """A box with ``text`` in the embedded CJK font (a stand-in: no real hanzi handwriting here)."""
    from pathlib import Path

    from PIL import Image, ImageDraw, ImageFont

    import scanning

    if text.isascii():  # the CJK subset has no Latin glyphs: Bitstream Vera, as the sheets print
        import reportlab

        path = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"
    else:
        path = Path(scanning.__file__).parent / "fonts" / "DroidSansFallback-GB.ttf"
    font = ImageFont.truetype(str(path), 44)
    image = Image.new("L", (300, 90), 238)
    ImageDraw.Draw(image).text((30, 18), text, fill=70, font=font)
    return np.asarray(image).copy()


def test_text_answers_verify_and_hanzi_are_never_split_as_fractions(backend) -> None:
    key = parse_key({"kind": "text", "accepted": ["三角形"]})
    right = read_answer(_printed("三角形"), key, backend)
    assert right.text == "三角形" and right.key_probability is not None and right.key_probability > 0.9
    assert grade(key, right).correct
    other = read_answer(_printed("长方形"), key, backend)
    assert other.key_probability is not None and other.key_probability < 0.01
    wrong = grade(key, other)
    assert wrong.status == "graded" and not wrong.correct
    slip = read_answer(_printed("三角型"), key, backend)  # one character from the key, clearly written
    assert slip.text == "三角型" and slip.unambiguous
    assert grade(key, slip).status == "graded" and not grade(key, slip).correct  # a near miss, not a misread
    wary = GradingPolicy(near_miss_min_confidence=1.01)  # a school that wants every near miss looked at
    assert grade(key, slip, wary).status == "needs_review"
    assert read_answer(_printed("二"), None, backend).text == "二"  # two flat strokes, not 1 over 1


def test_two_rows_without_a_bar_are_not_read_as_a_line(digits, backend) -> None:
    rng = np.random.default_rng(5)
    rows = [find_ink(hw.box_crop(text, rng, *digits)).image for text in ("1", "6")]
    crop = np.full((150, 160), 240, np.uint8)  # 1 over 6, and no bar between them
    for y, row in zip((10, 80), rows, strict=True):
        assert row is not None
        small = row[::2, ::2]
        crop[y : y + small.shape[0], 60 : 60 + small.shape[1]] = small
    reading = read_answer(crop, parse_key({"kind": "number", "values": ["1/6"]}), backend)
    assert reading.text == "" and not reading.blank and "no fraction bar" in reading.note
    result = grade(parse_key({"kind": "number", "values": [6]}), reading)
    assert result.status == "needs_review" and "fraction bar" in result.reason


def test_printed_chinese_numerals_and_an_equation_read_and_grade(backend) -> None:
    key = parse_key({"kind": "number", "values": ["三百五十"]})
    right = read_answer(_printed("三百五十"), key, backend)
    assert right.key_probability is not None and right.key_probability > 0.9 and grade(key, right).correct
    other = parse_key({"kind": "number", "values": ["三百零五"]})
    assert not grade(other, read_answer(_printed("三百五十"), other, backend)).correct
    equation = parse_key({"kind": "expression", "answer": "x=3.5"})
    reading = read_answer(_printed("x=3.5"), equation, backend)
    assert grade(equation, reading).correct
    wrong = parse_key({"kind": "expression", "answer": "x=8"})
    assert not grade(wrong, read_answer(_printed("x=3.5"), wrong, backend)).correct


def test_a_lost_sign_is_never_verified(backend) -> None:
    written = _printed("-25")
    assert grade(parse_key({"kind": "number", "values": [-25]}), read_answer(written, parse_key({"kind": "number", "values": [-25]}), backend)).correct
    lost = parse_key({"kind": "number", "values": [25]})
    result = grade(lost, read_answer(written, lost, backend))
    assert not (result.status == "graded" and result.correct)
    added = parse_key({"kind": "number", "values": [-25]})
    result = grade(added, read_answer(_printed("25"), added, backend))
    assert not (result.status == "graded" and result.correct)
