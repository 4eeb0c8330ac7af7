"""Reading a foreign sheet: aligned page -> bubble darkness -> marks -> each question's answer.

Every bubble box of the template is measured on the aligned page (:mod:`scanning._align`) as a
*darkness*: its central part's mean grey over the paper around it (the page's own white, taken
from a max filter wider than a bubble, so shadows and a photo's light fall-off cancel out)::

    darkness = 1 - mean(box centre) / paper      0: white paper, ~1: solid pencil

Empty bubbles (a printed ring, a letter inside) sit low, pencil marks high. One threshold per page
is put in the widest gap of the sorted darknesses, as OMRChecker does, with two differences:

- a bubble close to that threshold (within :data:`AMBIGUOUS_BAND` of the gap's width, or any
  bubble in a gap narrower than :data:`MIN_GAP`) is *ambiguous*: its field goes to review;
- a field with two marks is reported with both values (``"BC"``) and needs review unless its
  answer key accepts several marks; a digit column with two marks makes its number unreadable.

The answer of a question is its fields' values concatenated (a roll number ``"E503110026"``);
nothing marked is the sheet's ``empty_value``. The same page read twice gives the same answers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from scanning._align import AlignedPage, align_page
from scanning._errors import BadImageError
from scanning._foreign import BubbleField, ForeignSheet, QuestionKey
from scanning._load import SourceRef
from scanning._omr import AMBIGUOUS, EMPTY, FILLED, BubbleFill, FieldReading

logger = logging.getLogger(__name__)

MIN_GAP = 0.08
"""Narrowest gap (in darkness) between empty and marked bubbles that is believed at all."""

AMBIGUOUS_BAND = 0.25
"""A bubble within this share of the gap's width from the threshold is ambiguous."""

INSET = 0.2
"""Share of a bubble box cut from each side before its darkness is measured (the printed ring)."""

SNAP_RANGE = 0.45
"""How far a field block is searched around where the template puts it, as a share of the
distance from one bubble to the next (never onto the neighbour), at most :data:`SNAP_SIZE`."""

SNAP_SIZE = 0.5
"""The farthest a block is searched, in bubble sizes."""

SNAP_STEPS = 6
"""Search positions each way, per axis (13 x 13 shifts per block)."""

SNAP_GAIN = 0.01
"""Mean darkness gain per field a shift must bring before a block is moved at all."""

AMBIGUOUS_NEAR = 0.1
"""On a page without a clean gap, how close to the threshold a bubble is ambiguous."""

LOCAL_JUMP = 0.3
"""An ambiguous bubble this much darker than every other bubble of its field is a mark."""

LOCAL_SAME = 0.1
"""An ambiguous bubble (below the threshold) within this of its field's median is empty."""

PRINT_MIN_FIELDS = 6
"""Fewest fields in a block for its options' printed look to be learnt from the block itself."""

PRINT_QUANTILE = 0.25
"""The quantile of an option's darkness over its block taken as that option's empty look."""

NO_MARK_BELOW = 0.3
"""A page whose darkest bubble is paler than this, with no clear gap, has no marks."""

IMPLAUSIBLE_SHARE = 0.1
"""Share of fields with three or more marks above which a page is taken for another sheet."""

TARGET_BUBBLE_PX = 14.0
"""Smallest bubble side, in pixels, the page is read at (above: faster; below: coarser)."""


def reading_scale(sheet: ForeignSheet) -> float:
    """Pixels per template unit the page is read at: bubbles >= 14 px, the page >= 900 px, <= 1."""
    sizes = [min(f.size or sheet.bubble_size) for f in sheet.fields]
    return float(min(1.0, max(TARGET_BUBBLE_PX / min(sizes), 900.0 / max(sheet.page))))


@dataclass(frozen=True, eq=False)
class ForeignReading:
    """One page of a foreign sheet as read: how it was aligned, every field and every question.

    ``fields`` holds one reading per bubble field (a digit column, an MCQ row); ``answers`` one
    per question (its fields concatenated), with ``status`` ok / blank / needs_review and the
    ``reason``. ``threshold`` is the page's darkness threshold and ``gap`` the width of the gap it
    sits in (small: a faint or uneven page).
    """

    source: SourceRef
    sheet_name: str
    page: AlignedPage
    fields: tuple[FieldReading, ...]
    answers: tuple[FieldReading, ...]
    identity: str | None
    threshold: float
    gap: float

    def answer(self, question_id: str) -> FieldReading:
        for reading in self.answers:
            if reading.field_id == question_id:
                return reading
        raise KeyError(question_id)

    def values(self) -> dict[str, str]:
        """Every question's answer as OMRChecker writes it (empty value when nothing is marked)."""
        return {a.field_id: a.value or "" for a in self.answers}

    @property
    def identity_reading(self) -> FieldReading | None:
        return None if self.identity is None else self.answer(self.identity)

    @property
    def confidence(self) -> float:
        return min([self.page.confidence, *(a.confidence for a in self.answers)])


