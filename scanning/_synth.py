"""Synthetic filled-in sheets: real handwritten digits, pencil bubble marks, scanner and phone damage.

The generator behind ``fixtures/scans``, the end-to-end tests, ``benchmarks/scan.py`` and the demo.
Everything is deterministic given a :class:`numpy.random.Generator`.

* **Handwriting** is composed from *real* handwritten digits (MNIST; 28x28, white on black):
  each digit is cut to its ink, scaled, slanted and placed with the writer's spacing and baseline
  jitter. Minus signs, decimal points and fraction slashes/bars are drawn as pencil strokes. Short
  words and Chinese characters have no real handwriting data here: :func:`write_text` renders them
  from the embedded fonts with jitter, as a *labelled stand-in* (``truth.json`` marks them
  ``"source": "font"``), never to be mixed with the real-handwriting figures.
* **Bubble marks** are textured pencil ellipses: full, partial (40-90 % of the bubble), light,
  erased (a faint smudge where a mark was rubbed out), plus stray marks outside any bubble.
* **Degradation** imitates a sheet-fed/flatbed scanner (small skew, quarter turns, noise, uneven
  brightness, JPEG) or a phone photo (perspective, shadow gradient, blur, background, JPEG).

Pixel values follow paper conventions: ``uint8`` grey, paper ~230-250, pencil ~60-140.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> bank = DigitBank.from_arrays(np.zeros((10, 28, 28), np.uint8) + 255, np.arange(10))
>>> ink = write_number("3/4", bank, height_px=40, rng=rng, style=HandStyle())
>>> ink.dtype, ink.ndim, 0.0 <= float(ink.min()) and float(ink.max()) <= 1.0
(dtype('float32'), 2, True)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

NUMBER_CHARS = frozenset("0123456789-./")


# --------------------------------------------------------------------------------------------
# Real handwritten digits


@dataclass(frozen=True, eq=False)
class DigitBank:
    """Real handwritten digits: ``images`` (n, h, w) uint8 white ink on black, ``labels`` (n,)."""

    images: np.ndarray
    labels: np.ndarray

    @classmethod
    def from_arrays(cls, images: np.ndarray, labels: np.ndarray) -> DigitBank:
        """Check and wrap digit arrays (one label 0-9 per image)."""
        images = np.asarray(images, dtype=np.uint8)
        labels = np.asarray(labels).astype(np.int64).ravel()
        if images.ndim != 3 or len(images) != len(labels):
            raise ValueError(f"need images (n, h, w) and n labels, got {images.shape} and {labels.shape}")
        missing = sorted(set(range(10)) - set(labels.tolist()))
        if missing:
            raise ValueError(f"the digit bank has no example of digit(s) {missing}")
        return cls(images, labels)

    @classmethod
    def load(cls, path: str | Path) -> DigitBank:
        """Load an ``.npz`` with ``images`` and ``labels`` (the MNIST slice in ``fixtures/handwriting``)."""
        with np.load(Path(path)) as data:
            return cls.from_arrays(data["images"], data["labels"])

    def __len__(self) -> int:
        return len(self.labels)

    def pick(self, digit: int, rng: np.random.Generator) -> np.ndarray:
        """One real example of ``digit``, as ink coverage in [0, 1] cut to its ink (float32)."""
        (candidates,) = np.nonzero(self.labels == digit)
        img = self.images[int(rng.choice(candidates))].astype(np.float32) / 255.0
        rows, cols = np.nonzero(img > 0.12)
        if len(rows) == 0:
            return np.ones((8, 5), np.float32)
        return img[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


@dataclass(frozen=True)
class HandStyle:
    """How one student writes: letter height (share of the box), slant, spacing, pressure."""

    height: float = 0.62  # digit height as a share of the box height
    slant: float = 0.0  # horizontal shear (x += slant * (h - y)); ~ -0.15..0.35 in practice
    spacing: float = 0.18  # gap between digits, as a share of digit height
    jitter: float = 0.05  # baseline jitter, share of digit height
    thickness: float = 1.0  # stroke width, 1 = MNIST's own (~0.12 of the height; a pencil is ~0.6)
    pencil: int = 90  # grey level of a fully covered pixel (60 dark ... 140 light)
    stacked: bool = False  # writes fractions as numerator over a bar over denominator

    @classmethod
    def sample(cls, rng: np.random.Generator) -> HandStyle:
        """A random, plausible student."""
        return cls(
            height=float(rng.uniform(0.5, 0.72)),
            slant=float(rng.uniform(-0.12, 0.3)),
            spacing=float(rng.uniform(0.08, 0.35)),
            jitter=float(rng.uniform(0.0, 0.08)),
            thickness=float(rng.uniform(0.55, 1.1)),
            pencil=int(rng.integers(60, 141)),
            stacked=bool(rng.random() < 0.35),
        )


def _scale_glyph(glyph: np.ndarray, height: int, slant: float, thickness: float = 1.0) -> np.ndarray:
    """Resize a glyph to ``height`` px (keeping its aspect), thin its strokes, shear it by ``slant``.

    MNIST strokes are about 0.12 of the digit's height (a felt pen); ``thickness`` < 1 thins them
    towards a pencil line by eroding the coverage.
    """
    import cv2

    h, w = glyph.shape
    width = max(1, round(w * height / h))
    out = cv2.resize(glyph, (width, max(1, height)), interpolation=cv2.INTER_LINEAR)
    shave = round(0.12 * height * (1.0 - thickness) / 2)
    if shave > 0:
        out = cv2.erode(out, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * shave + 1, 2 * shave + 1)))
    if abs(slant) > 1e-3:
        pad = round(abs(slant) * height) + 1
        shear = np.array([[1, -slant, slant * height + (0 if slant >= 0 else pad)], [0, 1, 0]], np.float32)
        out = cv2.warpAffine(out, shear, (width + pad, height), flags=cv2.INTER_LINEAR)
        cols = np.nonzero(out.max(axis=0) > 0.05)[0]
        if len(cols):
            out = out[:, cols.min() : cols.max() + 1]
    return out


def _stroke_glyph(kind: str, height: int, style: HandStyle, rng: np.random.Generator) -> np.ndarray:
    """A drawn '-', '.' or '/' as ink coverage; its canvas is ``height`` px tall (the digit band)."""
    import cv2

    t = max(1, round(height * 0.11 * style.thickness))
    if kind == "-":
        w = max(3, round(height * rng.uniform(0.4, 0.65)))
        canvas = np.zeros((height, w + 2 * t), np.float32)
        y = height * rng.uniform(0.45, 0.6)
        dy = height * rng.uniform(-0.06, 0.06)
        cv2.line(canvas, (t, round(y + dy)), (w + t, round(y - dy)), 1.0, t, cv2.LINE_AA)
    elif kind == ".":
        rad = max(1, round(height * rng.uniform(0.06, 0.1) * style.thickness))
        canvas = np.zeros((height, 4 * rad + 2), np.float32)
        cv2.circle(canvas, (2 * rad + 1, height - rad - 1), rad, 1.0, -1, cv2.LINE_AA)
    elif kind == "/":
        w = max(3, round(height * rng.uniform(0.35, 0.55)))
        canvas = np.zeros((height, w + 2 * t), np.float32)
        cv2.line(canvas, (t, height - t), (w + t, t), 1.0, t, cv2.LINE_AA)
    else:
        raise ValueError(f"no stroke for {kind!r}")
    return canvas


def _hstack(glyphs: list[np.ndarray], height: int, style: HandStyle, rng: np.random.Generator) -> np.ndarray:
    """Lay glyphs side by side on one baseline with the writer's spacing and baseline jitter."""
    gap = max(1, round(style.spacing * height))
    jit = max(0, round(style.jitter * height))
    total_w = sum(g.shape[1] for g in glyphs) + gap * (len(glyphs) + 1)
    canvas = np.zeros((height + 2 * jit + 2, total_w), np.float32)
    x = gap
    for g in glyphs:
        dy = int(rng.integers(-jit, jit + 1)) if jit else 0
        y = jit + 1 + dy + (height - g.shape[0])
        region = canvas[y : y + g.shape[0], x : x + g.shape[1]]
        np.maximum(region, g[: region.shape[0], : region.shape[1]], out=region)
        x += g.shape[1] + gap
    return canvas


