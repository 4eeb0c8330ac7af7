"""Typesetting item stems: the bank's dataset notation as a pupil expects to read it.

The Math23K / Ape210K stems write maths in a programmer's notation. :func:`typeset` turns a stem into
tokens that the question paper (PDF) and the reports (HTML) draw::

    notation in the bank        meaning                  drawn as
    (2/3)                       a fraction               2 over 3, stacked
    1(3/4)                      a mixed number           1 and 3 over 4
    ((())/(()))                 "fill in a fraction"     two empty boxes, stacked
    3*4, 12/3, 0.8/(9/20)       ×, ÷ between numbers     3 × 4, 12 ÷ 3
    cm**3, m^2, 80**0           powers (**0: degrees)    cm³, m², 80°
    ．  =．  =？                 full-width stop; asked   。 and a blank to write in: = ____。

>>> [t.kind for t in typeset("(5/6)的6倍=．")]
['frac', 'text', 'blank', 'text']
>>> stem_text("一个梯形的面积是48cm**3，2*3/4=？")
'一个梯形的面积是48cm³，2 × 3 ÷ 4 = ____？'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

__all__ = ["Token", "stem_html", "stem_text", "typeset"]

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_PIECES = re.compile(
    r"(?P<blank>\(?\(\(\)\)/\(\(\)\)\)?|\(\(\)\))"               # ((())/(())) or (())
    r"|(?P<mixed>(?<![\d.])\d+)\((?P<mn>\d+)/(?P<md>\d+)\)"      # 1(3/4)
    r"|\((?P<num>[\d.]+)/(?P<den>[\d.]+)\)"                      # (2/3)
    r"|(?P<power>\*\*|\^)(?P<exp>-?\d+)"                         # cm**3, m^2, 80**0
    r"|(?P<asked>=\s*(?=[．。？?]|$))"                            # =．  =？  = at the end
)
_OPERATOR = re.compile(r"(?<!\*)\*(?!\*)|(?<=[\d)）])\s*/\s*(?=[\d(（])|=(?=多少)")
_SIGNS = {"*": " × ", "/": " ÷ ", "=": "是"}
_STOP = re.compile(r"(?<!\d)．|．(?!\d)")


@dataclass(frozen=True)
class Token:
    """One piece of a typeset stem: ``text`` (plain), ``frac`` (``text`` over ``below``, after ``whole``),
    ``sup`` (a raised exponent) or ``blank`` (a line to write on; ``below`` set for a blank fraction)."""

    kind: str
    text: str = ""
    below: str = ""
    whole: str = ""


def _text(stem: str, start: int, end: int, operators: dict[int, str]) -> Token:
    """Plain text of ``stem[start:end]`` with its operators (found on the whole stem) and stops."""
    out, at = [], start
    for position in sorted(p for p in operators if start <= p < end):
        out += [stem[at:position], operators[position]]
        at = position + 1
    out.append(stem[at:end])
    return Token("text", _STOP.sub("。", "".join(out)).replace("．", "."))


def typeset(stem: str) -> list[Token]:
    """The stem as tokens (see the module docstring); text between them gets ×, ÷ and 。."""
    pieces = list(_PIECES.finditer(stem))
    covered = {i for m in pieces for i in range(m.start(), m.end())}
    operators = {m.start() + len(m[0]) - len(m[0].lstrip()): _SIGNS[m[0].strip()] for m in _OPERATOR.finditer(stem)
                 if m.start() not in covered}
    tokens: list[Token] = []
    at = 0
    for match in pieces:
        if match.start() > at:
            tokens.append(_text(stem, at, match.start(), operators))
        at = match.end()
        tokens += _piece(match)
    if at < len(stem):
        tokens.append(_text(stem, at, len(stem), operators))
    return _merged(tokens)


def _piece(match: re.Match[str]) -> list[Token]:
    if match["blank"]:
        return [Token("blank", below="_" if "/" in match["blank"] else "")]
    if match["mixed"]:
        return [Token("frac", match["mn"], match["md"], whole=match["mixed"])]
    if match["num"]:
        return [Token("frac", match["num"], match["den"])]
    if match["power"]:
        degrees = match["exp"] == "0" and match["power"] == "**"
        return [Token("text", "°") if degrees else Token("sup", match["exp"])]
    return [Token("text", " = "), Token("blank")]


def _merged(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    for token in tokens:
        if out and token.kind == "text" and out[-1].kind == "text":
            out[-1] = Token("text", out[-1].text + token.text)
        else:
            out.append(token)
    return out


def stem_text(stem: str) -> str:
    """The stem in plain Unicode: fractions as ``2/3``, powers as superscripts, blanks as ``____``."""
    parts = []
    for t in typeset(stem):
        if t.kind == "frac":
            parts.append(f"{t.whole}又{t.text}/{t.below}" if t.whole else f"{t.text}/{t.below}")
        elif t.kind == "sup":
            parts.append(t.text.translate(_SUPERSCRIPT))
        elif t.kind == "blank":
            parts.append("(  )/(  )" if t.below else "____")
        else:
            parts.append(t.text)
    return "".join(parts)


def stem_html(stem: str) -> str:
    """The stem as HTML: stacked fractions (``span.frac``), ``<sup>`` powers, ``span.blank`` lines.

    >>> stem_html("甲是乙的(5/8)")
    '甲是乙的<span class="frac"><span>5</span><span>8</span></span>'
    """
    parts = []
    for t in typeset(stem):
        if t.kind == "frac":
            parts.append(escape(t.whole) + f'<span class="frac"><span>{escape(t.text)}</span>'
                         f'<span>{escape(t.below)}</span></span>')
        elif t.kind == "sup":
            parts.append(f"<sup>{escape(t.text)}</sup>")
        elif t.kind == "blank":
            parts.append('<span class="frac"><span class="blank"></span><span class="blank"></span></span>'
                         if t.below else '<span class="blank"></span>')
        else:
            parts.append(escape(t.text))
    return "".join(parts)