def read_foreign_page(sheet: ForeignSheet, gray: np.ndarray, source: SourceRef | None = None) -> ForeignReading:
    """Align ``gray`` to ``sheet`` and read every question; PageNotRegisteredError if it cannot be aligned."""
    scale = reading_scale(sheet)
    page = align_page(gray, sheet, scale)
    darkness = measure_darkness(page.image, sheet, scale)
    threshold, gap = page_threshold(np.concatenate(darkness) if darkness else np.zeros(0))
    fields = tuple(_read_field(f.id, f.kind, [b.value for b in f.bubbles], d, threshold, gap)
                   for f, d in zip(sheet.fields, darkness, strict=True))
    _check_plausible(fields)
    by_id = {f.field_id: f for f in fields}
    empties = {f.id: sheet.empty_value if f.empty_value is None else f.empty_value for f in sheet.fields}
    answers = tuple(_answer(q.id, [by_id[p] for p in q.parts], sheet.keys.get(q.id), empties)
                    for q in sheet.questions)
    return ForeignReading(source or SourceRef("<image>"), sheet.name, page, fields, answers, sheet.identity,
                          round(threshold, 4), round(gap, 4))


def load_foreign_image(sheet: ForeignSheet, data: bytes, name: str = "<bytes>") -> np.ndarray:
    """A sheet photo or scan as grey pixels, a large JPEG decoded at 1/2, 1/4 or 1/8 size (libjpeg's
    DCT scaling: several times faster) when the page still gets >= 2 pixels for every pixel it
    is read at; other formats in full. :class:`~scanning.BadImageError` if it is not an image."""
    import cv2

    from scanning._load import _jpeg_header, sniff_format

    flag = cv2.IMREAD_GRAYSCALE
    if sniff_format(data) == "jpeg":
        width, height, _ = _jpeg_header(data, name)
        needed = 2 * max(sheet.page) * reading_scale(sheet)
        for reduced, factor in ((cv2.IMREAD_REDUCED_GRAYSCALE_8, 8), (cv2.IMREAD_REDUCED_GRAYSCALE_4, 4),
                                (cv2.IMREAD_REDUCED_GRAYSCALE_2, 2)):
            if max(width, height) / factor >= needed:
                flag = reduced
                break
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    if image is None or image.size == 0:
        raise BadImageError(f"{name}: not an image that can be decoded")
    return image


def _check_plausible(fields: tuple[FieldReading, ...]) -> None:
    """A page where many fields are dark all over is not this sheet (or is misaligned): refuse it
    rather than read answers off another layout."""
    from scanning._errors import PageNotRegisteredError

    sizable = [f for f in fields if len(f.bubbles) >= 3]
    dark = [f.field_id for f in sizable if sum(b.state == FILLED for b in f.bubbles) >= 3]
    if sizable and len(dark) > IMPLAUSIBLE_SHARE * len(sizable):
        raise PageNotRegisteredError(f"the page does not look like this sheet: {len(dark)} of {len(sizable)} "
                                     f"fields have three or more marks ({', '.join(dark[:6])}...)")


