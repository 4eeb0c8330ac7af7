"""Import an OMRChecker sheet (``template.json``, ``config.json``, ``evaluation.json``) as a ForeignSheet.

OMRChecker (github.com/Udayraj123/OMRChecker, MIT) describes a bubble sheet in ``template.json``;
the mapping onto :class:`~scanning.ForeignSheet` is::

    template.json                          ForeignSheet
    -------------------------------------  ---------------------------------------------------
    pageDimensions [w, h]                  page (w, h): the template's units
    bubbleDimensions [w, h]                bubble_size; a block's own bubbleDimensions -> size
    fieldBlocks.<name>                     one BubbleField per label in fieldLabels ("q1..5")
      fieldType QTYPE_INT(_FROM_1)         kind "digit", values 0-9 (1-9,0), vertical
      fieldType QTYPE_MCQ4/5(_RTL)         kind "choice", values A-D / A-E (reversed), horizontal
      bubbleValues (no fieldType)          kind "custom", those values (direction default vertical)
      origin, bubblesGap, labelsGap,       each bubble's top-left corner: bubbles advance along
      direction                            the direction by bubblesGap, labels across it by labelsGap
    customLabels {"Roll": [...]}           Question "Roll" whose value concatenates those fields
    outputColumns                          the questions' order (default: natural sort of labels)
    emptyValue (sheet / block)             empty_value of the sheet / of the block's fields
    preProcessors                          steps, in order:
      CropPage {morphKernel}                 crop_page (page edges + perspective)
      CropOnMarkers {relativePath,           crop_on_markers (the marker image embedded; the four
        sheetToMarkerWidthRatio}             marker centres become the page corners)
      FeatureBasedAlignment {reference,      align_to_reference (the reference image embedded)
        maxFeatures, 2d}
      Levels {low, high, gamma}              levels
      GaussianBlur / MedianBlur {kSize}      blur
    config.json dimensions.processing_*    the scale the marker ratio and the reference refer to
    evaluation.json + answer_key.csv       keys: each question's accepted answers with points
      "B"                                    {"B": correct}
      ["B", "C", "BC"]                       each one {answer: correct}
      [["B", 2], ["C", "3/2"]]               {answer: points} (weighted)
      marking_schemes DEFAULT / sections     correct / incorrect / unmarked points per question
      answer_key_image_path (no CSV)         the key read from that filled sheet at import

An answer key given only as a filled sheet (``answer_key_image_path``, no CSV) is read with the
same reader at import; a question it does not answer clearly is refused. Not supported, refused
with :class:`~scanning.SpecError` naming the feature: other field types and preprocessors,
``alignment_params.auto_align``, evaluation ``source_type`` other than csv/custom.
Display options (``outputs``, ``display_*``) and OMRChecker's threshold tuning
(``threshold_params``) are ignored: this library reads bubbles its own way.

>>> parse_labels(["q1..3", "roll"])
['q1', 'q2', 'q3', 'roll']
"""

from __future__ import annotations

import csv
import json
import logging
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from scanning._errors import ScanningError, SpecError
from scanning._foreign import (
    AlignToReference,
    Blur,
    CropOnMarkers,
    CropPage,
    ForeignSheet,
    Levels,
    QuestionKey,
    encode_png,
    load_foreign_sheet,
)

logger = logging.getLogger(__name__)

FIELD_TYPES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "QTYPE_INT": ("digit", tuple("0123456789"), "vertical"),
    "QTYPE_INT_FROM_1": ("digit", tuple("1234567890"), "vertical"),
    "QTYPE_MCQ4": ("choice", tuple("ABCD"), "horizontal"),
    "QTYPE_MCQ5": ("choice", tuple("ABCDE"), "horizontal"),
    "QTYPE_MCQ4_RTL": ("choice", tuple("DCBA"), "horizontal"),
    "QTYPE_MCQ5_RTL": ("choice", tuple("EDCBA"), "horizontal"),
}
"""OMRChecker's built-in field types: our kind, the bubbles' values in order, default direction."""

