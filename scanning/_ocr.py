"""Reading handwritten answers: the OCR backend interface and :func:`read_answer`.

A backend reads *tight line crops* (recognition only; no text detection on small crops) and
answers two questions:

- ``recognize(crops, charset=None)``: what is written, with a calibrated confidence (the
  probability of the decoded string under the recognizer), optionally decoding only ``charset``;
- ``verify(crop, candidates, charset=None)``: the probability of each candidate string, e.g. the
  answer key's own spellings. Asking "is this the key?" is far more precise than reading and
  comparing: a student's "17" that the reader hesitates on (1 or 7?) can still be verified as 17
  or as not-17 with high certainty.

:func:`read_answer` puts it together for one writing box: crop to ink (:mod:`scanning._ink`),
split a stacked fraction, recognise, verify the key, and return a :class:`TextReading` that
:func:`scanning.grade` takes.

>>> NUMERIC
'0123456789-./'
>>> charset_for(NumberKey(values=[75], percent=True))
'0123456789-./%'
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

import numpy as np

from scanning._ctc import best_path, restrict, string_probability
from scanning._errors import OCRBackendError
from scanning._grading import key_spellings
from scanning._ink import as_gray, find_ink, looks_stacked, split_stacked_fraction
from scanning._keys import AnyKey, ExpressionKey, NumberKey
from scanning._numerals import NUMERAL_CHARS

logger = logging.getLogger(__name__)

DIGITS = "0123456789"
NUMERIC = DIGITS + "-./"


@dataclass(frozen=True)
class TextReading:
    """What a writing box says.

    ``text``: the likeliest of the recognizer's greedy reading and, when a key was given, the key's
    spellings; ``confidence``: the recognizer's probability of ``text`` (for a blank box: how sure the box is
    empty); ``char_confidences``: each character's peak probability; ``key_probability``: the
    probability that the writing is one of the answer key's spellings (None: not verified);
    ``box``: the ink's ``(x, y, w, h)`` in the crop given (None for a line read as given);
    ``unambiguous``: the ink explains the reading: every character read with at least
    ``CLEAR_CHAR`` probability and no separate mark left unread (see :func:`glyph_count`),
    so a reading that differs from the key by one character is a near miss, not a misread;
    ``note``: why an unread box was not read, for the teacher ("two rows of writing, but no
    fraction bar was found"; "" when there is nothing to say).
    """

    text: str
    confidence: float
    char_confidences: tuple[float, ...] = ()
    blank: bool = False
    key_probability: float | None = None
    box: tuple[int, int, int, int] | None = None
    unambiguous: bool = False
    note: str = ""

    @property
    def value(self) -> str:
        """The text read (what :func:`scanning.grade` compares with the key)."""
        return self.text


@runtime_checkable
class OCRBackend(Protocol):
    """A text-line recognizer over tight crops (grey uint8, dark ink on light paper)."""

    name: str

    def recognize(self, crops: Sequence[np.ndarray], charset: str | None = None) -> list[TextReading]:
        """Read each crop; decode only ``charset``'s characters when given."""
        ...

    def verify(self, crop: np.ndarray, candidates: Sequence[str], charset: str | None = None) -> list[float]:
        """The probability of each candidate string being what ``crop`` says."""
        ...

    def read(
        self, crop: np.ndarray, charset: str | None = None, candidates: Sequence[str] = ()
    ) -> TextReading:
        """``recognize`` one crop and ``verify`` ``candidates`` at once (``key_probability``: their sum)."""
        ...


# The model learnt '/' from print, where it is long and slanted; a handwritten slash between digits
# reads as '1'. When verifying a candidate, its '/' may be read as either (but a written "12"
# cannot verify "1/2": see scanning._ctc.string_probability).
ALIASES = {"/": "1"}


def slash_aliases(candidate: str, index: dict[str, int]) -> dict[int, int]:
    """Positions of ``candidate`` whose character may also be read as its alias (``ALIASES``).

    >>> slash_aliases("3/4", {"1": 5, "/": 9})
    {1: 5}
    """
    return {
        pos: index[ALIASES[ch]] for pos, ch in enumerate(candidate) if ch in ALIASES and ALIASES[ch] in index
    }


class CTCBackend:
    """What every CTC recognizer backend shares: lazy loading, charset, decoding and verification.

    A subclass opens its model (``_open`` returns the model and its character dictionary, without
    the CTC blank) and runs it on one grey line crop (``_frames`` returns ``(frames, symbols)``
    probabilities, column 0 the blank). Decoding is :mod:`scanning._ctc`, the same for all.
    """

    name = "ctc"

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._model: Any = None
        self._characters: list[str] = []
        self._index: dict[str, int] = {}
        self._lock = threading.Lock()

    def _open(self) -> tuple[Any, list[str]]:
        raise NotImplementedError

    def _frames(self, model: Any, gray: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                model, dictionary = self._open()
                self._characters = ["", *dictionary, " "]
                self._index = {ch: i for i, ch in enumerate(self._characters) if i}
                self._model = model
        return self._model

    @property
    def characters(self) -> list[str]:
        """The model's symbols: ``characters[0]`` is the CTC blank (``""``), the last a space."""
        self._load()
        return self._characters

    def allowed(self, charset: str | None) -> np.ndarray | None:
        """Column indices of ``charset``'s characters (None: every character)."""
        if charset is None:
            return None
        self._load()
        missing = [ch for ch in charset if ch not in self._index]
        if missing:
            raise OCRBackendError(f"the model cannot write {''.join(missing)!r}")
        return np.array(sorted({self._index[ch] for ch in charset}), dtype=np.int64)

    def _restricted_frames(self, model: Any, gray: np.ndarray, allowed: np.ndarray) -> np.ndarray | None:
        """``restrict(_frames(...), allowed)`` computed more cheaply, or None (the default) if a backend cannot."""
        return None

    def frame_probabilities(self, crop: np.ndarray, charset: str | None = None) -> np.ndarray:
        """The model's per-frame symbol probabilities for one line crop, restricted to ``charset``."""
        model, gray = self._load(), as_gray(crop)
        allowed = self.allowed(charset)
        if allowed is None:
            return self._frames(model, gray)
        probs = self._restricted_frames(model, gray, allowed)
        return restrict(self._frames(model, gray), allowed) if probs is None else probs

    def recognize(self, crops: Sequence[np.ndarray], charset: str | None = None) -> list[TextReading]:
        """Read each tight line crop (grey uint8, ink dark on light)."""
        return [self.read(crop, charset) for crop in crops]

    def verify(self, crop: np.ndarray, candidates: Sequence[str], charset: str | None = None) -> list[float]:
        """P(candidate | crop) for each candidate string (0 for one the charset cannot write)."""
        return self._scores(self.frame_probabilities(crop, charset), candidates, charset)

    def read(
        self, crop: np.ndarray, charset: str | None = None, candidates: Sequence[str] = ()
    ) -> TextReading:
        """Recognise one crop and, in the same model pass, verify ``candidates`` (their summed P).

        The text is the most probable of the best-path string and the candidates: a key spelling
        the recognizer finds likelier than its own greedy reading (a slash it read as a 1) is
        reported as read, with its probability as the confidence.
        """
        probs = self.frame_probabilities(crop, charset)
        text, chars = best_path(probs, self._characters)
        confidence = string_probability(probs, self.encode(text) or [])
        if not candidates:
            return TextReading(text, confidence, chars)
        scores = self._scores(probs, candidates, charset)
        best = int(np.argmax(scores))
        if scores[best] > confidence:
            text, confidence, chars = candidates[best], scores[best], ()
        return TextReading(text, confidence, chars, key_probability=min(1.0, sum(scores)))

    def _scores(self, probs: np.ndarray, candidates: Sequence[str], charset: str | None) -> list[float]:
        columns = self.allowed(charset)
        allowed = None if columns is None else set(columns.tolist())
        scores = []
        for candidate in candidates:
            labels = self.encode(candidate)
            if not labels or (allowed is not None and not set(labels) <= allowed):
                scores.append(0.0)
            else:
                scores.append(string_probability(probs, labels, slash_aliases(candidate, self._index)))
        return scores

    def encode(self, text: str) -> list[int] | None:
        """The model's symbol indices for ``text``, or None if it has a character the model lacks."""
        self._load()
        try:
            return [self._index[ch] for ch in text]
        except KeyError:
            return None


BACKENDS = ("rapidocr", "paddleocr")


def get_backend(name: str = "rapidocr", **options: Any) -> OCRBackend:
    """Make an OCR backend by name (models load lazily, on first use).

    >>> get_backend().name
    'rapidocr'
    >>> get_backend("tesseract")
    Traceback (most recent call last):
    ...
    scanning._errors.OCRBackendError: unknown OCR backend 'tesseract'; choose one of rapidocr, paddleocr
    """
    if name == "rapidocr":
        from scanning._ocr_rapid import RapidOCRBackend

        return RapidOCRBackend(**options)
    if name == "paddleocr":
        from scanning._ocr_paddle import PaddleOCRBackend

        return PaddleOCRBackend(**options)
    raise OCRBackendError(f"unknown OCR backend {name!r}; choose one of {', '.join(BACKENDS)}")


MATH = NUMERIC + "+×÷=<>≥≤()"
"""Besides its letters, what an expression answer may use."""


def charset_for(key: AnyKey | None) -> str | None:
    """The characters a field's answer may use: numeric for a number without units (plus the
    Chinese numerals when the key is written in them), math and the key's letters for an
    expression, else all.

    >>> charset_for(ExpressionKey(answer="2x+3"))
    '0123456789-./+×÷=<>≥≤()x'
    """
    if isinstance(key, NumberKey) and not key.units:
        return NUMERIC + ("%" if key.percent else "") + (NUMERAL_CHARS if key.chinese else "")
    if isinstance(key, ExpressionKey):
        return MATH + "".join(sorted({ch for ch in key.answer if ch.isascii() and ch.isalpha()}))
    return None


def read_answer(
    crop: np.ndarray,
    key: AnyKey | None = None,
    backend: OCRBackend | None = None,
    *,
    charset: str | None = None,
) -> TextReading:
    """Read one writing box's interior (grey uint8) and, given its key, verify the key's spellings.

    ``charset`` defaults to :func:`charset_for` the key; a charset holding ``/`` also reads a
    fraction written on two rows. A blank box reads as ``""`` with ``blank=True``. Raises
    :class:`~scanning.BadImageError` for a crop that is not a grey image.
    """
    backend = backend or _default_backend()
    charset = charset if charset is not None else charset_for(key)
    ink = find_ink(crop)
    if ink.blank or ink.image is None:
        return TextReading("", ink.confidence, blank=True, key_probability=0.0 if key else None, box=None)
    candidates = key_spellings(key) if key is not None else []
    # only a numeric field looks for a stacked fraction: many hanzi (二, 三) and '=' have flat strokes too
    numeric = key is None or isinstance(key, NumberKey) and not key.chinese
    fraction_field = numeric and charset is not None and "/" in charset
    stacked = split_stacked_fraction(ink.image) if fraction_field else None
    if stacked is not None:
        reading = _read_stacked(backend, stacked, candidates)
        whole = [c for c in candidates if "/" not in c]
        if whole:  # a key with a whole-number spelling: was the "fraction" one glyph (a 9, a 7)?
            reading = _unless_one_line(backend, ink.image, charset, whole, reading)
    elif fraction_field and two_rows(ink.image):
        # never read two rows as one line (a stacked 1/6 reads as "6"): a teacher reads it
        return TextReading("", 0.0, box=ink.box, note="two rows of writing, but no fraction bar was found")
    else:
        reading = backend.read(ink.image, charset, candidates)
        if candidates:
            reading = second_opinion(backend, ink.image, charset, candidates, reading)
        if 2 * len(reading.text) <= glyph_count(ink.image):  # "111" read as "1": half the ink unread
            reading = TextReading(
                reading.text,
                min(reading.confidence, 0.25),
                reading.char_confidences,
                False,
                reading.key_probability,
            )
    note = ""
    if stacked is None and fraction_field and "/" not in reading.text and looks_stacked(ink.image):
        # laid out as a fraction the splitter could not cut: its one-line reading may verify the
        # key (a 4's crossbar looks like a bar), but it is never trusted to say "wrong"
        reading = TextReading(reading.text, 0.0, reading.char_confidences, key_probability=reading.key_probability)
        note = "laid out as a stacked fraction, but its numerator and denominator could not be cut apart"
    elif not reading.text.strip("/-"):
        # ink the recognizer cannot read is not a blank answer: never let it grade as "no answer"
        reading = TextReading(
            reading.text, 0.0, reading.char_confidences, key_probability=reading.key_probability
        )
        note = "writing the recognizer cannot read"
    clear = reading.unambiguous if stacked is not None else _explained(reading, ink.image)
    return TextReading(
        reading.text,
        reading.confidence,
        reading.char_confidences,
        False,
        reading.key_probability,
        ink.box,
        clear,
        note,
    )


SURE_KEY = 0.99
"""A verified key at least this probable needs no second opinion."""

SECOND_VIEW_VETO = 0.4
"""A verified key the second view gives less than this is not trusted (its probability is taken)."""

RULED_OUT = 0.02
"""A key at most this probable is ruled out only when a second view of the ink agrees."""

CONFUSABLE = {"1": "7", "7": "1"}
"""Digits one writer's hand makes of another's: a 7 without its bar is an American 1 with a flag."""


def look_alikes(spelling: str) -> list[str]:
    """``spelling`` with one of its 1s or 7s swapped for the other.

    >>> look_alikes("17.6")
    ['77.6', '11.6']
    """
    return [spelling[:i] + CONFUSABLE[ch] + spelling[i + 1 :] for i, ch in enumerate(spelling) if ch in CONFUSABLE]


def second_opinion(
    backend: OCRBackend, image: np.ndarray, charset: str | None, candidates: list[str], reading: TextReading
) -> TextReading:
    """Check a verdict-making key probability on a second view of the ink (strokes thinned by a
    pixel), and a verified key against its 1/7 look-alikes.

    A verified key is not trusted when the second view finds it unlikely (below
    ``SECOND_VIEW_VETO``: its probability is taken instead), nor when a 1/7 swap of it is also
    plausible (p >= 0.01: a 17 that may be a 77); a key is ruled out only when both views rule it
    out (the larger probability).
    """
    import cv2

    key_p = reading.key_probability or 0.0
    ascii_key = all(c.isascii() for c in candidates)  # a leading 一 is flat too
    if key_p >= 0.5 and ascii_key and leading_minus(image) != any(c.startswith("-") for c in candidates):
        # the ink has a minus sign the key has not (or the other way round): a lost sign
        return replace(reading, key_probability=min(key_p, 0.5), confidence=min(reading.confidence, 0.5))
    verifying = 0.5 <= key_p < SURE_KEY
    ruling_out = key_p <= RULED_OUT
    if not verifying and not ruling_out:
        return reading
    thin = cv2.dilate(image, np.ones((2, 2), np.uint8))
    other = min(1.0, sum(backend.verify(thin, candidates, charset)))
    if ruling_out:
        return replace(reading, key_probability=max(key_p, other))
    if other < SECOND_VIEW_VETO:
        key_p = min(key_p, other)
    swapped = [s for c in candidates for s in look_alikes(c) if s not in candidates]
    if swapped and sum(backend.verify(image, swapped, charset)) >= 0.01:
        key_p = min(key_p, 0.5)
    confidence = min(reading.confidence, key_p) if reading.text in candidates else reading.confidence
    return replace(reading, key_probability=key_p, confidence=confidence)


def leading_minus(image: np.ndarray) -> bool:
    """Whether a clean ink crop starts with a minus sign: a short flat mark at mid height, left of
    all the other writing.

    >>> crop = np.full((40, 90), 255, np.uint8)
    >>> crop[8:32, 40:44] = 0            # "1"
    >>> leading_minus(crop), (crop.__setitem__((slice(19, 22), slice(10, 28)), 0), leading_minus(crop))[1]
    (False, True)
    """
    import cv2

    n, _, stats, _ = cv2.connectedComponentsWithStats((image < 160).astype(np.uint8), connectivity=8)
    marks = [tuple(int(v) for v in stats[i, :4]) for i in range(1, n) if stats[i, 4] >= 4]
    if len(marks) < 2:
        return False
    top = min(m[1] for m in marks)
    height = max(m[1] + m[3] for m in marks) - top
    first = min(marks, key=lambda m: m[0])
    x, y, w, h = first
    rest_left = min(m[0] for m in marks if m is not first)
    middle = abs(y + h / 2 - (top + height / 2)) <= 0.3 * height
    return w >= 2 * h and h <= 0.25 * height and x + w <= rest_left + 1 and middle


def two_rows(image: np.ndarray) -> bool:
    """Whether a clean ink crop holds two rows of writing, one above the other, with a clear gap.

    >>> crop = np.full((60, 30), 255, np.uint8)
    >>> crop[5:25, 10:20] = 0
    >>> two_rows(crop), (crop.__setitem__((slice(35, 55), slice(10, 20)), 0), two_rows(crop))[1]
    (False, True)
    """
    rows = np.flatnonzero((image < 160).sum(axis=1) >= 2)
    if rows.size < 4:
        return False
    height = rows[-1] - rows[0] + 1
    gaps = np.flatnonzero(np.diff(rows) > 1)
    for g in gaps:
        above, below = rows[g] - rows[0] + 1, rows[-1] - rows[g + 1] + 1
        if min(above, below) >= 0.25 * height and rows[g + 1] - rows[g] >= max(2, 0.04 * height):
            return True
    return False


CLEAR_CHAR = 0.9
"""Each character's least probability for a reading the ink explains (``TextReading.unambiguous``)."""


def _explained(reading: TextReading, image: np.ndarray) -> bool:
    """Every character confident, and no separate tall mark left unread: at least one character per
    mark ('.' and '-' are not tall; touching digits make fewer marks than characters)."""
    chars = reading.char_confidences
    if not chars or len(chars) != len(reading.text) or min(chars) < CLEAR_CHAR:
        return False
    marks = sum(ch not in ".-" for ch in reading.text)
    return glyph_count(image) <= marks if reading.text.isascii() else True


def glyph_count(image: np.ndarray) -> int:
    """How many separate tall marks a clean ink crop holds (a lower bound on the characters).

    >>> line = np.full((40, 90), 255, np.uint8)
    >>> line[8:32, 10:14] = line[8:32, 40:44] = line[8:32, 70:74] = 0   # "111"
    >>> glyph_count(line)
    3
    """
    import cv2

    n, _, stats, _ = cv2.connectedComponentsWithStats((image < 160).astype(np.uint8), connectivity=8)
    if n <= 1:
        return 0
    tall = stats[1:][stats[1:, cv2.CC_STAT_HEIGHT] >= 0.5 * stats[1:, cv2.CC_STAT_HEIGHT].max()]
    count, right_edge, width = 0, -1, 0
    for x, _, w, _, _ in sorted(tall.tolist()):
        if x + min(w, width) / 2 >= right_edge:  # pieces of one broken digit overlap in x: one glyph
            count += 1
            width = w
        right_edge = max(right_edge, x + w)
    return count


def _unless_one_line(
    backend: OCRBackend, image: np.ndarray, charset: str | None, whole: list[str], stacked: TextReading
) -> TextReading:
    """A split box whose key also reads as one line: the key's probability is the larger of the
    two layouts', and the stacked reading is trusted no more than the one-line key is ruled out.
    (The one-line reading itself is never used: a two-row crop is not a line.)"""
    line_p = min(1.0, sum(backend.verify(image, whole, charset)))
    if line_p <= (stacked.key_probability or 0.0):
        return stacked
    return TextReading(
        stacked.text,
        min(stacked.confidence, 1.0 - line_p),
        stacked.char_confidences,
        key_probability=line_p,
        unambiguous=False,
    )


def _read_stacked(backend: OCRBackend, stacked: Any, candidates: list[str]) -> TextReading:
    """Read numerator and denominator apart; the fraction's probability is their product."""
    pairs = []
    for candidate in candidates:
        body = candidate[1:] if candidate.startswith("-") else candidate
        if candidate.startswith("-") == stacked.negative and body.count("/") == 1:
            pairs.append(body.split("/"))
    single = pairs if len(pairs) == 1 else []  # one pair: verify it in the reading pass itself
    top = backend.read(stacked.numerator, DIGITS, [p[0] for p in single])
    bottom = backend.read(stacked.denominator, DIGITS, [p[1] for p in single])
    key_p = None
    if single:
        key_p = (top.key_probability or 0.0) * (bottom.key_probability or 0.0)
    elif candidates:
        tops = backend.verify(stacked.numerator, [p[0] for p in pairs], DIGITS) if pairs else []
        bottoms = backend.verify(stacked.denominator, [p[1] for p in pairs], DIGITS) if pairs else []
        key_p = min(1.0, sum(a * b for a, b in zip(tops, bottoms, strict=True)))
    text = f"{'-' if stacked.negative else ''}{top.text}/{bottom.text}"
    chars = top.char_confidences + (1.0,) + bottom.char_confidences
    confidence = top.confidence * bottom.confidence
    if not top.text or not bottom.text:  # ink on both rows, and a row read as nothing
        confidence = 0.0
    clear = _explained(top, stacked.numerator) and _explained(bottom, stacked.denominator)
    return TextReading(text, confidence, chars, key_probability=key_p, unambiguous=clear)


_DEFAULT: OCRBackend | None = None


def _default_backend() -> OCRBackend:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = get_backend()
    return _DEFAULT
