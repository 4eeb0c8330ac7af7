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

__all__ = [
    "BadImageError",
    "OCRBackendError",
    "PageNotRegisteredError",
    "ScanningError",
    "SheetNotIdentifiedError",
    "SpecError",
]
