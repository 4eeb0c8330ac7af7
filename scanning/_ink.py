"""Crop-to-ink: from a writing box's interior to a tight, clean crop of what the student wrote.

The recognizer reads one line of text and reads it best when the line fills its input, so each
writing box is cut to its ink first::

    box interior (grey)         background (grey dilation)     ink = background - grey > delta
    ┌───────────────────┐       paper level, shadows and        drop: border remnants (long thin
    │▔▔▔▔▔▔▔▔▔▔▔▔▔▔▔▔▔▔▔│  ->   uneven light, per pixel    ->   lines along an edge), specks
    │   3 / 4        .  │                                       (tiny, away from the writing)
    └───────────────────┘                                       -> tight crop + margin, paper white

The result is normalised (paper 255, darkest ink 0) so that light pencil and dark pen look alike
to the recognizer. A box with no ink left is ``blank``. :func:`split_stacked_fraction` finds a
fraction written as numerator over a bar over denominator, which a line recognizer cannot read.

>>> import numpy as np
>>> box = np.full((60, 160), 235, np.uint8)
>>> box[20:45, 40:44] = 90                 # a "1" in pencil
>>> ink = find_ink(box)
>>> ink.blank, ink.box
(False, (36, 16, 12, 33))
>>> find_ink(np.full((60, 160), 235, np.uint8)).blank
True
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from scanning._errors import BadImageError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class InkCrop:
    """The ink of one writing box.

    ``image``: the tight crop, grey uint8, paper 255 and ink dark (``None`` when blank);
    ``box``: ``(x, y, w, h)`` of that crop in the input's pixels; ``ink_pixels``: how many ink
    pixels were kept; ``confidence``: how sure the blank/not-blank call is (low for faint or
    tiny marks, and for a crop with no paper in it).
    """

    image: np.ndarray | None
    box: tuple[int, int, int, int]
    blank: bool
    ink_pixels: int
    confidence: float


def as_gray(crop: object) -> np.ndarray:
    """Check a crop and return it as a 2-D uint8 grey array (BGR is converted); raise BadImageError."""
    if not isinstance(crop, np.ndarray):
        raise BadImageError(f"a crop must be a numpy array, got {type(crop).__name__}")
    if crop.dtype != np.uint8:
        raise BadImageError(f"a crop must be uint8 grey levels, got dtype {crop.dtype}")
    if crop.ndim == 3 and crop.shape[2] in (3, 4):
        import cv2

        crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY if crop.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    if crop.ndim != 2:
        raise BadImageError(f"a crop must be 2-D grey (or BGR), got shape {crop.shape}")
    if min(crop.shape) < 4:
        raise BadImageError(f"a crop of {crop.shape[1]}x{crop.shape[0]} px is too small to hold writing")
    return crop


def find_ink(crop: np.ndarray, *, delta: float = 0.0, margin: float = 0.15) -> InkCrop:
    """Cut a writing box's interior to its ink (see the module docstring); ``blank`` if none.

    ``delta``: how much darker than its background a stroke must be to count as ink (grey
    levels); 0 picks it from the crop (a third of the writing's own contrast, at least 28).
    Pixels half as dark join a stroke they touch.
    ``margin``: white space kept around the ink, as a share of the ink's height.
    """
    import cv2

    gray = as_gray(crop)
    h, w = gray.shape
    k = max(3, (min(h, w) // 8) | 1)
    background = cv2.dilate(gray, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    darkness = cv2.subtract(background, gray)
    paper = float(np.median(background[::4, ::4]))
    if paper < 60:
        return InkCrop(None, (0, 0, w, h), True, 0, 0.2)
    raw = (darkness > (delta / 2 if delta else 18.0)).astype(np.uint8)
    mask = raw.copy()
    _clear_border_lines(mask)
    # the ink's own contrast, the printed border aside (it is far darker than light pencil)
    strongest = float(darkness[mask > 0].max()) if mask.any() else 0.0
    threshold = delta or max(28.0, strongest / 3.0)
    # hysteresis: faint pencil joins the writing when it touches a clearly dark stroke
    keep = _keep_writing(mask, darkness > threshold)
    if keep is None:
        left = int(mask.sum())  # dark pixels that were neither border nor writing: specks, or faint marks?
        return InkCrop(None, (0, 0, w, h), True, 0, 0.99 if left < 12 else 0.9 if left < 60 else 0.5)
    x0, y0, x1, y1 = _bounds(keep)
    pad = max(3, round(margin * (y1 - y0)))
    x0, y0, x1, y1 = max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad)
    removed = (raw[y0:y1, x0:x1] > keep[y0:y1, x0:x1]).astype(np.uint8)
    dropped = cv2.dilate(removed, np.ones((3, 3), np.uint8))  # their anti-aliased rims too
    weak = np.maximum(darkness[y0:y1, x0:x1].astype(np.float32) - 8.0, 0.0)  # JPEG/paper noise floor
    clean = 255.0 - weak * (255.0 / max(strongest - 8.0, 1.0))
    clean[dropped > 0] = 255.0
    pixels = int(keep.sum())
    confidence = 0.99 if strongest > 60 and pixels > 30 else 0.6
    return InkCrop(clean.astype(np.uint8), (x0, y0, x1 - x0, y1 - y0), False, pixels, confidence)


def _clear_border_lines(mask: np.ndarray, band: float = 0.06, fill: float = 0.6) -> None:
    """Erase rows/columns within a few pixels of an edge that are mostly ink: the box's border.

    The band is narrow (registration leaves the border a few pixels off) so that a "1" written
    close to the edge is not mistaken for a border line.
    """
    h, w = mask.shape
    rows = min(8, max(3, round(band * h)))
    cols = rows
    row_fill = mask.mean(axis=1)
    col_fill = mask.mean(axis=0)
    for idx in (*range(rows), *range(h - rows, h)):
        if row_fill[idx] > fill:
            mask[idx, :] = 0
    for idx in (*range(min(cols, w)), *range(max(0, w - cols), w)):
        if col_fill[idx] > fill:
            mask[:, idx] = 0


def _keep_writing(mask: np.ndarray, strong: np.ndarray) -> np.ndarray | None:
    """Keep the components that look like writing (with a ``strong`` pixel); drop specks, slivers."""
    import cv2

    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_16U)
    if n <= 1:
        return None
    dark = np.bincount(labels[strong], minlength=n)[1:] > 0
    h, w = mask.shape
    areas = stats[1:, cv2.CC_STAT_AREA]
    if not dark.any():
        return None
    # the size of the writing: its tallest stroke, or half its widest (a lone "-" or "一" is writing)
    tallest = int(
        max(stats[1:, cv2.CC_STAT_HEIGHT][dark].max(), stats[1:, cv2.CC_STAT_WIDTH][dark].max() // 2)
    )
    if tallest < max(4, 0.08 * h) or areas[dark].max() < 12:
        return None
    min_area = max(4.0, (0.05 * tallest) ** 2 * 3.0)
    x, y, cw, ch, area = (stats[1:, i] for i in range(5))
    touches = (x == 0) | (y == 0) | (x + cw == w) | (y + ch == h)
    sliver = touches & ((cw <= 2) | (ch <= 2) | (area < 1.2 * min_area)) | ~dark
    big = (area >= min_area) & ~sliver
    if not big.any():
        return None
    # small pieces near the writing are part of it (faint pencil, a decimal point); far ones are specks
    near = max(3, round(0.3 * tallest))
    bx0, by0 = (x[big]).min() - near, (y[big]).min() - near
    bx1, by1 = (x + cw)[big].max() + near, (y + ch)[big].max() + near
    inside = (x >= bx0) & (y >= by0) & (x + cw <= bx1) & (y + ch <= by1)
    lookup = np.zeros(n, np.uint8)
    lookup[1:] = big | (inside & ~sliver)
    return lookup[labels]


def _bounds(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


@dataclass(frozen=True, eq=False)
class StackedFraction:
    """A fraction written on two rows: the numerator's and denominator's crops, and a leading minus."""

    numerator: np.ndarray
    denominator: np.ndarray
    negative: bool


def split_stacked_fraction(image: np.ndarray) -> StackedFraction | None:
    """Find a numerator / bar / denominator layout in a clean ink crop (paper 255); else ``None``.

    The bar is a long flat run of ink (found by a horizontal opening, so digits may touch it) at
    least nearly as wide as the rows of writing above and below it, and no stroke crosses it (a
    "4" or a "7" has flat strokes too). A flat stroke to its left at bar height is a minus sign.
    """
    import cv2

    mask = (image < 200).astype(np.uint8)
    if not mask.any():
        return None
    x0, y0, x1, y1 = _bounds(mask)
    # a bar is about one digit wide: at least a fifth of the two rows' height; a light or broken
    # pencil bar is found at a paler threshold with its small gaps closed
    length = max(8, round(0.2 * (y1 - y0)))
    pale = cv2.morphologyEx((image < 225).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((1, 5), np.uint8))
    flat = cv2.morphologyEx(pale, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(flat, connectivity=8, ltype=cv2.CV_16U)
    thin = max(4, 0.12 * (y1 - y0))
    for i in sorted(range(1, n), key=lambda j: -stats[j, cv2.CC_STAT_WIDTH]):
        bar = tuple(int(v) for v in stats[i, :4])
        bar_mask = labels == i
        if bar[3] > thin and bar[2] > 2 * thin:  # thick digits touch it (a photo): keep its full rows
            bar, bar_mask = _core_rows(bar_mask, bar)
        if bar[2] > 4 * bar[3] and bar[3] <= thin:  # long and thin
            found = _rows_around(image, mask, bar_mask, bar, y1 - y0)
            if found is not None:
                return found
    return None


def _core_rows(bar_mask: np.ndarray, bar: tuple[int, ...]) -> tuple[tuple[int, ...], np.ndarray]:
    """The rows of a flat run that span nearly all its width: the bar under the digits touching it."""
    x, y, w, h = bar
    rows = np.flatnonzero(bar_mask[y : y + h, x : x + w].sum(axis=1) >= 0.8 * w)
    if rows.size == 0 or np.any(np.diff(rows) > 1):
        return bar, bar_mask
    core = np.zeros_like(bar_mask)
    core[y + rows[0] : y + rows[-1] + 1] = bar_mask[y + rows[0] : y + rows[-1] + 1]
    return (x, y + int(rows[0]), w, int(rows.size)), core


def longest_runs(mask: np.ndarray) -> np.ndarray:
    """Each row's longest horizontal run of ink, in pixels.

    >>> longest_runs(np.array([[0, 1, 1, 0, 1], [1, 1, 1, 1, 0]], np.uint8)).tolist()
    [2, 4]
    """
    padded = np.pad(mask.astype(np.int8), ((0, 0), (1, 1)))
    edges = np.diff(padded, axis=1)
    out = np.zeros(mask.shape[0], np.int64)
    for row in np.flatnonzero(mask.any(axis=1)):
        starts, ends = np.flatnonzero(edges[row] == 1), np.flatnonzero(edges[row] == -1)
        out[row] = int((ends - starts).max())
    return out


def looks_stacked(image: np.ndarray) -> bool:
    """Whether a clean ink crop is laid out as a fraction (a flat stroke spanning the writing, with
    writing above and below it at least a third as wide), even when its rows cannot be separated.

    A 4's, a crossed 7's or a +'s stem under the flat stroke is narrower; a 2's or a 5's flat
    stroke has nothing below or above it.
    """
    mask = (image < 200).astype(np.uint8)
    if mask.sum() < 12:
        return False
    x0, y0, x1, y1 = _bounds(mask)
    height, runs = y1 - y0, longest_runs(mask)
    widest = int(runs.max())
    if widest < 0.6 * (x1 - x0) or widest < 6:
        return False
    band = np.flatnonzero(runs >= 0.75 * widest)
    top_row, bottom_row = int(band[0]), int(band[-1]) + 1
    if bottom_row - top_row > max(4, 0.2 * height):
        return False
    cols = np.flatnonzero(mask[top_row:bottom_row].any(axis=0))
    centre = (cols[0] + cols[-1] + 1) / 2
    for part in (mask[y0:top_row], mask[bottom_row:y1]):
        if part.sum() < 6:
            return False
        px0, py0, px1, py1 = _bounds(part)
        if py1 - py0 < 0.2 * height or px1 - px0 < 0.35 * widest:
            return False
        if abs((px0 + px1) / 2 - centre) > 0.2 * widest:
            return False  # a fraction's rows stand centred on its bar; a 4's stem stands to the right
    return True


def _rows_around(
    image: np.ndarray, mask: np.ndarray, bar_mask: np.ndarray, bar: tuple[int, ...], ink_height: int
) -> StackedFraction | None:
    """Split the ink around a candidate bar into numerator, denominator and a leading minus."""
    import cv2

    bx, by, bw, bh = bar
    near_above = mask[max(0, by - 3) : by, bx : bx + bw].any(axis=0)
    near_below = mask[by + bh : by + bh + 3, bx : bx + bw].any(axis=0)
    crossing = int((near_above & near_below).sum())
    if crossing > max(1, bh):
        return None  # a stroke runs through the bar: a crossed 7, a 4, a + ...
    rest = mask.copy()
    rest[cv2.dilate(bar_mask.astype(np.uint8), np.ones((5, 7), np.uint8)) > 0] = 0  # the bar and its rim
    n, labels, stats, _ = cv2.connectedComponentsWithStats(rest, connectivity=8, ltype=cv2.CV_16U)
    top = np.zeros_like(mask)
    bottom = np.zeros_like(mask)
    minus = False
    for i in range(1, n):
        x, y, cw, ch, area = (int(v) for v in stats[i, :5])
        if area < max(6, 0.02 * mask.sum()) and ch <= 2 * bh + 4:
            continue  # a crumb of the bar's ends
        if x + cw <= bx + 1 and cw > 2 * ch and abs(y + ch / 2 - (by + bh / 2)) < 0.3 * ink_height:
            minus = True
        elif y + ch <= by + bh / 2 + 1:
            top[labels == i] = 1
        elif y >= by + bh / 2 - 1:
            bottom[labels == i] = 1
        else:
            return None  # a stroke crosses the bar: it is part of a digit
    for part in (top, bottom):
        if part.sum() < 6:
            return None
        px0, py0, px1, py1 = _bounds(part)
        centre = (px0 + px1) / 2
        if py1 - py0 < max(2 * bh, 0.15 * ink_height) or px1 - px0 > 1.1 * bw or not bx <= centre <= bx + bw:
            return None
        if crossing and px1 - px0 < 0.3 * bw:
            return None  # a narrow stem under (or over) a flat stroke: a crossed 7, not a fraction
    return StackedFraction(_cut(image, top), _cut(image, bottom), minus)


def _cut(image: np.ndarray, part: np.ndarray) -> np.ndarray:
    """One row of a fraction: its ink's box plus a margin, everything else in that box whitened."""
    import cv2

    x0, y0, x1, y1 = _bounds(part)
    pad = max(3, round(0.15 * (y1 - y0)))
    grown = cv2.dilate(part, np.ones((3, 3), np.uint8))[y0:y1, x0:x1]
    out = np.full((y1 - y0 + 2 * pad, x1 - x0 + 2 * pad), 255, np.uint8)
    out[pad : pad + y1 - y0, pad : pad + x1 - x0] = np.where(grown > 0, image[y0:y1, x0:x1], 255)
    return out