def paper_level(image: np.ndarray, bubble_px: float) -> np.ndarray:
    """The paper's white around every pixel: a max filter wider than a bubble, smoothed (float32)."""
    import cv2

    factor = 0.25
    small = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    side = max(3, int(round(bubble_px * factor * 2.5)) | 1)
    white = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_RECT, (side, side)))
    white = cv2.blur(white, (side, side))
    full = cv2.resize(white, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.maximum(full.astype(np.float32), 1.0)


def measure_darkness(image: np.ndarray, sheet: ForeignSheet, scale: float) -> list[np.ndarray]:
    """Each field's bubbles' darkness (0 paper .. 1 black): the median of each box's centre, after
    each field block is snapped to where its bubbles really are (:func:`block_shifts`)."""
    import cv2

    bubble_px = min(sheet.bubble_size) * scale
    darkness = 1.0 - np.minimum(image.astype(np.float32) / paper_level(image, bubble_px), 1.0)
    integral = cv2.integral(darkness, sdepth=cv2.CV_64F)
    shifts = block_shifts(integral, sheet, scale)
    result = []
    for field in sheet.fields:
        dx, dy = shifts[field.block]
        x0, y0, x1, y1 = _boxes(field, sheet, scale, darkness.shape, dx, dy)
        result.append(_box_medians(darkness, x0, y0, x1, y1))
    return _print_corrected(result, sheet)


def _box_medians(darkness: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:
    """The median darkness in each box; boxes of one size (most of a field's) are cut at once."""
    result = np.zeros(len(x0))
    sizes = np.stack([x1 - x0, y1 - y0], axis=1)
    for width, height in np.unique(sizes, axis=0):
        same = np.flatnonzero((sizes[:, 0] == width) & (sizes[:, 1] == height))
        rows = y0[same, None] + np.arange(height)[None, :]
        cols = x0[same, None] + np.arange(width)[None, :]
        patches = darkness[rows[:, :, None], cols[:, None, :]]
        result[same] = np.median(patches.reshape(len(same), -1), axis=1)
    return result


def _print_corrected(values: list[np.ndarray], sheet: ForeignSheet) -> list[np.ndarray]:
    """Option columns printed darker than the rest of their block (a bold "B" in every bubble)
    lowered by that excess: in a block of :data:`PRINT_MIN_FIELDS` fields or more, each option's
    lower quartile over the block's fields is its empty look (unless three fields in four mark
    the same option)."""
    rows: dict[str, list[int]] = {}
    for index, field in enumerate(sheet.fields):
        rows.setdefault(field.block, []).append(index)
    out = list(values)
    for indices in rows.values():
        sizes = {len(values[i]) for i in indices}
        if len(indices) < PRINT_MIN_FIELDS or len(sizes) != 1:
            continue
        matrix = np.stack([values[i] for i in indices])
        column = np.quantile(matrix, PRINT_QUANTILE, axis=0)
        excess = np.maximum(column - float(np.median(column)), 0.0)
        for i in indices:
            out[i] = values[i] - excess
    return out


def _boxes(field: BubbleField, sheet: ForeignSheet, scale: float, shape: tuple[int, ...], dx: float = 0.0,
           dy: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The inset boxes of a field's bubbles in pixels, shifted by (dx, dy) pixels: x0, y0, x1, y1."""
    height, width = shape[:2]
    w, h = field.size or sheet.bubble_size
    xs = np.array([b.x for b in field.bubbles]) * scale + dx
    ys = np.array([b.y for b in field.bubbles]) * scale + dy
    x0 = np.clip(np.round(xs + INSET * w * scale), 0, width - 1).astype(int)
    y0 = np.clip(np.round(ys + INSET * h * scale), 0, height - 1).astype(int)
    x1 = np.clip(np.round(xs + (1 - INSET) * w * scale), x0 + 1, width).astype(int)
    y1 = np.clip(np.round(ys + (1 - INSET) * h * scale), y0 + 1, height).astype(int)
    return x0, y0, x1, y1


def block_shifts(integral: np.ndarray, sheet: ForeignSheet, scale: float) -> dict[str, tuple[float, float]]:
    """Per field block, the shift (pixels, within :data:`SNAP_RANGE` of a bubble) that best covers
    its marks: the one maximising, over its fields, the darkest bubble's mean darkness above the
    field's median. Printing, paper and a different page crop move a block as a whole; a block
    without marks gains nothing from a shift and stays where the template puts it."""
    shape = (integral.shape[0] - 1, integral.shape[1] - 1)
    blocks: dict[str, list[BubbleField]] = {}
    for field in sheet.fields:
        blocks.setdefault(field.block, []).append(field)
    shifts: dict[str, tuple[float, float]] = {}
    for name, fields in blocks.items():
        reach = _snap_reach(fields, fields[0].size or sheet.bubble_size) * scale
        grid = np.linspace(-1.0, 1.0, 2 * SNAP_STEPS + 1)
        dx, dy = (g.ravel() for g in np.meshgrid(grid * reach[0], grid * reach[1]))
        scores = _coverage(integral, fields, sheet, scale, shape, dx, dy)
        centre = len(dx) // 2  # the unshifted position
        best = int(np.argmax(scores))
        moved = scores[best] > scores[centre] + SNAP_GAIN * len(fields)
        shifts[name] = (float(dx[best]), float(dy[best])) if moved else (0.0, 0.0)
    return _lone_blocks_follow(shifts, blocks)


def _lone_blocks_follow(shifts: dict[str, tuple[float, float]],
                        blocks: dict[str, list[BubbleField]]) -> dict[str, tuple[float, float]]:
    """A block of one field (a check letter, a medium column) has no rows to agree on a shift and
    would drift onto a neighbour's mark: it takes the shift of the nearest block of several fields."""
    def origin(fields: list[BubbleField]) -> np.ndarray:
        return np.array([fields[0].bubbles[0].x, fields[0].bubbles[0].y])

    several = [n for n, f in blocks.items() if len(f) > 1]
    result = dict(shifts)
    for name, fields in blocks.items():
        if len(fields) == 1:
            nearest = min(several, key=lambda n: float(np.linalg.norm(origin(blocks[n]) - origin(fields))),
                          default=None)
            result[name] = shifts[nearest] if nearest is not None else (0.0, 0.0)
    return result


def _snap_reach(fields: list[BubbleField], size: tuple[float, float]) -> np.ndarray:
    """How far a block may move each way (template units)."""
    points = np.array([[b.x, b.y] for f in fields for b in f.bubbles])
    pitch = []
    for axis in (0, 1):
        steps = np.diff(np.unique(np.round(points[:, axis], 1)))
        pitch.append(float(steps.min()) if len(steps) else 2.0 * size[axis])
    return np.minimum(np.array(pitch) * SNAP_RANGE, np.array(size, dtype=float) * SNAP_SIZE)


def _coverage(integral: np.ndarray, fields: list[BubbleField], sheet: ForeignSheet, scale: float,
              shape: tuple[int, int], dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """For each shift (dx[i], dy[i]): sum over fields of (darkest bubble - median bubble) mean darkness."""
    groups: dict[int, list[BubbleField]] = {}
    for field in fields:  # fields with as many bubbles are measured together
        groups.setdefault(len(field.bubbles), []).append(field)
    height, width = shape
    sx = np.round(dx).astype(int)[:, None]
    sy = np.round(dy).astype(int)[:, None]
    total = np.zeros(len(dx))
    for count, group in groups.items():
        x0, y0, x1, y1 = (np.concatenate(parts) for parts in zip(*(_boxes(f, sheet, scale, shape) for f in group),
                                                                 strict=True))
        ax, bx = np.clip(x0[None, :] + sx, 0, width - 1), np.clip(x1[None, :] + sx, 1, width)
        ay, by = np.clip(y0[None, :] + sy, 0, height - 1), np.clip(y1[None, :] + sy, 1, height)
        sums = integral[by, bx] - integral[ay, bx] - integral[by, ax] + integral[ay, ax]
        means = (sums / np.maximum((bx - ax) * (by - ay), 1)).reshape(len(dx), len(group), count)
        total += (means.max(axis=2) - np.median(means, axis=2)).sum(axis=1)
    return total


def page_threshold(values: np.ndarray) -> tuple[float, float]:
    """The page's mark threshold and the width of the gap it sits in.

    The widest gap between consecutive sorted darknesses that is not wholly among the palest;
    when no gap is as wide as :data:`MIN_GAP` the page has no clean split: with no bubble darker
    than :data:`NO_MARK_BELOW` nothing is a mark (threshold above every bubble), else the
    threshold is Otsu's split of the darknesses and the gap 0 (every bubble near it is asked
    about, see :func:`_read_field`).

    >>> page_threshold(np.array([0.05, 0.08, 0.1, 0.7, 0.75]))
    (0.4, 0.6)
    >>> page_threshold(np.array([0.05, 0.08, 0.1]))[1]
    0.0
    """
    ordered = np.sort(values)
    if len(ordered) < 2:
        return 1.0, 0.0
    gaps = np.diff(ordered)
    lower = ordered[:-1]
    gaps = np.where(lower + gaps > MIN_GAP, gaps, 0.0)  # a jump wholly among the palest is no mark
    index = int(np.argmax(gaps))
    if gaps[index] >= MIN_GAP:
        return round(float(ordered[index] + gaps[index] / 2), 6), round(float(gaps[index]), 6)
    if ordered[-1] < NO_MARK_BELOW:
        return float(max(ordered[-1] + MIN_GAP / 2, 0.5)), 0.0  # a page with no marks at all
    return round(_otsu(ordered), 6), 0.0


def _otsu(ordered: np.ndarray) -> float:
    """The split of sorted values that maximises the between-class variance (Otsu's method)."""
    n = len(ordered)
    cumulative = np.cumsum(ordered)
    left = np.arange(1, n)
    mean_left = cumulative[:-1] / left
    mean_right = (cumulative[-1] - cumulative[:-1]) / (n - left)
    between = left * (n - left) * (mean_left - mean_right) ** 2
    index = int(np.argmax(between))
    return float((ordered[index] + ordered[index + 1]) / 2)


def _state(value: float, threshold: float, gap: float) -> tuple[str, float]:
    band = max(AMBIGUOUS_BAND * gap, 0.03) if gap >= MIN_GAP else AMBIGUOUS_NEAR  # no clean gap
    distance = abs(value - threshold)
    confidence = float(min(1.0, 0.5 + distance / max(gap, MIN_GAP)))
    if distance < band:
        return AMBIGUOUS, round(min(confidence, 0.5), 4)
    return (FILLED if value > threshold else EMPTY), round(confidence, 4)


def _local(state: str, confidence: float, dark: float, others: np.ndarray, threshold: float) -> tuple[str, float]:
    """An ambiguous bubble settled against its own field, where the print and light are the same:
    far darker than every other bubble of the field -> filled; as pale as their median -> empty."""
    if state != AMBIGUOUS or len(others) < 2:
        return state, confidence
    if dark - float(others.max()) >= LOCAL_JUMP and dark >= threshold - AMBIGUOUS_NEAR:
        return FILLED, 0.6
    if dark - float(np.median(others)) < LOCAL_SAME and dark < threshold:
        return EMPTY, 0.6
    return state, confidence


def _read_field(field_id: str, kind: str, values: list[str], darkness: np.ndarray, threshold: float,
                gap: float) -> FieldReading:
    fills = []
    for column, (option, dark) in enumerate(zip(values, darkness, strict=True)):
        state, confidence = _state(float(dark), threshold, gap)
        state, confidence = _local(state, confidence, float(dark), np.delete(darkness, column), threshold)
        fills.append(BubbleFill(option, column, round(float(dark), 4), 0.0, state, confidence, round(float(dark), 4)))
    marked = [f.option for f in fills if f.state == FILLED]
    unsure = [f.option for f in fills if f.state == AMBIGUOUS]
    value: str | None = "".join(marked) or None
    if unsure:
        status, reason = "needs_review", f"unclear mark on {', '.join(unsure)}"
    elif len(marked) > 1:
        status, reason = "needs_review", "two or more bubbles filled"
    elif not marked:
        status, reason = "blank", "nothing marked"
    else:
        status, reason = "ok", ""
    confidence = min(f.confidence for f in fills)
    return FieldReading(field_id, kind, value, round(min(confidence, 0.5) if status == "needs_review" else confidence, 4),
                        status, reason, tuple(fills))


def _answer(question_id: str, parts: list[FieldReading], key: QuestionKey | None,
            empties: dict[str, str]) -> FieldReading:
    value = "".join(p.value if p.value is not None else empties[p.field_id] for p in parts)
    accepted = key.answers if key is not None and key.accepts_several_marks and len(parts) == 1 else {}
    problems = [p for p in parts if p.status == "needs_review"
                and not (p.reason == "two or more bubbles filled" and (p.value or "") in accepted)]
    bubbles = tuple(b for p in parts for b in p.bubbles)
    confidence = min(p.confidence for p in parts)
    if problems:
        reason = "; ".join(f"{p.field_id}: {p.reason}" if len(parts) > 1 else p.reason for p in problems)
        return FieldReading(question_id, "foreign", value, min(confidence, 0.5), "needs_review", reason, bubbles)
    if all(p.status == "blank" for p in parts):
        return FieldReading(question_id, "foreign", value, confidence, "blank", "nothing marked", bubbles)
    blanks = [p.field_id for p in parts if p.status == "blank"]
    if blanks and len(parts) > 1:
        return FieldReading(question_id, "foreign", value, confidence, "ok", f"unmarked: {', '.join(blanks)}", bubbles)
    return FieldReading(question_id, "foreign", value, confidence, "ok", "", bubbles)
