"""Expressions, equations and inequalities graded by symbolic equivalence (sympy), not by string.

A pupil's text is read the way it is written in Chinese schools: ``×`` and ``·`` multiply, ``÷``
divides, ``≥ ≤ ≠`` compare, ``2x`` is ``2*x``, ``ab`` is ``a*b``, every letter is a variable::

    >>> parse_math("15÷5=3")
    Relation(op='=', left=3, right=3, sides=('15/5', '3'))
    >>> equivalent("2x+3", "3+2x"), equivalent("2x+3", "x+x+3"), equivalent("2x+3", "2x+4")
    (True, True, False)
    >>> equivalent("x=3.5", "x=7/2"), equivalent("x=3.5", "3.5"), equivalent("a≥2", "2≤a"), equivalent("a≥2", "a>2")
    (True, True, True, False)

What an :class:`~scanning.ExpressionKey` allows, by the shape of its answer:

- an expression (``2x+3``): any equal expression (``3+2x``, ``x+3+x``); with ``simplified``
  only one with no more operations than the key (``x+x+3`` is then wrong: not simplified);
- a solution (``x=3.5``: a letter alone on one side, no letter on the other): ``x=7/2``,
  ``3.5=x``, and, with ``bare_value`` (the default), ``3.5`` alone;
- a statement of arithmetic (``15÷5=3``): both sides must have the key's values (``15/5=3``,
  ``3=15÷5``); with ``bare_value`` the result ``3`` alone is right too;
- any other equation (``y=2x+1``): the same equation up to a constant factor (``2x-y+1=0``);
- an inequality (``a≥2``): the same set of solutions (``2≤a``); never a bare value.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

_RELATIONS = ("<=", ">=", "!=", "=", "<", ">")
_ALLOWED = re.compile(r"^[0-9a-zA-Z+\-*/^().=<>! ]+$")


class MathSyntaxError(ValueError):
    """The text is not an expression, equation or inequality this module can read."""


@dataclass(frozen=True)
class Relation:
    """A parsed answer: ``op`` is ``""`` for a bare expression (then ``right`` is None)."""

    op: str
    left: Any
    right: Any
    sides: tuple[str, ...]


def to_ascii(text: str) -> str:
    """A pupil's math in sympy's ASCII: × · -> *, ÷ -> /, ≥ -> >=, full width -> half width.

    >>> to_ascii("１５÷５＝３"), to_ascii("2×（x－1）≤ 4")
    ('15/5=3', '2*(x-1)<=4')
    """
    import unicodedata

    text = unicodedata.normalize("NFKC", text)
    for old, new in (
        ("×", "*"), ("·", "*"), ("⋅", "*"), ("÷", "/"), ("≥", ">="), ("≤", "<="), ("≠", "!="),
        ("−", "-"), ("–", "-"), ("—", "-"), ("＝", "="), ("：", "/"), ("=>", ">="), ("=<", "<="),
    ):  # fmt: skip
        text = text.replace(old, new)
    return "".join(text.split())


@functools.lru_cache(maxsize=4096)
def _sympy_expr(text: str, evaluate: bool = True) -> Any:
    import sympy
    from sympy.parsing.sympy_parser import (
        implicit_multiplication_application,
        parse_expr,
        standard_transformations,
    )

    if not text or not _ALLOWED.match(text) or len(text) > 80 or "**" in text:
        raise MathSyntaxError(f"not an expression: {text!r}")
    letters = {ch: sympy.Symbol(ch) for ch in set(text) if ch.isalpha()}
    exact = re.sub(r"(\d+)\.(\d+)", lambda m: f"({m.group(1)}{m.group(2)}/1{'0' * len(m.group(2))})", text)
    try:
        return parse_expr(
            exact.replace("^", "**"),
            local_dict=letters,
            global_dict={n: getattr(sympy, n) for n in ("Integer", "Rational", "Symbol", "Add", "Mul", "Pow")},
            transformations=(*standard_transformations, implicit_multiplication_application),
            evaluate=evaluate,
        )
    except Exception as exc:  # sympy raises many kinds (SyntaxError, TypeError, TokenError...)
        raise MathSyntaxError(f"not an expression: {text!r}") from exc


def parse_math(text: str) -> Relation:
    """Parse an expression or one relation (``=``, ``<``, ``≤`` ...); :class:`MathSyntaxError` else."""
    ascii_text = to_ascii(text)
    pattern = "(" + "|".join(re.escape(op) for op in _RELATIONS) + ")"
    parts = re.split(pattern, ascii_text)
    if len(parts) == 1:
        return Relation("", _sympy_expr(parts[0]), None, (parts[0],))
    if len(parts) != 3:
        raise MathSyntaxError(f"more than one relation in {text!r}")
    left, op, right = parts
    return Relation(op, _sympy_expr(left), _sympy_expr(right), (left, right))


def _simplified(text: str, key: Any) -> bool:
    """No more operations than the key, and no terms left to combine (``x+x+3`` is not ``2x+3``).

    >>> _simplified("3+2*x", _sympy_expr("2*x+3")), _simplified("x+x+3", _sympy_expr("2*x+3"))
    (True, False)
    """
    import sympy

    written = _sympy_expr(text, evaluate=False)
    terms = len(sympy.Add.make_args(written)) > len(sympy.Add.make_args(_sympy_expr(text)))
    return not terms and int(sympy.count_ops(written)) <= int(sympy.count_ops(key))


def _zero(expr: Any) -> bool:
    import sympy

    try:
        return bool(sympy.cancel(expr) == 0) or bool(sympy.simplify(expr) == 0)
    except Exception:
        return False


def _is_solution(rel: Relation) -> bool:
    """``x = 3.5`` (or ``3.5 = x``): a lone symbol on one side, a number on the other."""
    import sympy

    if rel.op != "=":
        return False
    sides = (rel.left, rel.right)
    return any(isinstance(a, sympy.Symbol) and not b.free_symbols for a, b in (sides, sides[::-1]))


def _solution(rel: Relation) -> tuple[Any, Any]:
    import sympy

    if isinstance(rel.left, sympy.Symbol) and not rel.right.free_symbols:
        return rel.left, rel.right
    return rel.right, rel.left


def bare_value(key: str) -> float | None:
    """The number a solution or arithmetic statement key stands for alone (``x=3.5`` -> 3.5), else None.

    >>> bare_value("x=3.5"), bare_value("15÷5=3"), bare_value("2x+3"), bare_value("a≥2")
    (3.5, 3.0, None, None)
    """
    try:
        rel = parse_math(key)
    except MathSyntaxError:
        return None
    if _is_solution(rel):
        return float(_solution(rel)[1])
    if rel.op == "=" and not (rel.left.free_symbols | rel.right.free_symbols):
        return float(rel.right)
    return None


_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!="}


def equivalent(key: str, answer: str, *, bare_value: bool = True, simplified: bool = False) -> bool:
    """Whether ``answer`` is right for the key ``key`` (see the module for what each shape allows)."""
    return judge(key, answer, bare_value=bare_value, simplified=simplified)[0]


def judge(key: str, answer: str, *, bare_value: bool = True, simplified: bool = False) -> tuple[bool, str]:
    """``(right, reason)`` for ``answer`` against ``key``; :class:`MathSyntaxError` for an unreadable answer."""
    import sympy

    want, got = parse_math(key), parse_math(answer)
    if not want.op:
        if got.op:
            return False, f"{answer!r} is a relation, the key is an expression"
        if not _zero(got.left - want.left):
            return False, f"{answer!r} != {key}"
        if simplified and not _simplified(got.sides[0], want.left):
            return False, f"{answer!r} equals {key} but is not simplified"
        return True, f"{answer!r} = {key}"
    if not got.op:
        if not bare_value or want.op != "=":
            return False, f"{answer!r} is not a relation like {key}"
        target = _solution(want)[1] if _is_solution(want) else want.right
        ok = not got.left.free_symbols and _zero(got.left - target)
        return ok, f"{answer!r} {'=' if ok else '!='} {sympy.nsimplify(target)} ({key})"
    if _is_solution(want):
        if not _is_solution(got):
            return False, f"{answer!r} is not solved for {_solution(want)[0]}"
        (a, u), (b, v) = _solution(want), _solution(got)
        ok = a == b and _zero(u - v)
        return ok, f"{answer!r} {'is' if ok else 'is not'} {key}"
    if not want.left.free_symbols | want.right.free_symbols:  # arithmetic: 15÷5=3
        pairs = [(got.left, got.right), (got.right, got.left)]
        ok = got.op == "=" and want.op == "=" and any(
            not (x.free_symbols | y.free_symbols) and _zero(x - want.left) and _zero(y - want.right) for x, y in pairs
        )
        return ok, f"{answer!r} {'states' if ok else 'does not state'} {key}"
    return _same_relation(want, got, key, answer)


def _same_relation(want: Relation, got: Relation, key: str, answer: str) -> tuple[bool, str]:
    """Equations up to a non-zero constant factor; inequalities up to a positive one (or flipped)."""
    import sympy

    a = want.left - want.right
    for op, b in ((got.op, got.left - got.right), (_FLIP[got.op], got.right - got.left)):
        if op != want.op and not (want.op in ("=", "!=") and op == want.op):
            continue
        if _zero(b):
            continue
        ratio = sympy.cancel(a / b)
        if not ratio.free_symbols and ratio != 0 and (want.op in ("=", "!=") or bool(ratio > 0)):
            return True, f"{answer!r} is the same as {key}"
    return False, f"{answer!r} is not the same as {key}"
