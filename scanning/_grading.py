"""Grading one reading against its answer key, and the equivalences that make answers equal.

``grade(key, reading)`` auto-grades only a confident reading; anything else is ``needs_review``
(the caller keeps the crop for the teacher). A *reading* is anything with ``value`` and
``confidence`` (an OMR bubble reading, an OCR :class:`~scanning.TextReading`, or :class:`Answer`);
it may also carry ``status`` (``"needs_review"`` from OMR: two marks on a single choice) and
``key_probability`` (the recognizer's probability that the writing *is* one of the key's spellings,
from OCR verification; see :func:`scanning.read_answer`).

For handwriting, when the verdict comes from (:class:`GradingPolicy` has the thresholds)::

    P(key) >= 0.7 ........................................ right (verified)
    reads as right, confidence >= 0.85 ................... right
    reads as wrong, P(key) <= 0.02, confidence >= 0.5 .... wrong, unless one slip from the key
    reads as wrong, confidence >= 0.85, P(key) <= 0.15 ... wrong, unless one slip from the key
    anything else, or one slip from the key ............... needs_review

where a *slip* is what a recognizer does to one glyph: drop it, add one, misread it, read one
as two (a 4 as "21"), miss a '.' or '-', or read a '/' as '1'.

Numbers are equal in any of their written forms::

    0.75 = .75 = 3/4 = ¾ = ０．７５       1,000 = 1 000 = 1000       -2 = －2 = −2
    1 1/2 = 1又1/2 = 1.5                 "5cm", "5 厘米", "5元": a number and a unit
    75% = 0.75 only when the key says ``percent: true``

>>> from scanning._keys import parse_key
>>> key = parse_key({"kind": "number", "values": [0.75]})
>>> grade(key, Answer("3/4", confidence=0.99))
Grade(score=1.0, max_score=1.0, correct=True, status='graded', reason='3/4 = 0.75')
>>> grade(key, Answer("3/4", confidence=0.42)).status
'needs_review'
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from scanning._keys import AnyKey, ChoiceKey, ExpressionKey, NumberKey, ScoreKey, TextKey, TrueFalseKey
from scanning._numerals import NUMERAL_CHARS, UNITS, chinese_number, convert

logger = logging.getLogger(__name__)

Status = Literal["graded", "needs_review"]

# Characters NFKC leaves alone that mean the same to a grader.
_TRANSLATE = str.maketrans(
    {
        "\u2212": "-",  # minus sign
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2044": "/",  # fraction slash (NFKC of ¾ is 3⁄4)
        "\u2215": "/",  # division slash
        "\u3002": ".",  # 。
        "\u3001": ",",  # 、
        "\u201c": '"',
        "\u201d": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u300a": "<",  # 《 》
        "\u300b": ">",
        "\u3010": "[",  # 【 】
        "\u3011": "]",
        "\u00b7": ".",  # middle dot, sometimes written for a decimal point
    }
)


def canonical(text: str) -> str:
    """NFKC (full width -> half width, ¾ -> 3/4), Chinese punctuation -> Western, spaces collapsed.

    >>> canonical("－１２．５ 。，、")
    '-12.5 .,,'
    >>> canonical("¾")
    '3/4'
    """
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    return " ".join(text.split())


@dataclass(frozen=True)
class ParsedNumber:
    """A written number: its value, the unit written after (or currency before) it, and ``%``."""

    value: float
    unit: str = ""
    percent: bool = False


_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)"
_GROUPED = r"\d{1,3}(?:(?P<sep>[, ])\d{3})+(?:\.\d+)?"
_NUMBER_RE = re.compile(
    rf"""^(?P<pre>[¥$€£])?\s*(?P<sign>[-+])?\s*(?:
        (?P<grouped>{_GROUPED})
      | (?P<whole>\d+)\s*(?:又|\s)\s*(?P<mn>\d+)\s*/\s*(?P<md>\d+)
      | (?P<num>{_NUM})\s*/\s*(?P<den>{_NUM})
      | (?P<plain>{_NUM})
    )\s*(?P<pct>%)?\s*(?P<unit>[^\d\s.,/%+-][^\d]*?[23]?)?$""",
    re.VERBOSE,
)


def parse_number(text: str) -> ParsedNumber | None:
    """Read a written number in any usual form; ``None`` when it is not one.

    >>> parse_number("3/4").value, parse_number("¾").value, parse_number(".75").value
    (0.75, 0.75, 0.75)
    >>> parse_number("1,000").value, parse_number("1 000").value, parse_number("１２").value
    (1000.0, 1000.0, 12.0)
    >>> parse_number("−1 1/2")
    ParsedNumber(value=-1.5, unit='', percent=False)
    >>> parse_number("5 厘米"), parse_number("75%")
    (ParsedNumber(value=5.0, unit='厘米', percent=False), ParsedNumber(value=75.0, unit='', percent=True))
    >>> parse_number("3/0") is None, parse_number("abc") is None, parse_number("1,00") is None
    (True, True, True)
    """
    m = _NUMBER_RE.match(canonical(text))
    if m is None or m.group("unit") and all(ch in NUMERAL_CHARS for ch in m.group("unit")):
        chinese = _parse_chinese(canonical(text))
        if chinese is not None or m is None:  # "3万" is 30000, "120分" 120 minutes (or cents)
            return chinese
    g = m.groupdict()
    if g["grouped"]:
        value = float(g["grouped"].replace(g["sep"], ""))
    elif g["whole"]:
        if float(g["md"]) == 0:
            return None
        value = float(g["whole"]) + float(g["mn"]) / float(g["md"])
    elif g["num"]:
        if float(g["den"]) == 0:
            return None
        value = float(g["num"]) / float(g["den"])
    else:
        value = float(g["plain"])
    if g["sign"] == "-":
        value = -value
    unit = ((g["pre"] or "") + (g["unit"] or "")).strip()
    return ParsedNumber(value=value, unit=unit, percent=bool(g["pct"]))


def _parse_chinese(text: str) -> ParsedNumber | None:
    """A number in Chinese numerals, perhaps with a unit after it (三百五十, 三点五千克, 二分之一)."""
    unit = ""
    for candidate in sorted(UNITS, key=len, reverse=True):
        if text.casefold().endswith(candidate) and len(text) > len(candidate):
            unit, text = text[len(text) - len(candidate) :], text[: len(text) - len(candidate)]
            break
    value = chinese_number(text.strip())
    if value is None and unit:  # the "unit" was part of the numeral (三千 is not 三 and 千)
        return None
    return None if value is None else ParsedNumber(value=value, unit=unit.strip())


def normalize_text(text: str, key: TextKey) -> str:
    """Normalise text the way ``key`` says before comparing (width, punctuation, case, spaces).

    >>> normalize_text("Ｈｅｌｌｏ，  World。", TextKey(accepted=["x"]))
    'hello,world.'
    """
    text = canonical(text)
    if not key.case_sensitive:
        text = text.casefold()
    if key.ignore_punctuation:
        text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
    if key.ignore_spaces:
        text = "".join(text.split())
    return text


@dataclass(frozen=True)
class Answer:
    """A plain reading to grade: the value read and how sure the reader is of it.

    For callers that hold values rather than reader objects (a typed-in correction, a test).
    """

    value: Any
    confidence: float = 1.0
    status: str = "ok"
    key_probability: float | None = None


@dataclass(frozen=True)
class Grade:
    """The outcome of grading one answer; ``reason`` says why in a few words."""

    score: float
    max_score: float
    correct: bool
    status: Status
    reason: str


@dataclass(frozen=True)
class GradingPolicy:
    """When a reading is auto-graded rather than sent to a teacher.

    ``min_confidence``: per key kind, the reading's confidence needed to grade what was read.
    ``min_key_probability``: per kind, the verified probability that the writing *is* the key
    (``reading.key_probability``) needed to grade it right whatever the plain reading says.
    ``wrong_min_confidence`` and ``wrong_max_key_probability``: a handwritten answer that reads as
    wrong is graded wrong, even when the reading is less sure than ``min_confidence``, if the
    verified key probability is at most this small (whatever is written, it is not the key).
    ``guard_distance``: a handwritten answer (an OCR reading) graded wrong that is within this many
    character edits of a key spelling goes to review instead: a one-character misread of a right
    answer (a 4 read as a 9, a lost decimal point) is the reader's typical error, so such a verdict
    is not trusted.
    """

    min_confidence: dict[str, float] = field(
        default_factory=lambda: {
            "choice": 0.5, "true_false": 0.5, "number": 0.85, "text": 0.85, "expression": 0.85, "score": 0.5
        }  # fmt: skip
    )
    min_key_probability: dict[str, float] = field(
        # expression: calibrated on CROHME writers held out (benchmarks/calibrate_handwriting.py)
        default_factory=lambda: {"number": 0.7, "text": 0.7, "expression": 0.6}
    )
    wrong_min_confidence: dict[str, float] = field(
        default_factory=lambda: {"number": 0.5, "text": 0.5, "expression": 0.7}
    )
    wrong_max_key_probability: float = 0.02
    guard_distance: int = 1
    near_miss_min_confidence: float = 0.9
    near_miss_max_key_probability: float = 0.001

    def clear_near_miss(self, reading: Any) -> bool:
        """A reading one slip from the key that is still trusted as wrong: the ink explains it
        (``unambiguous``: every glyph confident, no mark left unread), it is read with at least
        ``near_miss_min_confidence`` and the key is all but ruled out."""
        key_p = getattr(reading, "key_probability", None)
        return (
            bool(getattr(reading, "unambiguous", False))
            and key_p is not None
            and key_p <= self.near_miss_max_key_probability
            and float(reading.confidence) >= self.near_miss_min_confidence
        )

    def threshold(self, kind: str) -> float:
        """The confidence needed for ``kind`` (0.9 for a kind it does not name)."""
        return self.min_confidence.get(kind, 0.9)


DEFAULT_POLICY = GradingPolicy()


def key_spellings(key: AnyKey) -> list[str]:
    """The strings a right answer is usually written as, to verify under the recognizer.

    >>> key_spellings(NumberKey(values=["3/4"]))
    ['3/4', '0.75', '.75']
    >>> key_spellings(NumberKey(values=[-2]))
    ['-2']
    >>> key_spellings(TextKey(accepted=["北京", "Beijing"]))
    ['北京', 'Beijing', 'beijing']
    >>> key_spellings(NumberKey(values=[0.5], percent=True, units=["kg"]))
    ['0.5', '.5', '1/2', '50%', '0.5kg', '.5kg', '1/2kg']
    """
    if isinstance(key, NumberKey):
        out = list(key.spellings)
        if key.percent:
            out += [f"{v * 100:g}%" for v in key.values]
        out += [s + unit for unit in key.units for s in key.spellings]
        return list(dict.fromkeys(out))
    if isinstance(key, ExpressionKey):
        written = [key.answer, *key.spellings]
        slashed = [s.replace("÷", "/") for s in written]  # the model reads a written ÷ as / too
        return list(dict.fromkeys([*written, *slashed, *_bare_forms(key)]))
    if isinstance(key, TextKey):
        out = []
        for text in key.accepted:
            out.extend([text, text.casefold()] if not key.case_sensitive else [text])
        return list(dict.fromkeys(out))
    return []


def _bare_forms(key: ExpressionKey) -> list[str]:
    """The value a solution or statement key accepts alone (``x=3.5`` -> 3.5), in its usual forms."""
    if not key.bare_value:
        return []
    from scanning._expressions import bare_value

    value = bare_value(key.answer)
    return [] if value is None else number_forms(value)


def number_forms(value: float) -> list[str]:
    """How a number is usually written: a short decimal (also without its leading 0), a fraction.

    >>> number_forms(0.75), number_forms(-2.0), number_forms(1 / 3)
    (['0.75', '.75', '3/4'], ['-2'], ['1/3'])
    """
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if float(magnitude).is_integer():
        return [f"{sign}{int(magnitude)}"]
    forms = []
    decimal = f"{magnitude:.4f}".rstrip("0")
    if abs(float(decimal) - magnitude) < 1e-9:
        forms.append(sign + decimal)
        if decimal.startswith("0."):
            forms.append(sign + decimal[1:])
    frac = Fraction(magnitude).limit_denominator(100)
    if abs(float(frac) - magnitude) < 1e-9:
        forms.append(f"{sign}{frac.numerator}/{frac.denominator}")
    return forms


def grade(
    key: AnyKey,
    reading: Any,
    policy: GradingPolicy = DEFAULT_POLICY,
) -> Grade:
    """Grade one reading against its key; unconfident or flagged readings go to ``needs_review``.

    >>> from scanning._keys import parse_key
    >>> grade(parse_key({"kind": "choice", "correct": "B"}), Answer("B"))
    Grade(score=1.0, max_score=1.0, correct=True, status='graded', reason='picked B')
    >>> grade(parse_key({"kind": "text", "accepted": ["北京"]}), Answer("上海市", confidence=0.97))
    Grade(score=0.0, max_score=1.0, correct=False, status='graded', reason="'上海市' is not an accepted answer")
    >>> from scanning._ocr import TextReading
    >>> grade(parse_key({"kind": "number", "values": [449]}), TextReading("949", confidence=0.99)).status
    'needs_review'
    >>> grade(parse_key({"kind": "choice", "correct": "B"}), Answer({"A", "B"}, status="needs_review")).reason
    'the reader flagged this answer (needs_review)'
    >>> grade(parse_key({"kind": "number", "values": [7]}), Answer("", confidence=0.99))
    Grade(score=0.0, max_score=1.0, correct=False, status='graded', reason='no answer')
    """
    points = key.points
    if getattr(reading, "status", "ok") == "needs_review":
        return _review(points, "the reader flagged this answer (needs_review)")
    key_p = getattr(reading, "key_probability", None)
    if key_p is not None and key_p >= policy.min_key_probability.get(key.kind, 0.9):
        return Grade(points, points, True, "graded", f"verified as the key (p={key_p:.3f})")
    confidence, threshold = float(reading.confidence), policy.threshold(key.kind)
    note = getattr(reading, "note", "") or (getattr(reading, "reason", "") if _handwritten(reading) else "")
    if note and confidence < threshold:
        return _review(points, note)
    if _is_blank(reading.value) and key.kind != "score":
        if confidence < threshold:
            return _review(points, f"confidence {confidence:.2f} < {threshold:.2f} that the box is blank")
        return Grade(0.0, points, False, "graded", "no answer")
    try:
        score, reason = _SCORERS[key.kind](key, reading.value)
    except _Unreadable as exc:
        return _review(points, str(exc))
    if score < points and _verified_wrong(key, reading, policy):
        return _check_slip(key, reading, policy) or Grade(score, points, False, "graded", reason)
    if confidence < threshold:
        return _review(points, f"confidence {confidence:.2f} < {threshold:.2f}")
    if score < points:
        slip = _check_slip(key, reading, policy)
        if slip is not None:
            return slip
    return Grade(score, points, math.isclose(score, points), "graded", reason)


def _verified_wrong(key: Any, reading: Any, policy: GradingPolicy) -> bool:
    """A handwritten wrong answer whose key the recognizer all but rules out, read well enough."""
    key_p = getattr(reading, "key_probability", None)
    return (
        key_p is not None
        and _handwritten(reading)
        and key_p <= policy.wrong_max_key_probability
        and float(reading.confidence) >= policy.wrong_min_confidence.get(key.kind, 1.0)
    )


def _check_slip(key: Any, reading: Any, policy: GradingPolicy) -> Grade | None:
    """Review instead of "wrong" when the key is still plausible or one reader's slip away."""
    if not (
        _handwritten(reading)
        and isinstance(key, NumberKey | TextKey | ExpressionKey)
        and isinstance(reading.value, str)
    ):
        return None
    if isinstance(key, NumberKey) and parse_number(reading.value) is None:
        return _review(key.points, f"{reading.value!r} does not read as a number")  # a misread, likely
    if isinstance(key, ExpressionKey) and not _parses(reading.value):
        return _review(key.points, f"{reading.value!r} does not read as an expression")
    key_p = getattr(reading, "key_probability", None)
    if key_p is not None and key_p > 1.0 - policy.threshold(key.kind):
        return _review(key.points, f"the key is still plausible (p={key_p:.3f})")
    if _near_key(key, reading.value, policy.guard_distance) and not policy.clear_near_miss(reading):
        return _review(key.points, f"{reading.value!r} is one slip of the reader away from the key")
    return None