DEFAULT_PROCESSING = (666, 820)
"""OMRChecker's default ``processing_width``/``processing_height``."""

REFERENCE_LONG_SIDE = 1400
"""Longest side (pixels) a feature-alignment reference image is stored at."""

IDENTITY_NAMES = ("roll", "rollno", "roll_no", "student", "studentid", "student_id", "学号", "考号", "准考证号")

_RANGE = re.compile(r"^([^.\d]+)(\d+)\.{2,3}(\d+)$")
_TEMPLATE_KEYS = {
    "pageDimensions", "bubbleDimensions", "fieldBlocks", "customLabels", "outputColumns",
    "preProcessors", "emptyValue", "options",
}
_BLOCK_KEYS = {
    "fieldType", "fieldLabels", "bubbleValues", "direction", "origin", "bubblesGap", "labelsGap",
    "bubbleDimensions", "emptyValue",
}


def parse_labels(strings: Any, where: str = "fieldLabels") -> list[str]:
    """OMRChecker's field strings expanded: ``"q1..5"`` -> q1..q5; anything else as is."""
    if not isinstance(strings, list) or not all(isinstance(s, str) and s for s in strings):
        raise SpecError(f"{where}: a list of non-empty strings is expected, got {strings!r}")
    labels: list[str] = []
    for text in strings:
        match = _RANGE.match(text)
        if match is None:
            if "." in text:
                raise SpecError(f"{where}: {text!r} is not a label or a range like 'q1..10'")
            labels.append(text)
            continue
        prefix, start, end = match.group(1), int(match.group(2)), int(match.group(3))
        if start >= end:
            raise SpecError(f"{where}: range {text!r} must count up (start {start} < end {end})")
        labels.extend(f"{prefix}{n}" for n in range(start, end + 1))
    return labels


def import_omrchecker(directory: str | Path, *, template: str = "template.json", identity: str | None = None,
                      name: str | None = None) -> ForeignSheet:
    """Read an OMRChecker sample folder into a :class:`~scanning.ForeignSheet`.

    ``directory`` holds ``template`` and optionally ``config.json``, ``evaluation.json`` (with its
    CSV) and the images they name; a ``config.json`` or ``evaluation.json`` missing from it is
    looked for in the parent folders, as OMRChecker does. ``identity`` names the question that
    holds the student number (default: one called Roll, student id, 学号...; else none).
    """
    folder = Path(directory)
    template_data = _read_json(folder / template, required=True)
    config = _read_json(_inherited(folder, "config.json"), required=False)
    evaluation_path = _inherited(folder, "evaluation.json")
    evaluation = _read_json(evaluation_path, required=False)
    processing = _processing_size(config)
    sheet = _template(template_data, folder, processing)
    if evaluation:
        sheet["keys"] = _keys(evaluation, evaluation_path.parent, sheet)
    sheet["identity"] = _identity(identity, sheet["questions"])
    sheet["name"] = name or folder.name
    sheet["source"] = f"OMRChecker template {folder / template}"
    return load_foreign_sheet(sheet)


def _inherited(folder: Path, filename: str) -> Path:
    for candidate in (folder, *folder.parents):
        if (candidate / filename).is_file():
            return candidate / filename
        if (candidate / "template.json").is_file() and candidate != folder:
            break  # another sample's root: its settings are not ours
    return folder / filename


def _read_json(path: Path, *, required: bool) -> dict[str, Any]:
    if not path.is_file():
        if required:
            raise SpecError(f"{path} does not exist (an OMRChecker folder needs a template.json)")
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SpecError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise SpecError(f"{path}: a JSON object is expected")
    return data


