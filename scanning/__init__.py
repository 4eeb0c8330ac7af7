"""Paper: answer-sheet layouts, rendering, registration, OMR, OCR and grading.

A leaf package: it speaks plain data (dataclasses, numpy arrays) and never imports
``homework``, ``api`` or ``recommender``.
"""

from scanning._align import AlignedPage, align_page, find_page_quad
from scanning._damage import Degradation, degrade, phone, scanner
from scanning._errors import (
    BadImageError,
    BlankPageError,
    OCRBackendError,
    PageNotRegisteredError,
    ScanningError,
    SheetNotIdentifiedError,
    SpecError,
)
from scanning._foreign import ForeignSheet, QuestionKey, load_foreign_sheet
from scanning._foreign_read import ForeignReading, load_foreign_image, read_foreign_page
from scanning._geometry import (
    ARUCO_DICTIONARY,
    MARKER_IDS,
    PAPER_SIZES_MM,
    Bubble,
    Marker,
    PageLayout,
    Rect,
    Text,
    WritingBox,
    marker_layout,
    qr_rect,
    time_halves,
)
from scanning._grading import (
    Answer,
    Grade,
    GradingPolicy,
    ParsedNumber,
    canonical,
    grade,
    key_spellings,
    normalize_text,
    parse_number,
)
from scanning._ink import InkCrop, StackedFraction, find_ink, split_stacked_fraction
from scanning._keys import (
    AnswerKey,
    ChoiceKey,
    ExpressionKey,
    NumberKey,
    ScoreKey,
    TextKey,
    TrueFalseKey,
    parse_key,
)
from scanning._layout import layout_pages, student_pages
from scanning._load import MAX_PIXELS, PageImage, SourceRef, count_pages, iter_pages, load_pages
from scanning._ocr import (
    DIGITS,
    NUMERIC,
    OCRBackend,
    TextReading,
    charset_for,
    get_backend,
    read_answer,
)
from scanning._omr import BubbleFill, FieldReading, read_field
from scanning._omrchecker import import_omrchecker
from scanning._pencil import DigitBank, HandStyle
from scanning._qr import QRPayload, decode_payload, encode_payload, layout_checksum, page_payload
from scanning._read import PageFailure, PageReading, PageResult, SheetReader, read_file, read_page
from scanning._register import Registration, detect_markers, register
from scanning._render import PixelGeometry, rasterize, render_page_images, render_pdf, render_png
from scanning._spec import (
    GridIn,
    Handwriting,
    Minutes,
    MultipleChoice,
    Score,
    SheetField,
    SheetSpec,
    SingleChoice,
    StartTime,
    Student,
    TrueFalse,
    load_spec,
)
from scanning._synth import FieldCheck, FieldFill, SynthPage, check_page, fill_page, generate_set, read_truth
from scanning._text import register_fonts, text_runs, text_width

__all__ = [
    # sheets: spec, layout, QR payload (scanning/_spec.py, _layout.py, _geometry.py, _qr.py)
    "ARUCO_DICTIONARY",
    "MARKER_IDS",
    "PAPER_SIZES_MM",
    "Bubble",
    "GridIn",
    "Handwriting",
    "Marker",
    "Minutes",
    "StartTime",
    "MultipleChoice",
    "PageLayout",
    "QRPayload",
    "Rect",
    "Score",
    "SheetField",
    "SheetSpec",
    "SingleChoice",
    "Student",
    "Text",
    "TrueFalse",
    "WritingBox",
    "decode_payload",
    "encode_payload",
    "layout_checksum",
    "layout_pages",
    "load_spec",
    "marker_layout",
    "page_payload",
    "qr_rect",
    "time_halves",
    "student_pages",
    # reading scans: loading and registration (scanning/_load.py, _register.py)
    "MAX_PIXELS",
    "PageImage",
    "Registration",
    "SourceRef",
    "detect_markers",
    "count_pages",
    "iter_pages",
    "load_pages",
    "register",
    # reading scans: OMR and the page pipeline (scanning/_omr.py, _read.py)
    "BubbleFill",
    "FieldReading",
    "PageFailure",
    "PageReading",
    "PageResult",
    "SheetReader",
    "read_field",
    "read_file",
    "read_page",
    # sheets this library did not print: OMRChecker import, registration, reading
    # (scanning/_foreign.py, _omrchecker.py, _align.py, _foreign_read.py)
    "AlignedPage",
    "ForeignReading",
    "ForeignSheet",
    "QuestionKey",
    "align_page",
    "find_page_quad",
    "import_omrchecker",
    "load_foreign_image",
    "load_foreign_sheet",
    "read_foreign_page",
    # rendering (scanning/_render.py)
    "PixelGeometry",
    "rasterize",
    "render_page_images",
    "render_pdf",
    "render_png",
    # the sheets' embedded fonts, for other printed documents (scanning/_text.py)
    "register_fonts",
    "text_runs",
    "text_width",
    # answer keys and grading (scanning/_keys.py, _grading.py)
    "Answer",
    "AnswerKey",
    "ChoiceKey",
    "ExpressionKey",
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
    "key_spellings",
    # handwriting: crop to ink, OCR backends, reading an answer (scanning/_ink.py, _ocr*.py)
    "DIGITS",
    "InkCrop",
    "NUMERIC",
    "OCRBackend",
    "StackedFraction",
    "TextReading",
    "charset_for",
    "find_ink",
    "get_backend",
    "read_answer",
    "split_stacked_fraction",
    # filled, damaged test pages with ground truth (scanning/_synth.py, _pencil.py, _damage.py)
    "Degradation",
    "DigitBank",
    "FieldCheck",
    "FieldFill",
    "HandStyle",
    "SynthPage",
    "check_page",
    "degrade",
    "fill_page",
    "generate_set",
    "phone",
    "read_truth",
    "scanner",
    "BadImageError",
    "BlankPageError",
    "OCRBackendError",
    "PageNotRegisteredError",
    "ScanningError",
    "SheetNotIdentifiedError",
    "SpecError",
]
