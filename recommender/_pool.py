"""The item bank as arrays for selection, and the link from mastery to an item's predicted success.

Selection has to price every candidate item for every student, so it never touches the bank's frame
after :meth:`ItemPool.from_frame`: ids, minutes, grades and subjects become numpy arrays, knowledge
points a CSR list, and each knowledge point keeps its items sorted by *easiness*.

Predicted success of student ``s`` on item ``i`` (a logistic link, as in IRT)::

    P(correct) = sigmoid( mean over the item's knowledge points k of logit(mastery[s, k]) + easiness[i] )

``mastery[s, k]`` is the mastery model's P(correct) on a typical item of ``k``
(:class:`~recommender.SkillMastery`), so an item of easiness 0 is a typical item. Easiness comes from
the response log where the item has answers (:meth:`ItemPool.calibrate`) and from the bank's 1-5
difficulty label otherwise. Because easiness is sorted per knowledge point, the items whose success
falls in a band ``[lo, hi]`` for a student are one ``searchsorted`` away:
``easiness in [logit(lo) - logit(m), logit(hi) - logit(m)]``.

>>> frame = pd.DataFrame({"id": ["a", "b", "c"], "subject": "math", "grade": [3, 4, 4],
...                       "knowledge_points": ["x", "x", "x;y"], "difficulty": [1, 3, 5], "minutes": 2.0})
>>> pool = ItemPool.from_frame(frame)
>>> pool.easiness.round(2).tolist()
[1.2, 0.0, -1.2]
>>> round(float(pool.predict({"x": 0.5, "y": 0.8}, pool.positions(["a", "c"]))[0]), 3)
0.769
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from recommender._errors import DataFormatError

logger = logging.getLogger(__name__)

_EPS = 1e-3
POOL_COLUMNS = ("id", "knowledge_points", "minutes")
"""Columns :meth:`ItemPool.from_frame` needs; ``subject``, ``grade`` and ``difficulty`` are optional."""


def logit(p: np.ndarray | float) -> np.ndarray:
    """``log(p / (1 - p))`` with ``p`` clipped to ``[0.001, 0.999]``."""
    q = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    return np.log(q / (1 - q))


def sigmoid(z: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


@dataclass(frozen=True)
class KPItems:
    """One knowledge point's items inside a scope, sorted by easiness (internal to selection)."""

    positions: np.ndarray  # pool positions, easiest last
    easiness: np.ndarray  # ascending


class ScopedItems:
    """One scope's items per knowledge-point code (a subject and grade range): a point's items are
    filtered and sorted by easiness the first time selection asks for them, so a scope of a few points
    over a 700,000-item pool costs milliseconds, not a pass over every point."""

    def __init__(self, pool: ItemPool, keep: np.ndarray) -> None:
        self._pool, self._keep = pool, keep
        entries = keep[np.repeat(np.arange(len(pool)), np.diff(pool.kp_ptr))]
        self.counts = np.bincount(pool.kp_idx[entries], minlength=len(pool.kp_names))
        self._cache: dict[int, KPItems] = {}

    def __getitem__(self, code: int) -> KPItems:
        found = self._cache.get(code)
        if found is None:
            items = self._pool._kp_items[code]
            items = items[self._keep[items]]
            order = np.argsort(self._pool.easiness[items], kind="stable")
            found = self._cache[code] = KPItems(items[order], self._pool.easiness[items[order]])
        return found

    def has(self, code: int) -> bool:
        """Whether the scope holds any item of this point."""
        return bool(self.counts[code] > 0)


