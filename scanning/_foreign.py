"""Foreign sheets: answer sheets this library did not print, described as plain data (pydantic).

A :class:`ForeignSheet` is what the library knows about someone else's bubble sheet (an OMRChecker
``template.json``, a vendor 答题卡): the page's size in the template's own units, every bubble's
box on that page, how questions are made of bubble fields, how a scan is brought onto the page
(``steps``), the answer key with its marking scheme, and which question holds the student number.
It is JSON all the way down (images are embedded as base64 PNG), so it can be stored and posted.

::

    ForeignSheet
     ├── page: (width, height)            template units; every box is in them
     ├── steps: [Step]                    registration / image steps, in order (see _align.py)
     ├── fields: [BubbleField]            one per bubble group (a digit column, an MCQ row)
     │     └── bubbles: [BubbleBox]       top-left x, y of each bubble and the value it stands for
     ├── questions: [Question]            an output column: one field, or several concatenated
     ├── keys: {question: QuestionKey}    marked answer -> points; incorrect / unmarked points
     └── identity: question id | None     the student-number question, matched to the roster

>>> sheet = ForeignSheet.model_validate({
...     "name": "demo", "page": [300, 400], "bubble_size": [25, 25],
...     "fields": [{"id": "q1", "kind": "choice", "bubbles": [
...         {"x": 65, "y": 60, "value": "A"}, {"x": 106, "y": 60, "value": "B"}]}],
...     "questions": [{"id": "q1", "parts": ["q1"]}],
...     "keys": {"q1": {"answers": {"B": 3}, "incorrect": -1}}})
>>> sheet.keys["q1"].score("B"), sheet.keys["q1"].score("A"), sheet.keys["q1"].score("")
(3.0, -1.0, 0.0)
"""

from __future__ import annotations

import base64
import logging
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from scanning._errors import SpecError

logger = logging.getLogger(__name__)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BubbleBox(_Model):
    """One bubble: the top-left corner of its box (template units) and the value it stands for."""

    x: float
    y: float
    value: str = Field(min_length=1, max_length=12)


class BubbleField(_Model):
    """A group of bubbles read together: one digit of a number, one question's options.

    ``kind`` is ``"digit"`` (OMRChecker's ``QTYPE_INT``: one bubble per column), ``"choice"``
    (``QTYPE_MCQ4/5``) or ``"custom"`` (its own ``bubbleValues``). Every kind expects one mark;
    more than one is read and reported as such, and only graded where the key allows it.
    """

    id: str = Field(min_length=1, max_length=60)
    kind: Literal["digit", "choice", "custom"]
    block: str = ""
    bubbles: tuple[BubbleBox, ...] = Field(min_length=1)
    size: tuple[float, float] | None = None  # a block's own bubble size; default: the sheet's
    empty_value: str | None = None  # a block's own value for "nothing marked"; default: the sheet's


class Question(_Model):
    """An output column: the values of ``parts`` (field ids) concatenated, e.g. a roll number."""

    id: str = Field(min_length=1, max_length=60)
    parts: tuple[str, ...] = Field(min_length=1)


class QuestionKey(_Model):
    """What a marked answer earns: ``answers`` maps each accepted answer (``"B"``, ``"BC"``, ``"01"``)
    to its points; any other answer earns ``incorrect``, none ``unmarked``.

    >>> key = QuestionKey(answers={"B": 2, "C": 1.5}, incorrect=-1)
    >>> key.score("C"), key.max_points, key.accepts_several_marks
    (1.5, 2.0, False)
    """

    answers: dict[str, float] = Field(min_length=1)
    incorrect: float = 0.0
    unmarked: float = 0.0
    section: str = "DEFAULT"

    def score(self, marked: str) -> float:
        """The points for ``marked`` (the concatenated values read; ``""`` when nothing is marked)."""
        if marked == "":
            return self.unmarked
        return self.answers.get(marked, self.incorrect)

    @property
    def max_points(self) -> float:
        return max(self.answers.values())

    @property
    def accepts_several_marks(self) -> bool:
        """True when some accepted answer is two marks in one field (OMRChecker's ``"BC"``)."""
        return any(len(answer) > 1 for answer in self.answers)


class CropPage(_Model):
    """Find the sheet's edges (a phone photo on a table) and flatten the page (perspective)."""

    kind: Literal["crop_page"] = "crop_page"
    morph_kernel: tuple[int, int] = (10, 10)


class CropOnMarkers(_Model):
    """Find the printed marker in each corner of the page; the four centres are the page's corners.

    ``marker_png`` is the marker image (base64 PNG); ``width_ratio`` the page's width over the
    marker's (OMRChecker's ``sheetToMarkerWidthRatio``), None when the image is at page scale.
    """

    kind: Literal["crop_on_markers"] = "crop_on_markers"
    marker_png: str
    width_ratio: float | None = Field(None, gt=1)
    min_match: float = Field(0.3, ge=0, le=1)

    def marker(self) -> np.ndarray:
        return decode_png(self.marker_png, "the marker image")


