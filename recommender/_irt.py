"""Item response theory (1PL/2PL) with an online Gaussian ability filter: cold start and exam data.

Item parameters come from a joint MAP fit on the training students. A student's ability is a
Gaussian belief N(m, 1/P), starting at the population prior N(0, 1); each graded response makes one
Laplace (Newton) step: ``P += a^2 p (1-p)``, ``m += a (y - p) / P`` - an Elo rating whose step size
shrinks as evidence accumulates. That step is the whole of ``partial_fit``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from recommender import _json
from recommender._errors import NotFittedError
from recommender._log import (
    EncodedLog,
    build_vocab,
    each_response,
    encode,
    skill_vocab_of,
    validate_responses,
)
from recommender._results import SkillMastery

logger = logging.getLogger(__name__)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def _p(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-min(max(float(z), -30.0), 30.0)))


def fit_2pl(student: np.ndarray, item: np.ndarray, y: np.ndarray, n_items: int, *, two_pl: bool,
            iters: int = 40, l2: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Joint MAP fit of ``P = sigmoid(a_i (theta_s - b_i))`` with N(0, 1/l2) priors; returns (a, b)."""
    ns = int(student.max()) + 1 if student.size else 0
    theta, a, b = np.zeros(ns), np.ones(n_items), np.zeros(n_items)
    for _ in range(iters):
        ai, z = a[item], theta[student] - b[item]
        p = _sigmoid(ai * z)
        theta += np.clip((np.bincount(student, ai * (y - p), ns) - theta)
                         / (np.bincount(student, ai**2 * p * (1 - p), ns) + 1.0), -1, 1)
        ai, z = a[item], theta[student] - b[item]
        p = _sigmoid(ai * z)
        grad_b = np.bincount(item, -ai * (y - p), n_items) - l2 * b
        b += np.clip(grad_b / (np.bincount(item, ai**2 * p * (1 - p), n_items) + l2), -1, 1)
        if two_pl:
            p = _sigmoid(a[item] * (theta[student] - b[item]))
            z = theta[student] - b[item]
            grad_a = np.bincount(item, z * (y - p), n_items) - l2 * (a - 1)
            a = np.clip(a + np.clip(grad_a / (np.bincount(item, z**2 * p * (1 - p), n_items) + l2), -0.5, 0.5),
                        0.05, 5.0)
    return a, b