def _write_inline(text: str, bank: DigitBank, height: int, rng: np.random.Generator, style: HandStyle) -> np.ndarray:
    glyphs = []
    for ch in text:
        if ch.isdigit():
            g = _scale_glyph(bank.pick(int(ch), rng), height, style.slant, style.thickness)
            # digits like "1" are thin; real writers still leave them their height
            glyphs.append(g)
        else:
            glyphs.append(_stroke_glyph(ch, height, style, rng))
    return _hstack(glyphs, height, style, rng)


def _write_stacked(text: str, bank: DigitBank, height: int, rng: np.random.Generator, style: HandStyle) -> np.ndarray:
    """``a/b`` as numerator over a bar over denominator (``-a/b`` puts the minus in front)."""
    import cv2

    sign, body = ("-", text[1:]) if text.startswith("-") else ("", text)
    num, den = body.split("/", 1)
    part_h = max(6, round(height * 0.8))  # the box has room for two rows
    top = _write_inline(num, bank, part_h, rng, style)
    bottom = _write_inline(den, bank, part_h, rng, style)
    t = max(1, round(height * 0.08 * style.thickness))
    w = max(top.shape[1], bottom.shape[1]) + 2 * t
    bar_h = 3 * t
    canvas = np.zeros((top.shape[0] + bar_h + bottom.shape[0], w), np.float32)
    canvas[: top.shape[0], (w - top.shape[1]) // 2 :][:, : top.shape[1]] = top
    y0 = top.shape[0] + bar_h
    canvas[y0:, (w - bottom.shape[1]) // 2 :][:, : bottom.shape[1]] = bottom
    yb = top.shape[0] + bar_h // 2
    cv2.line(canvas, (t, yb + int(rng.integers(-t, t + 1))), (w - t, yb), 1.0, t, cv2.LINE_AA)
    if not sign:
        return canvas
    minus = _stroke_glyph("-", canvas.shape[0], style, rng)
    return _hstack([minus, canvas], canvas.shape[0], HandStyle(spacing=style.spacing, jitter=0.0), rng)


def write_number(
    text: str, bank: DigitBank, height_px: int, rng: np.random.Generator, style: HandStyle
) -> np.ndarray:
    """Handwrite a number (``"12"``, ``"-3"``, ``"0.75"``, ``"3/4"``) from real digits.

    Returns ink coverage in [0, 1] (float32), tightly around the ink plus a small margin;
    ``height_px`` is the height of one digit. Fractions are stacked when ``style.stacked``.
    """
    if not text or not set(text) <= NUMBER_CHARS or not any(c.isdigit() for c in text):
        raise ValueError(f"write_number writes digits with - . / only, got {text!r}")
    if style.stacked and text.count("/") == 1 and not text.endswith("/"):
        return _write_stacked(text, bank, height_px, rng, style)
    return _write_inline(text, bank, height_px, rng, style)


# --------------------------------------------------------------------------------------------
# Text stand-in (no real handwriting data for words or hanzi here)


def _font_for(ch: str, size: int):  # noqa: ANN202 - PIL type stays a lazy import
    from PIL import ImageFont

    if ord(ch) < 0x2E80:
        import reportlab

        path = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"
    else:
        path = Path(__file__).parent / "fonts" / "DroidSansFallback-GB.ttf"
    return ImageFont.truetype(str(path), size)


def write_text(text: str, height_px: int, rng: np.random.Generator, style: HandStyle) -> np.ndarray:
    """Render a short word or Chinese characters from the embedded fonts, jittered per character.

    A STAND-IN for handwriting (there is no real handwriting data for words or hanzi here); ink
    coverage in [0, 1], ``height_px`` tall per character line.
    """
    import cv2
    from PIL import Image, ImageDraw

    if not text.strip():
        raise ValueError("write_text needs a non-blank text")
    glyphs = []
    for ch in text:
        font = _font_for(ch, height_px)
        left, top, right, bottom = font.getbbox(ch)
        w, h = max(1, right - left), max(1, bottom - top)
        if ch.isspace():
            glyphs.append(np.zeros((height_px, height_px // 3), np.float32))
            continue
        img = Image.new("L", (w + 4, h + 4), 0)
        ImageDraw.Draw(img).text((2 - left, 2 - top), ch, fill=255, font=font)
        g = np.asarray(img, np.float32) / 255.0
        angle = float(rng.uniform(-6, 6))
        rot = cv2.getRotationMatrix2D((g.shape[1] / 2, g.shape[0] / 2), angle, float(rng.uniform(0.9, 1.08)))
        g = np.asarray(cv2.warpAffine(g, rot, (g.shape[1], g.shape[0])), np.float32)
        pad = np.zeros((height_px, g.shape[1]), np.float32)
        gh = min(g.shape[0], height_px)
        pad[height_px - gh :] = g[-gh:] if ch.isascii() and ch not in "gjpqy" else g[:gh]
        glyphs.append(pad)
    loose = HandStyle(spacing=style.spacing * 0.4, jitter=style.jitter, slant=style.slant)
    return _hstack(glyphs, height_px, loose, rng)


# --------------------------------------------------------------------------------------------
# Putting pencil on paper


def _grain(shape: tuple[int, ...], rng: np.random.Generator, strength: float = 0.35) -> np.ndarray:
    """Pencil grain: multiplicative coverage texture in [1 - strength, 1] (float32)."""
    import cv2

    g = rng.random(shape, dtype=np.float32)
    g = np.asarray(cv2.GaussianBlur(g, (0, 0), 0.8), np.float32)
    g = (g - g.min()) / max(1e-6, float(g.max() - g.min()))
    return (1.0 - strength + strength * g).astype(np.float32)


def apply_ink(
    image: np.ndarray, ink: np.ndarray, x: int, y: int, level: int, rng: np.random.Generator
) -> None:
    """Lay pencil of grey ``level`` with coverage ``ink`` onto grey ``image`` at top-left ``(x, y)``.

    In place; the part of ``ink`` outside the image is dropped.
    """
    h, w = image.shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(w, x + ink.shape[1]), min(h, y + ink.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    a = ink[y0 - y : y1 - y, x0 - x : x1 - x] * _grain((y1 - y0, x1 - x0), rng)
    region = image[y0:y1, x0:x1].astype(np.float32)
    out = np.minimum(region, region * (1 - a) + level * a)
    image[y0:y1, x0:x1] = np.clip(out, 0, 255).astype(np.uint8)


def place_in_box(
    image: np.ndarray, ink: np.ndarray, box: tuple[float, float, float, float], style: HandStyle,
    rng: np.random.Generator,
) -> None:
    """Write ``ink`` into the pixel box ``(x, y, w, h)``: shrunk to fit, left-ish, roughly centred."""
    import cv2

    bx, by, bw, bh = box
    margin = 0.08 * min(bw, bh)
    room_w, room_h = bw - 2 * margin, bh - 2 * margin
    k = min(1.0, room_w / ink.shape[1], room_h / ink.shape[0])
    if k < 1.0:
        ink = cv2.resize(ink, (max(1, int(ink.shape[1] * k)), max(1, int(ink.shape[0] * k))),
                         interpolation=cv2.INTER_AREA)
    free_x, free_y = room_w - ink.shape[1], room_h - ink.shape[0]
    x = bx + margin + free_x * float(rng.uniform(0.0, 0.5))
    y = by + margin + free_y * float(rng.uniform(0.3, 0.7))
    apply_ink(image, ink, round(x), round(y), style.pencil, rng)


# --------------------------------------------------------------------------------------------
# Bubble marks

MARK_STYLES = ("full", "partial", "light", "erased")


def _ellipse_mask(size: int, cx: float, cy: float, ax: float, ay: float, angle: float) -> np.ndarray:
    import cv2

    mask = np.zeros((size, size), np.float32)
    cv2.ellipse(mask, (round(cx * 4), round(cy * 4)), (max(1, round(ax * 4)), max(1, round(ay * 4))),
                angle, 0, 360, 1.0, -1, cv2.LINE_AA, shift=2)
    return mask


def bubble_mark_ink(r: float, style: str, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Coverage (square of side ~3r, centred on the bubble) and grey level of one pencil mark.

    ``full``: a filled ellipse roughly the bubble's size; ``partial``: 40-90 % of the bubble filled
    (cut by a random line); ``light``: a full mark pressed lightly (grey ~140-165);
    ``erased``: the faint smudge left where a mark was rubbed out (grey ~200-215).
    """
    import cv2

    if style not in MARK_STYLES:
        raise ValueError(f"unknown mark style {style!r}; expected one of {MARK_STYLES}")
    size = int(np.ceil(3 * r)) | 1
    c = size / 2
    jx, jy = rng.uniform(-0.12, 0.12, 2) * r
    ax, ay = r * rng.uniform(0.85, 1.12), r * rng.uniform(0.75, 1.02)
    ink = _ellipse_mask(size, c + jx, c + jy, ax, ay, float(rng.uniform(0, 180)))
    level = int(rng.integers(60, 131))
    if style == "partial":
        share = float(rng.uniform(0.4, 0.9))
        theta = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
        proj = (xx - c) * np.cos(theta) + (yy - c) * np.sin(theta)
        cut = np.quantile(proj[ink > 0.5], share)
        ink *= np.clip(cut - proj + 0.5, 0, 1)
    elif style == "light":
        level = int(rng.integers(140, 166))
    elif style == "erased":
        ink = cv2.GaussianBlur(ink, (0, 0), r * 0.25) * _grain(ink.shape, rng, 0.6)
        level = int(rng.integers(200, 216))
    return ink, level


def draw_bubble_mark(image: np.ndarray, cx: float, cy: float, r: float, style: str, rng: np.random.Generator) -> None:
    """Pencil a mark of ``style`` (see :func:`bubble_mark_ink`) on the bubble at ``(cx, cy)``, in place."""
    ink, level = bubble_mark_ink(r, style, rng)
    half = ink.shape[0] // 2
    apply_ink(image, ink, round(cx) - half, round(cy) - half, level, rng)


def draw_stray_mark(image: np.ndarray, x: float, y: float, size: float, rng: np.random.Generator) -> None:
    """A stray pencil stroke (a tick, a dash or a dot) of about ``size`` px near ``(x, y)``, in place."""
    import cv2

    n = int(np.ceil(size)) + 4
    ink = np.zeros((n, n), np.float32)
    t = max(1, round(size * 0.08))
    kind = int(rng.integers(3))
    if kind == 0:  # a tick
        pts = np.array([[0.1, 0.55], [0.4, 0.85], [0.9, 0.1]]) * size + 2
        cv2.polylines(ink, [pts.astype(np.int32)], False, 1.0, t, cv2.LINE_AA)
    elif kind == 1:  # a dash
        cv2.line(ink, (2, n // 2), (n - 3, n // 2 + int(rng.integers(-n // 4, n // 4 + 1))), 1.0, t, cv2.LINE_AA)
    else:  # a dot
        cv2.circle(ink, (n // 2, n // 2), max(1, round(size * 0.15)), 1.0, -1, cv2.LINE_AA)
    apply_ink(image, ink, round(x - n / 2), round(y - n / 2), int(rng.integers(70, 150)), rng)


# --------------------------------------------------------------------------------------------
# Degradation: what a scanner or a phone does to a page


@dataclass(frozen=True)
class Degradation:
    """How a page gets damaged on its way back. ``kind`` is ``"scanner"`` or ``"phone"``.

    Ranges are maxima; each page draws its own values. ``quarter_turns`` is fixed (0-3: the page fed
    sideways or upside down). ``dpi`` is the resolution the page should be rendered at.
    """

    name: str
    kind: str = "scanner"
    dpi: int = 200
    quarter_turns: int = 0
    skew_deg: float = 3.0
    perspective_deg: float = 0.0
    noise_sigma: float = 2.0
    light_drop: float = 0.12  # brightness falls by up to this share across the page
    blur_sigma: float = 0.0
    jpeg_quality: tuple[int, int] = (60, 90)

    def __post_init__(self) -> None:
        if self.kind not in ("scanner", "phone"):
            raise ValueError(f"kind must be 'scanner' or 'phone', got {self.kind!r}")
        if self.quarter_turns not in (0, 1, 2, 3):
            raise ValueError(f"quarter_turns must be 0-3, got {self.quarter_turns}")


def scanner(dpi: int, quarter_turns: int = 0) -> Degradation:
    """A sheet-fed or flatbed scan at ``dpi``, fed ``quarter_turns`` x 90 degrees round.

    >>> scanner(150, 2).name
    'scan150-rot180'
    """
    return Degradation(f"scan{dpi}-rot{90 * quarter_turns}", "scanner", dpi, quarter_turns)


def phone(tilt_deg: float = 15.0, dpi: int = 200) -> Degradation:
    """A phone photo: tilt up to ``tilt_deg``, any turn, shadow, blur, background, JPEG."""
    return Degradation(f"phone-tilt{tilt_deg:g}", "phone", dpi, 0, 10.0, tilt_deg, 3.0, 0.35, 1.2, (60, 85))


def _light_gradient(shape: tuple[int, int], drop: float, rng: np.random.Generator) -> np.ndarray:
    """A multiplicative brightness field: 1 somewhere, ``1 - drop`` at the far side, smooth."""
    import cv2

    h, w = shape
    sh, sw = max(2, h // 16), max(2, w // 16)  # smooth: compute small, then enlarge
    theta = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    t = (xx / sw - 0.5) * np.cos(theta) + (yy / sh - 0.5) * np.sin(theta)
    t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
    small = (1.0 - float(rng.uniform(0.3, 1.0)) * drop * t**1.5).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _jpeg(image: np.ndarray, quality: int) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - cv2 encodes any uint8 image
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def _scan(image: np.ndarray, p: Degradation, rng: np.random.Generator) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    light = _light_gradient((h, w), p.light_drop, rng) * float(rng.uniform(0.92, 0.98))  # paper ~235-250
    out = image.astype(np.float32) * (light if image.ndim == 2 else light[..., None])
    angle = float(rng.uniform(-p.skew_deg, p.skew_deg))
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    bed = float(rng.uniform(225, 250))
    turned = cv2.warpAffine(out, rot, (w, h), flags=cv2.INTER_LINEAR, borderValue=bed)
    return np.rot90(np.asarray(turned, np.float32), -p.quarter_turns).copy()


def _tilt_corners(w: int, h: int, tilt_deg: float, rng: np.random.Generator) -> np.ndarray:
    """Where the page's corners land when the camera looks at it tilted by ``tilt_deg``."""
    import cv2

    phi = rng.uniform(0, 2 * np.pi)
    axis = np.array([np.cos(phi), np.sin(phi), 0.0]) * np.radians(tilt_deg)
    rot, _ = cv2.Rodrigues(axis)
    corners = np.array([[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0], [-w / 2, h / 2, 0]])
    dist = 1.6 * max(w, h)  # a phone held ~ 1.6 page heights away (normal lens)
    pts = corners @ rot.T
    return (pts[:, :2] * dist / (pts[:, 2:3] + dist)).astype(np.float32)


def _photo(image: np.ndarray, p: Degradation, rng: np.random.Generator) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    dst = _tilt_corners(w, h, float(rng.uniform(0.3, 1.0)) * p.perspective_deg, rng)
    # people hold the phone roughly square to the page, in any of four ways round
    spin = np.radians(90 * int(rng.integers(4)) + rng.uniform(-p.skew_deg, p.skew_deg))
    dst = dst @ np.array([[np.cos(spin), np.sin(spin)], [-np.sin(spin), np.cos(spin)]], np.float32)
    fill = float(rng.uniform(0.72, 0.88))  # share of the frame the page takes
    span = dst.max(axis=0) - dst.min(axis=0)
    long_side = max(h, w)  # a 4:3 frame held the way the page lies
    out_w, out_h = (int(0.75 * long_side), long_side) if span[1] >= span[0] else (long_side, int(0.75 * long_side))
    k = fill * min(out_w / span[0], out_h / span[1])
    dst = (dst - dst.min(axis=0)) * k
    dst += (np.array([out_w, out_h]) - (dst.max(axis=0))) * rng.uniform(0.2, 0.8, 2)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    paper_tint = np.array([rng.uniform(0.9, 1.0), rng.uniform(0.95, 1.0), 1.0], np.float32)
    page = cv2.warpPerspective(gray.astype(np.float32), m, (out_w, out_h), flags=cv2.INTER_LINEAR)
    cover = cv2.warpPerspective(np.ones((h, w), np.float32), m, (out_w, out_h), flags=cv2.INTER_LINEAR)
    table = np.array(rng.uniform(40, 160, 3), np.float32)
    grain = cv2.GaussianBlur(rng.normal(0, 10, (out_h // 8, out_w // 8)).astype(np.float32), (0, 0), 1.0)
    texture = cv2.resize(grain, (out_w, out_h), interpolation=cv2.INTER_CUBIC)
    background = table[None, None, :] + texture[..., None]
    photo = page[..., None] * paper_tint * cover[..., None] + background * (1 - cover[..., None])
    light = _light_gradient((out_h, out_w), p.light_drop, rng) * _shadow((out_h, out_w), rng)
    photo *= light[..., None]
    if p.blur_sigma > 0:
        photo = cv2.GaussianBlur(photo, (0, 0), float(rng.uniform(0.3, 1.0)) * p.blur_sigma)
    return photo


def _shadow(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A soft shadow (a hand or the phone) darkening one region by 15-35 %."""
    import cv2

    h, w = shape
    sh, sw = max(2, h // 16), max(2, w // 16)
    mask = np.zeros((sh, sw), np.float32)
    cx, cy = rng.uniform(0, sw), rng.uniform(0, sh)
    axes = (int(sw * rng.uniform(0.2, 0.5)), int(sh * rng.uniform(0.15, 0.4)))
    cv2.ellipse(mask, (int(cx), int(cy)), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
    mask = np.asarray(cv2.GaussianBlur(mask, (0, 0), 0.06 * max(sh, sw)), np.float32)
    small = 1.0 - float(rng.uniform(0.15, 0.35)) * mask
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def degrade_to_jpeg(image: np.ndarray, profile: Degradation, rng: np.random.Generator) -> bytes:
    """Damage a clean page as ``profile`` says and encode it as the JPEG file a scanner or phone sends.

    Grey pages stay grey for scanners; phone photos come out in colour (BGR).
    """
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"degrade needs a uint8 grey or BGR page, got {image.dtype} {image.shape}")
    out = _scan(image, profile, rng) if profile.kind == "scanner" else _photo(image, profile, rng)
    noise = rng.normal(0, profile.noise_sigma, out.shape[:2]).astype(np.float32)
    out += noise if out.ndim == 2 else noise[..., None]  # sensor noise is mostly in luminance
    lo, hi = profile.jpeg_quality
    return _jpeg(np.clip(out, 0, 255).astype(np.uint8), int(rng.integers(lo, hi + 1)))


def degrade(image: np.ndarray, profile: Degradation, rng: np.random.Generator) -> np.ndarray:
    """Damage a clean page as ``profile`` says; returns ``uint8`` (grey for scans, BGR for photos).

    The result has been through JPEG at the profile's quality: it is what a reader sees.
    """
    import cv2

    data = degrade_to_jpeg(image, profile, rng)
    return np.asarray(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED))


# --------------------------------------------------------------------------------------------
# What a student does on a sheet, and what a reader should make of it


@dataclass(frozen=True)
class Mark:
    """One pencil mark on a bubble: the option it covers, the bubble's column, the mark's style."""

    option: str
    column: int = 0
    style: str = "full"


@dataclass(frozen=True)
class FieldFill:
    """What one student puts in one field, and the reading a correct reader reports.

    ``expected`` is the value (``"B"``, ``"AC"``, ``"T"``, ``"-3.5"``, ``"25"``, ``"3/4"``) or
    ``None`` for a blank; ``status`` is ``"ok"``, ``"blank"`` or ``"needs_review"``; ``case`` names
    the situation (``"clean"``, ``"partial"``, ``"double"``, ``"erasure+mark"``...). A handwritten
    field carries ``written`` and its ``source``: ``"mnist"`` (real handwriting) or ``"font"``
    (stand-in).
    """

    field_id: str
    expected: str | None
    status: str
    case: str
    marks: tuple[Mark, ...] = ()
    written: str | None = None
    source: str = ""
    stacked: bool = False

    @property
    def number_kind(self) -> str:
        """For a handwritten number: ``negative``, ``fraction``, ``decimal`` or ``integer``; else ``text``."""
        w = self.written or ""
        if self.source != "mnist":
            return "text"
        if w.startswith("-"):
            return "negative"
        return "fraction" if "/" in w else "decimal" if "." in w else "integer"

    def to_json(self) -> dict[str, object]:
        """The ground-truth record written to ``truth.json``."""
        out: dict[str, object] = {"expected": self.expected, "status": self.status, "case": self.case}
        if self.marks:
            out["marks"] = [[m.column, m.option, m.style] for m in self.marks]
        if self.written is not None:
            out.update(written=self.written, source=self.source, kind=self.number_kind, stacked=self.stacked)
        return out


_BUBBLE_CASES = (  # single choice / true-false: (case, probability)
    ("clean", 0.6), ("partial", 0.1), ("light", 0.08), ("blank", 0.06),
    ("double", 0.07), ("erasure+mark", 0.06), ("erasure", 0.03),
)
_WORDS = ("cat", "red", "sum", "area", "yes", "北京", "三角形", "分数", "乘法", "长方形")


def _random_number(kind: str, rng: np.random.Generator) -> str:
    """A random number written the way a pupil would: integer, decimal, fraction or negative."""
    if kind == "integer":
        return str(int(rng.integers(0, 1000)))
    if kind == "decimal":
        return f"{int(rng.integers(0, 100))}.{int(rng.integers(1, 100)):0{int(rng.integers(1, 3))}d}".rstrip("0")
    if kind == "fraction":
        den = int(rng.integers(2, 13))
        return f"{int(rng.integers(1, den))}/{den}"
    inner = _random_number(str(rng.choice(["integer", "decimal", "fraction"])), rng)
    return "-" + ("1" if inner == "0" else inner)


NUMBER_KINDS = ("integer", "decimal", "fraction", "negative")


def _choice_fill(field_id: str, letters: str, right: str, rng: np.random.Generator, ability: float) -> FieldFill:
    """A single-choice (or true/false) field: usually one mark, sometimes blank, doubled or erased."""
    names, probs = zip(*_BUBBLE_CASES, strict=True)
    case = str(rng.choice(names, p=np.array(probs) / sum(probs)))
    pick = right if right and rng.random() < ability else str(rng.choice(list(letters)))
    other = str(rng.choice([c for c in letters if c != pick]))
    if case == "blank":
        return FieldFill(field_id, None, "blank", case)
    if case == "double":
        marks = (Mark(pick, 0, "full"), Mark(other, 0, str(rng.choice(["full", "partial"]))))
        return FieldFill(field_id, "".join(sorted(pick + other)), "needs_review", case, marks)
    if case == "erasure":
        return FieldFill(field_id, None, "needs_review", case, (Mark(other, 0, "erased"),))
    if case == "erasure+mark":
        return FieldFill(field_id, pick, "needs_review", case, (Mark(pick, 0, "full"), Mark(other, 0, "erased")))
    style = "full" if case == "clean" else case
    return FieldFill(field_id, pick, "ok", case, (Mark(pick, 0, style),))


def _multi_fill(field_id: str, letters: str, right: frozenset[str], rng: np.random.Generator, ability: float) -> FieldFill:
    if rng.random() < 0.05:
        return FieldFill(field_id, None, "blank", "blank")
    if right and rng.random() < ability:
        chosen = sorted(right)
    else:
        chosen = sorted(rng.choice(list(letters), size=int(rng.integers(1, min(3, len(letters)) + 1)), replace=False))
    styles = rng.choice(["full", "full", "full", "partial", "light"], size=len(chosen))
    marks = tuple(Mark(str(c), 0, str(s)) for c, s in zip(chosen, styles, strict=True))
    case = "clean" if all(s == "full" for s in styles) else "mixed"
    return FieldFill(field_id, "".join(map(str, chosen)), "ok", case, marks)


def _digits_fill(field_id: str, value: str, columns: list[int], case: str = "clean") -> FieldFill:
    """A number bubbled left-aligned, one character per column (``columns`` are the digit columns)."""
    marks = []
    body = value
    if value.startswith("-"):
        marks.append(Mark("-", 0, "full"))
        body = value[1:]
    if len(body) > len(columns):
        raise ValueError(f"{value!r} does not fit in {len(columns)} columns of field {field_id!r}")
    marks += [Mark(ch, col, "full") for ch, col in zip(body, columns, strict=False)]
    return FieldFill(field_id, value, "ok", case, tuple(marks))


def _grid_value(n_cols: int, key_values: tuple[float, ...], rng: np.random.Generator, ability: float) -> str:
    for v in key_values[:1]:
        text = f"{v:g}"
        if rng.random() < ability and len(text.lstrip("-")) <= n_cols and "e" not in text:
            return text
    kind = str(rng.choice(["integer", "decimal", "negative"]))
    for _ in range(20):
        text = _random_number(kind, rng)
        if "/" not in text and len(text.lstrip("-")) <= n_cols:
            return text
    return str(int(rng.integers(0, 10)))


def _written_fill(field, rng: np.random.Generator, ability: float) -> FieldFill:  # noqa: ANN001 - a spec Handwriting
    """A handwriting box: a number from real digits, or a word/hanzi from the font stand-in."""
    key = field.key
    if rng.random() < 0.04:
        return FieldFill(field.id, None, "blank", "blank")
    if field.kind == "number":
        right = [s for s in getattr(key, "spellings", ()) if s and set(s) <= NUMBER_CHARS]
        if right and rng.random() < ability:
            text = str(rng.choice(right))
        else:
            text = _random_number(str(rng.choice(NUMBER_KINDS)), rng)
        return FieldFill(field.id, text, "ok", "written", written=text, source="mnist",
                         stacked="/" in text and rng.random() < 0.35)
    accepted = list(getattr(key, "accepted", ()))
    text = str(rng.choice(accepted)) if accepted and rng.random() < ability else str(rng.choice(_WORDS))
    return FieldFill(field.id, text, "ok", "written", written=text, source="font")


def _columns(layout, field_id: str) -> list[int]:  # noqa: ANN001 - a PageLayout
    return sorted({b.column for b in layout.bubbles if b.field_id == field_id and b.option.isdigit()})


def plan_field(field, layout, rng: np.random.Generator, ability: float = 0.7) -> FieldFill:  # noqa: ANN001
    """Decide what a student (of the given ``ability``, 0-1) puts in one spec ``field`` on ``layout``."""
    key = field.key
    kind = field.type
    if kind in ("single_choice", "true_false"):
        letters = "ABCDEFGH"[: field.options] if kind == "single_choice" else "TF"
        if key is None:
            right = ""
        elif kind == "single_choice":
            right = next(iter(key.correct))
        else:
            right = "T" if key.answer else "F"
        return _choice_fill(field.id, letters, right, rng, ability)
    if kind == "multiple_choice":
        right = key.correct if key is not None else frozenset()
        return _multi_fill(field.id, "ABCDEFGH"[: field.options], right, rng, ability)
    if kind == "grid_in":
        cols = _columns(layout, field.id)
        values = key.values if key is not None else ()
        return _digits_fill(field.id, _grid_value(len(cols), values, rng, ability), cols)
    if kind == "score":
        points = str(int(rng.integers(0, field.max_points + 1)))
        return FieldFill(field.id, points, "ok", "clean", (Mark(points, 0, "full"),))
    if kind == "minutes":
        minutes = int(rng.integers(3, 60))
        marks = (Mark(str(minutes // 10), 0, "full"), Mark(str(minutes % 10), 1, "full"))
        return FieldFill(field.id, str(minutes), "ok", "clean", marks)
    if kind == "handwriting":
        return _written_fill(field, rng, ability)
    raise ValueError(f"no plan for field type {kind!r}")


# --------------------------------------------------------------------------------------------
# Filling a rendered page


def fill_page(
    image: np.ndarray, geometry, fills: dict[str, FieldFill], rng: np.random.Generator,  # noqa: ANN001
    bank: DigitBank | None = None, style: HandStyle | None = None, stray_marks: int = 1,
) -> np.ndarray:
    """Pencil ``fills`` onto a clean rendered page; ``geometry`` is the page's layout **in pixels**.

    Fields not on this page are ignored; a handwritten number needs the digit ``bank``. Adds
    ``stray_marks`` stray pencil marks away from every bubble and box. Returns a new grey image.
    """
    import cv2

    page = image.copy() if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    geometry = in_pixels(geometry)
    style = style or HandStyle.sample(rng)
    bubbles = {(b.field_id, b.column, b.option): b for b in geometry.bubbles}
    for box in geometry.boxes:
        fill = fills.get(box.field_id)
        if fill is not None and fill.written is not None:
            _write_box(page, box, fill, bank, style, rng)
    for fill in fills.values():
        for mark in fill.marks:
            b = bubbles.get((fill.field_id, mark.column, mark.option))
            if b is not None:
                draw_bubble_mark(page, b.cx, b.cy, b.r, mark.style, rng)
    for _ in range(stray_marks):
        _stray(page, geometry, rng)
    return page


def in_pixels(geometry):  # noqa: ANN001, ANN201 - PixelGeometry or PageLayout
    """A :class:`PageLayout` in pixels from a renderer's ``PixelGeometry`` (a layout passes through)."""
    if not hasattr(geometry, "dpi"):
        return geometry
    from scanning._geometry import Marker, Rect

    page, k = geometry.page, geometry.scale

    def rect(r: Rect) -> Rect:
        return Rect(*geometry.rect(r))

    return replace(
        page,
        width_mm=float(geometry.width_px), height_mm=float(geometry.height_px),
        markers=tuple(Marker(m.marker_id, rect(m.rect)) for m in page.markers),
        qr=rect(page.qr),
        bubbles=tuple(replace(b, cx=geometry.point(b.cx, b.cy)[0], cy=geometry.point(b.cx, b.cy)[1], r=b.r * k)
                      for b in page.bubbles),
        boxes=tuple(replace(w, rect=rect(w.rect)) for w in page.boxes),
        texts=(),
    )


def _write_box(page: np.ndarray, box, fill: FieldFill, bank: DigitBank | None, style: HandStyle,  # noqa: ANN001
               rng: np.random.Generator) -> None:
    rect = box.rect
    height = max(8, round(rect.h * style.height))
    if fill.source == "mnist":
        if bank is None:
            raise ValueError("a handwritten number needs a DigitBank of real digits")
        ink = write_number(fill.written or "", bank, height, rng, replace(style, stacked=fill.stacked))
    else:
        ink = write_text(fill.written or "", round(height * 0.8), rng, style)
    place_in_box(page, ink, (rect.x, rect.y, rect.w, rect.h), style, rng)


def _stray(page: np.ndarray, geometry, rng: np.random.Generator) -> None:  # noqa: ANN001
    """One stray mark somewhere clear of bubbles, boxes, markers and the QR code (a few tries)."""
    h, w = page.shape[:2]
    keep_out = [(b.cx - 2.5 * b.r, b.cy - 2.5 * b.r, 5 * b.r, 5 * b.r) for b in geometry.bubbles]
    keep_out += [(r.x - 10, r.y - 10, r.w + 20, r.h + 20) for r in
                 [b.rect for b in geometry.boxes] + [m.rect for m in geometry.markers] + [geometry.qr]]
    size = 0.012 * w
    for _ in range(30):
        x, y = rng.uniform(0.08 * w, 0.92 * w), rng.uniform(0.08 * h, 0.92 * h)
        if all(not (rx - size < x < rx + rw + size and ry - size < y < ry + rh + size) for rx, ry, rw, rh in keep_out):
            draw_stray_mark(page, x, y, size, rng)
            return


# --------------------------------------------------------------------------------------------
# A whole set: spec -> rendered pages -> filled -> degraded -> files + truth.json


@dataclass(frozen=True)
class SynthPage:
    """One generated page file and its ground truth."""

    file: str
    assignment_id: str
    student_id: str
    page_index: int
    page_count: int
    profile: str
    kind: str
    dpi: int
    fields: dict[str, FieldFill]

    def to_json(self) -> dict[str, object]:
        """The page's entry in ``truth.json``."""
        head = {k: getattr(self, k) for k in ("file", "assignment_id", "student_id", "page_index",
                                                 "page_count", "profile", "kind", "dpi")}
        return {**head, "fields": {fid: f.to_json() for fid, f in self.fields.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SynthPage:
        """Read back an entry of ``truth.json``."""
        fields = {}
        for fid, f in data["fields"].items():
            marks = tuple(Mark(o, c, s) for c, o, s in f.get("marks", ()))
            fields[fid] = FieldFill(fid, f["expected"], f["status"], f["case"], marks, f.get("written"),
                                    f.get("source", ""), bool(f.get("stacked", False)))
        head = {k: data[k] for k in ("file", "assignment_id", "student_id", "page_index", "page_count",
                                      "profile", "kind", "dpi")}
        return cls(**head, fields=fields)


def read_truth(path: str | Path) -> list[SynthPage]:
    """The pages listed in a ``truth.json`` written by :func:`generate_set`."""
    import json

    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [SynthPage.from_json(p) for p in data["pages"]]


def _student_pages(spec, student, profiles: list[Degradation], first: int):  # noqa: ANN001, ANN202
    """Yield ``(page layout, profile, image, pixel geometry)`` for one student's pages."""
    from scanning._layout import student_pages
    from scanning._render import render_page_images

    layouts = list(student_pages(spec, student))
    chosen = [profiles[(first + i) % len(profiles)] for i in range(len(layouts))]
    for dpi in sorted({p.dpi for p in chosen}):
        wanted = [layout for layout, p in zip(layouts, chosen, strict=True) if p.dpi == dpi]
        for image, geometry in render_page_images(spec, dpi=dpi, pages=wanted):
            yield geometry.page, chosen[layouts.index(geometry.page)], image, geometry


def generate_student(
    spec, student, profiles: list[Degradation], first: int, bank: DigitBank, rng: np.random.Generator,  # noqa: ANN001
) -> list[tuple[SynthPage, bytes]]:
    """One student's filled, damaged pages as ``(truth, JPEG bytes)``; page ``i`` gets profile ``first + i``."""
    from scanning._layout import student_pages
    from scanning._render import page_file_stem

    ability = float(rng.uniform(0.45, 0.95))
    style = HandStyle.sample(rng)
    layouts = student_pages(spec, student)
    home = {b.field_id: page for page in layouts for b in page.bubbles}
    fills = {f.id: plan_field(f, home.get(f.id, layouts[0]), rng, ability) for f in spec.fields}
    out = []
    for page, profile, image, geometry in _student_pages(spec, student, profiles, first):
        on_page = {b.field_id for b in page.bubbles} | {w.field_id for w in page.boxes}
        page_fills = {fid: f for fid, f in fills.items() if fid in on_page}
        filled = fill_page(image, geometry, page_fills, rng, bank=bank, style=style,
                           stray_marks=int(rng.integers(0, 3)))
        name = f"{page_file_stem(page)}_{profile.name}.jpg"
        truth = SynthPage(name, page.assignment_id, page.student_id, page.page_index, page.page_count,
                          profile.name, profile.kind, profile.dpi, page_fills)
        out.append((truth, degrade_to_jpeg(filled, profile, rng)))
    return sorted(out, key=lambda item: item[0].page_index)


def generate_set(
    spec, out_dir: str | Path, profiles: list[Degradation], bank: DigitBank, seed: int = 0,  # noqa: ANN001
    progress=None,  # noqa: ANN001 - Callable[[int, int], None]
) -> list[SynthPage]:
    """Render every student's sheet, fill, damage and write it to ``out_dir`` with ``truth.json``.

    Pages take the ``profiles`` in turn. Each student draws from ``default_rng([seed, i])``, so a
    student's pages do not depend on the others. ``progress(done, total)`` is called per student.
    """
    import json

    from scanning._spec import load_spec

    spec = load_spec(spec)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pages: list[SynthPage] = []
    for i, student in enumerate(spec.students):
        for truth, data in generate_student(spec, student, profiles, len(pages), bank, np.random.default_rng([seed, i])):
            (out / truth.file).write_bytes(data)
            pages.append(truth)
        if progress is not None:
            progress(i + 1, len(spec.students))
    doc = {"assignment_id": spec.assignment_id, "seed": seed, "profiles": [p.name for p in profiles],
           "pages": [p.to_json() for p in pages]}
    (out / "truth.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    log.info("generated %d pages for %d students in %s", len(pages), len(spec.students), out)
    return pages


# --------------------------------------------------------------------------------------------
# Checking a reader's output against the truth


@dataclass(frozen=True)
class FieldCheck:
    """One field as read and graded, next to its truth.

    ``kind`` groups figures: the field type for bubble fields; for writing boxes ``integer``,
    ``decimal``, ``fraction``, ``negative`` (real handwriting) or ``text`` (font stand-in).
    ``read_right``: the bubble reading (value and status) is what the truth says (None for boxes).
    ``auto_graded``: grading did not send it to review; ``graded_right``: its score is the score the
    student's true answer earns (None when not auto-graded or there is no key).
    """

    page: str
    field_id: str
    field_type: str
    kind: str
    case: str
    expected: str | None
    expected_status: str
    value: str | None
    status: str
    read_right: bool | None
    auto_graded: bool | None
    graded_right: bool | None


def check_page(truth: SynthPage, reading, spec) -> list[FieldCheck]:  # noqa: ANN001 - PageReading, SheetSpec
    """Compare one :class:`PageReading` with its truth, field by field (grading with the spec's keys)."""
    from scanning._grading import Answer, grade

    checks = []
    for fid, fill in truth.fields.items():
        field, got = spec.field(fid), reading.field(fid)
        boxed = field.type == "handwriting"
        kind = fill.number_kind if boxed and fill.written else (f"blank {field.kind}" if boxed else field.type)
        auto = right = None
        if field.key is not None:
            g = grade(field.key, got)
            auto = g.status == "graded"
            if auto:
                should = grade(field.key, Answer(fill.expected or ""))
                right = fill.status != "needs_review" and abs(g.score - should.score) < 1e-9
        read_right = None if boxed else (got.value == fill.expected and got.status == fill.status)
        checks.append(FieldCheck(truth.file, fid, field.type, kind, fill.case, fill.expected, fill.status,
                                 got.value, got.status, read_right, auto, right))
    return checks
