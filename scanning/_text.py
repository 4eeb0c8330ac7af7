"""The two fonts every sheet embeds, and text split into runs each font can draw.

Latin text uses Bitstream Vera (inside reportlab); Chinese uses the Droid Sans Fallback subset in
``scanning/fonts`` (it has no Latin glyphs). A string is cut into runs by which font has the glyph:

>>> [(font, run) for font, run in text_runs("姓名 Name: 李雷")]
[('SheetCJK', '姓名'), ('SheetLatin', ' Name: '), ('SheetCJK', '李雷')]
>>> round(text_width("AB", 10.0), 2)  # millimetres
4.83
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

LATIN = "SheetLatin"
CJK = "SheetCJK"
FONT_DIR = Path(__file__).resolve().parent / "fonts"
PT_TO_MM = 25.4 / 72.0


@functools.cache
def register_fonts() -> tuple[frozenset[int], frozenset[int]]:
    """Register both fonts with reportlab (once); return the code points each can draw."""
    import reportlab
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    latin = TTFont(LATIN, str(Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"))
    cjk = TTFont(CJK, str(FONT_DIR / "DroidSansFallback-GB.ttf"))
    pdfmetrics.registerFont(latin)
    pdfmetrics.registerFont(cjk)
    return frozenset(latin.face.charToGlyph), frozenset(cjk.face.charToGlyph)


def text_runs(text: str) -> Iterator[tuple[str, str]]:
    """``(font name, run)`` pairs covering ``text``: Vera where it has the glyph, else the CJK font."""
    latin, cjk = register_fonts()
    current, start = None, 0
    for index, char in enumerate(text):
        code = ord(char)
        font = LATIN if code in latin or (code not in cjk and code < 0x2E80) else CJK
        if font != current:
            if current is not None:
                yield current, text[start:index]
            current, start = font, index
    if current is not None:
        yield current, text[start:]


def text_width(text: str, size_pt: float) -> float:
    """Printed width of ``text`` at ``size_pt`` points, in millimetres."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return sum(stringWidth(run, font, size_pt) for font, run in text_runs(text)) * PT_TO_MM


def fit_size(text: str, size_pt: float, width_mm: float, smallest: float = 5.0) -> float:
    """The largest size up to ``size_pt`` at which ``text`` fits in ``width_mm`` (not below ``smallest``)."""
    width = text_width(text, size_pt)
    if width <= width_mm or width == 0:
        return size_pt
    return max(smallest, size_pt * width_mm / width)
