"""Items and knowledge points: the records an item bank holds.

An :class:`Item` comes from outside (a teacher's spreadsheet, a JSON export, the HTTP API), so it is a
frozen pydantic model that validates itself; :class:`KnowledgePoint` is a node of the prerequisite graph.

>>> item = Item(id="m23k-13031", subject="math", grade=5, type="numeric",
...             stem="一段布剪去6米，正好剪去这段布的(2/5)，这段布还剩多少米？", answer=["9"],
...             knowledge_points=["fraction.of_quantity"], difficulty=2, minutes=2.5)
>>> item.answer, item.tolerance
(('9',), 0.0)
>>> numeric_value("1(2/3)"), numeric_value("20%"), numeric_value("(3/5)")
(1.6666666666666665, 0.2, 0.6)
"""

from __future__ import annotations

import ast
import enum
import operator
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "Item",
    "ItemType",
    "KnowledgePoint",
    "item_answer_key",
    "numeric_value",
    "parse_list",
]


class ItemType(enum.StrEnum):
    """How an item is answered; decides the answer field printed on the sheet."""

    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    TRUE_FALSE = "true_false"
    NUMERIC = "numeric"
    SHORT_TEXT = "short_text"
    SUBJECTIVE = "subjective"


CHOICE_TYPES = frozenset({ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE})
TRUE_WORDS = frozenset({"t", "true", "对", "正确", "√", "✓", "yes", "y"})
FALSE_WORDS = frozenset({"f", "false", "错", "错误", "×", "✗", "x", "no", "n"})
MAX_OPTIONS = 8
"""Answer sheets print at most eight bubbles (A-H) per choice item."""
MAX_MINUTES = 120.0
"""No single homework item is estimated above two hours; larger values are typing errors."""


@dataclass(frozen=True)
class KnowledgePoint:
    """One node of the knowledge-point graph.

    >>> KnowledgePoint("fraction", "Fractions", "分数").name_zh
    '分数'
    """

    id: str
    name: str
    name_zh: str = ""
    description: str = ""


_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow}
_MIXED = re.compile(r"(\d+(?:\.\d+)?)\(")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)%")


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return float(_BINOPS[type(node.op)](_evaluate(node.left), _evaluate(node.right)))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _evaluate(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    raise ValueError(f"not plain arithmetic: {ast.dump(node)[:60]}")


def numeric_value(text: str) -> float:
    """The value of a numeric answer or arithmetic expression as the word-problem sets write them.

    Accepts integers, decimals, fractions ``a/b`` and ``(a/b)``, percentages ``12.5%`` and mixed numbers
    ``1(2/3)`` (one and two thirds). Raises ``ValueError`` for anything else.

    >>> numeric_value("480/(1-20%)*20%")
    120.0
    """
    cleaned = str(text).strip().replace("（", "(").replace("）", ")").replace("×", "*").replace("÷", "/")
    if not cleaned:
        raise ValueError("empty")
    cleaned = _MIXED.sub(r"(\1+", cleaned.replace("^", "**"))
    cleaned = _PERCENT.sub(r"(\1/100)", cleaned)
    try:
        tree = ast.parse(cleaned, mode="eval")
        return _evaluate(tree)
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError, TypeError, RecursionError) as exc:
        raise ValueError(f"{text!r} is not a number") from exc


def parse_list(value: Any, sep: str = "|") -> tuple[str, ...]:
    """A list field as read from a cell: a list, a JSON array, or text split on ``sep``.

    >>> parse_list('["A", "B"]'), parse_list("fraction; ratio", ";"), parse_list(None)
    (('A', 'B'), ('fraction', 'ratio'), ())
    """
    import json

    if value is None or (isinstance(value, float) and value != value):
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    text = str(value).strip()
    if text.startswith("["):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"malformed JSON list: {exc.msg}") from exc
        return parse_list(loaded, sep)
    return tuple(part.strip() for part in text.split(sep) if part.strip())


