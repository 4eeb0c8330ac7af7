"""OMR: bubble states on rendered, pencilled pages under bad light, and every field kind's rules."""

from __future__ import annotations

import numpy as np
import pytest
import scanpages as sp

from scanning import marker_layout, read_field, register
from scanning._omr import AMBIGUOUS, EMPTY, FILLED, BubbleFill, ink_levels, measure_bubbles


@pytest.fixture(scope="module")
def page():
    image, geometry = sp.rendered()[0]
    return sp.pencil(image, geometry, sp.MARKS), geometry.page


def _states(image: np.ndarray, layout) -> dict[tuple[str, str, int], str]:
    reg = register(image, marker_layout(210.0, 297.0))
    fills = measure_bubbles(image, reg.homography, layout.bubbles, ink_levels(image, reg, layout.markers))
    return {(b.field_id, b.option, b.column): f.state for b, f in zip(layout.bubbles, fills, strict=True)}


def _expected_states(layout) -> dict[tuple[str, str, int], str]:
    style = {(fid, o, c): s for fid, marks in sp.MARKS.items() for o, c, s in marks}
    states = {"full": FILLED, "light": FILLED, "partial": FILLED, "erased": AMBIGUOUS}
    return {(b.field_id, b.option, b.column): states[style[(b.field_id, b.option, b.column)]]
            if (b.field_id, b.option, b.column) in style else EMPTY for b in layout.bubbles}


def test_every_bubble_state_on_a_clean_scan(page) -> None:
    image, layout = page
    assert _states(image, layout) == _expected_states(layout)


def test_light_pencil_on_a_dark_low_contrast_scan(page) -> None:
    """Paper at ~120 and toner at ~40: levels come from this page's own paper and markers."""
    image, layout = page
    dark = (40 + image.astype(np.float32) * (80 / 255)).astype(np.uint8)
    assert _states(sp.jpeg_roundtrip(dark, 85), layout) == _expected_states(layout)


def test_shadow_across_the_page(page) -> None:
    image, layout = page
    h, w = image.shape
    yy, xx = np.mgrid[0:h, 0:w]
    shade = 1.0 - 0.45 * np.exp(-(((xx - 0.4 * w) / (0.25 * w)) ** 2 + ((yy - 0.3 * h) / (0.2 * h)) ** 2))
    shaded = (image * shade).astype(np.uint8)
    assert _states(shaded, layout) == _expected_states(layout)


def _fill(option: str, state: str, column: int = 0) -> BubbleFill:
    return BubbleFill(option, column, {FILLED: 0.9, AMBIGUOUS: 0.2, EMPTY: 0.0}[state], 0.0, state, 1.0)


def _read(kind: str, *marks: tuple, options: str = "ABCD") -> tuple:
    chosen = {(m[0], m[1] if len(m) > 2 else 0): m[-1] for m in marks}
    if kind in ("grid_in", "minutes"):
        fills = [_fill(o, chosen.get((o, c), EMPTY), c) for c in range(5) for o in "-.0123456789"]
    else:
        fills = [_fill(o, chosen.get((o, 0), EMPTY)) for o in options]
    reading = read_field("f", kind, fills)
    assert 0.0 <= reading.confidence <= 1.0
    return reading.value, reading.status


def test_single_choice_rules() -> None:
    assert _read("single_choice", ("B", FILLED)) == ("B", "ok")
    assert _read("single_choice") == (None, "blank")
    assert _read("single_choice", ("A", FILLED), ("D", FILLED)) == ("AD", "needs_review")
    assert _read("single_choice", ("C", AMBIGUOUS)) == (None, "needs_review")
    assert _read("single_choice", ("A", FILLED), ("C", AMBIGUOUS)) == ("A", "needs_review")
    assert _read("true_false", ("F", FILLED), options="TF") == ("F", "ok")
    assert _read("score", ("3", FILLED), options="0123456") == ("3", "ok")


def test_multiple_choice_rules() -> None:
    assert _read("multiple_choice", ("D", FILLED), ("A", FILLED)) == ("AD", "ok")
    assert _read("multiple_choice") == (None, "blank")
    assert _read("multiple_choice", ("A", FILLED), ("B", AMBIGUOUS)) == ("A", "needs_review")


def test_grid_in_rules() -> None:
    assert _read("grid_in", ("-", 0, FILLED), ("3", 1, FILLED), (".", 2, FILLED), ("5", 3, FILLED)) == ("-3.5", "ok")
    assert _read("grid_in", ("4", 2, FILLED), ("2", 3, FILLED)) == ("42", "ok")  # right-aligned
    assert _read("grid_in") == (None, "blank")
    assert _read("grid_in", ("1", 1, FILLED), ("5", 3, FILLED))[1] == "needs_review"  # a gap
    assert _read("grid_in", ("1", 1, FILLED), ("7", 1, FILLED))[1] == "needs_review"  # two in a column
    assert _read("grid_in", ("-", 0, FILLED))[1] == "needs_review"  # a sign alone
    assert _read("grid_in", (".", 1, FILLED), ("5", 2, FILLED), (".", 3, FILLED))[1] == "needs_review"


def test_minutes_rules() -> None:
    assert _read("minutes", ("2", 0, FILLED), ("5", 1, FILLED)) == ("25", "ok")
    assert _read("minutes", ("7", 1, FILLED)) == ("7", "ok")
    assert _read("minutes", ("0", 0, FILLED), ("8", 1, FILLED)) == ("8", "ok")
    assert _read("minutes", ("3", 0, FILLED)) == (None, "needs_review")
    assert _read("minutes") == (None, "blank")


def test_a_bubble_field_kind_is_required() -> None:
    with pytest.raises(ValueError, match="'handwriting' is not a bubble field"):
        read_field("q8", "handwriting", [])


def test_a_fill_overflowing_its_bubble_still_reads_filled() -> None:
    """A blob twice the bubble's size darkens the paper ring the bubble is measured against."""
    import cv2

    image, geometry = sp.rendered()[0]
    blob = image.copy()
    for field_id, option in (("q1", "B"), ("q6", "F")):
        b = next(b for b in geometry.page.bubbles if b.field_id == field_id and b.option == option)
        cx, cy = geometry.point(b.cx, b.cy)
        radius = b.r * geometry.scale
        cv2.ellipse(blob, (round(cx), round(cy)), (round(1.9 * radius), round(1.5 * radius)), 20, 0, 360, 90, -1)
    states = _states(blob, geometry.page)
    assert states[("q1", "B", 0)] == states[("q6", "F", 0)] == FILLED
    assert states[("q1", "A", 0)] == states[("q1", "C", 0)] == EMPTY
