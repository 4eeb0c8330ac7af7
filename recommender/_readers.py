"""Readers that turn the formats real users bring into a response log (see :mod:`recommender._log`).

* :func:`read_akt` - the AKT/DKT line format (3 or 4 lines per student, inferred);
* :func:`read_assistments_csv` - the original ASSISTments skill-builder CSV columns;
* :func:`read_datashop` - CMU DataShop transaction or student-step exports (timestamps, durations);
* :func:`read_exam_matrix` - a students x items score matrix with an expert Q-matrix (math2015).

Every reader raises :class:`~recommender.DataFormatError` naming the file, the line and the field.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Hashable
from pathlib import Path

import numpy as np
import pandas as pd

from recommender._errors import DataFormatError
from recommender._log import merge_multi_skill_rows

logger = logging.getLogger(__name__)

_AKT4_FIELDS = ("header", "problem ids", "skill ids", "correct")
_AKT3_FIELDS = ("header", "skill ids", "correct")


def read_akt(path: str | Path, *, merge: bool = True) -> pd.DataFrame:
    """Read one file of the AKT/DKT line format into a response log.

    4 lines per student (``user index,user id`` or ``n`` / problem ids / skill ids / correct) or 3 lines (``n`` /
    skill ids / correct; the skill is then also the item); which one is inferred from the file.
    With ``merge`` (the default), consecutive copies of one multi-skill item become one response.

    >>> log = read_akt(FIXTURES / "kt" / "assist2009_pid_sample.csv")
    >>> log.columns.tolist()
    ['student_id', 'item_id', 'skill_ids', 'correct']
    >>> log.iloc[0].to_dict()
    {'student_id': '89171', 'item_id': 8340, 'skill_ids': (54, 45), 'correct': 1.0}
    """
    path = Path(path)
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    per_student = _infer_lines_per_student(lines, path)
    frames = [
        _akt_block(lines, start, per_student, path) for start in range(0, len(lines), per_student)
    ]
    log = pd.concat(frames, ignore_index=True) if frames else _empty_log()
    log["correct"] = log["correct"].astype(float)
    return merge_multi_skill_rows(log) if merge and per_student == 4 else log


def _empty_log() -> pd.DataFrame:
    return pd.DataFrame({"student_id": [], "item_id": [], "skill_ids": [], "correct": []})


def _infer_lines_per_student(lines: list[str], path: Path) -> int:
    """4 if the first student reads as 4 consistent lines, else 3 if as 3; errors then name that layout."""
    errors = []
    for per_student in (4, 3):
        try:
            _akt_block(lines, 0, per_student, path)
            return per_student
        except DataFormatError as exc:
            errors.append(exc)
    raise max(errors, key=lambda e: getattr(e, "line", 0) or 0)


def _int_fields(text: str, path: Path, line: int, field: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v != ""]
    except ValueError as exc:
        err = DataFormatError(f"{path}: line {line}, field {field!r}: not a list of integers ({exc})")
        err.line = line  # type: ignore[attr-defined]
        raise err from exc


def _akt_block(lines: list[str], start: int, per_student: int, path: Path) -> pd.DataFrame:
    fields = _AKT4_FIELDS if per_student == 4 else _AKT3_FIELDS
    if start + per_student > len(lines):
        err = DataFormatError(f"{path}: line {len(lines)}, field {fields[len(lines) - start]!r}: file ends mid-student")
        err.line = len(lines)  # type: ignore[attr-defined]
        raise err
    header = _int_fields(lines[start], path, start + 1, "header")
    if len(header) not in (1, 2) or header[0] < 0:
        err = DataFormatError(f"{path}: line {start + 1}, field 'header': expected 'n' or 'user index,user id'")
        err.line = start + 1  # type: ignore[attr-defined]
        raise err
    # "n" gives the length; "user index,user id" leaves it to the first sequence line.
    n = header[0] if len(header) == 1 else None
    columns = {}
    for k, name in enumerate(fields[1:], start=1):
        values = _int_fields(lines[start + k], path, start + k + 1, name)
        n = len(values) if n is None else n
        if len(values) != n:
            err = DataFormatError(
                f"{path}: line {start + k + 1}, field {name!r}: {len(values)} values, expected {n}"
            )
            err.line = start + k + 1  # type: ignore[attr-defined]
            raise err
        columns[name] = values
    correct = np.asarray(columns["correct"])
    if ((correct != 0) & (correct != 1)).any():
        err = DataFormatError(f"{path}: line {start + per_student}, field 'correct': values must be 0 or 1")
        err.line = start + per_student  # type: ignore[attr-defined]
        raise err
    student = str(header[1]) if len(header) == 2 else f"{path.stem}:{start // per_student}"
    skills = columns["skill ids"]
    return pd.DataFrame(
        {
            "student_id": [student] * len(correct),
            "item_id": columns.get("problem ids", skills),
            "skill_ids": [(s,) for s in skills],
            "correct": correct,
        }
    )


def read_akt_folds(directory: str | Path) -> list[pd.DataFrame]:
    """Read the five student folds (files ending ``test1.csv`` ... ``test5.csv``) of an AKT folder."""
    directory = Path(directory)
    files = sorted(directory.glob("*test[0-9].csv"))
    if not files:
        raise DataFormatError(f"{directory}: no files ending test1.csv ... test5.csv")
    return [read_akt(f) for f in files]


def read_assistments_csv(path: str | Path, *, missing_skill: Hashable | None = None) -> pd.DataFrame:
    """Read the original ASSISTments skill-builder CSV (``user_id, problem_id, skill_id, correct, order_id``).

    Rows sharing an ``order_id`` are one response tagged with several skills and become one row.
    ``ms_first_response`` (if present) becomes ``duration_s``. A blank ``skill_id`` is an error unless
    ``missing_skill`` names a placeholder skill.

    >>> log = read_assistments_csv(FIXTURES / "kt" / "assistments_skill_builder_sample.csv")
    >>> log.iloc[0][["student_id", "item_id", "skill_ids", "correct"]].to_dict()
    {'student_id': '89171', 'item_id': '85328', 'skill_ids': ('54', '45'), 'correct': 1.0}
    """
    path = Path(path)
    required = ("order_id", "user_id", "problem_id", "skill_id", "correct")
    rows: list[tuple[int, str, str, str, float, float]] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise DataFormatError(f"{path}: line 1, field(s) {missing}: required column(s) missing")
        for line_no, rec in enumerate(reader, start=2):
            rows.append(_assistments_row(rec, path, line_no, missing_skill))
    frame = pd.DataFrame(rows, columns=["order_id", "student_id", "item_id", "skill", "correct", "duration_s"])
    frame["rank"] = pd.factorize(frame["student_id"])[0]  # students in file order, each by order_id
    frame = frame.sort_values(["rank", "order_id"], kind="stable")
    grouped = frame.groupby(["student_id", "order_id"], sort=False)
    log = grouped.agg(
        item_id=("item_id", "first"),
        skill_ids=("skill", lambda s: tuple(dict.fromkeys(s))),
        correct=("correct", "first"),
        duration_s=("duration_s", "first"),
    ).reset_index()
    log = log.drop(columns="order_id")[["student_id", "item_id", "skill_ids", "correct", "duration_s"]]
    return log.reset_index(drop=True)


def _assistments_row(
    rec: dict[str, str], path: Path, line: int, missing_skill: Hashable | None
) -> tuple[int, str, str, str, float, float]:
    def field(name: str) -> str:
        value = (rec.get(name) or "").strip()
        if not value:
            raise DataFormatError(f"{path}: line {line}, field {name!r}: empty")
        return value

    try:
        order_id = int(field("order_id"))
    except ValueError as exc:
        raise DataFormatError(f"{path}: line {line}, field 'order_id': {rec['order_id']!r} is not an integer") from exc
    correct_text = field("correct")
    try:
        correct = float(correct_text)
    except ValueError:
        correct = -1.0
    if not 0 <= correct <= 1:
        raise DataFormatError(f"{path}: line {line}, field 'correct': {correct_text!r} is not in [0, 1]")
    skill = (rec.get("skill_id") or "").strip()
    if not skill:
        if missing_skill is None:
            raise DataFormatError(f"{path}: line {line}, field 'skill_id': empty (pass missing_skill= to keep it)")
        skill = str(missing_skill)
    ms = (rec.get("ms_first_response") or "").strip()
    duration = float(ms) / 1000.0 if ms.lstrip("-").replace(".", "", 1).isdigit() else float("nan")
    return order_id, field("user_id"), field("problem_id"), skill, correct, duration


def read_exam_matrix(directory: str | Path, *, scores: str = "data.txt") -> pd.DataFrame:
    """Read an exam folder in the math2015 layout: ``data.txt`` (students x items, scores in [0, 1],
    whitespace separated) and ``q.txt`` (items x skills, 0/1 expert Q-matrix); ``qnames.txt`` (optional)
    names the skills. Each student's responses are in item order.

    >>> log = read_exam_matrix(FIXTURES / "kt" / "frcsub_sample")
    >>> len(log), log.iloc[0]["skill_ids"]
    (1600, ('Find a common denominator', 'Column borrow to subtract the second numerator from the first', 'Subtract numerators'))
    """
    directory = Path(directory)
    q = _numeric_table(directory / "q.txt")
    data = _numeric_table(directory / scores)
    if data.shape[1] != q.shape[0]:
        raise DataFormatError(f"{directory / scores}: line 1, field 'items': {data.shape[1]} columns but "
                              f"q.txt has {q.shape[0]} items")
    bad = np.argwhere((q != 0) & (q != 1))
    if bad.size:
        r, c = bad[0]
        raise DataFormatError(f"{directory / 'q.txt'}: line {r + 1}, field 'skill {c + 1}': not 0 or 1")
    no_skill = np.flatnonzero(q.sum(axis=1) == 0)
    if no_skill.size:
        raise DataFormatError(f"{directory / 'q.txt'}: line {no_skill[0] + 1}, field 'skills': item has no skill")
    bad = np.argwhere(~((data >= 0) & (data <= 1)))
    if bad.size:
        r, c = bad[0]
        raise DataFormatError(f"{directory / scores}: line {r + 1}, field 'item {c + 1}': {data[r, c]} is not in [0, 1]")
    names = _skill_names(directory / "qnames.txt", q.shape[1])
    item_skills = [tuple(names[k] for k in np.flatnonzero(row)) for row in q]
    n_students, n_items = data.shape
    return pd.DataFrame({
        "student_id": np.repeat(np.arange(n_students), n_items),
        "item_id": np.tile(np.arange(1, n_items + 1), n_students),
        "skill_ids": item_skills * n_students,
        "correct": data.ravel().astype(float),
    })


def _numeric_table(path: Path) -> np.ndarray:
    if not path.exists():
        raise DataFormatError(f"{path}: line 0, field 'file': missing")
    rows = []
    width = None
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        try:
            rows.append([float(v) for v in fields])
        except ValueError as exc:
            raise DataFormatError(f"{path}: line {line_no}, field 'value': {exc}") from exc
        if width is not None and len(fields) != width:
            raise DataFormatError(f"{path}: line {line_no}, field 'columns': {len(fields)} values, expected {width}")
        width = len(fields)
    return np.array(rows)


def _skill_names(path: Path, n: int) -> list[Hashable]:
    """Names from ``qnames.txt`` (``No.<tab>Skill Names`` header), else the 1-based skill numbers."""
    if not path.exists():
        return list(range(1, n + 1))
    names: list[Hashable] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]:
        parts = line.split("\t", 1)
        if len(parts) == 2 and parts[0].strip().isdigit():
            names.append(parts[1].strip().rstrip(",").strip())
    return names if len(names) == n else list(range(1, n + 1))


def read_datashop(path: str | Path, *, kc_model: str | None = None) -> pd.DataFrame:
    """Read a CMU DataShop export (transaction or student-step, tab-separated) into a response log.

    One response per student step: its first attempt (``Attempt At Step`` 1 of a transaction export,
    or ``First Attempt`` of a student-step export); a hint counts as incorrect. The item is
    ``Problem Name`` + ``Step Name``; skills come from the ``KC (kc_model)`` column(s) (default: the
    first KC model; ``~~`` separates several); ``Time``/``Step Start Time`` and ``Duration (sec)``/
    ``Step Duration (sec)`` become ``timestamp`` and ``duration_s``. Steps without a KC get the skill
    ``"<no KC>"``.

    >>> log = read_datashop(FIXTURES / "kt" / "datashop_ds76_tx_sample.txt", kc_model="Original")
    >>> row = log.iloc[1]
    >>> row["item_id"], row["skill_ids"], float(row["correct"]), float(row["duration_s"])
    ('RECTANGLE_ABCD (HEIGHT QUESTION2)', ('ALT:PARALLELOGRAM-SIDE',), 1.0, 128.0)
    """
    path = Path(path)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    if not rows:
        raise DataFormatError(f"{path}: line 1, field 'header': empty file")
    header = rows[0]
    kc_cols = _kc_columns(header, kc_model, path)
    col = {name: header.index(name) for name in header if name in _DATASHOP_FIELDS}
    step_export = "First Attempt" in col
    need = ["Anon Student Id", "Problem Name", "Step Name",
            "First Attempt" if step_export else "Outcome"]
    missing = [n for n in need if n not in col]
    if missing:
        raise DataFormatError(f"{path}: line 1, field(s) {missing}: required column(s) missing")
    records = []
    seen: set[tuple[str, str, str]] = set()
    for line_no, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        if len(row) < len(header):
            raise DataFormatError(f"{path}: line {line_no}, field {header[len(row)]!r}: row has {len(row)} of "
                                  f"{len(header)} fields")
        rec = _datashop_record(row, col, kc_cols, step_export, path, line_no, seen)
        if rec is not None:
            records.append(rec)
    log = pd.DataFrame(records, columns=["student_id", "item_id", "skill_ids", "correct", "timestamp", "duration_s"])
    log["timestamp"] = pd.to_datetime(log["timestamp"], errors="coerce", format="mixed")
    return log.sort_values(["student_id", "timestamp"], kind="stable").reset_index(drop=True)


_DATASHOP_FIELDS = {"Anon Student Id", "Problem Name", "Step Name", "Outcome", "Attempt At Step", "Time",
                    "Duration (sec)", "First Attempt", "Step Start Time", "Step Duration (sec)",
                    "Student Response Type"}
_OUTCOMES = {"CORRECT": 1.0, "INCORRECT": 0.0, "HINT": 0.0, "ERROR": 0.0, "BUG": 0.0}


def _kc_columns(header: list[str], kc_model: str | None, path: Path) -> list[int]:
    kc = [i for i, h in enumerate(header) if h.startswith("KC (") and not h.startswith("KC Category")]
    if not kc:
        raise DataFormatError(f"{path}: line 1, field 'KC (...)': no knowledge-component column")
    model = kc_model if kc_model is not None else header[kc[0]][4:-1]
    chosen = [i for i in kc if header[i] == f"KC ({model})"]
    if not chosen:
        models = sorted({header[i][4:-1] for i in kc})
        raise DataFormatError(f"{path}: line 1, field 'KC ({model})': no such KC model; have {models}")
    return chosen


def _datashop_record(row: list[str], col: dict[str, int], kc_cols: list[int], step_export: bool, path: Path,
                     line: int, seen: set[tuple[str, str, str]]) -> tuple[object, ...] | None:
    student, problem, step = row[col["Anon Student Id"]], row[col["Problem Name"]], row[col["Step Name"]]
    if not student:
        raise DataFormatError(f"{path}: line {line}, field 'Anon Student Id': empty")
    if step_export:
        outcome, time_field, dur_field = row[col["First Attempt"]].upper(), "Step Start Time", "Step Duration (sec)"
    else:
        if "Attempt At Step" in col and row[col["Attempt At Step"]].strip() not in ("1", ""):
            return None
        outcome, time_field, dur_field = row[col["Outcome"]].upper(), "Time", "Duration (sec)"
    if outcome not in _OUTCOMES or (student, problem, step) in seen:
        return None  # not a graded first attempt (e.g. a tutor message), or a later attempt
    seen.add((student, problem, step))
    skills = tuple(dict.fromkeys(k for i in kc_cols for k in row[i].split("~~") if k.strip())) or ("<no KC>",)
    duration = row[col[dur_field]].strip() if dur_field in col else ""
    try:
        seconds = float(duration) if duration not in ("", ".") else float("nan")
    except ValueError as exc:
        raise DataFormatError(f"{path}: line {line}, field {dur_field!r}: {duration!r} is not a number") from exc
    timestamp = row[col[time_field]] if time_field in col else None
    return student, f"{problem} {step}".strip(), skills, _OUTCOMES[outcome], timestamp, seconds

