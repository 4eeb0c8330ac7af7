"""Writing-box crops composed from REAL handwritten digits (the MNIST slice in fixtures/handwriting).

Each digit is a real MNIST image (inverted to dark ink, cut to its ink, scaled to the line height);
'-', '.' and '/' are drawn as pencil strokes; a fraction can be stacked (numerator, bar,
denominator). The line is laid as grey pencil on paper inside a box interior whose printed border
leaves a remnant along two edges, with sensor noise and a JPEG round trip, as a scan would.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

SLICE = Path(__file__).resolve().parents[2] / "fixtures" / "handwriting" / "mnist_digits_500.npz"


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The fixture's 500 real digits as ink coverage in [0, 1] (1 = ink), and their labels."""
    data = np.load(SLICE)
    return data["images"].astype(np.float32) / 255.0, data["labels"].astype(int)


def _glyph(
    ch: str, height: int, digits: np.ndarray, labels: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    if ch.isdigit():
        image = digits[rng.choice(np.flatnonzero(labels == int(ch)))]
        rows, cols = np.flatnonzero(image.max(1) > 0.1), np.flatnonzero(image.max(0) > 0.1)
        image = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        width = max(2, round(image.shape[1] * height / image.shape[0]))
        return cv2.resize(image, (width, height))
    t = max(2, height // 9)
    if ch == "-":
        canvas = np.zeros((height, height // 2 + 2 * t), np.float32)
        cv2.line(canvas, (t, height // 2), (height // 2 + t, height // 2), 1.0, t, cv2.LINE_AA)
    elif ch == ".":
        canvas = np.zeros((height, 3 * t + 2), np.float32)
        cv2.circle(canvas, (canvas.shape[1] // 2, height - t - 1), t, 1.0, -1, cv2.LINE_AA)
    elif ch == "/":
        canvas = np.zeros((height, height // 2 + 2 * t), np.float32)
        cv2.line(canvas, (t, height - t), (height // 2 + t, t), 1.0, t, cv2.LINE_AA)
    else:
        raise ValueError(ch)
    return canvas


def write_line(
    text: str, height: int, digits: np.ndarray, labels: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Ink coverage of ``text`` written on one line, ``height`` px tall."""
    gap = max(2, height // 6)
    glyphs = [_glyph(ch, height, digits, labels, rng) for ch in text]
    canvas = np.zeros((height, sum(g.shape[1] for g in glyphs) + gap * (len(glyphs) + 1)), np.float32)
    x = gap
    for g in glyphs:
        canvas[:, x : x + g.shape[1]] = np.maximum(canvas[:, x : x + g.shape[1]], g)
        x += g.shape[1] + gap
    return canvas


def write_stacked(
    text: str, height: int, digits: np.ndarray, labels: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """``a/b`` as numerator over a bar over denominator (``-a/b``: a minus in front)."""
    sign, body = ("-", text[1:]) if text.startswith("-") else ("", text)
    num, den = body.split("/")
    part = max(10, int(height * 0.45))
    top, bottom = write_line(num, part, digits, labels, rng), write_line(den, part, digits, labels, rng)
    t = max(2, height // 14)
    width = max(top.shape[1], bottom.shape[1]) + 2 * t
    canvas = np.zeros((2 * part + 4 * t, width), np.float32)
    canvas[:part, (width - top.shape[1]) // 2 :][:, : top.shape[1]] = top
    canvas[part + 4 * t :, (width - bottom.shape[1]) // 2 :][:, : bottom.shape[1]] = bottom
    cv2.line(canvas, (t, part + 2 * t), (width - t, part + 2 * t), 1.0, t, cv2.LINE_AA)
    if not sign:
        return canvas
    minus = _glyph("-", canvas.shape[0], digits, labels, rng)
    return np.hstack([minus, np.zeros((canvas.shape[0], t * 2), np.float32), canvas])


def box_crop(
    text: str,
    rng: np.random.Generator,
    digits: np.ndarray,
    labels: np.ndarray,
    *,
    stacked: bool = False,
    size: tuple[int, int] = (300, 96),
    pencil: int = 90,
) -> np.ndarray:
    """A scanned writing-box interior (grey uint8) with ``text`` handwritten in it."""
    w, h = size
    paper = int(rng.integers(228, 248))
    crop = np.full((h, w), paper, np.float32)
    if text:
        ink = (
            write_stacked(text, h - 16, digits, labels, rng)
            if stacked
            else write_line(text, h // 2, digits, labels, rng)
        )
        ink = ink[:, : w - 16]
        y = (h - ink.shape[0]) // 2
        x = int(rng.integers(8, max(9, w - ink.shape[1] - 8)))
        region = crop[y : y + ink.shape[0], x : x + ink.shape[1]]
        region[:] = region * (1 - ink) + pencil * ink
    crop[:2, :] = 60  # remnants of the printed box border, left by registration error
    crop[:, :2] = 60
    crop += rng.normal(0, 3, crop.shape)
    ok, jpeg = cv2.imencode(".jpg", np.clip(crop, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)