def _handwritten(reading: Any) -> bool:
    """An OCR reading (a TextReading, or a page reader's field of kind "handwriting") can slip;
    a typed-in Answer or a bubbled number cannot."""
    return hasattr(reading, "char_confidences") or getattr(reading, "kind", None) == "handwriting"


def _squash(text: str) -> str:
    return canonical(text).replace("/", "1").replace(".", "").replace("-", "").replace(" ", "")


def _parses(text: str) -> bool:
    from scanning._expressions import MathSyntaxError, parse_math

    try:
        parse_math(text)
    except MathSyntaxError:
        return False
    return True


def _near_key(key: NumberKey | TextKey | ExpressionKey, value: str, distance: int) -> bool:
    """Whether ``value`` is within ``distance`` edits of a key spelling.

    Numbers are compared once '.', '-' and spaces are dropped and '/' is read as '1' (marks a
    reader misses or confuses), so these count as no edit at all; text after normalisation.

    >>> key = NumberKey(values=[34.47])
    >>> _near_key(key, "3447", 0), _near_key(key, "34.41", 1), _near_key(key, "35.41", 1)
    (True, True, False)
    >>> _near_key(NumberKey(values=["9/4"]), "914", 0)
    True
    """
    if isinstance(key, NumberKey | ExpressionKey):
        said, spellings = _squash(value), [_squash(s) for s in key_spellings(key)]
    else:
        said, spellings = normalize_text(value, key), [normalize_text(s, key) for s in key.accepted]
    return any(_within(said, s, distance) for s in spellings)