def _processing_size(config: dict[str, Any]) -> tuple[int, int]:
    auto_align = (config.get("alignment_params") or {}).get("auto_align", False)
    if auto_align:
        raise SpecError("config.json alignment_params.auto_align is not supported (OMRChecker's column "
                        "shift search); use CropOnMarkers or FeatureBasedAlignment instead")
    dims = config.get("dimensions") or {}
    return (int(dims.get("processing_width", DEFAULT_PROCESSING[0])),
            int(dims.get("processing_height", DEFAULT_PROCESSING[1])))


def _pair(value: Any, where: str) -> tuple[float, float]:
    if (not isinstance(value, list | tuple) or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
        raise SpecError(f"{where}: two numbers [width, height] are expected, got {value!r}")
    return float(value[0]), float(value[1])


def _template(data: dict[str, Any], folder: Path, processing: tuple[int, int]) -> dict[str, Any]:
    unknown = sorted(set(data) - _TEMPLATE_KEYS)
    if unknown:
        raise SpecError(f"template.json: {unknown} not supported (known: {sorted(_TEMPLATE_KEYS)})")
    page = _pair(data.get("pageDimensions"), "template.json pageDimensions")
    bubble = _pair(data.get("bubbleDimensions"), "template.json bubbleDimensions")
    empty = str(data.get("emptyValue", ""))
    blocks = data.get("fieldBlocks")
    if not isinstance(blocks, dict) or not blocks:
        raise SpecError("template.json fieldBlocks: at least one field block is expected")
    fields: list[dict[str, Any]] = []
    for block_name, block in blocks.items():
        fields.extend(_block(block_name, block, bubble, page))
    ids = [f["id"] for f in fields]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise SpecError(f"template.json fieldBlocks: labels {repeated} are used by more than one block")
    questions = _questions(data, ids)
    steps = [_step(p, folder, page, processing) for p in data.get("preProcessors") or []]
    return {"page": page, "bubble_size": bubble, "fields": fields, "questions": questions,
            "steps": steps, "empty_value": empty}


def _block(name: str, block: Any, bubble: tuple[float, float], page: tuple[float, float]) -> list[dict[str, Any]]:
    where = f"template.json fieldBlocks.{name}"
    if not isinstance(block, dict):
        raise SpecError(f"{where}: an object is expected")
    unknown = sorted(set(block) - _BLOCK_KEYS)
    if unknown:
        raise SpecError(f"{where}: {unknown} not supported")
    kind, values, direction = _block_type(block, where)
    direction = block.get("direction", direction)
    if direction not in ("vertical", "horizontal"):
        raise SpecError(f"{where}.direction: 'vertical' or 'horizontal', not {direction!r}")
    origin = _pair(block.get("origin"), f"{where}.origin")
    size = _pair(block["bubbleDimensions"], f"{where}.bubbleDimensions") if "bubbleDimensions" in block else None
    bubbles_gap, labels_gap = (float(block.get(k, 0)) for k in ("bubblesGap", "labelsGap"))
    labels = parse_labels(block.get("fieldLabels"), f"{where}.fieldLabels")
    along, across = (1, 0) if direction == "vertical" else (0, 1)
    fields = []
    for index, label in enumerate(labels):
        boxes = []
        for position, value in enumerate(values):
            point = list(origin)
            point[along] += position * bubbles_gap
            point[across] += index * labels_gap
            boxes.append({"x": point[0], "y": point[1], "value": value})
        fields.append({"id": label, "kind": kind, "block": name, "bubbles": boxes, "size": size,
                       "empty_value": None if "emptyValue" not in block else str(block["emptyValue"])})
    _check_inside(fields, size or bubble, page, where)
    return fields


def _block_type(block: dict[str, Any], where: str) -> tuple[str, tuple[str, ...], str]:
    field_type = block.get("fieldType")
    if field_type is not None:
        if field_type not in FIELD_TYPES:
            raise SpecError(f"{where}.fieldType {field_type!r} is not supported (known: {sorted(FIELD_TYPES)})")
        kind, values, direction = FIELD_TYPES[field_type]
        if "bubbleValues" in block:
            values = tuple(str(v) for v in block["bubbleValues"])
        return kind, values, direction
    values_raw = block.get("bubbleValues")
    if not isinstance(values_raw, list) or not values_raw:
        raise SpecError(f"{where}: a block without fieldType needs bubbleValues")
    return "custom", tuple(str(v) for v in values_raw), "vertical"


def _check_inside(fields: list[dict[str, Any]], size: tuple[float, float], page: tuple[float, float],
                  where: str) -> None:
    for field in fields:
        for box in field["bubbles"]:
            if box["x"] < 0 or box["y"] < 0 or box["x"] + size[0] > page[0] or box["y"] + size[1] > page[1]:
                raise SpecError(f"{where}: bubble {field['id']}={box['value']} at ({box['x']:g}, {box['y']:g}) "
                                f"lies outside the page {page[0]:g}x{page[1]:g}")


def _questions(data: dict[str, Any], field_ids: list[str]) -> list[dict[str, Any]]:
    custom = data.get("customLabels") or {}
    if not isinstance(custom, dict):
        raise SpecError("template.json customLabels: an object is expected")
    used: set[str] = set()
    questions: dict[str, list[str]] = {}
    for label, parts_raw in custom.items():
        parts = parse_labels(parts_raw, f"template.json customLabels.{label}")
        missing = [p for p in parts if p not in field_ids]
        if missing:
            raise SpecError(f"template.json customLabels.{label}: no field block has {missing}")
        if used & set(parts):
            raise SpecError(f"template.json customLabels.{label}: {sorted(used & set(parts))} are in another label")
        used.update(parts)
        questions[label] = parts
    for field_id in field_ids:
        if field_id not in used:
            questions[field_id] = [field_id]
    order = _column_order(data.get("outputColumns") or [], list(questions))
    return [{"id": q, "parts": questions[q]} for q in order]


def _column_order(columns: list[str], labels: list[str]) -> list[str]:
    if not columns:
        return sorted(labels, key=_natural)
    order = parse_labels(columns, "template.json outputColumns")
    missing = [c for c in order if c not in labels]
    if missing:
        raise SpecError(f"template.json outputColumns: {missing} are not labels of the sheet")
    return order + [label for label in sorted(labels, key=_natural) if label not in order]


def _natural(label: str) -> tuple[str, int]:
    match = re.match(r"([^\d]+)(\d*)", label)
    if match is None:
        return label, 0
    return match.group(1), int(match.group(2) or 0)


def _step(processor: Any, folder: Path, page: tuple[float, float], processing: tuple[int, int]) -> Any:
    if not isinstance(processor, dict) or "name" not in processor:
        raise SpecError(f"template.json preProcessors: {{'name': ..., 'options': ...}} expected, got {processor!r}")
    name, options = processor["name"], processor.get("options") or {}
    if name == "CropPage":
        kernel = options.get("morphKernel", [10, 10])
        return CropPage(morph_kernel=(int(kernel[0]), int(kernel[1])))
    if name == "CropOnMarkers":
        return _markers(options, folder)
    if name == "FeatureBasedAlignment":
        return _reference(options, folder, page, processing)
    if name == "Levels":
        return Levels(low=float(options.get("low", 0)), high=float(options.get("high", 1)),
                      gamma=float(options.get("gamma", 1.0)))
    if name in ("GaussianBlur", "MedianBlur"):
        size = options.get("kSize", [3, 3] if name == "GaussianBlur" else 5)
        size = int(size[0] if isinstance(size, list) else size)
        return Blur(method="gaussian" if name == "GaussianBlur" else "median", size=size)
    raise SpecError(f"template.json preProcessors: {name!r} is not supported "
                    "(supported: CropPage, CropOnMarkers, FeatureBasedAlignment, Levels, GaussianBlur, MedianBlur)")


def _image(path: Path, what: str) -> Any:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) if path.is_file() else None
    if image is None:
        raise SpecError(f"{what} {path} is missing or not an image")
    return image


