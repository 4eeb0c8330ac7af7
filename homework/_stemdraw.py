"""Drawing a typeset stem (:func:`homework._typeset.typeset`) on a PDF page: line breaks by measured
width, stacked fractions, raised powers and blanks to write in. Used by the question paper and the
错题本; coordinates in millimetres from the top-left, as :class:`homework._printing._Paper` keeps them.

A line holding a fraction is taller (:data:`FRACTION_EXTRA_MM`) so numerator and denominator clear
the lines above and below::

      3                       numerator at 72 % size, centred
    1 ─  米     ← baseline    the bar sits at mid x-height
      4                       denominator
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homework._typeset import Token, typeset

__all__ = ["Box", "FRACTION_EXTRA_MM", "layout_stem", "line_height"]

SMALL = 0.72
"""Size of a fraction's numerator and denominator, relative to the text."""
SUP = 0.62
FRACTION_EXTRA_MM = 3.2
BLANK_MM, BLANK_FRACTION_MM = 16.0, 7.0
_NO_LINE_START = "，。．、；：？！）)】”,.;:?!"


@dataclass(frozen=True)
class Box:
    """One unbreakable piece of a line: a character run, a fraction, a power or a blank."""

    token: Token
    width: float


def _boxes(tokens: list[Token], size: float, width_of: Callable[[str, float], float]) -> list[Box]:
    out = []
    for t in tokens:
        if t.kind == "text":
            out += [Box(Token("text", c), width_of(c, size)) for c in t.text]
        elif t.kind == "frac":
            body = max(width_of(t.text, size * SMALL), width_of(t.below, size * SMALL)) + 1.0
            out.append(Box(t, width_of(t.whole, size) + body + 0.6))
        elif t.kind == "sup":
            out.append(Box(t, width_of(t.text, size * SUP) + 0.3))
        else:
            out.append(Box(t, BLANK_FRACTION_MM if t.below else BLANK_MM))
    return out


def layout_stem(text: str, size: float, width_mm: float,
                width_of: Callable[[str, float], float]) -> list[list[Box]]:
    """The stem's boxes broken into lines no wider than ``width_mm`` (a closing punctuation mark never
    starts a line; spaces at a line start are dropped).

    >>> lines = layout_stem("甲数是乙数的(5/8)，乙数比甲数多((())/(()))．", 11, 30, lambda s, _: 3.0 * len(s))
    >>> [[b.token.kind for b in line if b.token.kind != "text"] for line in lines]
    [['frac'], ['blank']]
    """
    lines: list[list[Box]] = []
    line: list[Box] = []
    used = 0.0
    for box in _boxes(typeset(text), size, width_of):
        starts = box.token.kind == "text" and box.token.text in _NO_LINE_START
        if line and used + box.width > width_mm and not starts:
            lines.append(line)
            line, used = [], 0.0
        if not line and box.token.kind == "text" and box.token.text.isspace():
            continue
        line.append(box)
        used += box.width
    if line or not lines:
        lines.append(line)
    return lines


def line_height(line: list[Box], base_mm: float) -> float:
    """A line's height: taller when it holds a fraction or a fraction of blanks."""
    tall = any(b.token.kind == "frac" or (b.token.kind == "blank" and b.token.below) for b in line)
    return base_mm + (FRACTION_EXTRA_MM if tall else 0.0)
