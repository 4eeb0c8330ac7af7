"""Answer keys: what a field's right answer is, as validated data (pydantic, it comes from outside).

A sheet spec carries each field's key as a plain dict; :func:`parse_key` turns it into one of six
models, told apart by ``kind``::

    kind          model          answer                                    credit
    ------------  -------------  ----------------------------------------  -------------------------
    "choice"      ChoiceKey      set of correct options ("A".."H")         all or nothing, or partial
    "true_false"  TrueFalseKey   True / False                              all or nothing
    "number"      NumberKey      value(s), tolerance, units, percent       all or nothing
    "text"        TextKey        accepted variants, normalisation options  all or nothing
    "expression"  ExpressionKey  expression / equation / inequality        all or nothing (sympy)
    "score"       ScoreKey       none: the teacher bubbles the points      the points read

>>> key = parse_key({"kind": "choice", "correct": ["B", "D"], "multiple": True})
>>> type(key).__name__, sorted(key.correct), key.partial_credit
('ChoiceKey', ['B', 'D'], 'none')
>>> parse_key({"kind": "number", "values": ["3/4"], "abs_tol": 0.001}).values
(0.75,)
"""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from scanning._errors import SpecError

logger = logging.getLogger(__name__)

CHOICE_OPTIONS = "ABCDEFGH"


