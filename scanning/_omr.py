"""Optical mark reading: how full each bubble is, and what each bubble field says.

Only the bubbles are looked at. Each bubble is sampled at 81 points inside its printed ring
(within 0.7 of its radius) and 48 points on a ring just outside it, all mapped through the page's
homography and read with one bilinear ``cv2.remap`` for the whole page (well under a millisecond
for a few hundred bubbles). Light varies across a photographed page, so every sample is turned
into a *darkness* relative to this page's own levels:

- paper: the bright end (75th percentile) of the ring just outside the same bubble, so a shadow
  or a light gradient cancels out (or of its nearest bubbles' rings, when a fill overflowing the
  bubble has darkened its own);
- ink: how dark this page prints solid black, measured on the registration markers' black border
  against the white around them (a grey photocopy of a dark scan still spans 0..1).

``darkness = (1 - sample / paper) / (1 - ink / marker paper)``: 0 is paper, 1 is printed black; a
2B pencil fill is 0.5-0.9, a light fill 0.35-0.5, the option letter printed in the bubble ~0.4 over
a few percent of it, an erased mark a smudge of 0.1-0.2. Two measures per bubble follow:

- ``coverage``: the share of samples darker than :data:`MARK_DARKNESS` (pencil, not smudge);
- ``excess``: mean darkness minus that of the page's typical empty bubble (faint but real marks).

A bubble is classified with two coverage thresholds and a gap between them, like OMRChecker's
global threshold but with the gap kept as an explicit "ambiguous" state::

    coverage  0 ------------ 0.12 ------------------ 0.20 ------------------------- 1
              |    EMPTY      |       AMBIGUOUS        |           FILLED            |
              |  (and excess  |  a tick, a stroke,     |  full, light or partial     |
              |   < 0.04)     |  a dot; or a bubble    |  fills (a mark over 40 %    |
              |               |  with a faint smudge:  |  of the bubble)             |
              |               |  an erasure            |                             |

Measured on 144 synthetic pages (scans at 100-300 dpi, phone photos tilted up to 20 degrees, one at
120 dpi blurred; S4's pencil marks), coverage / excess, min..max::

    empty bubble  :  0.00-0.07 / -0.03-0.03    erased mark :  0.00-0.06 / 0.05-0.11 -> AMBIGUOUS
    partial fill  :  0.31-1.00 /  0.14-0.58    light fill  :  0.63-1.00 / 0.26-0.36
    full fill     :  0.88-1.00 /  0.33-0.64

Fields are then read from their bubbles' states; a blank or doubly marked single choice is data
(``status="blank"`` / ``"needs_review"``), never an exception. A field that needs review is
looked at once more where its printed rings really are (:func:`snap_field`): on a curled page a
ring a millimetre off its expected place falls inside the sampled disk and looks like a mark.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scanning._geometry import Bubble, Marker
from scanning._register import Registration, project

logger = logging.getLogger(__name__)

MARK_DARKNESS = 0.28
"""Darkness above which a sample counts as pencil (a light 2B fill is ~0.35)."""

EMPTY_BELOW = 0.12
"""Coverage under which a bubble is empty (unless it carries a smudge, see :data:`SMUDGE_EXCESS`)."""

FILLED_FROM = 0.20
"""Coverage from which a bubble is filled."""

SMUDGE_EXCESS = 0.04
"""Mean darkness above the page's typical empty bubble that makes a low-coverage bubble ambiguous."""

EMPTY, AMBIGUOUS, FILLED = "empty", "ambiguous", "filled"


@dataclass(frozen=True)
class BubbleFill:
    """One bubble as read: its option and column, coverage, excess darkness, state, confidence."""

    option: str
    column: int
    coverage: float
    excess: float
    state: str
    confidence: float
    darkness: float = 0.0  # mean darkness; ``darkness - excess`` is the page's empty-bubble level


@dataclass(frozen=True)
class InkLevels:
    """This page's printed black as a share of its paper white (0: perfectly black toner)."""

    ink_ratio: float
    confidence: float