class Item(BaseModel):
    """One homework item with its answer key, knowledge points and estimated minutes.

    ``answer`` holds every accepted variant: option letters for choice items (``"AC"`` for a multiple
    choice), ``"T"``/``"F"`` for true/false, numbers or fractions for numeric items (``tolerance`` is the
    absolute tolerance), phrases for short text; a subjective item may have none (a teacher marks it).
    ``difficulty`` runs 1 (one step) to 5 (many steps).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=64)
    subject: str = Field(default="math", min_length=1, max_length=32)
    grade: int = Field(ge=1, le=12)
    type: ItemType
    stem: str = Field(min_length=1)
    stem_en: str = ""
    image: str = ""
    options: tuple[str, ...] = ()
    answer: tuple[str, ...] = ()
    tolerance: float = Field(default=0.0, ge=0.0)
    knowledge_points: tuple[str, ...] = ()
    difficulty: int = Field(default=3, ge=1, le=5)
    minutes: float = Field(default=2.0, gt=0.0, le=MAX_MINUTES)
    source: str = ""
    tags: tuple[str, ...] = ()

    @field_validator("subject")
    @classmethod
    def _lower_subject(cls, value: str) -> str:
        return value.lower()

    @field_validator("options", "answer", mode="before")
    @classmethod
    def _pipe_list(cls, value: Any) -> tuple[str, ...]:
        return parse_list(value, "|")

    @field_validator("knowledge_points", "tags", mode="before")
    @classmethod
    def _kp_list(cls, value: Any) -> tuple[str, ...]:
        return parse_list(value, ";")

    @model_validator(mode="after")
    def _answer_fits_type(self) -> Item:
        problem = answer_problem(self.type, self.options, self.answer, self.tolerance)
        if problem:
            raise ValueError(problem)
        return self


def _letters(count: int) -> str:
    return "ABCDEFGH"[:count]


def answer_problem(kind: ItemType, options: tuple[str, ...], answer: tuple[str, ...],
                   tolerance: float) -> str:
    """Why this answer key does not fit the item type, or ``""`` when it does."""
    if kind in CHOICE_TYPES:
        if not 2 <= len(options) <= MAX_OPTIONS:
            return f"a {kind.value} item needs 2 to {MAX_OPTIONS} options, got {len(options)}"
        allowed = set(_letters(len(options)))
        bad = [a for a in answer if not a or set(a.upper()) - allowed]
        if not answer or bad:
            return f"answer must be option letters within {''.join(sorted(allowed))}, got {list(answer)}"
        if kind is ItemType.SINGLE_CHOICE and any(len(a) != 1 for a in answer):
            return f"a single_choice answer is one letter, got {list(answer)}"
    elif options:
        return f"a {kind.value} item takes no options"
    if kind is ItemType.TRUE_FALSE and (len(answer) != 1 or answer[0].lower() not in TRUE_WORDS | FALSE_WORDS):
        return f"a true_false answer is T or F, got {list(answer)}"
    if kind is ItemType.NUMERIC:
        if not answer:
            return "a numeric item needs at least one accepted answer"
        for variant in answer:
            try:
                numeric_value(variant)
            except ValueError:
                return f"numeric answer {variant!r} is not a number"
    elif tolerance:
        return "tolerance applies to numeric items only"
    if kind in (ItemType.SHORT_TEXT,) and not answer:
        return "a short_text item needs at least one accepted answer"
    return ""


def item_answer_key(item: Item, points: float = 1.0) -> dict[str, Any]:
    """The item's answer key as the plain dict :func:`scanning.parse_key` validates.

    Numeric answers are turned into values here (the word-problem sets write mixed numbers as
    ``1(2/3)``, which only :func:`numeric_value` reads); a subjective item becomes a teacher-scored key
    worth ``points``.

    >>> item_answer_key(Item(id="q1", grade=4, type="numeric", stem="1/3+1/6=?", answer=["1/2", "0.5"],
    ...                      tolerance=0.01))
    {'kind': 'number', 'values': [0.5, 0.5], 'spellings': ['1/2', '0.5'], 'abs_tol': 0.01, 'percent': False, 'points': 1.0}
    >>> item_answer_key(Item(id="q2", grade=4, type="true_false", stem="0.5 = 1/2", answer=["对"]))
    {'kind': 'true_false', 'answer': True, 'points': 1.0}
    >>> from scanning import parse_key
    >>> parse_key(item_answer_key(Item(id="q3", grade=4, type="multiple_choice", stem="Which are even?",
    ...                                options=["2", "3", "4"], answer=["AC"]))).correct == {"A", "C"}
    True
    """
    kind = item.type
    if kind in CHOICE_TYPES:
        return {"kind": "choice", "correct": sorted(set(item.answer[0].upper())),
                "multiple": kind is ItemType.MULTIPLE_CHOICE, "points": points}
    if kind is ItemType.TRUE_FALSE:
        return {"kind": "true_false", "answer": item.answer[0].lower() in TRUE_WORDS, "points": points}
    if kind is ItemType.NUMERIC:
        return {"kind": "number", "values": [numeric_value(a) for a in item.answer],
                "spellings": list(item.answer), "abs_tol": item.tolerance,
                "percent": any("%" in a for a in item.answer), "points": points}
    if kind is ItemType.SHORT_TEXT:
        return {"kind": "text", "accepted": list(item.answer), "points": points}
    return {"kind": "score", "max_points": points}
