"""Sheet specs: what an answer sheet asks, for whom, on which paper (pydantic, read from JSON).

A spec names one assignment, the students who get a sheet, and the answer fields in order::

    field type         what the student (or teacher) does                  bubbles' options
    -----------------  --------------------------------------------------  ---------------------------
    single_choice      fills one of 2-8 bubbles                            "A".."H"
    multiple_choice    fills any of 2-8 bubbles                            "A".."H"
    true_false         fills T or F                                        "T", "F"
    grid_in            fills one bubble per column: a number, digit by     "-" (column 0), "." and
                       digit, with an optional sign and decimal point      "0".."9" (columns 1..N)
    handwriting        writes a number or a short text in a box            (a writing box)
    score              the teacher fills the points awarded, 0..max        "0".."max"
    minutes            fills the minutes spent, tens and units             "0".."9" (columns 0, 1)

Any field may carry an answer ``key`` (a dict validated by :func:`scanning.parse_key`; its ``kind``
may be left out and is then taken from the field). Every error names the path of what is wrong:

>>> spec = load_spec({"assignment_id": "hw-1", "title": "Fractions 分数",
...                   "students": [{"id": "s1", "name": "李雷"}],
...                   "fields": [{"id": "1", "type": "single_choice", "options": 4,
...                               "key": {"correct": "B"}}]})
>>> spec.fields[0].key.correct, spec.paper
(frozenset({'B'}), 'a4')
>>> load_spec({"assignment_id": "hw-1", "title": "t", "students": [{"id": "s1", "name": "n"}],
...            "fields": [{"id": "1", "type": "single_choice", "options": 9}]})
Traceback (most recent call last):
...
scanning._errors.SpecError: invalid sheet spec: fields[0] (id '1').options: Input should be less than or equal to 8
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, model_validator

from scanning._errors import SpecError
from scanning._keys import AnswerKey, ChoiceKey, ExpressionKey, NumberKey, ScoreKey, TextKey, TrueFalseKey

logger = logging.getLogger(__name__)

ID_PATTERN = r"^[A-Za-z0-9_.\-]{1,40}$"
"""Ids go into the QR code and file names: letters, digits, ``_ . -``, at most 40."""

_KEY_KINDS = {  # the key kind each field type takes
    "single_choice": ("choice", ChoiceKey),
    "multiple_choice": ("choice", ChoiceKey),
    "true_false": ("true_false", TrueFalseKey),
    "grid_in": ("number", NumberKey),
    "score": ("score", ScoreKey),
}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Student(_Model):
    """One student who gets a sheet; ``class_name`` defaults to the spec's."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=40)
    class_name: str | None = Field(None, validation_alias=AliasChoices("class_name", "class"))


class _Field(_Model):
    """What every field has: an id (unique in the spec), a printed label, an optional key."""

    id: str = Field(pattern=ID_PATTERN)
    label: str | None = Field(None, max_length=24, description="Printed question number; default: id.")
    key: AnswerKey | None = None

    @property
    def printed_label(self) -> str:
        """The question number printed next to the field."""
        return self.id if self.label is None else self.label

    @model_validator(mode="before")
    @classmethod
    def _key_kind_from_field(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("key"), dict):
            return data
        key = dict(data["key"])
        kind = _default_key_kind(data)
        if kind is not None:
            key.setdefault("kind", kind)
        if data.get("type") == "multiple_choice" and key.get("kind") == "choice":
            key.setdefault("multiple", True)
        return {**data, "key": key}

    @model_validator(mode="after")
    def _key_fits_field(self) -> _Field:
        field_type = getattr(self, "type", "")
        expected = _KEY_KINDS.get(field_type)
        if self.key is not None and expected is not None and not isinstance(self.key, expected[1]):
            raise ValueError(f"a {field_type} field needs a {expected[0]!r} key, not {self.key.kind!r}")
        return self


def _default_key_kind(data: dict[str, Any]) -> str | None:
    if data.get("type") == "handwriting":
        kind = data.get("kind", "text")
        return str(kind) if kind in ("number", "expression") else "text"
    entry = _KEY_KINDS.get(str(data.get("type")))
    return entry[0] if entry else None


class SingleChoice(_Field):
    """Fill one of ``options`` bubbles lettered A, B, C..."""

    type: Literal["single_choice"]
    options: int = Field(4, ge=2, le=8)

    @model_validator(mode="after")
    def _key_in_options(self) -> SingleChoice:
        if isinstance(self.key, ChoiceKey):
            letters = "ABCDEFGH"[: self.options]
            outside = sorted(self.key.correct - set(letters))
            if outside:
                raise ValueError(f"key names {outside}, but the options are {letters}")
        return self


class MultipleChoice(SingleChoice):
    """Fill any of ``options`` bubbles lettered A, B, C..."""

    type: Literal["multiple_choice"]  # type: ignore[assignment]


class TrueFalse(_Field):
    """Fill T (true, 对) or F (false, 错)."""

    type: Literal["true_false"]


class GridIn(_Field):
    """A number bubbled digit by digit in ``columns`` columns, with optional sign and decimal point."""

    type: Literal["grid_in"]
    columns: int = Field(4, ge=1, le=8)
    sign: bool = True
    decimal: bool = True


