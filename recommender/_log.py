"""The response log: one long pandas frame, one row per graded response.

Columns (rows in time order within each student)::

    student_id   any hashable id
    item_id      any hashable id
    skill_ids    tuple of one or more knowledge-point ids
    correct      float in [0, 1] (0/1, or partial credit)
    timestamp    optional, datetime64 or seconds
    duration_s   optional, seconds spent

:func:`validate_responses` checks a frame; :func:`merge_multi_skill_rows` turns logs that write a
multi-skill item once per skill (the AKT/DKT files) into one response with several skill ids, so
that no row can see another row's label.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
import pandas as pd

from recommender._errors import DataFormatError

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("student_id", "item_id", "skill_ids", "correct")
OPTIONAL_COLUMNS = ("timestamp", "duration_s")


def each_response(responses: pd.DataFrame) -> Iterator[tuple[Hashable, Hashable, tuple[Hashable, ...], float]]:
    """Validated rows as ``(student_id, item_id, skill_ids, correct)``, in order: what ``partial_fit``
    hands to a model's one-response ``update``.

    >>> log = pd.DataFrame({"student_id": [1], "item_id": [7], "skill_ids": [(3, 4)], "correct": [1]})
    >>> list(each_response(log))
    [(1, 7, (3, 4), 1.0)]
    """
    log = validate_responses(responses)
    columns = (log["student_id"], log["item_id"], log["skill_ids"], log["correct"])
    for student, item, skills, correct in zip(*columns, strict=True):
        yield student, item, skills, float(correct)


def validate_responses(responses: pd.DataFrame, *, source: str = "<responses>") -> pd.DataFrame:
    """Check a response log and return it with ``correct`` as float and ``skill_ids`` as tuples.

    >>> log = pd.DataFrame({"student_id": [1, 1], "item_id": [7, 8],
    ...                     "skill_ids": [(3,), (3, 4)], "correct": [1, 0]})
    >>> validate_responses(log)["correct"].tolist()
    [1.0, 0.0]
    >>> validate_responses(log.assign(correct=[1, 2]))
    Traceback (most recent call last):
    recommender._errors.DataFormatError: <responses>: row 2, field 'correct': 2 is outside [0, 1]
    """
    if not isinstance(responses, pd.DataFrame):
        raise DataFormatError(f"{source}: expected a pandas DataFrame, got {type(responses).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in responses.columns]
    if missing:
        raise DataFormatError(f"{source}: missing column(s) {missing}; a response log needs {list(REQUIRED_COLUMNS)}")
    out = responses.copy()
    correct = pd.to_numeric(out["correct"], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~((correct >= 0) & (correct <= 1)))
    if bad.size:
        row = int(bad[0])
        raise DataFormatError(
            f"{source}: row {row + 1}, field 'correct': {out['correct'].iloc[row]} is outside [0, 1]"
        )
    out["correct"] = correct
    out["skill_ids"] = [_as_skill_tuple(v, source, row) for row, v in enumerate(out["skill_ids"])]
    for column in ("student_id", "item_id"):
        nulls = np.flatnonzero(out[column].isna().to_numpy())
        if nulls.size:
            raise DataFormatError(f"{source}: row {int(nulls[0]) + 1}, field {column!r}: empty")
    return out


def _as_skill_tuple(value: object, source: str, row: int) -> tuple[Hashable, ...]:
    if isinstance(value, tuple) and value:
        return value
    if isinstance(value, list | np.ndarray) and len(value):
        return tuple(value)
    if isinstance(value, str | int | np.integer) and not (isinstance(value, str) and not value):
        return (value,)
    raise DataFormatError(f"{source}: row {row + 1}, field 'skill_ids': {value!r} is not one or more skill ids")


def merge_multi_skill_rows(responses: pd.DataFrame) -> pd.DataFrame:
    """Merge consecutive rows of one student with the same item and the same answer into one response.

    The AKT/DKT files write an item tagged with several skills once per skill; scoring each copy
    separately lets the second copy "predict" the first copy's label. A row starts a new response when
    the student, the item or the answer changes, or when its skill already occurs in the current group
    (a genuine second attempt at the same item).

    >>> log = pd.DataFrame({"student_id": [1, 1, 1, 1], "item_id": [7, 7, 7, 8],
    ...                     "skill_ids": [(3,), (4,), (3,), (3,)], "correct": [1.0, 1.0, 1.0, 0.0]})
    >>> merge_multi_skill_rows(log)[["item_id", "skill_ids"]].values.tolist()
    [[7, (3, 4)], [7, (3,)], [8, (3,)]]
    """
    students = responses["student_id"].to_numpy()
    items = responses["item_id"].to_numpy()
    correct = responses["correct"].to_numpy()
    skills = responses["skill_ids"].tolist()
    group = np.empty(len(responses), dtype=np.int64)
    current: set[Hashable] = set()
    g = -1
    for row in range(len(responses)):
        same = (
            row > 0
            and students[row] == students[row - 1]
            and items[row] == items[row - 1]
            and correct[row] == correct[row - 1]
            and not current.intersection(skills[row])
        )
        if not same:
            g += 1
            current = set()
        current.update(skills[row])
        group[row] = g
    first = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    merged = responses.iloc[first].copy()
    bounds = np.r_[first, len(responses)]
    merged["skill_ids"] = [
        tuple(dict.fromkeys(chain.from_iterable(skills[a:b]))) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    logger.debug("merged %d rows into %d responses", len(responses), len(merged))
    return merged.reset_index(drop=True)


@dataclass(frozen=True)
class EncodedLog:
    """A response log as integer codes, grouped by student with time order kept (internal).

    ``order`` maps encoded position -> row of the original frame; ``skill_ptr``/``skill_idx`` hold each
    response's skills in CSR form. Ids the vocabulary does not know get codes from ``len(vocab)`` on,
    one per distinct unknown id, so two new skills never share a history.
    """

    order: np.ndarray
    student: np.ndarray
    item: np.ndarray
    skill_ptr: np.ndarray
    skill_idx: np.ndarray
    correct: np.ndarray
    student_keys: np.ndarray

    @property
    def n(self) -> int:
        return int(self.order.size)

    def skill_owner(self) -> np.ndarray:
        """Encoded response position of each entry of ``skill_idx``."""
        return np.repeat(np.arange(self.n), np.diff(self.skill_ptr))

    def student_starts(self) -> np.ndarray:
        """Boolean mask: the response is the first of its student."""
        return np.r_[True, self.student[1:] != self.student[:-1]] if self.n else np.zeros(0, bool)


def encode(
    responses: pd.DataFrame, item_vocab: dict[Hashable, int], skill_vocab: dict[Hashable, int]
) -> EncodedLog:
    """Encode a validated log against fitted vocabularies (unknown ids become -1)."""
    student_codes, student_keys = pd.factorize(responses["student_id"], sort=False)
    order = np.argsort(student_codes, kind="stable")
    items = _codes(pd.Series(responses["item_id"].to_numpy()[order], dtype=object), item_vocab)
    skill_lists: Sequence[tuple[Hashable, ...]] = responses["skill_ids"].to_numpy()[order]
    lengths = np.fromiter(map(len, skill_lists), dtype=np.int64, count=len(skill_lists))
    skill_idx = _codes(pd.Series(list(chain.from_iterable(skill_lists)), dtype=object), skill_vocab)
    return EncodedLog(
        order=order,
        student=student_codes[order].astype(np.int64),
        item=items,
        skill_ptr=np.r_[0, np.cumsum(lengths)].astype(np.int64),
        skill_idx=skill_idx,
        correct=responses["correct"].to_numpy(float)[order],
        student_keys=np.asarray(student_keys, dtype=object),
    )


def _codes(values: pd.Series, vocab: dict[Hashable, int]) -> np.ndarray:
    codes = values.map(vocab)
    unknown = codes.isna().to_numpy()
    out = np.empty(len(values), dtype=np.int64)
    out[~unknown] = codes[~unknown].to_numpy(np.int64)
    if unknown.any():
        out[unknown] = len(vocab) + pd.factorize(values[unknown])[0]
    return out


def build_vocab(values: Sequence[Hashable] | pd.Series) -> dict[Hashable, int]:
    """Index of each distinct id in first-seen order."""
    return {v: i for i, v in enumerate(pd.unique(pd.Series(list(values), dtype=object)))}


def skill_vocab_of(responses: pd.DataFrame) -> dict[Hashable, int]:
    """Vocabulary of every skill id in a log."""
    return build_vocab(list(chain.from_iterable(responses["skill_ids"])))