def _markers(options: dict[str, Any], folder: Path) -> CropOnMarkers:
    marker = _image(folder / options.get("relativePath", "omr_marker.jpg"), "CropOnMarkers marker image")
    ratio = options.get("sheetToMarkerWidthRatio")
    return CropOnMarkers(marker_png=encode_png(marker), width_ratio=None if ratio is None else float(ratio),
                         min_match=float(options.get("min_matching_threshold", 0.3)))


def _reference(options: dict[str, Any], folder: Path, page: tuple[float, float],
               processing: tuple[int, int]) -> AlignToReference:
    import cv2

    if "reference" not in options:
        raise SpecError("FeatureBasedAlignment: options.reference (the blank sheet's image) is required")
    image = _image(folder / options["reference"], "FeatureBasedAlignment reference")
    scale = REFERENCE_LONG_SIDE / max(page)
    size = (max(1, round(page[0] * scale)), max(1, round(page[1] * scale)))
    resized = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return AlignToReference(reference_png=encode_png(resized), reference_scale=scale,
                            max_features=int(options.get("maxFeatures", 1000)), affine=bool(options.get("2d", False)))


def _identity(identity: str | None, questions: list[dict[str, Any]]) -> str | None:
    ids = [q["id"] for q in questions]
    if identity is not None:
        if identity not in ids:
            raise SpecError(f"identity {identity!r} is not a label of the sheet (labels: {ids[:20]})")
        return identity
    for question_id in ids:
        if question_id.lower().replace(" ", "") in IDENTITY_NAMES:
            return question_id
    return None