class Handwriting(_Field):
    """A box the student writes in: a ``number`` (3/4, 0.75, -2, 三百五十, 8cm), a short ``text``
    (a word, 北京) or an ``expression`` (2x+3, x=3.5, a≥2, 15÷5=3)."""

    type: Literal["handwriting"]
    kind: Literal["number", "text", "expression"] = "text"
    width_mm: float | None = Field(None, ge=15, le=180)
    height_mm: float | None = Field(None, ge=8, le=60)

    @model_validator(mode="after")
    def _key_matches_kind(self) -> Handwriting:
        wanted = {"number": NumberKey, "expression": ExpressionKey}.get(self.kind, TextKey)
        if self.key is not None and not isinstance(self.key, wanted):
            raise ValueError(f"a {self.kind} box needs a {self.kind!r} key, not {self.key.kind!r}")
        return self


class Score(_Field):
    """The teacher bubbles the points awarded for a subjective item, 0..``max_points``."""

    type: Literal["score"]
    max_points: int = Field(ge=1, le=20)

    @model_validator(mode="after")
    def _key_max(self) -> Score:
        if isinstance(self.key, ScoreKey) and self.key.max_points != self.max_points:
            raise ValueError(f"key max_points {self.key.max_points} differs from field's {self.max_points}")
        return self


class Minutes(_Field):
    """The student bubbles how many minutes the homework took, 0-99 (tens and units)."""

    type: Literal["minutes"]
    key: None = None


class StartTime(_Field):
    """The student writes the time they started (开始 19:05): hours and minutes in two boxes, read as
    digits (``"19:05"``); the homework layer checks it is plausible."""

    type: Literal["start_time"]
    key: None = None


SheetField = Annotated[
    SingleChoice | MultipleChoice | TrueFalse | GridIn | Handwriting | Score | Minutes | StartTime,
    Field(discriminator="type"),
]


class SheetSpec(_Model):
    """An assignment's answer sheet: its fields in order and the students who get one.

    ``paper`` is "a4" (default) or "letter". Ids are unique among students and among fields.
    """

    assignment_id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1, max_length=80)
    class_name: str = Field("", validation_alias=AliasChoices("class_name", "class"))
    paper: Literal["a4", "letter"] = "a4"
    students: tuple[Student, ...]
    fields: tuple[SheetField, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> SheetSpec:
        if not self.students or not self.fields:
            raise ValueError("a spec needs at least one student and one field")
        for what, ids in (("students", [s.id for s in self.students]), ("fields", [f.id for f in self.fields])):
            seen: set[str] = set()
            for index, item_id in enumerate(ids):
                if item_id in seen:
                    raise ValueError(f"{what}[{index}]: id {item_id!r} is used twice")
                seen.add(item_id)
        return self

    def field(self, field_id: str) -> (SingleChoice | MultipleChoice | TrueFalse | GridIn | Handwriting | Score
                                       | Minutes | StartTime):
        """The field with this id; :class:`KeyError` if there is none."""
        for item in self.fields:
            if item.id == field_id:
                return item
        raise KeyError(field_id)

    def student(self, student_id: str) -> Student:
        """The student with this id; :class:`KeyError` if there is none."""
        for item in self.students:
            if item.id == student_id:
                return item
        raise KeyError(student_id)

    def class_of(self, student: Student) -> str:
        """The class printed on ``student``'s sheet."""
        return student.class_name if student.class_name is not None else self.class_name


def load_spec(source: SheetSpec | dict[str, Any] | str | Path | bytes) -> SheetSpec:
    """A :class:`SheetSpec` from a dict, JSON text/bytes or a JSON file path; :class:`SpecError` if not.

    A ``str`` that starts with ``{`` or ``[`` is JSON text; any other ``str`` is a path.
    """
    if isinstance(source, SheetSpec):
        return source
    data = source if isinstance(source, dict) else _read_json(source)
    try:
        return SheetSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(f"invalid sheet spec: {_describe(exc, data)}") from exc


def _read_json(source: str | Path | bytes) -> Any:
    if isinstance(source, str) and source.lstrip()[:1] in ("{", "["):
        text, where = source, "spec"
    elif isinstance(source, bytes):
        text, where = source.decode("utf-8", errors="replace"), "spec"
    else:
        path = Path(source)
        try:
            text, where = path.read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(f"cannot read sheet spec {path}: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{where} is not valid JSON: {exc}") from exc


def _describe(exc: ValidationError, data: Any) -> str:
    """Pydantic's errors as ``fields[3] (id 'q4').options: message``, one per error, joined by '; '."""
    parts = []
    for error in exc.errors():
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{_path(error['loc'], data)}: {message}")
    return "; ".join(parts)


def _path(loc: tuple[int | str, ...], data: Any) -> str:
    text, node = "", data
    for step in loc:
        if isinstance(step, int):
            text += f"[{step}]"
            node = node[step] if isinstance(node, list | tuple) and step < len(node) else None
            if isinstance(node, dict) and "id" in node:
                text += f" (id {node['id']!r})"
            continue
        if isinstance(node, dict) and step not in node and step in _TAGS:
            continue  # the discriminator's tag ("single_choice") pydantic puts in the path
        text += f".{step}" if text else str(step)
        node = node.get(step) if isinstance(node, dict) else None
    return text or "spec"


_TAGS = {
    "single_choice", "multiple_choice", "true_false", "grid_in", "handwriting", "score", "minutes",
    "choice", "number", "text", "expression",
}
