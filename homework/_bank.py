"""The item bank: a pandas frame of items with columnar indices for fast queries at district scale.

Import and export CSV, Excel (``.xlsx``) and JSON (an array of objects, or ``.jsonl`` one per line).
Every invalid row is reported with its row number, field and reason, and the valid rows are kept;
importing an id that is already in the bank updates that item instead of adding a second one.

Queries combine boolean masks over numpy arrays (categorical codes for subject/type, small integer
arrays for grade/difficulty), a precomputed knowledge point -> rows index, and a character-bigram
inverted index for text search, so a filtered query over 700,000 items takes milliseconds.

>>> bank = ItemBank()
>>> report = bank.import_frame(pd.DataFrame([
...     {"id": "a1", "grade": 5, "type": "numeric", "stem": "一段布剪去6米，正好剪去这段布的(2/5)，还剩多少米？",
...      "answer": "9", "knowledge_points": "fraction.of_quantity", "difficulty": 2, "minutes": 2.5},
...     {"id": "a2", "grade": 15, "type": "numeric", "stem": "?", "answer": "x", "minutes": 1}]))
>>> report.added, [str(issue) for issue in report.issues]
(1, ['row 2, grade: must be a whole number from 1 to 12, got 15', "row 2, answer: numeric answer 'x' is not a number"])
>>> list(bank.query(text="剪去", grade=5)["id"])
['a1']
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from homework._errors import ItemBankError, UnknownKnowledgePointError
from homework._graph import KnowledgeGraph
from homework._items import MAX_MINUTES, Item, ItemType, answer_problem, parse_list
from homework._textindex import BigramIndex

__all__ = ["COLUMNS", "ImportIssue", "ImportReport", "ItemBank"]

log = logging.getLogger(__name__)

COLUMNS = ("id", "subject", "grade", "type", "stem", "stem_en", "image", "options", "answer", "tolerance",
           "knowledge_points", "difficulty", "minutes", "source", "tags")
"""The bank's columns, in file order. ``options`` and ``answer`` are JSON arrays (or ``|``-separated
text), ``knowledge_points`` and ``tags`` are ``;``-separated."""
REQUIRED = ("id", "grade", "type", "stem", "minutes")
CATEGORICAL = ("subject", "type", "source")
TYPE_ALIASES = {
    "single choice": "single_choice", "single": "single_choice", "choice": "single_choice",
    "单选": "single_choice", "单选题": "single_choice", "选择题": "single_choice",
    "multiple choice": "multiple_choice", "multiple": "multiple_choice", "多选": "multiple_choice",
    "多选题": "multiple_choice", "true/false": "true_false", "true false": "true_false",
    "tf": "true_false", "判断": "true_false", "判断题": "true_false", "number": "numeric",
    "填空": "numeric", "计算": "numeric", "计算题": "numeric", "应用题": "numeric",
    "short text": "short_text", "text": "short_text", "简答": "short_text",
    "subjective": "subjective", "主观": "subjective", "主观题": "subjective", "解答题": "subjective",
}
_PLAIN_NUMBER = r"-?\d+(?:\.\d+)?%?"
_SIMPLE_JSON_LIST = r'\["[^"\\\x00-\x1f]*"(?:, "[^"\\\x00-\x1f]*")*\]'


@dataclass(frozen=True)
class ImportIssue:
    """One rejected value: the file row (header = row 1 for CSV/Excel), the field and why."""

    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.reason}"


@dataclass(frozen=True)
class ImportReport:
    """What an import did. ``confidence`` is the share of rows that were accepted."""

    added: int
    updated: int
    rejected: int
    issues: tuple[ImportIssue, ...] = field(default=())

    @property
    def confidence(self) -> float:
        total = self.added + self.updated + self.rejected
        return 1.0 if total == 0 else (self.added + self.updated) / total


# ---------------------------------------------------------------- reading and validating rows


def _read_table(path: Path) -> tuple[pd.DataFrame, int]:
    """The raw table and the file row number of its first record."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig"), 2
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl"), 2
        if suffix == ".jsonl":
            return pd.read_json(path, lines=True, dtype=False), 1
        if suffix == ".json":
            with open(path, encoding="utf-8") as handle:
                records = json.load(handle)
            if isinstance(records, dict):
                records = records.get("items", records)
            if not isinstance(records, list):
                raise ValueError("expected an array of item objects (or {'items': [...]})")
            return pd.DataFrame.from_records(records), 1
    except (OSError, ValueError, KeyError) as exc:
        raise ItemBankError(f"cannot read item file {path}: {exc}") from exc
    raise ItemBankError(f"{path}: unknown item file type {suffix!r} (use .csv, .xlsx, .json or .jsonl)")