# -- evaluation.json ------------------------------------------------------------------------------


def _keys(evaluation: dict[str, Any], folder: Path, sheet: dict[str, Any]) -> dict[str, Any]:
    questions, answers = _answer_list(evaluation, folder, sheet)
    known = {q["id"] for q in sheet["questions"]}
    missing = [q for q in questions if q not in known]
    if missing:
        raise SpecError(f"evaluation.json: questions {missing} are not labels of the sheet")
    schemes = _schemes(evaluation.get("marking_schemes") or {}, known)
    keys = {}
    for question, answer in zip(questions, answers, strict=True):
        section, marking = schemes.get(question, schemes["DEFAULT"])
        keys[question] = QuestionKey(answers=_accepted(question, answer, marking["correct"]),
                                     incorrect=marking["incorrect"], unmarked=marking["unmarked"], section=section)
    return keys


def _answer_list(evaluation: dict[str, Any], folder: Path, sheet: dict[str, Any]) -> tuple[list[str], list[Any]]:
    source = evaluation.get("source_type", "custom")
    options = evaluation.get("options") or {}
    if source == "csv":
        path = folder / str(options.get("answer_key_csv_path", "answer_key.csv"))
        if path.is_file():
            return _csv_answers(path)
        if "answer_key_image_path" in options:
            return _image_answers(folder / str(options["answer_key_image_path"]), options, sheet)
        raise SpecError(f"evaluation.json: answer key CSV {path} does not exist")
    if source != "custom":
        raise SpecError(f"evaluation.json source_type {source!r} is not supported (csv or custom)")
    questions = parse_labels(options.get("questions_in_order"), "evaluation.json questions_in_order")
    answers = options.get("answers_in_order")
    if not isinstance(answers, list) or len(answers) != len(questions):
        raise SpecError(f"evaluation.json: {len(questions)} questions but "
                        f"{len(answers) if isinstance(answers, list) else 'no'} answers_in_order")
    return questions, answers