class _Key(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    points: float = Field(1.0, gt=0, description="Points for a fully right answer.")


class ChoiceKey(_Key):
    """Single or multiple choice: the set of correct options.

    ``partial_credit`` applies to multiple choice only:

    - ``"none"``: full points for exactly the right set, else 0.
    - ``"proportional"``: ``points * max(0, (hits - wrong_penalty * wrong_picks) / len(correct))``.
    - ``"subset"`` (the usual Chinese exam rule, 选对但不全得部分分): a non-empty proper subset of the
      correct options earns ``subset_fraction * points``; any wrong pick earns 0.

    >>> ChoiceKey(correct={"a"}).correct
    frozenset({'A'})
    """

    kind: Literal["choice"] = "choice"
    correct: frozenset[str] = Field(min_length=1)
    multiple: bool = False
    partial_credit: Literal["none", "proportional", "subset"] = "none"
    wrong_penalty: float = Field(1.0, ge=0)
    subset_fraction: float = Field(0.5, ge=0, le=1)

    @field_validator("correct", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        if isinstance(value, str):
            value = list(value.replace(",", "").replace(" ", ""))
        if isinstance(value, list | tuple | set | frozenset):
            return frozenset(str(v).strip().upper() for v in value)
        return value

    @model_validator(mode="after")
    def _check(self) -> ChoiceKey:
        bad = sorted(self.correct - set(CHOICE_OPTIONS))
        if bad:
            raise ValueError(f"options must be among {CHOICE_OPTIONS}, got {bad}")
        if not self.multiple and len(self.correct) != 1:
            raise ValueError("a single-choice key has exactly one correct option (set multiple=true)")
        if not self.multiple and self.partial_credit != "none":
            raise ValueError("partial credit applies to multiple choice only")
        return self


class TrueFalseKey(_Key):
    """True/false (判断题): ``answer`` is the right truth value."""

    kind: Literal["true_false"] = "true_false"
    answer: bool


class NumberKey(_Key):
    """A number, with tolerance and the units a student may write after it.

    ``values`` accepts numbers or strings in any form :func:`scanning.parse_number` reads ("3/4",
    "1 1/2", "-0.5", "１２"); they are kept as floats. ``spellings``: how a right answer is usually
    written (the strings given, then each value's decimal form and, when exact, its fraction), which
    an OCR reader verifies and a fixture generator may write. An answer is right when it is within
    ``max(abs_tol, rel_tol * |value|)`` of one value (plus a hair for floating point).
    ``units``: units accepted after the number ("cm", "厘米"); with ``unit_required`` a bare number is
    wrong. ``percent``: whether "75%" may stand for 0.75 (otherwise a percent sign makes it wrong).
    ``convert_units``: an answer in another unit of the same quantity is converted to the first of
    ``units`` (key 8 cm: "80mm" and "0.8分米" are right; key 6 元: "60角" is right).
    Chinese numerals are numbers (三百五十 = 350, 二分之一 = 1/2); a value given in Chinese numerals
    (or ``chinese: true``) also adds its Chinese spelling, and a reader may then read those characters.

    >>> key = NumberKey(values=["1 1/2", 2])
    >>> key.values, key.spellings
    ((1.5, 2.0), ('1 1/2', '1.5', '3/2', '2'))
    """

    kind: Literal["number"] = "number"
    values: tuple[float, ...] = Field(min_length=1)
    spellings: tuple[str, ...] = ()
    abs_tol: float = Field(0.0, ge=0)
    rel_tol: float = Field(0.0, ge=0)
    units: tuple[str, ...] = ()
    unit_required: bool = False
    percent: bool = False
    convert_units: bool = False
    chinese: bool = False

    @model_validator(mode="before")
    @classmethod
    def _parse_values(cls, data: object) -> object:
        if not isinstance(data, dict) or "values" not in data and "value" not in data:
            return data
        data = dict(data)
        raw = data.pop("value", None)
        raw = data.get("values", [raw] if raw is not None else [])
        raw = [raw] if isinstance(raw, str | int | float) else list(raw)
        from scanning._grading import number_forms, parse_number
        from scanning._numerals import has_chinese_numeral, to_chinese

        values, spellings = [], list(data.get("spellings", ()))
        for item in raw:
            if isinstance(item, str):
                parsed = parse_number(item)
                if parsed is None:
                    raise ValueError(f"cannot read {item!r} as a number")
                values.append(parsed.value)
                spellings.append(item.strip())
            elif isinstance(item, int | float) and not isinstance(item, bool):
                values.append(float(item))
            else:
                raise ValueError(f"a key value must be a number or a string, got {item!r}")
        if any(isinstance(item, str) and has_chinese_numeral(item) for item in raw):
            data["chinese"] = True
        for value in values:
            spellings.extend(number_forms(value))
            if data.get("chinese") and to_chinese(value):
                spellings.append(str(to_chinese(value)))
        data["values"] = tuple(values)
        data["spellings"] = tuple(dict.fromkeys(spellings))
        return data

    @model_validator(mode="after")
    def _check_units(self) -> NumberKey:
        if self.unit_required and not self.units:
            raise ValueError("unit_required needs at least one accepted unit")
        return self


class TextKey(_Key):
    """Short text: the accepted variants and how both sides are normalised before comparing.

    By default case, full/half width, spaces and Chinese vs Western punctuation do not matter.

    >>> TextKey(accepted=["Paris", "巴黎"]).accepted
    ('Paris', '巴黎')
    """

    kind: Literal["text"] = "text"
    accepted: tuple[str, ...] = Field(min_length=1)
    case_sensitive: bool = False
    ignore_spaces: bool = True
    ignore_punctuation: bool = False

    @field_validator("accepted", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator("accepted")
    @classmethod
    def _not_blank(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not v.strip() for v in value):
            raise ValueError("an accepted answer is blank")
        return value


class ExpressionKey(_Key):
    """An expression, equation or inequality, graded by symbolic equivalence (sympy), not by string.

    ``answer``: the right answer as a pupil writes it (``2x+3``, ``x=3.5``, ``a≥2``, ``15÷5=3``;
    ×, ÷, ≥, ≤ and full-width forms are fine). What is right beside it, by its shape
    (:mod:`scanning._expressions` has the rules): an expression accepts any equal one, in any
    order, unsimplified too unless ``simplified``; a solution ``x=3.5`` accepts ``x=7/2``,
    ``3.5=x`` and, with ``bare_value``, ``3.5`` alone; ``15÷5=3`` accepts the same statement in
    another order and, with ``bare_value``, the result ``3``; an inequality accepts the same
    solution set (``2≤a``). ``spellings``: further forms a reader should verify.

    >>> ExpressionKey(answer="x=3.5").bare_value
    True
    >>> parse_key({"kind": "expression", "answer": "x==3"})
    Traceback (most recent call last):
    ...
    scanning._errors.SpecError: invalid answer key: expression.answer: Value error, more than one relation in 'x==3'
    """

    kind: Literal["expression"] = "expression"
    answer: str = Field(min_length=1, max_length=80)
    bare_value: bool = True
    simplified: bool = False
    spellings: tuple[str, ...] = ()

    @field_validator("answer")
    @classmethod
    def _readable(cls, value: str) -> str:
        from scanning._expressions import MathSyntaxError, parse_math

        try:
            parse_math(value)
        except MathSyntaxError as exc:
            raise ValueError(str(exc)) from None
        return value.strip()


class ScoreKey(BaseModel):
    """A teacher-scored (subjective) item: the teacher bubbles the points awarded, up to ``max_points``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["score"] = "score"
    max_points: float = Field(gt=0)

    @property
    def points(self) -> float:
        """The most this item is worth (same name as the other keys)."""
        return self.max_points


AnswerKey = Annotated[
    ChoiceKey | TrueFalseKey | NumberKey | TextKey | ExpressionKey | ScoreKey,
    Field(discriminator="kind"),
]
AnyKey = ChoiceKey | TrueFalseKey | NumberKey | TextKey | ExpressionKey | ScoreKey
_ADAPTER: TypeAdapter[AnyKey] = TypeAdapter(AnswerKey)


def parse_key(data: dict[str, object]) -> AnyKey:
    """Validate a key given as a dict (from a sheet spec) into its model; raise :class:`SpecError`.

    >>> parse_key({"kind": "true_false", "answer": False})
    TrueFalseKey(points=1.0, kind='true_false', answer=False)
    >>> parse_key({"kind": "text", "accepted": "北京"}).accepted
    ('北京',)
    >>> parse_key({"kind": "essay"})
    Traceback (most recent call last):
    ...
    scanning._errors.SpecError: invalid answer key: ...
    """
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'key'}: {e['msg']}" for e in exc.errors()
        )
        raise SpecError(f"invalid answer key: {details}") from exc