def _within(a: str, b: str, limit: int) -> bool:
    """Whether ``a`` becomes ``b`` in at most ``limit`` reader's slips.

    A slip is what a recognizer does to one written glyph: drop it, add one, read it as another,
    or read it as two (a 4 as "21") or two as one. Edit distance with those five operations.

    >>> _within("218", "48", 1), _within("48", "218", 1), _within("218", "47", 1)
    (True, True, False)
    """
    if abs(len(a) - len(b)) > 2 * limit:
        return False
    n, m = len(a), len(b)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        for j in range(m + 1):
            if i == 0 or j == 0:
                cost[i][j] = i + j
                continue
            options = [cost[i - 1][j] + 1, cost[i][j - 1] + 1, cost[i - 1][j - 1] + (a[i - 1] != b[j - 1])]
            if j > 1:
                options.append(cost[i - 1][j - 2] + 1)  # one glyph read as two
            if i > 1:
                options.append(cost[i - 2][j - 1] + 1)  # two glyphs read as one
            cost[i][j] = min(options)
    return cost[n][m] <= limit


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | set | frozenset) and not value


class _Unreadable(Exception):
    """The value cannot be graded automatically (blank, not a choice set, out of range)."""


def _review(points: float, reason: str) -> Grade:
    return Grade(0.0, points, False, "needs_review", reason)