class AlignToReference(_Model):
    """Align the page to a reference image of the blank sheet by matching image features (ORB).

    ``reference_png`` is that image at ``reference_scale`` pixels per template unit.
    """

    kind: Literal["align_to_reference"] = "align_to_reference"
    reference_png: str
    reference_scale: float = Field(gt=0)
    max_features: int = Field(1000, ge=50, le=20000)
    affine: bool = False  # OMRChecker's "2d": a rotation + scale + shift instead of a homography

    def reference(self) -> np.ndarray:
        return decode_png(self.reference_png, "the reference image")


class Levels(_Model):
    """Map grey ``low``..``high`` (0..1 of white) to black..white with ``gamma`` (darken light fills)."""

    kind: Literal["levels"] = "levels"
    low: float = Field(0.0, ge=0, le=1)
    high: float = Field(1.0, ge=0, le=1)
    gamma: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Levels:
        if self.low >= self.high:
            raise ValueError(f"levels low {self.low} must be below high {self.high}")
        return self


class Blur(_Model):
    """A Gaussian or median blur of ``size`` (template pixels) before the bubbles are read."""

    kind: Literal["blur"] = "blur"
    method: Literal["gaussian", "median"] = "gaussian"
    size: int = Field(3, ge=1, le=31)


Step = Annotated[CropPage | CropOnMarkers | AlignToReference | Levels | Blur, Field(discriminator="kind")]


class ForeignSheet(_Model):
    """A bubble sheet the library did not print: geometry, steps, questions, keys, identity."""

    format: Literal["foreign-sheet-1"] = "foreign-sheet-1"
    name: str = Field(min_length=1, max_length=120)
    source: str = ""
    page: tuple[float, float]
    bubble_size: tuple[float, float]
    steps: tuple[Step, ...] = ()
    fields: tuple[BubbleField, ...] = Field(min_length=1)
    questions: tuple[Question, ...] = Field(min_length=1)
    keys: dict[str, QuestionKey] = Field(default_factory=dict)
    identity: str | None = None
    empty_value: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> ForeignSheet:
        ids = [f.id for f in self.fields]
        if len(set(ids)) != len(ids):
            raise ValueError(f"field ids repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
        known = set(ids)
        for question in self.questions:
            missing = [p for p in question.parts if p not in known]
            if missing:
                raise ValueError(f"question {question.id!r} names fields that do not exist: {missing}")
        question_ids = {q.id for q in self.questions}
        unknown = sorted(set(self.keys) - question_ids)
        if unknown:
            raise ValueError(f"the answer key names questions the sheet does not have: {unknown}")
        if self.identity is not None and self.identity not in question_ids:
            raise ValueError(f"identity question {self.identity!r} is not on the sheet")
        return self

    def field(self, field_id: str) -> BubbleField:
        """The field with this id; :class:`KeyError` if there is none."""
        for item in self.fields:
            if item.id == field_id:
                return item
        raise KeyError(field_id)

    def question(self, question_id: str) -> Question:
        """The question with this id; :class:`KeyError` if there is none."""
        for item in self.questions:
            if item.id == question_id:
                return item
        raise KeyError(question_id)

    @property
    def max_score(self) -> float:
        return float(sum(k.max_points for k in self.keys.values()))


def load_foreign_sheet(data: ForeignSheet | dict | str | bytes) -> ForeignSheet:
    """A :class:`ForeignSheet` from a dict or JSON text; :class:`SpecError` naming what is wrong."""
    from pydantic import ValidationError

    if isinstance(data, ForeignSheet):
        return data
    try:
        if isinstance(data, dict):
            return ForeignSheet.model_validate(data)
        return ForeignSheet.model_validate_json(data)
    except ValidationError as exc:
        parts = [f"{'.'.join(str(p) for p in e['loc']) or 'sheet'}: {e['msg']}" for e in exc.errors()[:5]]
        raise SpecError(f"invalid foreign sheet: {'; '.join(parts)}") from exc


def encode_png(image: np.ndarray) -> str:
    """A grey image as base64 PNG text (for embedding in a :class:`ForeignSheet`)."""
    import cv2

    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise SpecError("could not encode an image as PNG")
    return base64.b64encode(buf.tobytes()).decode("ascii")


def decode_png(text: str, what: str) -> np.ndarray:
    """The grey image embedded as base64 PNG; :class:`SpecError` if it is not one."""
    import cv2

    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise SpecError(f"{what} is not base64 text: {exc}") from exc
    image = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None or image.size == 0:
        raise SpecError(f"{what} is not a PNG image")
    return image