class _Cells:
    """The raw table's columns as stripped text, each converted once."""

    def __init__(self, raw: pd.DataFrame) -> None:
        self.raw = raw
        self._done: dict[tuple[str, str], pd.Series] = {}

    def text(self, column: str, default: str = "") -> pd.Series:
        if (column, default) not in self._done:
            self._done[column, default] = _as_text(self.raw, column, default)
        return self._done[column, default]


def _as_text(raw: pd.DataFrame, column: str, default: str) -> pd.Series:
    if column not in raw.columns:
        return pd.Series([default] * len(raw), index=raw.index, dtype=object)
    values = raw[column]
    if not values.isna().any() and pd.api.types.infer_dtype(values, skipna=False) == "string":  # CSV/Excel
        return values.astype(object).str.strip()
    values = values.astype(object)
    values = values.where(values.notna(), default)
    return values.map(lambda v: v if isinstance(v, str) else _cell_text(v)).str.strip()


def _cell_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return json.dumps([str(v) for v in value], ensure_ascii=False)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _Checker:
    """Collects bad rows per field while the columns are validated one by one."""

    def __init__(self, n: int, first_row: int) -> None:
        self.bad = np.zeros(n, dtype=bool)
        self.first_row = first_row
        self.issues: list[ImportIssue] = []

    def flag(self, mask: np.ndarray, column: str, reasons: Sequence[str] | str) -> None:
        where = np.flatnonzero(mask)
        if not len(where):
            return
        self.bad[where] = True
        if isinstance(reasons, str):
            reasons = [reasons] * len(where)
        self.issues.extend(ImportIssue(int(i) + self.first_row, column, r) for i, r in zip(where, reasons,
                                                                                           strict=True))


