"""Crop-to-ink on writing boxes holding real handwritten digits, and on boxes with no writing."""

from __future__ import annotations

import _handwriting as hw
import cv2
import numpy as np
import pytest

from scanning import BadImageError, find_ink, split_stacked_fraction


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    return hw.load_digits()


def test_the_crop_holds_all_the_writing_and_little_else(digits) -> None:
    rng = np.random.default_rng(1)
    for text in ["7", "305", "12.5", "-48"]:
        crop = hw.box_crop(text, rng, *digits)
        ink = find_ink(crop)
        assert not ink.blank and ink.image is not None
        x, y, w, h = ink.box
        dark = crop < 170
        dark[:4, :] = dark[:, :4] = False  # the border remnant is not writing
        rows, cols = np.flatnonzero(dark.any(1)), np.flatnonzero(dark.any(0))
        assert x <= cols[0] and cols[-1] < x + w and y <= rows[0] and rows[-1] < y + h
        assert w < cols[-1] - cols[0] + 1 + 0.6 * h  # tight: only a margin beyond the ink
        assert ink.image.shape == (h, w) and ink.image.max() == 255 and ink.image.min() < 60


def test_border_remnants_and_specks_alone_are_blank() -> None:
    rng = np.random.default_rng(2)
    crop = np.full((90, 280), 238, np.uint8)
    crop[:3, :] = 50
    crop[:, -2:] = 50
    for _ in range(6):  # dust: isolated 1-2 px specks
        y, x = rng.integers(10, 80), rng.integers(10, 270)
        crop[y : y + 2, x : x + 1] = 120
    ink = find_ink(crop)
    assert ink.blank and ink.image is None and ink.confidence > 0.5


def test_a_faint_one_near_the_edge_is_kept_and_a_decimal_point_survives(digits) -> None:
    rng = np.random.default_rng(3)
    crop = hw.box_crop("1.5", rng, *digits, pencil=150)
    ink = find_ink(crop)
    assert not ink.blank and ink.image is not None
    # the crop holds the three marks: a '1', a dot and a '5' (separate blobs)
    n = cv2.connectedComponents((ink.image < 200).astype(np.uint8))[0]
    assert n - 1 >= 3


def test_stacked_fractions_are_split_and_digits_with_flat_strokes_are_not(digits) -> None:
    rng = np.random.default_rng(4)
    for text in ["3/4", "12/7", "-5/8"]:
        ink = find_ink(hw.box_crop(text, rng, *digits, stacked=True))
        parts = split_stacked_fraction(ink.image)
        assert parts is not None, text
        assert parts.negative is text.startswith("-")
        assert parts.numerator.shape[0] < ink.image.shape[0] / 2 + 4
    images, labels = digits
    for text in ["4", "7", "47", "-74", "2/5", "0.5"]:  # a 4's or 7's bar is crossed by a stroke
        ink = find_ink(hw.box_crop(text, rng, images, labels))
        assert split_stacked_fraction(ink.image) is None, text


def test_every_four_and_seven_in_the_slice_stays_unsplit(digits) -> None:
    images, labels = digits
    rng = np.random.default_rng(5)
    split = 0
    for index in np.flatnonzero((labels == 4) | (labels == 7)):
        only = (images[index : index + 1], labels[index : index + 1])
        ink = find_ink(hw.box_crop(str(labels[index]), rng, *only))
        split += split_stacked_fraction(ink.image) is not None
    assert split == 0


def test_all_black_is_blank_with_low_confidence() -> None:
    ink = find_ink(np.zeros((60, 200), np.uint8))
    assert ink.blank and ink.confidence < 0.5


def test_colour_crops_are_converted() -> None:
    crop = np.full((60, 160, 3), 235, np.uint8)
    crop[20:45, 70:75] = 80
    assert not find_ink(crop).blank


@pytest.mark.parametrize(
    ("crop", "message"),
    [
        (np.zeros((0, 10), np.uint8), "too small"),
        (np.zeros((40, 100), np.float64), "uint8"),
        (np.zeros((2, 40, 100), np.uint8), "2-D"),
        ([[255, 255], [0, 0]], "numpy array"),
    ],
)
def test_bad_crops_raise_bad_image_error(crop: object, message: str) -> None:
    with pytest.raises(BadImageError, match=message):
        find_ink(crop)  # type: ignore[arg-type]