def _image_answers(path: Path, options: dict[str, Any], sheet: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """The key read from a filled sheet (``answer_key_image_path``): every question in
    ``questions_in_order`` (default: every question marked on it) must be marked clearly."""
    from scanning._foreign_read import read_foreign_page

    image = _image(path, "evaluation.json answer_key_image_path")
    blank = load_foreign_sheet({**sheet, "name": "answer key", "keys": {}, "identity": None})
    try:
        reading = read_foreign_page(blank, image)
    except ScanningError as exc:
        raise SpecError(f"the answer key sheet {path.name} could not be read: {exc}") from exc
    if "questions_in_order" in options:
        questions = parse_labels(options["questions_in_order"], "evaluation.json questions_in_order")
    else:
        questions = [a.field_id for a in reading.answers if a.status == "ok"]
    unclear = [q for q in questions if q not in {a.field_id for a in reading.answers}
               or reading.answer(q).status != "ok" or not reading.answer(q).value]
    if not questions or unclear:
        raise SpecError(f"the answer key sheet {path.name} has no clear answer for {unclear[:10] or 'any question'}"
                        f"{' ...' if len(unclear) > 10 else ''}; give the key as answer_key.csv")
    return questions, [reading.answer(q).value for q in questions]


def _csv_answers(path: Path) -> tuple[list[str], list[Any]]:
    import ast

    questions, answers = [], []
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle, skipinitialspace=True), start=1):
            if not row or not row[0].strip():
                continue
            if len(row) < 2:
                raise SpecError(f"{path} row {number}: 'question,answer' expected, got {row!r}")
            text = ",".join(row[1:]).strip()
            try:
                answer: Any = ast.literal_eval(text) if text.startswith("[") else (
                    [a.strip() for a in text.split(",")] if "," in text else text)
            except (ValueError, SyntaxError) as exc:
                raise SpecError(f"{path} row {number}: cannot read answer {text!r}: {exc}") from exc
            questions.append(row[0].strip())
            answers.append(answer)
    return questions, answers


def _points(value: Any, where: str) -> float:
    try:
        return float(Fraction(value)) if isinstance(value, str) else float(value)
    except (ValueError, TypeError, ZeroDivisionError) as exc:
        raise SpecError(f"{where}: {value!r} is not a number or fraction like '3/2'") from exc


def _schemes(schemes: dict[str, Any], known: set[str]) -> dict[str, tuple[str, dict[str, float]]]:
    if "DEFAULT" not in schemes:
        schemes = {**schemes, "DEFAULT": {"correct": 1, "incorrect": 0, "unmarked": 0}}
    result: dict[str, tuple[str, dict[str, float]]] = {}
    for section, scheme in schemes.items():
        marking = scheme if section == "DEFAULT" else scheme.get("marking", {})
        parsed = {v: _points(marking.get(v, 0), f"marking_schemes.{section}.{v}")
                  for v in ("correct", "incorrect", "unmarked")}
        if parsed["incorrect"] > 0 and not section.startswith("BONUS"):
            logger.warning("marking scheme %s gives points for a wrong answer", section)
        if section == "DEFAULT":
            result["DEFAULT"] = (section, parsed)
            continue
        for question in parse_labels(scheme.get("questions"), f"marking_schemes.{section}.questions"):
            if question in result:
                raise SpecError(f"marking_schemes: {question} is in two sections")
            result[question] = (section, parsed)
    return result


def _accepted(question: str, answer: Any, correct: float) -> dict[str, float]:
    where = f"evaluation.json answer of {question}"
    if isinstance(answer, str) and answer:
        return {answer: correct}
    if isinstance(answer, list) and answer and all(isinstance(a, list) and len(a) == 2 for a in answer):
        return {str(a): _points(p, where) for a, p in answer}
    if isinstance(answer, list) and len(answer) >= 2 and all(isinstance(a, str) and a for a in answer):
        return dict.fromkeys(answer, correct)
    raise SpecError(f"{where}: {answer!r} is not an answer ('B'), a list of answers (['B', 'C', 'BC']) "
                    "or weighted answers ([['B', 2], ['C', '3/2']])")
