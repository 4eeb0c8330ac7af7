"""Pencil on paper: real handwritten digits composed into numbers, bubble marks, stray marks.

Handwriting is composed from *real* handwritten digits (MNIST; 28x28, white on black): each digit
is cut to its ink, scaled, thinned towards a pencil line, slanted and placed with the writer's
spacing and baseline jitter. Minus signs, decimal points and fraction slashes/bars are drawn
strokes; fractions are written inline (``3/4``) or stacked over a bar. Short words and Chinese
characters have no real handwriting data here: :func:`write_text` renders them from the embedded
fonts with jitter, as a *labelled stand-in*, never to be mixed with real-handwriting figures.

Bubble marks are textured pencil ellipses: full, partial (40-90 % of the bubble), light, erased (a
faint smudge where a mark was rubbed out); stray marks are ticks, dashes and dots. Everything draws
ink *coverage* in [0, 1]; :func:`apply_ink` lays it on a grey page (paper ~230-250, pencil ~60-140).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> bank = DigitBank.from_arrays(np.zeros((10, 28, 28), np.uint8) + 255, np.arange(10))
>>> ink = write_number("3/4", bank, height_px=40, rng=rng, style=HandStyle())
>>> ink.dtype, ink.ndim, 0.0 <= float(ink.min()) and float(ink.max()) <= 1.0
(dtype('float32'), 2, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
    tilt: float = 0.0  # the line runs uphill (+) or downhill (-), degrees

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
            tilt=float(rng.uniform(-4.0, 4.0)),
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
            size = round(height * rng.uniform(0.88, 1.0))  # no two digits quite the same size
            glyphs.append(_scale_glyph(bank.pick(int(ch), rng), size, style.slant, style.thickness))
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
        ink = _write_stacked(text, bank, height_px, rng, style)
    else:
        ink = _write_inline(text, bank, height_px, rng, style)
    return _tilt(ink, style.tilt)


def _tilt(ink: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate a line of writing by ``degrees`` (counter-clockwise: uphill), growing the canvas to fit."""
    import cv2

    if abs(degrees) < 0.05:
        return ink
    h, w = ink.shape
    rad = np.radians(abs(degrees))
    new_w, new_h = int(w * np.cos(rad) + h * np.sin(rad)) + 2, int(h * np.cos(rad) + w * np.sin(rad)) + 2
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    rot[:, 2] += ((new_w - w) / 2, (new_h - h) / 2)
    return np.asarray(cv2.warpAffine(ink, rot, (new_w, new_h), flags=cv2.INTER_LINEAR), np.float32)


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