def _options(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(ch.upper() for ch in canonical(value) if ch.isalpha())
    if isinstance(value, Iterable):
        return frozenset(str(v).strip().upper() for v in value)
    raise _Unreadable(f"not a set of options: {value!r}")


def _score_choice(key: ChoiceKey, value: Any) -> tuple[float, str]:
    picked = _options(value)
    shown = "".join(sorted(picked)) or "nothing"
    if picked == key.correct:
        return key.points, f"picked {shown}"
    if not key.multiple or key.partial_credit == "none" or not picked:
        return 0.0, f"picked {shown}, key {''.join(sorted(key.correct))}"
    hits, wrong = len(picked & key.correct), len(picked - key.correct)
    if key.partial_credit == "subset":
        share = key.subset_fraction if wrong == 0 else 0.0
    else:
        share = max(0.0, (hits - key.wrong_penalty * wrong) / len(key.correct))
    return key.points * share, f"picked {shown}: {hits} right, {wrong} wrong"


_TRUE = {"t", "true", "y", "yes", "1", "√", "✓", "✔", "对", "是", "正确", "对的"}
_FALSE = {"f", "false", "n", "no", "0", "×", "✗", "✘", "x", "错", "否", "错误", "错的"}


def _truth(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = canonical(str(value)).casefold() if value is not None else ""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Unreadable(f"not a true/false answer: {value!r}")


def _score_true_false(key: TrueFalseKey, value: Any) -> tuple[float, str]:
    said = _truth(value)
    return (key.points if said == key.answer else 0.0), f"answered {'true' if said else 'false'}"


def _score_number(key: NumberKey, value: Any) -> tuple[float, str]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        parsed: ParsedNumber | None = ParsedNumber(float(value))
    else:
        text = "" if value is None else str(value).strip()
        if not text:
            raise _Unreadable("blank answer")
        parsed = parse_number(text)
        if parsed is None:
            return 0.0, f"{text!r} is not a number"
    assert parsed is not None
    shown = str(value).strip()
    if parsed.percent and not key.percent:
        return 0.0, f"{shown}: a percentage, the key wants a plain number"
    number = parsed.value / 100 if parsed.percent else parsed.value
    if not _unit_accepted(key, parsed.unit):
        converted = _converted(key, number, parsed.unit)
        if converted is None:
            return 0.0, f"{shown}: unit {parsed.unit or 'missing'} not accepted"
        number, shown = converted, f"{shown} = {converted:g}{key.units[0]}"
    for target in key.values:
        tol = max(key.abs_tol, key.rel_tol * abs(target), 1e-9 * max(1.0, abs(target)))
        if abs(number - target) <= tol:
            return key.points, f"{shown} = {target:g}"
    return 0.0, f"{shown} != {' or '.join(f'{v:g}' for v in key.values)}"


def _unit_accepted(key: NumberKey, unit: str) -> bool:
    if not unit:
        return not key.unit_required
    wanted = {canonical(u).casefold() for u in key.units}
    return canonical(unit).casefold() in wanted


def _converted(key: NumberKey, number: float, unit: str) -> float | None:
    """``number`` ``unit`` in the key's first unit, when the key allows conversion and they compare."""
    if not key.convert_units or not unit or not key.units:
        return None
    return convert(number, canonical(unit), canonical(key.units[0]))


def _score_expression(key: ExpressionKey, value: Any) -> tuple[float, str]:
    from scanning._expressions import MathSyntaxError, judge

    text = "" if value is None else str(value).strip()
    if not text:
        raise _Unreadable("blank answer")
    try:
        right, reason = judge(key.answer, text, bare_value=key.bare_value, simplified=key.simplified)
    except MathSyntaxError:
        return 0.0, f"{text!r} is not an expression"
    return (key.points if right else 0.0), reason


def _score_text(key: TextKey, value: Any) -> tuple[float, str]:
    text = "" if value is None else str(value)
    said = normalize_text(text, key)
    if not said:
        raise _Unreadable("blank answer")
    if any(said == normalize_text(a, key) for a in key.accepted):
        return key.points, f"{text!r} accepted"
    return 0.0, f"{text!r} is not an accepted answer"


def _score_points(key: ScoreKey, value: Any) -> tuple[float, str]:
    try:
        awarded = float(value)
    except (TypeError, ValueError):
        raise _Unreadable(f"no points read: {value!r}") from None
    if not 0 <= awarded <= key.max_points:
        raise _Unreadable(f"{awarded:g} points is outside 0..{key.max_points:g}")
    return awarded, f"teacher awarded {awarded:g}"


_SCORERS: dict[str, Any] = {
    "choice": _score_choice,
    "true_false": _score_true_false,
    "number": _score_number,
    "text": _score_text,
    "expression": _score_expression,
    "score": _score_points,
}