@dataclass
class ItemPool:
    """Items as arrays: what selection needs of a bank, built once and shared by every student.

    ``difficulty_scale`` turns the bank's 1-5 difficulty label into easiness,
    ``-difficulty_scale * (label - 3)``, for items the response log has not calibrated.
    """

    ids: np.ndarray
    subjects: np.ndarray
    grades: np.ndarray
    minutes: np.ndarray
    difficulty: np.ndarray
    kp_names: tuple[str, ...]
    kp_ptr: np.ndarray
    kp_idx: np.ndarray
    easiness: np.ndarray
    calibrated: np.ndarray
    label_scale: float = 0.6
    difficulty_scale: float = 0.6
    _pos: dict[Hashable, int] = field(default_factory=dict, repr=False)
    _kp_code: dict[str, int] = field(default_factory=dict, repr=False)
    _kp_items: list[np.ndarray] = field(default_factory=list, repr=False)
    _scopes: dict[tuple[Any, ...], ScopedItems] = field(default_factory=dict, repr=False)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, difficulty_scale: float = 0.6) -> ItemPool:
        """A pool from a bank-like frame (``id``, ``knowledge_points`` as ``;``-separated text or tuples,
        ``minutes``; optional ``subject``, ``grade``, ``difficulty`` 1-5). Rows without a knowledge point
        cannot be targeted and are left out; a missing column is a :class:`DataFormatError`.
        """
        missing = [c for c in POOL_COLUMNS if c not in frame.columns]
        if missing:
            raise DataFormatError(f"<item pool>: field {missing[0]!r}: column missing (needs {list(POOL_COLUMNS)})")
        kps = frame["knowledge_points"].map(_kp_tuple)
        keep = (kps.map(len) > 0).to_numpy()
        if not keep.all():
            logger.info("item pool: %d item(s) without a knowledge point left out", int((~keep).sum()))
        frame, kps = frame.loc[keep], kps.loc[keep]
        flat = kps.explode()
        names, codes = pd.factorize(flat, sort=True)
        ptr = np.r_[0, np.cumsum(kps.map(len).to_numpy())].astype(np.int64)
        n = len(frame)
        labels = _column(frame, "difficulty", 3, np.int8)
        pool = cls(
            ids=frame["id"].astype(str).to_numpy(dtype=object),
            subjects=frame["subject"].astype(str).str.lower().to_numpy(dtype=object)
            if "subject" in frame else np.full(n, "", dtype=object),
            grades=_column(frame, "grade", 0, np.int8),
            minutes=_column(frame, "minutes", np.nan, np.float64),
            difficulty=labels,
            kp_names=tuple(str(k) for k in codes),
            kp_ptr=ptr,
            kp_idx=np.asarray(names, dtype=np.int32),
            easiness=-difficulty_scale * (labels.astype(np.float64) - 3.0) + 0.0,
            calibrated=np.zeros(n, dtype=bool),
            label_scale=difficulty_scale,
            difficulty_scale=difficulty_scale,
        )
        if np.isnan(pool.minutes).any() or (pool.minutes <= 0).any():
            raise DataFormatError("<item pool>: field 'minutes': every item needs positive estimated minutes")
        pool._index()
        return pool

    def __len__(self) -> int:
        return int(self.ids.size)

    def _index(self) -> None:
        self._pos = {item: i for i, item in enumerate(self.ids.tolist())}
        self._kp_code = {k: i for i, k in enumerate(self.kp_names)}
        owner = np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.kp_ptr))
        order = np.argsort(self.kp_idx, kind="stable")
        bounds = np.searchsorted(self.kp_idx[order], np.arange(len(self.kp_names) + 1))
        self._kp_items = [owner[order[a:b]] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        self._scopes.clear()

    def positions(self, item_ids: Iterable[Hashable], *, strict: bool = True) -> np.ndarray:
        """Pool positions of ``item_ids``; an unknown id is a :class:`DataFormatError` (or skipped)."""
        out = []
        for item in item_ids:
            pos = self._pos.get(str(item))
            if pos is None:
                if strict:
                    raise DataFormatError(f"<item pool>: field 'item_id': {item!r} is not in the pool")
                continue
            out.append(pos)
        return np.asarray(out, dtype=np.int64)

    def knowledge_points_of(self, position: int) -> tuple[str, ...]:
        return tuple(self.kp_names[k] for k in self.kp_idx[self.kp_ptr[position]:self.kp_ptr[position + 1]])

    def predict(self, mastery: Mapping[str, float], positions: np.ndarray, default: float = 0.5) -> np.ndarray:
        """Predicted P(correct) on each item from mastery (P(correct) on a typical item) per knowledge point."""
        table = np.array([logit(mastery.get(k, default)) for k in self.kp_names]) if self.kp_names else np.zeros(0)
        return self.predict_logits(table, positions)

    def predict_logits(self, kp_logits: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Like :meth:`predict`, with mastery as a logit per knowledge-point code (internal fast path)."""
        positions = np.asarray(positions, dtype=np.int64)
        starts, ends = self.kp_ptr[positions], self.kp_ptr[positions + 1]
        lengths = ends - starts
        if not positions.size or bool(np.all(lengths == 1)):
            mean = kp_logits[self.kp_idx[starts]]
        else:  # several points per item: gather every (item, point) pair and average per item
            first = np.r_[0, np.cumsum(lengths)[:-1]]
            flat = np.repeat(starts - first, lengths) + np.arange(int(lengths.sum()))
            mean = np.add.reduceat(kp_logits[self.kp_idx[flat]], first) / lengths
        return sigmoid(mean + self.easiness[positions])

    def scoped(self, subject: str | None, max_grade: int | None, min_grade: int | None) -> ScopedItems:
        """The items of this subject and grade range, per knowledge point, sorted by easiness (cached)."""
        key = (subject, max_grade, min_grade)
        if key not in self._scopes:
            keep = np.ones(len(self), dtype=bool)
            if subject:
                keep &= self.subjects == subject.lower()
            if max_grade is not None:
                keep &= self.grades <= max_grade
            if min_grade is not None:
                keep &= self.grades >= min_grade
            if len(self._scopes) > 16:
                self._scopes.clear()
            self._scopes[key] = ScopedItems(self, keep)
        return self._scopes[key]

    def calibrate(self, responses: pd.DataFrame, *, prior_strength: float = 10.0) -> ItemPool:
        """Item easiness re-estimated from a response log (``item_id``, ``correct``; rows of unknown items
        are ignored); returns ``self``.

        An item's offset is one Newton step of its intercept from its knowledge points' mean logit success
        rate. The label scale (logits per difficulty label) is the slope of those offsets on the labels,
        weighted by their information; the offsets are not shrunk before that fit (shrinking them towards 0
        pulled the slope towards 0: a 0.1-logit scale after a cold start), and the scale never falls below
        half the scale the pool was built with (``difficulty_scale``), so a few answers cannot erase what the labels say. Each
        item's easiness is then its offset shrunk towards the label's easiness with ``prior_strength``
        pseudo-answers; uncalibrated items follow the refitted labels.

        Ten items whose answers show no trend with their labels (items 0 and 5 were never right):

        >>> frame = pd.DataFrame({"id": list("abcdefghij"), "knowledge_points": "x", "difficulty": [1, 2, 3, 4, 5] * 2,
        ...                       "minutes": 2.0})
        >>> log = pd.DataFrame({"item_id": list("abcdefghij") * 8, "correct": [0.0, 1, 1, 1, 1] * 16})
        >>> pool = ItemPool.from_frame(frame).calibrate(log)
        >>> round(pool.label_scale, 2), bool(pool.easiness[0] < pool.easiness[1])
        (0.3, True)
        """
        if not {"item_id", "correct"} <= set(responses.columns):
            raise DataFormatError("<responses>: field 'item_id': calibration needs item_id and correct columns")
        pos = responses["item_id"].astype(str).map(self._pos)
        known = pos.notna().to_numpy()
        pos_arr = pos[known].to_numpy(dtype=np.int64)
        y = responses["correct"].to_numpy(dtype=np.float64)[known]
        base = self._kp_base_logit(pos_arr, y)
        n = np.bincount(pos_arr, minlength=len(self)).astype(np.float64)
        resid_sum = np.bincount(pos_arr, weights=y - sigmoid(base), minlength=len(self))
        seen = n > 0
        curv = np.bincount(pos_arr, weights=sigmoid(base) * (1 - sigmoid(base)), minlength=len(self))
        labels = self.difficulty.astype(np.float64) - 3.0
        scale = self.label_scale
        if seen.sum() >= 10 and labels[seen].var() > 0:
            raw = resid_sum[seen] / np.maximum(curv[seen], 1e-6)
            slope = float(np.polyfit(labels[seen], np.clip(raw, -4.0, 4.0), 1, w=np.sqrt(curv[seen]))[0])
            scale = max(-slope, 0.5 * self.difficulty_scale)
        prior = -scale * labels
        strength = 0.25 * prior_strength
        easiness = (resid_sum + strength * prior) / (curv + strength)
        self.easiness = np.where(seen, easiness, prior)
        self.calibrated = seen
        self.label_scale = scale
        self._scopes.clear()
        logger.info("item pool: calibrated %d of %d items; label scale %.3f", int(seen.sum()), len(self), scale)
        return self

    def recalibrated(self, responses: pd.DataFrame, *, prior_strength: float = 10.0) -> ItemPool:
        """A copy calibrated on ``responses`` (:meth:`calibrate`), from the labels; ``self`` is unchanged,
        so a cached pool can be shared while each class's answers calibrate its own copy."""
        copy = replace(self, easiness=-self.difficulty_scale * (self.difficulty.astype(np.float64) - 3.0) + 0.0,
                       calibrated=np.zeros(len(self), dtype=bool), label_scale=self.difficulty_scale, _scopes={})
        return copy.calibrate(responses, prior_strength=prior_strength)

    def _kp_base_logit(self, pos: np.ndarray, y: np.ndarray) -> np.ndarray:
        first_kp = self.kp_idx[self.kp_ptr[pos]]
        n = np.bincount(first_kp, minlength=len(self.kp_names)).astype(np.float64)
        hits = np.bincount(first_kp, weights=y, minlength=len(self.kp_names))
        rate = (hits + 1) / (n + 2)
        return logit(rate[first_kp])


def _kp_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(";") if part.strip())
    if isinstance(value, Sequence | np.ndarray):
        return tuple(str(v) for v in value)
    return ()


def _column(frame: pd.DataFrame, name: str, default: float, dtype: Any) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), default, dtype=dtype)
    values = pd.to_numeric(frame[name], errors="coerce")
    if values.isna().any() and not np.isnan(default):
        values = values.fillna(default)
    return values.to_numpy(dtype=dtype)