def _numbers(cells: _Cells, column: str, default: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Column as floats, and a mask of cells that were not numbers (or missing with no default)."""
    text = cells.text(column)
    values = pd.to_numeric(text.where(text != "", None), errors="coerce").to_numpy(dtype=float, copy=True)
    blank = (text == "").to_numpy()
    bad = np.isnan(values) & ~blank
    if default is None:
        bad |= blank
    values[blank] = np.nan if default is None else default
    return values, bad


def _check_grade_and_numbers(cells: _Cells, check: _Checker, out: dict[str, Any]) -> None:
    grade, bad = _numbers(cells, "grade", None)
    bad |= ~((grade >= 1) & (grade <= 12) & (grade == np.round(grade)))
    shown = cells.text("grade").to_numpy()
    check.flag(bad, "grade", [f"must be a whole number from 1 to 12, got {v or 'nothing'}" for v in shown[bad]])
    out["grade"] = np.where(bad, 0, grade).astype(np.int8)

    difficulty, bad = _numbers(cells, "difficulty", 3.0)
    bad |= ~((difficulty >= 1) & (difficulty <= 5) & (difficulty == np.round(difficulty)))
    check.flag(bad, "difficulty", [f"must be a whole number from 1 to 5, got {v}"
                                   for v in cells.text("difficulty").to_numpy()[bad]])
    out["difficulty"] = np.where(bad, 0, difficulty).astype(np.int8)

    minutes, bad = _numbers(cells, "minutes", None)
    bad |= ~((minutes > 0) & (minutes <= MAX_MINUTES))
    check.flag(bad, "minutes", [f"must be more than 0 and at most {MAX_MINUTES:g}, got {v or 'nothing'}"
                                for v in cells.text("minutes").to_numpy()[bad]])
    out["minutes"] = np.where(bad, 0, minutes).astype(np.float32)

    tolerance, bad = _numbers(cells, "tolerance", 0.0)
    bad |= ~(tolerance >= 0)
    check.flag(bad, "tolerance", "must be a number >= 0")
    out["tolerance"] = np.where(bad, 0, tolerance)


def _check_texts(cells: _Cells, check: _Checker, out: dict[str, Any]) -> None:
    ids = cells.text("id")
    check.flag((ids == "").to_numpy(), "id", "missing")
    check.flag((ids.str.len() > 64).to_numpy(), "id", "longer than 64 characters")
    repeated = ids.duplicated(keep="last").to_numpy() & (ids != "").to_numpy()
    last_row = pd.Series(np.arange(len(ids)), index=ids).groupby(level=0).max()
    check.flag(repeated, "id", [f"id {i!r} appears again at row {last_row[i] + check.first_row}; the later row "
                                "is kept" for i in ids.to_numpy()[repeated]])
    out["id"] = ids
    stem = cells.text("stem")
    check.flag((stem == "").to_numpy(), "stem", "missing")
    for column in ("stem", "stem_en", "image", "source"):
        out[column] = stem if column == "stem" else cells.text(column)
    out["subject"] = cells.text("subject", "math").str.lower().replace("", "math")
    given = cells.text("type")
    kind = given.str.lower().str.replace("-", " ", regex=False)
    kind = kind.map(lambda k: TYPE_ALIASES.get(k, k.replace(" ", "_")))
    valid = {t.value for t in ItemType}
    bad = ~kind.isin(valid).to_numpy()
    check.flag(bad, "type", [f"unknown item type {k!r}; use one of {sorted(valid)}" for k in given[bad]])
    out["type"] = kind


def _elements(cells: _Cells, column: str, sep: str, check: _Checker) -> pd.Series:
    """A list column exploded: one entry per (row, element), indexed by row, in order, repeats dropped.

    Plain cells are split on ``sep`` with pandas' vectorised string methods; only cells written as a
    JSON array go through :func:`parse_list` (a malformed one is flagged and counts as empty).
    """
    texts = cells.text(column)
    simple_json = texts.str.fullmatch(_SIMPLE_JSON_LIST).to_numpy()  # ["a", "b"]: split, no JSON decoder
    is_json = texts.str.startswith("[").to_numpy() & ~simple_json
    plain = texts.where(~is_json & ~simple_json, "").str.split(sep, regex=False).explode().str.strip()
    quoted = texts.where(simple_json, "").str.slice(2, -2).str.split('", "', regex=False).explode().str.strip()
    pieces = [plain[plain != ""], quoted[quoted != ""]]
    bad = np.zeros(len(texts), dtype=bool)
    reasons: list[str] = []
    rows: list[int] = []
    values: list[str] = []
    for i in np.flatnonzero(is_json):
        try:
            parsed = parse_list(texts.iat[i], sep)
        except ValueError as exc:
            bad[i] = True
            reasons.append(str(exc))
            continue
        rows.extend([int(i)] * len(parsed))
        values.extend(parsed)
    check.flag(bad, column, reasons)
    if values:
        pieces.append(pd.Series(values, index=rows, dtype=object))
    elements = pd.concat(pieces).sort_index(kind="stable")
    repeated = pd.DataFrame({"row": elements.index, "value": elements.to_numpy()}).duplicated().to_numpy()
    return elements[~repeated].astype(object)


def _joined(elements: pd.Series, n: int, sep: str) -> np.ndarray:
    """Each row's elements joined by ``sep`` (``""`` for none): one vectorised pass per element position
    (a groupby-join calls Python once per row, ten times slower at 700,000 rows)."""
    out = np.full(n, "", dtype=object)
    if not len(elements):
        return out
    rows = elements.index.to_numpy()
    values = elements.to_numpy(dtype=object)
    position = elements.groupby(level=0, sort=False).cumcount().to_numpy()
    first = position == 0
    out[rows[first]] = values[first]
    for k in range(1, int(position.max()) + 1):
        at = position == k
        out[rows[at]] = out[rows[at]] + sep + values[at]
    return out


def _json_lists(elements: pd.Series, n: int) -> np.ndarray:
    """Each row's elements as a JSON array (``""`` for none), as ``json.dumps(..., ensure_ascii=False)``."""
    out = _joined(elements, n, '", "')
    filled = out != ""
    out[filled] = '["' + out[filled] + '"]'
    special = elements[elements.str.contains(r'["\\\x00-\x1f\x7f]', regex=True)]
    for row in special.index.unique():
        out[row] = json.dumps(list(elements.loc[[row]]), ensure_ascii=False)
    return out


def _rows_as_tuples(elements: pd.Series, rows: np.ndarray) -> dict[int, tuple[str, ...]]:
    chosen = elements[elements.index.isin(rows)]
    grouped: dict[int, list[str]] = {}
    for row, value in zip(chosen.index.tolist(), chosen.tolist(), strict=True):
        grouped.setdefault(row, []).append(value)
    return {row: tuple(values) for row, values in grouped.items()}


def _check_answers(cells: _Cells, check: _Checker, out: dict[str, Any]) -> None:
    options = _elements(cells, "options", "|", check)
    answers = _elements(cells, "answer", "|", check)
    kinds = out["type"].to_numpy()
    plain = (cells.text("answer").str.fullmatch(_PLAIN_NUMBER) & (out["type"] == "numeric")
             & (cells.text("options") == "")).to_numpy()
    todo = np.flatnonzero(~plain & np.isin(kinds, [t.value for t in ItemType]))
    option_rows, answer_rows = _rows_as_tuples(options, todo), _rows_as_tuples(answers, todo)
    rows, reasons = [], []
    for i in todo.tolist():
        problem = answer_problem(ItemType(kinds[i]), option_rows.get(i, ()), answer_rows.get(i, ()),
                                 float(out["tolerance"][i]))
        if problem:
            rows.append(i)
            reasons.append(problem)
    mask = np.zeros(len(kinds), dtype=bool)
    mask[rows] = True
    check.flag(mask, "answer", reasons)
    out["options"] = _json_lists(options, len(kinds))
    out["answer"] = _json_lists(answers, len(kinds))


def _check_labels(cells: _Cells, check: _Checker, out: dict[str, Any], graph: KnowledgeGraph | None) -> None:
    n = len(out["id"])
    kps = _elements(cells, "knowledge_points", ";", check)
    if graph is not None and len(graph) and len(kps):
        known = set(graph)
        unknown = kps[~kps.isin(known)]
        if len(unknown):
            listed = unknown.groupby(level=0).agg(list)
            mask = np.zeros(n, dtype=bool)
            mask[listed.index.to_numpy()] = True
            check.flag(mask, "knowledge_points", [f"unknown knowledge point(s) {u}" for u in listed])
    out["knowledge_points"] = _joined(kps, n, ";")
    out["tags"] = _joined(_elements(cells, "tags", ";", check), n, ";")


def validate_frame(raw: pd.DataFrame, first_row: int = 1,
                   graph: KnowledgeGraph | None = None) -> tuple[pd.DataFrame, list[ImportIssue]]:
    """The valid rows of ``raw`` in the bank's canonical form, and an issue for every invalid value."""
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise ItemBankError(f"item table lacks required column(s) {missing}; columns are {list(COLUMNS)}")
    unknown = sorted(set(map(str, raw.columns)) - set(COLUMNS))
    if unknown:
        log.warning("ignoring unknown item column(s) %s", unknown)
    raw = raw.reset_index(drop=True)
    check = _Checker(len(raw), first_row)
    cells = _Cells(raw)
    out: dict[str, Any] = {}
    _check_texts(cells, check, out)
    _check_grade_and_numbers(cells, check, out)
    _check_labels(cells, check, out, graph)
    _check_answers(cells, check, out)
    frame = pd.DataFrame({c: out[c] for c in COLUMNS})
    frame = frame[~check.bad].reset_index(drop=True)
    issues = sorted(check.issues, key=lambda issue: (issue.row, COLUMNS.index(issue.field)
                                                     if issue.field in COLUMNS else 99))
    return frame, issues


# ---------------------------------------------------------------- the bank


class ItemBank:
    """Items in a pandas frame, with indices for queries by subject, grade, knowledge point, type,
    difficulty, minutes and text.

    ``graph`` (optional) is the knowledge-point DAG: with one, imports reject unknown knowledge points
    and a query may include every point that builds on the asked one (``descendants=True``).
    """

    def __init__(self, graph: KnowledgeGraph | None = None) -> None:
        self.graph = graph
        self._version = 0
        self._frame = _typed(validate_frame(pd.DataFrame(columns=list(COLUMNS)))[0])
        self._rebuild()

    @classmethod
    def from_canonical(cls, frame: pd.DataFrame, graph: KnowledgeGraph | None = None) -> ItemBank:
        """A bank of rows an import already validated, in the canonical columns (e.g. the store's
        :class:`homework.storage.ItemStore` frame): not checked again, only typed and indexed.

        >>> bank = ItemBank()
        >>> _ = bank.import_frame(pd.DataFrame([{"id": "a1", "grade": 5, "type": "numeric", "stem": "1+1=?",
        ...                                      "answer": "2", "minutes": 1}]))
        >>> again = ItemBank.from_canonical(bank.frame)
        >>> again.get("a1") == bank.get("a1")
        True
        """
        bank = cls(graph)
        bank._frame = _typed(frame[list(COLUMNS)])
        bank._rebuild()
        return bank

    @property
    def version(self) -> int:
        """Goes up on every change to the items (imports, minutes): what a cache of the bank keys on."""
        return self._version

    def __len__(self) -> int:
        return len(self._frame)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._ids

    @property
    def frame(self) -> pd.DataFrame:
        """All items, one row each, in the canonical columns (a copy: edit through imports)."""
        return self._frame.copy()

    # -- import / export

    def import_frame(self, raw: pd.DataFrame, first_row: int = 1) -> ImportReport:
        """Validate ``raw`` and merge its valid rows; an id already in the bank is updated."""
        clean, issues = validate_frame(raw, first_row, self.graph)
        bad_rows = len({issue.row for issue in issues})
        updated = int(self._ids.isin(clean["id"]).sum()) if len(self._frame) else 0
        keep = self._frame[~self._frame["id"].isin(clean["id"])] if updated else self._frame
        self._frame = _merge(keep, _typed(clean))
        self._rebuild()
        report = ImportReport(added=len(clean) - updated, updated=updated, rejected=bad_rows, issues=tuple(issues))
        log.info("imported items: %d added, %d updated, %d rows rejected", report.added, report.updated,
                 report.rejected)
        return report

    def import_file(self, path: str | Path) -> ImportReport:
        """Import a ``.csv``, ``.xlsx``, ``.json`` or ``.jsonl`` file (see :data:`COLUMNS`)."""
        raw, first_row = _read_table(Path(path))
        return self.import_frame(raw, first_row)

    def add(self, items: Iterable[Item]) -> ImportReport:
        """Add or update already validated :class:`Item` objects."""
        rows = [item.model_dump(mode="json") for item in items]
        return self.import_frame(pd.DataFrame(rows, columns=list(COLUMNS)))

    def export(self, path: str | Path) -> Path:
        """Write every item to ``path``; the suffix picks the format (.csv, .xlsx, .json, .jsonl)."""
        path = Path(path)
        frame = self._frame.astype({c: object for c in ("subject", "type", "source")})
        suffix = path.suffix.lower()
        if suffix == ".csv":
            frame.to_csv(path, index=False, encoding="utf-8")
        elif suffix == ".xlsx":
            frame.to_excel(path, index=False, engine="openpyxl")
        elif suffix in (".json", ".jsonl"):
            records = [_record(row) for row in frame.to_dict(orient="records")]
            with open(path, "w", encoding="utf-8") as handle:
                if suffix == ".json":
                    json.dump(records, handle, ensure_ascii=False, indent=1)
                else:
                    handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        else:
            raise ItemBankError(f"{path}: unknown item file type {suffix!r} (use .csv, .xlsx, .json or .jsonl)")
        return path

    # -- lookup

    def get(self, item_id: str) -> Item:
        """The item with this id as an :class:`Item`; :class:`ItemBankError` if there is none."""
        return self.items([item_id])[0]

    def items(self, item_ids: Sequence[str]) -> list[Item]:
        """Items by id, in the order asked."""
        positions = self._ids.get_indexer(list(item_ids))
        missing = [i for i, p in zip(item_ids, positions, strict=True) if p < 0]
        if missing:
            raise ItemBankError(f"no item with id(s) {missing[:10]} in the bank")
        rows = self._frame.iloc[positions].astype({c: object for c in ("subject", "type", "source")})
        return [Item.model_validate(_record(r)) for r in rows.to_dict(orient="records")]

    def rows(self, item_ids: Sequence[str]) -> pd.DataFrame:
        """The frame rows of these items, in the order asked (without copying the whole bank)."""
        positions = self._ids.get_indexer(list(item_ids))
        if (positions < 0).any():
            missing = [i for i, p in zip(item_ids, positions, strict=True) if p < 0]
            raise ItemBankError(f"no item with id(s) {missing[:10]} in the bank")
        return self._frame.iloc[positions]

    def take(self, positions: Sequence[int] | np.ndarray) -> pd.DataFrame:
        """The frame rows at these positions (as :meth:`query_positions` returns them)."""
        return self._frame.iloc[np.asarray(positions, dtype=np.int64)]

    def column(self, name: str) -> np.ndarray:
        """One column as a read-only array in bank order (row positions as :meth:`query_positions`)."""
        values = self._frame[name].to_numpy()
        values.flags.writeable = False
        return values

    def set_minutes(self, minutes: Mapping[str, float] | pd.Series) -> int:
        """Replace estimated minutes by id (e.g. after calibration); returns how many items changed.

        Values are checked like an import's (more than 0, at most the maximum); unknown ids raise.
        """
        update = pd.Series(minutes, dtype=float)
        positions = self._ids.get_indexer(update.index)
        if (positions < 0).any():
            raise ItemBankError(f"no item with id(s) {list(update.index[positions < 0][:10])} in the bank")
        bad = update[~((update > 0) & (update <= MAX_MINUTES))]
        if len(bad):
            raise ItemBankError(f"minutes must be more than 0 and at most {MAX_MINUTES:g}: {bad.to_dict()}")
        column = self._frame["minutes"].to_numpy(copy=True)
        column[positions] = update.to_numpy(dtype=np.float32)
        self._frame["minutes"] = column
        self._minutes = column
        self._version += 1
        return len(update)

    def minutes_of(self, item_ids: Sequence[str]) -> np.ndarray:
        """Estimated minutes of these items (fast: no :class:`Item` objects are built)."""
        positions = self._ids.get_indexer(list(item_ids))
        if (positions < 0).any():
            missing = [i for i, p in zip(item_ids, positions, strict=True) if p < 0]
            raise ItemBankError(f"no item with id(s) {missing[:10]} in the bank")
        return self._minutes[positions].astype(float)

    # -- queries

    def query(self, *, subject: str | None = None, grade: int | Iterable[int] | None = None,
              knowledge_points: str | Iterable[str] | None = None, descendants: bool = False,
              type: str | Iterable[str] | None = None, difficulty: tuple[int, int] | int | None = None,
              minutes: tuple[float, float] | None = None, text: str | None = None,
              limit: int | None = None) -> pd.DataFrame:
        """Items matching every given filter, in bank order.

        ``knowledge_points`` matches items tagged with any of them (and, with ``descendants``, with any
        point that builds on them in :attr:`graph`); ``difficulty`` and ``minutes`` are inclusive
        ``(low, high)`` ranges; ``text`` is a substring of the Chinese or English stem (case-insensitive).
        """
        rows = self.query_positions(subject=subject, grade=grade, knowledge_points=knowledge_points,
                                    descendants=descendants, type=type, difficulty=difficulty,
                                    minutes=minutes, text=text)
        return self._frame.iloc[rows[:limit]]

    def query_positions(self, *, subject: str | None = None, grade: int | Iterable[int] | None = None,
                        knowledge_points: str | Iterable[str] | None = None, descendants: bool = False,
                        type: str | Iterable[str] | None = None,
                        difficulty: tuple[int, int] | int | None = None,
                        minutes: tuple[float, float] | None = None, text: str | None = None) -> np.ndarray:
        """Like :meth:`query`, but the matching row positions (ascending) instead of a frame."""
        mask = np.ones(len(self._frame), dtype=bool)
        if subject is not None:
            mask &= _any_equal(self._subject_codes, _codes(self._subjects, [subject.lower()]))
        if type is not None:
            mask &= _any_equal(self._type_codes, _codes(self._types, _many(type)))
        if grade is not None:
            mask &= _any_equal(self._grade, [int(g) for g in _many(grade)])
        if difficulty is not None:
            low, high = (difficulty, difficulty) if isinstance(difficulty, int) else difficulty
            mask &= (self._difficulty >= low) & (self._difficulty <= high)
        if minutes is not None:
            mask &= (self._minutes >= minutes[0]) & (self._minutes <= minutes[1])
        if knowledge_points is not None:
            mask &= self._kp_mask(list(_many(knowledge_points)), descendants)
        if text:
            return self._text_index().search(text, mask)
        return np.flatnonzero(mask)

    def knowledge_points(self) -> list[str]:
        """Every knowledge point the bank knows, sorted: its graph's and its items'."""
        return sorted(set(self.graph or ()) | set(self._kp_rows))

    def check_knowledge_points(self, points: Iterable[str]) -> None:
        """Raise :class:`UnknownKnowledgePointError` for the first of ``points`` the bank does not know,
        naming the nearest known ids (a typo is the usual cause).

        >>> bank = ItemBank()
        >>> _ = bank.add([Item(id="q1", grade=5, type="numeric", stem="1/2+1/2=?", answer=("1",),
        ...                    knowledge_points=("number.fraction",))])
        >>> bank.check_knowledge_points(["number.fractoin"])
        Traceback (most recent call last):
        ...
        homework._errors.UnknownKnowledgePointError: unknown knowledge point 'number.fractoin'; nearest known: number.fraction
        """
        import difflib

        known = self.knowledge_points()
        for point in points:
            if point not in known:
                near = difflib.get_close_matches(point, known, n=3, cutoff=0.5) or known[:3]
                raise UnknownKnowledgePointError(
                    f"unknown knowledge point {point!r}; nearest known: {', '.join(near) or '(none)'}")

    def knowledge_point_counts(self) -> pd.Series:
        """How many items carry each knowledge point, most frequent first."""
        counts = {kp: len(rows) for kp, rows in self._kp_rows.items()}
        return pd.Series(counts, dtype=int).sort_values(ascending=False, kind="stable")

    def _kp_mask(self, points: list[str], descendants: bool) -> np.ndarray:
        wanted = set(points)
        if descendants:
            if self.graph is None:
                raise ItemBankError("descendants=True needs a bank built with a knowledge-point graph")
            for kp in points:
                wanted |= self.graph.descendants(kp)
        mask = np.zeros(len(self._frame), dtype=bool)
        for kp in wanted:
            rows = self._kp_rows.get(kp)
            if rows is not None:
                mask[rows] = True
        return mask

    # -- indices

    def _rebuild(self) -> None:
        self._version += 1
        frame = self._frame
        self._ids = pd.Index(frame["id"].to_numpy(dtype=object))
        self._subjects = frame["subject"].cat.categories
        self._subject_codes = frame["subject"].cat.codes.to_numpy()
        self._types = frame["type"].cat.categories
        self._type_codes = frame["type"].cat.codes.to_numpy()
        self._grade = frame["grade"].to_numpy()
        self._difficulty = frame["difficulty"].to_numpy()
        self._minutes = frame["minutes"].to_numpy()
        pairs = frame["knowledge_points"].str.split(";").explode()
        pairs = pairs[pairs.notna() & (pairs != "")]
        codes, names = pd.factorize(pairs.to_numpy(dtype=object))
        order = np.argsort(codes, kind="stable")
        positions = pairs.index.to_numpy()[order]
        bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
        self._kp_rows = {name: positions[bounds[k]:bounds[k + 1]] for k, name in enumerate(names)}
        self._bigrams: BigramIndex | None = None

    def _text_index(self) -> BigramIndex:
        if self._bigrams is None:
            texts = self._frame["stem"] + "\x00" + self._frame["stem_en"]
            self._bigrams = BigramIndex(texts.tolist())
        return self._bigrams

    def build_text_index(self) -> None:
        """Build the text-search index now (it is otherwise built by the first text query)."""
        self._text_index()


def _many(value: Any) -> Iterable[Any]:
    return [value] if isinstance(value, str | int | np.integer) else value


def _codes(categories: pd.Index, wanted: Iterable[str]) -> list[int]:
    return [int(categories.get_loc(w)) for w in wanted if w in categories]


def _any_equal(values: np.ndarray, wanted: list[int]) -> np.ndarray:
    """``np.isin`` for a handful of wanted values: one vectorised comparison each (faster at 700k rows)."""
    mask = np.zeros(len(values), dtype=bool)
    for value in wanted:
        mask |= values == value
    return mask


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    types: dict[str, Any] = {"grade": np.int8, "difficulty": np.int8, "minutes": np.float32, "tolerance": float}
    types.update({column: "category" for column in CATEGORICAL})
    for column in COLUMNS:
        if column not in types:
            types[column] = object
    return frame.astype(types)


def _merge(keep: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """``keep`` then ``new``, categorical columns staying categorical (their categories united)."""
    if not len(keep):
        return new
    keep, new = keep.copy(), new.copy()
    for column in CATEGORICAL:
        categories = keep[column].cat.categories.union(new[column].cat.categories)
        keep[column] = keep[column].cat.set_categories(categories)
        new[column] = new[column].cat.set_categories(categories)
    return pd.concat([keep, new], ignore_index=True)


def _record(row: dict[str, Any]) -> dict[str, Any]:
    """A frame row as the keyword arguments of :class:`Item`."""
    out = dict(row)
    for column in ("options", "answer"):
        out[column] = json.loads(out[column]) if out[column] else []
    for column in ("knowledge_points", "tags"):
        out[column] = [p for p in out[column].split(";") if p]
    out["grade"], out["difficulty"] = int(out["grade"]), int(out["difficulty"])
    out["minutes"], out["tolerance"] = round(float(out["minutes"]), 4), float(out["tolerance"])
    return out