class IRT:
    """1PL/2PL item response model; held-out students are predicted online through their sequence.

    >>> log = read_exam_matrix(FIXTURES / "kt" / "frcsub_sample")
    >>> model = IRT(two_pl=True, random_state=0).fit(log)
    >>> p = model.predict_proba(log); bool(((p > 0) & (p < 1)).all())
    True
    """

    def __init__(self, *, two_pl: bool = False, l2: float = 1.0, random_state: int | None = None) -> None:
        self.two_pl = two_pl
        self.l2 = l2
        self.random_state = random_state  # the fit is deterministic; kept for the common contract

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"two_pl": self.two_pl, "l2": self.l2, "random_state": self.random_state}

    def fit(self, responses: pd.DataFrame) -> IRT:
        """Fit item discrimination ``a_`` and difficulty ``b_``; store every training student's ability."""
        log = validate_responses(responses)
        self.item_ids_ = list(build_vocab(log["item_id"]))
        self.skill_ids_ = list(skill_vocab_of(log))
        self._index()
        enc = encode(log, self._item_vocab, {})
        self.a_, self.b_ = fit_2pl(enc.student, enc.item, enc.correct, len(self.item_ids_),
                                   two_pl=self.two_pl, l2=self.l2)
        self._fit_skill_items(log)
        self.states_: dict[Hashable, list[float]] = {}
        self.partial_fit(log)
        return self

    def _fit_skill_items(self, log: pd.DataFrame) -> None:
        """Mean (a, b) of each skill's items: the "typical item" that :meth:`mastery` asks about."""
        pairs = log[["item_id", "skill_ids"]].explode("skill_ids").drop_duplicates()
        codes = pairs["item_id"].map(self._item_vocab).to_numpy(np.int64)
        grouped = pd.DataFrame({"skill": pairs["skill_ids"].to_numpy(), "a": self.a_[codes], "b": self.b_[codes]})
        means = grouped.groupby("skill", sort=False)[["a", "b"]].mean()
        self.skill_a_ = np.array([means.loc[k, "a"] for k in self.skill_ids_])
        self.skill_b_ = np.array([means.loc[k, "b"] for k in self.skill_ids_])

    def predict_proba(self, responses: pd.DataFrame) -> np.ndarray:
        """P(correct) of each row from the item parameters and that student's earlier rows only."""
        self._check_fitted()
        log = validate_responses(responses)
        enc = encode(log, self._item_vocab, {})
        a, b = self._item_params(enc)
        p = _online_filter(enc, a, b)
        out = np.empty(enc.n)
        out[enc.order] = p
        return out

    def _item_params(self, enc: EncodedLog) -> tuple[np.ndarray, np.ndarray]:
        known = enc.item < len(self.item_ids_)
        idx = np.where(known, enc.item, 0)
        a = np.where(known, self.a_[idx], float(np.mean(self.a_)))
        b = np.where(known, self.b_[idx], float(np.mean(self.b_)))
        return a, b

    def partial_fit(self, responses: pd.DataFrame) -> IRT:
        """Apply new graded responses (time order) to the students' ability beliefs; no refit."""
        self._check_fitted()
        for student, item, _skills, correct in each_response(responses):
            self.update(student, item, (), correct)
        return self

    def update(self, student_id: Hashable, item_id: Hashable, skill_ids: Sequence[Hashable], correct: float) -> None:
        """One Laplace step of the student's ability belief (a few microseconds)."""
        m, prec, n = self.states_.get(student_id, (0.0, 1.0, 0))
        a, b = self._one_item(item_id)
        p = _p(a * (m - b))
        prec += a * a * p * (1 - p)
        self.states_[student_id] = [m + a * (correct - p) / prec, prec, n + 1]

    def predict_next(self, student_id: Hashable, item_id: Hashable, skill_ids: Sequence[Hashable] = ()) -> float:
        """P(correct) of the student's next response to ``item_id``."""
        self._check_fitted()
        m = self.states_.get(student_id, (0.0, 1.0, 0))[0]
        a, b = self._one_item(item_id)
        return _p(a * (m - b))

    def mastery(self, student_id: Hashable, skill_ids: Sequence[Hashable] | None = None) -> dict[Hashable, SkillMastery]:
        """P(correct) on a typical item of each skill; ``std`` from the ability belief (delta method)."""
        self._check_fitted()
        m, prec, n = self.states_.get(student_id, (0.0, 1.0, 0))
        out = {}
        for k in (self.skill_ids_ if skill_ids is None else skill_ids):
            i = self._skill_vocab.get(k)
            a, b = (self.skill_a_[i], self.skill_b_[i]) if i is not None else (float(np.mean(self.a_)), 0.0)
            p = _p(a * (m - b))
            out[k] = SkillMastery(k, p, float(p * (1 - p) * a / np.sqrt(prec)), int(n))
        return out

    def _one_item(self, item_id: Hashable) -> tuple[float, float]:
        i = self._item_vocab.get(item_id)
        if i is None:
            return float(np.mean(self.a_)), float(np.mean(self.b_))
        return float(self.a_[i]), float(self.b_[i])

    def to_json(self) -> str:
        """Versioned JSON (no pickle)."""
        self._check_fitted()
        state = {"item_ids": _json.ids_to_json(self.item_ids_), "skill_ids": _json.ids_to_json(self.skill_ids_),
                 "a": self.a_, "b": self.b_, "skill_a": self.skill_a_, "skill_b": self.skill_b_,
                 "states": [[s, v] for s, v in self.states_.items()]}
        return _json.dump("IRT", self.get_params(), state)

    @classmethod
    def from_json(cls, text: str) -> IRT:
        params, st = _json.load(text, "IRT")
        model = cls(**params)
        model.item_ids_, model.skill_ids_ = _json.ids_from_json(st["item_ids"]), _json.ids_from_json(st["skill_ids"])
        model._index()
        for name in ("a", "b", "skill_a", "skill_b"):
            setattr(model, name + "_", np.asarray(st[name], dtype=float))
        model.states_ = {_json.ids_from_json([s])[0]: [float(v[0]), float(v[1]), int(v[2])] for s, v in st["states"]}
        return model

    def _index(self) -> None:
        self._item_vocab = {v: i for i, v in enumerate(self.item_ids_)}
        self._skill_vocab = {v: i for i, v in enumerate(self.skill_ids_)}

    def _check_fitted(self) -> None:
        if not hasattr(self, "a_"):
            raise NotFittedError("This IRT is not fitted yet; call fit(responses) first.")


def _online_filter(enc: EncodedLog, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Predictions of every response from the ability belief before it; all students step together."""
    if not enc.n:
        return np.zeros(0)
    starts = np.flatnonzero(enc.student_starts())
    lengths = np.diff(np.r_[starts, enc.n])
    by_len = np.argsort(-lengths, kind="stable")
    m, prec = np.zeros(by_len.size), np.ones(by_len.size)
    out = np.empty(enc.n)
    for t in range(int(lengths.max())):
        n = int(np.sum(lengths > t))
        rows = starts[by_len[:n]] + t
        m, prec = m[:n], prec[:n]
        p = _sigmoid(a[rows] * (m - b[rows]))
        out[rows] = p
        prec = prec + a[rows] ** 2 * p * (1 - p)
        m = m + a[rows] * (enc.correct[rows] - p) / prec
    return out