def _disk_pattern() -> np.ndarray:
    """81 sample offsets in a unit disk: the centre and rings of 8, 16, 24, 32 points."""
    points = [(0.0, 0.0)]
    for ring, count in ((0.25, 8), (0.5, 16), (0.75, 24), (1.0, 32)):
        angles = np.arange(count) * 2 * np.pi / count + ring
        points += [(ring * np.cos(a), ring * np.sin(a)) for a in angles]
    return np.array(points)


def _ring_pattern(count: int = 24) -> np.ndarray:
    angles = np.arange(count) * 2 * np.pi / count
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


_DISK = _disk_pattern()
_RING = _ring_pattern()
INNER = 0.7  # share of the radius sampled inside the printed ring
PAPER_RINGS = (1.25, 1.42)  # radii (x r) of the paper rings: clear of the ring and of neighbours


def sample_points(gray: np.ndarray, homography: np.ndarray, points_mm: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``gray`` at page points ``(..., 2)`` in mm (255 outside the image)."""
    return sample_pixels(gray, project(homography, points_mm))


def sample_pixels(gray: np.ndarray, points_px: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``gray`` at image points ``(..., 2)`` in pixels (255 outside the image)."""
    import cv2

    shape = points_px.shape[:-1]
    px = points_px.reshape(-1, 2).astype(np.float32)
    width = max(1, min(px.shape[0], 4096))
    rows = -(-px.shape[0] // width)
    padded = np.full((rows * width, 2), -10.0, np.float32)
    padded[: px.shape[0]] = px
    grid = padded.reshape(rows, width, 2)
    out = cv2.remap(
        gray, grid[..., 0], grid[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=255
    )
    return out.reshape(-1)[: px.shape[0]].astype(np.float32).reshape(shape)


def ink_levels(gray: np.ndarray, registration: Registration, markers: Sequence[Marker]) -> InkLevels:
    """How dark this page prints black, relative to its paper, measured on the found markers.

    For each marker: the median of its black border cells against the 75th percentile of the
    white quiet zone around it; the page's ratio is the median over markers.
    """
    found = [m for m in markers if m.marker_id in registration.markers_found]
    if not found:
        return InkLevels(0.15, 0.0)
    t = np.linspace(0.1, 0.9, 12)
    rings = []
    for marker in found:
        r, cell = marker.rect, marker.rect.w / 6
        rings += [
            _square(r.x + cell / 2, r.y + cell / 2, r.w - cell, t),
            _square(r.x - 1.5, r.y - 1.5, r.w + 3.0, t),
        ]
    values = sample_points(gray, registration.homography, np.stack(rings)).reshape(len(found), 2, -1)
    dark = np.median(values[:, 0], axis=1)
    light = np.maximum(np.percentile(values[:, 1], 75, axis=1), 1.0)
    ratio = float(np.median(dark / light))
    if not 0.0 <= ratio <= 0.6:
        logger.debug("implausible ink ratio %.2f; using 0.15", ratio)
        return InkLevels(0.15, 0.2)
    return InkLevels(ratio, 1.0)


def _square(x: float, y: float, side: float, t: np.ndarray) -> np.ndarray:
    """Points along the four sides of a square (mm)."""
    top = np.stack([x + t * side, np.full_like(t, y)], axis=1)
    right = np.stack([np.full_like(t, x + side), y + t * side], axis=1)
    bottom = np.stack([x + t * side, np.full_like(t, y + side)], axis=1)
    left = np.stack([np.full_like(t, x), y + t * side], axis=1)
    return np.concatenate([top, right, bottom, left])


def measure_bubbles(
    gray: np.ndarray,
    homography: np.ndarray,
    bubbles: Sequence[Bubble],
    ink: InkLevels,
    baseline: float | None = None,
) -> list[BubbleFill]:
    """Read every bubble of a page (in the order given): coverage, excess darkness, state.

    ``baseline`` is the mean darkness of an empty bubble on this page; by default the median over
    the bubbles given whose coverage says empty (pass it when measuring a few bubbles again).
    """
    if not bubbles:
        return []
    centres = np.array([[b.cx, b.cy] for b in bubbles])
    radii = np.array([b.r for b in bubbles])[:, None, None]
    inner = centres[:, None, :] + _DISK[None] * radii * INNER
    rings = [centres[:, None, :] + _RING[None] * radii * k for k in PAPER_RINGS]
    points = np.concatenate([inner, *rings], axis=1)
    values = sample_points(gray, homography, points)
    n_in = _DISK.shape[0]
    paper = _paper(np.percentile(values[:, n_in:], 75, axis=1), tuple(bubbles))[:, None]
    darkness = (1.0 - values[:, :n_in] / paper) / max(1e-3, 1.0 - ink.ink_ratio)
    coverage = (darkness > MARK_DARKNESS).mean(axis=1)
    mean_dark = np.clip(darkness, 0.0, 1.0).mean(axis=1)
    if baseline is None:
        quiet = coverage < EMPTY_BELOW
        baseline = float(np.median(mean_dark[quiet])) if quiet.any() else 0.03
    return [
        _classify(b, float(c), float(d), float(d) - baseline)
        for b, c, d in zip(bubbles, coverage, mean_dark, strict=True)
    ]


def _paper(ring: np.ndarray, bubbles: tuple[Bubble, ...]) -> np.ndarray:
    """Each bubble's paper level: its own ring, unless that is over 10 % darker than the rings of
    its nearest bubbles (a fill overflowing the bubble covers its ring), then theirs (median).
    """
    nearest = _nearest(bubbles)
    if nearest is None:
        return np.maximum(ring, 1.0)
    around = np.median(ring[nearest], axis=1)
    return np.maximum(np.where(ring < 0.9 * around, around, ring), 1.0)


@functools.lru_cache(maxsize=32)
def _nearest(bubbles: tuple[Bubble, ...], count: int = 4) -> np.ndarray | None:
    """Indices of each bubble's ``count`` nearest bubbles (cached: a layout's bubbles never move)."""
    if len(bubbles) <= count:
        return None
    centres = np.array([[b.cx, b.cy] for b in bubbles])
    dist = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=2)
    np.fill_diagonal(dist, np.inf)
    return np.argpartition(dist, count, axis=1)[:, :count]


def _classify(bubble: Bubble, coverage: float, darkness: float, excess: float) -> BubbleFill:
    if coverage >= FILLED_FROM:
        state, conf = FILLED, 0.5 + 0.5 * min(1.0, (coverage - FILLED_FROM) / 0.35)
    elif coverage < EMPTY_BELOW and excess < SMUDGE_EXCESS:
        margin = min((EMPTY_BELOW - coverage) / EMPTY_BELOW, (SMUDGE_EXCESS - excess) / SMUDGE_EXCESS)
        state, conf = EMPTY, 0.5 + 0.5 * min(1.0, 2 * margin)
    else:
        state, conf = AMBIGUOUS, 0.25
    return BubbleFill(
        bubble.option,
        bubble.column,
        round(coverage, 4),
        round(excess, 4),
        state,
        round(conf, 4),
        round(darkness, 4),
    )


SNAP_SEARCH_MM = 1.5
"""Largest shift, in mm, :func:`field_offset` looks for (a curled or bent page)."""


def field_offset(gray: np.ndarray, homography: np.ndarray, bubbles: Sequence[Bubble]) -> tuple[float, float]:
    """Where a field's printed bubble rings really are, relative to the homography (mm).

    A page that is not flat (curled in a phone photo, bent at the binding) moves bubbles in the
    middle of the page by a millimetre or more from where the corner markers put them. This
    searches offsets within :data:`SNAP_SEARCH_MM` (coarse, then fine) for the one where the
    bubbles' printed rings stand out most against just inside and just outside them. Empty
    bubbles decide; a field of filled bubbles has no preference and keeps offset 0.
    """
    centres = np.array([[b.cx, b.cy] for b in bubbles])
    radii = np.array([b.r for b in bubbles])[:, None, None]
    ring12 = _RING[::2]
    rings = np.stack([centres[:, None, :] + ring12[None] * radii * k for k in (0.8, 1.0, 1.2)])
    base = project(homography, rings)  # (3, bubbles, 12, 2) px
    centre = centres.mean(axis=0)
    jacobian = project(homography, centre + np.eye(2)) - project(homography, centre[None])  # rows: d/dx, d/dy

    def best(offsets: np.ndarray) -> np.ndarray:
        values = sample_pixels(gray, base[None] + (offsets @ jacobian)[:, None, None, None, :])
        inside, ring, outside = values.reshape(len(offsets), 3, -1).mean(axis=2).T
        score = (inside + outside) / 2 - ring - 0.5 * np.hypot(offsets[:, 0], offsets[:, 1])
        return offsets[int(np.argmax(score))]

    coarse = np.arange(-SNAP_SEARCH_MM, SNAP_SEARCH_MM + 1e-9, 0.5)
    found = best(np.stack(np.meshgrid(coarse, coarse), axis=-1).reshape(-1, 2))
    fine = np.arange(-0.25, 0.26, 0.125)
    found = best(found + np.stack(np.meshgrid(fine, fine), axis=-1).reshape(-1, 2))
    return float(found[0]), float(found[1])


@dataclass(frozen=True, eq=False)
class FieldReading:
    """What one field of a page says.

    ``value`` is a string: the option (``"B"``), the options in order (``"AC"``), ``"T"``/``"F"``,
    the number bubbled (``"-3.5"``), the points (``"4"``), the minutes (``"25"``), or the text read
    from a writing box; None when nothing was read. ``status`` is ``"ok"``, ``"blank"`` or
    ``"needs_review"`` (``reason`` says why). ``bubbles`` holds every bubble's fill; ``crop`` the
    grey image of a writing box (or of a bubble field that needs review) for the teacher;
    ``key_probability`` the OCR's probability that a box holds the answer key (see
    :func:`scanning.grade`).
    """

    field_id: str
    kind: str
    value: str | None
    confidence: float
    status: str
    reason: str = ""
    bubbles: tuple[BubbleFill, ...] = ()
    crop: np.ndarray | None = None
    key_probability: float | None = None
    unambiguous: bool = False  # a writing box's reading the ink explains (scanning.TextReading)


SINGLE_KINDS = ("single_choice", "true_false", "score")


def read_field(field_id: str, kind: str, fills: Sequence[BubbleFill]) -> FieldReading:
    """Interpret one bubble field's fills by its kind (a spec field ``type``).

    >>> fill = lambda o, s, c=0: BubbleFill(o, c, 0.9 if s == FILLED else 0.0, 0.0, s, 1.0)
    >>> r = read_field("q1", "single_choice", [fill("A", EMPTY), fill("B", FILLED), fill("C", EMPTY)])
    >>> r.value, r.status
    ('B', 'ok')
    >>> r = read_field("q1", "single_choice", [fill("A", FILLED), fill("B", FILLED), fill("C", EMPTY)])
    >>> r.value, r.status, r.reason
    ('AB', 'needs_review', 'two or more bubbles filled')
    >>> read_field("t", "minutes", [fill("2", FILLED, 0), fill("5", FILLED, 1)]).value
    '25'
    """
    fills = tuple(fills)
    if kind in SINGLE_KINDS:
        value, status, reason = _single(fills)
    elif kind == "multiple_choice":
        value, status, reason = _multiple(fills)
    elif kind == "grid_in":
        value, status, reason = _grid(fills)
    elif kind == "minutes":
        value, status, reason = _minutes(fills)
    else:
        raise ValueError(f"field {field_id!r}: {kind!r} is not a bubble field")
    return FieldReading(field_id, kind, value, _confidence(fills, status), status, reason, fills)


def _confidence(fills: tuple[BubbleFill, ...], status: str) -> float:
    """The least certain bubble's confidence; at most 0.5 when the field needs review."""
    least = min((f.confidence for f in fills), default=0.0)
    return round(min(least, 0.5) if status == "needs_review" else least, 4)


Outcome = tuple[str | None, str, str]


def _single(fills: Sequence[BubbleFill]) -> Outcome:
    filled = [f.option for f in fills if f.state == FILLED]
    unsure = [f.option for f in fills if f.state == AMBIGUOUS]
    value = "".join(sorted(filled)) or None
    if len(filled) > 1:
        return value, "needs_review", "two or more bubbles filled"
    if unsure:
        what = "a partial or erased mark" + (" beside the filled bubble" if filled else "")
        return value, "needs_review", f"{what} ({', '.join(unsure)})"
    return (value, "ok", "") if filled else (None, "blank", "no bubble filled")


def _multiple(fills: Sequence[BubbleFill]) -> Outcome:
    filled = [f.option for f in fills if f.state == FILLED]
    unsure = [f.option for f in fills if f.state == AMBIGUOUS]
    value = "".join(sorted(filled)) or None
    if unsure:
        return value, "needs_review", f"a partial or erased mark ({', '.join(unsure)})"
    return (value, "ok", "") if filled else (None, "blank", "no bubble filled")


def _columns(fills: Sequence[BubbleFill]) -> list[tuple[int, Outcome]]:
    by_column: dict[int, list[BubbleFill]] = {}
    for f in fills:
        by_column.setdefault(f.column, []).append(f)
    return [(column, _single(by_column[column])) for column in sorted(by_column)]


def _grid(fills: Sequence[BubbleFill]) -> Outcome:
    """A number, one character per column: "-" (column 0), digits and one ".", left to right."""
    columns = _columns(fills)
    for column, (_, status, reason) in columns:
        if status == "needs_review":
            return None, status, f"column {column}: {reason}"
    chars = [(column, value) for column, (value, status, _) in columns if status == "ok"]
    if not chars:
        return None, "blank", "no bubble filled"
    text = "".join(v for _, v in chars if v)
    used = [c for c, _ in chars if c != 0]  # the sign column may stand apart
    gaps = used and (used[-1] - used[0] + 1 != len(used))
    body = text.lstrip("-")
    if gaps or not any(ch.isdigit() for ch in body) or body.count(".") > 1 or "-" in body:
        return text, "needs_review", f"not a number as bubbled: {text!r}"
    return text, "ok", ""


def _minutes(fills: Sequence[BubbleFill]) -> Outcome:
    """Tens in column 0, units in column 1; tens may be left blank (7 minutes)."""
    columns = dict(_columns(fills))
    tens, units = (columns.get(c, (None, "blank", "")) for c in (0, 1))
    for part, (_, status, reason) in (("tens", tens), ("units", units)):
        if status == "needs_review":
            return None, status, f"{part}: {reason}"
    if units[1] == "blank":
        return (
            (None, "blank", "no bubble filled")
            if tens[1] == "blank"
            else (None, "needs_review", "tens without units")
        )
    return str(int(tens[0] or "0") * 10 + int(units[0] or "0")), "ok", ""


def snap_field(
    gray: np.ndarray,
    homography: np.ndarray,
    bubbles: Sequence[Bubble],
    reading: FieldReading,
    ink: InkLevels,
    baseline: float,
) -> FieldReading:
    """Read a field again where its printed rings really are (:func:`field_offset`).

    Used on fields that need review: a bubble ring a millimetre off its expected place falls
    inside the sampled disk and looks like a faint mark. The new reading is kept only if it has
    fewer ambiguous bubbles than ``reading``.
    """
    from dataclasses import replace

    dx, dy = field_offset(gray, homography, bubbles)
    if np.hypot(dx, dy) < 0.3:
        return reading
    shifted = [replace(b, cx=b.cx + dx, cy=b.cy + dy) for b in bubbles]
    again = read_field(
        reading.field_id, reading.kind, measure_bubbles(gray, homography, shifted, ink, baseline)
    )

    def unsure(r: FieldReading) -> int:
        return sum(f.state == AMBIGUOUS for f in r.bubbles)

    return again if unsure(again) < unsure(reading) else reading
