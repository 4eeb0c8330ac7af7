"""Paper: answer-sheet layouts, rendering, registration, OMR, OCR and grading.

A leaf package: it speaks plain data (dataclasses, numpy arrays) and never imports
``homework``, ``api`` or ``recommender``.
"""

from scanning._errors import (
    BadImageError,
    OCRBackendError,
    PageNotRegisteredError,
    ScanningError,
    SheetNotIdentifiedError,
    SpecError,
)
from scanning._grading import (
    Answer,
    Grade,
    GradingPolicy,
    ParsedNumber,
    canonical,
    grade,
    normalize_text,
    parse_number,
)
from scanning._keys import AnswerKey, ChoiceKey, NumberKey, ScoreKey, TextKey, TrueFalseKey, parse_key

__all__ = [
    "Answer",
    "AnswerKey",
    "ChoiceKey",
    "Grade",
    "GradingPolicy",
    "NumberKey",
    "ParsedNumber",
    "ScoreKey",
    "TextKey",
    "TrueFalseKey",
    "canonical",
    "grade",
    "normalize_text",
    "parse_key",
    "parse_number",
    "BadImageError",
    "OCRBackendError",
    "PageNotRegisteredError",
    "ScanningError",
    "SheetNotIdentifiedError",
    "SpecError",
]
