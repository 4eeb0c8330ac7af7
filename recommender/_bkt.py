"""Bayesian Knowledge Tracing per knowledge point, fitted by vectorised EM (numpy).

Each (student, skill) sequence is a two-state hidden Markov model: prior P(L0), learn P(T),
optional forget P(F), guess P(G), slip P(S). All sequences of all skills advance together, one time
step per numpy operation (a "time-major" layout: sequences sorted by length, so the sequences still
running at step t are a prefix), so a pass costs O(responses) arithmetic and O(longest sequence)
Python steps.

An item tagged with several skills gives its one label to each of its skills' sequences; its
prediction averages the skills' predictions made BEFORE the label is seen, so no skill's prediction
uses the response's own label.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recommender import _json
from recommender._errors import NotFittedError
from recommender._log import EncodedLog, each_response, encode, skill_vocab_of, validate_responses
from recommender._results import SkillMastery

logger = logging.getLogger(__name__)

_LOW, _HIGH = 1e-4, 1 - 1e-4


@dataclass(frozen=True)
class _Layout:
    """Skill entries of an encoded log arranged time-major (internal)."""

    tm: np.ndarray  # time-major position -> skill entry index
    offsets: np.ndarray  # start of step t in time-major order
    counts: np.ndarray  # sequences still running at step t
    seq_skill: np.ndarray  # skill code of each sequence (sorted by length, longest first)

    @classmethod
    def build(cls, enc: EncodedLog) -> _Layout:
        owner = enc.skill_owner()
        perm = np.lexsort((owner, enc.skill_idx, enc.student[owner]))
        stud, skill = enc.student[owner][perm], enc.skill_idx[perm]
        new = np.r_[True, (stud[1:] != stud[:-1]) | (skill[1:] != skill[:-1])] if perm.size else np.zeros(0, bool)
        seq_of = np.cumsum(new) - 1
        starts = np.flatnonzero(new)
        lengths = np.diff(np.r_[starts, perm.size])
        t = np.arange(perm.size) - starts[seq_of]
        rank = np.empty(lengths.size, dtype=np.int64)
        rank[np.argsort(-lengths, kind="stable")] = np.arange(lengths.size)
        order = np.lexsort((rank[seq_of], t))
        counts = np.bincount(t, minlength=int(lengths.max()) if lengths.size else 0)
        seq_skill = np.empty(lengths.size, dtype=np.int64)
        seq_skill[rank] = skill[starts]
        return cls(perm[order], np.r_[0, np.cumsum(counts)], counts, seq_skill)


@dataclass(frozen=True)
class _Params:
    prior: np.ndarray
    learn: np.ndarray
    forget: np.ndarray
    guess: np.ndarray
    slip: np.ndarray


def _forward(lay: _Layout, y: np.ndarray, par: _Params) -> tuple[np.ndarray, np.ndarray]:
    """Predictive P(known) before each observation and filtered P(known) after it (time-major)."""
    sk = lay.seq_skill
    pred, filt = np.empty(lay.tm.size), np.empty(lay.tm.size)
    pk = par.prior[sk].copy()
    g, s, learn, forget = par.guess[sk], par.slip[sk], par.learn[sk], par.forget[sk]
    for t, n in enumerate(lay.counts):
        a, b = lay.offsets[t], lay.offsets[t] + n
        pk = pk[:n]
        obs = y[a:b]
        e1 = obs * (1 - s[:n]) + (1 - obs) * s[:n]
        e0 = obs * g[:n] + (1 - obs) * (1 - g[:n])
        post = pk * e1 / np.maximum(pk * e1 + (1 - pk) * e0, 1e-300)
        pred[a:b], filt[a:b] = pk, post
        pk = post * (1 - forget[:n]) + (1 - post) * learn[:n]
    return pred, filt


def _backward(lay: _Layout, pred: np.ndarray, filt: np.ndarray, par: _Params) -> tuple[np.ndarray, ...]:
    """Smoothed P(known) and expected transitions (unknown->known, known->unknown) per time-major entry."""
    sk = lay.seq_skill
    gamma = filt.copy()
    learn_x, forget_x = np.zeros(filt.size), np.zeros(filt.size)
    for t in range(len(lay.counts) - 2, -1, -1):
        a = lay.offsets[t]
        a1, n1 = lay.offsets[t + 1], lay.counts[t + 1]
        f = filt[a:a + n1]
        g1, p1 = gamma[a1:a1 + n1], np.clip(pred[a1:a1 + n1], 1e-12, 1 - 1e-12)
        lr, fo = par.learn[sk[:n1]], par.forget[sk[:n1]]
        k_to_k = f * (1 - fo) * g1 / p1
        k_to_u = f * fo * (1 - g1) / (1 - p1)
        u_to_k = (1 - f) * lr * g1 / p1
        gamma[a:a + n1] = k_to_k + k_to_u
        learn_x[a:a + n1], forget_x[a:a + n1] = u_to_k, k_to_u
    return gamma, learn_x, forget_x


class BKT:
    """Bayesian Knowledge Tracing, one parameter set per knowledge point, fitted by EM.

    >>> log = read_akt(FIXTURES / "kt" / "assist2009_pid_sample.csv")
    >>> model = BKT(random_state=0).fit(log)
    >>> round(float(model.predict_proba(log).mean()), 2)
    0.57
    """

    def __init__(self, *, n_iter: int = 30, forgetting: bool = False, tol: float = 1e-4,
                 pseudo_count: float = 2.0, random_state: int | None = None) -> None:
        self.n_iter = n_iter
        self.forgetting = forgetting
        self.tol = tol
        self.pseudo_count = pseudo_count
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"n_iter": self.n_iter, "forgetting": self.forgetting, "tol": self.tol,
                "pseudo_count": self.pseudo_count, "random_state": self.random_state}

    def fit(self, responses: pd.DataFrame) -> BKT:
        """Fit prior, learn, guess, slip (and forget) of every skill; returns ``self``."""
        log = validate_responses(responses)
        self.skill_ids_ = list(skill_vocab_of(log))
        self._skill_vocab = {k: i for i, k in enumerate(self.skill_ids_)}
        enc = encode(log, {}, self._skill_vocab)
        lay = _Layout.build(enc)
        y = enc.correct[enc.skill_owner()][lay.tm]
        par = self._init_params(len(self.skill_ids_), np.random.default_rng(self.random_state))
        skill_tm, not_last = _skill_of_entries(lay), _has_next(lay)
        ll_old, ll, iterations = -np.inf, -np.inf, 0
        for _ in range(self.n_iter):
            iterations += 1
            pred, filt = _forward(lay, y, par)
            ll = _log_likelihood(pred, y, skill_tm, par)
            par = self._m_step(lay, y, pred, filt, par, skill_tm, not_last)
            if abs(ll - ll_old) < self.tol * max(abs(ll), 1.0):
                break
            ll_old = ll
        self.n_iter_, self.log_likelihood_ = iterations, float(ll)
        self.prior_, self.learn_, self.forget_ = par.prior, par.learn, par.forget
        self.guess_, self.slip_ = par.guess, par.slip
        self.states_: dict[Hashable, dict[Hashable, float]] = {}
        self._replay(enc, lay, y, par)
        logger.info("BKT: %d skills, %d EM iterations", len(self.skill_ids_), self.n_iter_)
        return self

    def _init_params(self, k: int, rng: np.random.Generator) -> _Params:
        jitter = rng.uniform(0.9, 1.1, size=(4, k))
        return _Params(0.4 * jitter[0], 0.1 * jitter[1], np.full(k, 0.01 if self.forgetting else 0.0),
                       0.2 * jitter[2], 0.1 * jitter[3])

    def _m_step(self, lay: _Layout, y: np.ndarray, pred: np.ndarray, filt: np.ndarray, par: _Params,
                skill_tm: np.ndarray, not_last: np.ndarray) -> _Params:
        gamma, learn_x, forget_x = _backward(lay, pred, filt, par)
        k, c = len(par.prior), self.pseudo_count
        first = np.zeros(lay.tm.size, bool)
        first[: lay.counts[0] if lay.counts.size else 0] = True
        known, unknown = gamma, 1 - gamma

        def ratio(num: np.ndarray, den: np.ndarray, mask: np.ndarray, prior_mean: float) -> np.ndarray:
            n = np.bincount(skill_tm[mask], num[mask], k) + c * prior_mean
            d = np.bincount(skill_tm[mask], den[mask], k) + c
            return np.clip(n / d, _LOW, _HIGH)

        everywhere = np.ones(lay.tm.size, bool)
        return _Params(
            prior=ratio(known, np.ones(lay.tm.size), first, 0.5),
            learn=ratio(learn_x, unknown, not_last, 0.1),
            forget=ratio(forget_x, known, not_last, 0.01) if self.forgetting else par.forget,
            guess=np.minimum(ratio(unknown * y, unknown, everywhere, 0.2), 0.45),
            slip=np.minimum(ratio(known * (1 - y), known, everywhere, 0.1), 0.45),
        )

    def predict_proba(self, responses: pd.DataFrame) -> np.ndarray:
        """P(correct) of each row from that student's earlier rows (mean over the item's skills)."""
        self._check_fitted()
        log = validate_responses(responses)
        enc = encode(log, {}, self._skill_vocab)
        lay = _Layout.build(enc)
        y = enc.correct[enc.skill_owner()][lay.tm]
        par = self._params_for(enc)
        pred, _ = _forward(lay, y, par)
        skill_tm = _skill_of_entries(lay)
        p_entry = np.empty(lay.tm.size)
        p_entry[lay.tm] = pred * (1 - par.slip[skill_tm]) + (1 - pred) * par.guess[skill_tm]
        p = np.add.reduceat(p_entry, enc.skill_ptr[:-1]) / np.diff(enc.skill_ptr) if enc.n else np.zeros(0)
        out = np.empty(enc.n)
        out[enc.order] = p
        return out

    def _params_for(self, enc: EncodedLog) -> _Params:
        """Fitted parameters extended with population means for skills unseen in training."""
        extra = max(int(enc.skill_idx.max()) + 1 - len(self.prior_), 0) if enc.skill_idx.size else 0
        def ext(a: np.ndarray) -> np.ndarray:
            return np.r_[a, np.full(extra, float(np.mean(a)) if a.size else 0.1)]
        return _Params(ext(self.prior_), ext(self.learn_), ext(self.forget_), ext(self.guess_), ext(self.slip_))

    def partial_fit(self, responses: pd.DataFrame) -> BKT:
        """Apply new graded responses (in time order) to the students' knowledge states; no refit."""
        self._check_fitted()
        for response in each_response(responses):
            self.update(*response)
        return self

    def update(self, student_id: Hashable, item_id: Hashable, skill_ids: Sequence[Hashable], correct: float) -> None:
        """One graded response: a Bayes step then a learn/forget step per skill (microseconds)."""
        state = self.states_.setdefault(student_id, {})
        for k in dict.fromkeys(skill_ids):
            prior, learn, forget, g, s = self._skill_params(k)
            pk = state.get(k, prior)
            e1 = correct * (1 - s) + (1 - correct) * s
            e0 = correct * g + (1 - correct) * (1 - g)
            post = pk * e1 / max(pk * e1 + (1 - pk) * e0, 1e-300)
            state[k] = post * (1 - forget) + (1 - post) * learn

    def predict_next(self, student_id: Hashable, item_id: Hashable, skill_ids: Sequence[Hashable]) -> float:
        """P(correct) of the student's next response on an item with these skills."""
        self._check_fitted()
        state = self.states_.get(student_id, {})
        ps = []
        for k in skill_ids:
            prior, _, _, g, s = self._skill_params(k)
            pk = state.get(k, prior)
            ps.append(pk * (1 - s) + (1 - pk) * g)
        return float(np.mean(ps))

    def mastery(self, student_id: Hashable, skill_ids: Sequence[Hashable] | None = None) -> dict[Hashable, SkillMastery]:
        """P(correct) next on each skill; ``std`` is the spread that the P(known) uncertainty implies."""
        self._check_fitted()
        state = self.states_.get(student_id, {})
        out = {}
        for k in (self.skill_ids_ if skill_ids is None else skill_ids):
            prior, _, _, g, s = self._skill_params(k)
            pk = state.get(k, prior)
            std = float(np.sqrt(pk * (1 - pk)) * abs(1 - s - g))
            n = int(self._counts.get((student_id, k), 0))
            out[k] = SkillMastery(k, float(pk * (1 - s) + (1 - pk) * g), std, n)
        return out

    def _skill_params(self, k: Hashable) -> tuple[float, float, float, float, float]:
        i = self._skill_vocab.get(k)
        if i is None:
            return (float(np.mean(self.prior_)), float(np.mean(self.learn_)), float(np.mean(self.forget_)),
                    float(np.mean(self.guess_)), float(np.mean(self.slip_)))
        return (float(self.prior_[i]), float(self.learn_[i]), float(self.forget_[i]), float(self.guess_[i]),
                float(self.slip_[i]))

    def _replay(self, enc: EncodedLog, lay: _Layout, y: np.ndarray, par: _Params) -> None:
        """Store each training student's state after the last response, from the vectorised filter."""
        pred, filt = _forward(lay, y, par)
        skill_tm = _skill_of_entries(lay)
        last = ~_has_next(lay)
        entry = lay.tm[last]
        owner = enc.skill_owner()[entry]
        nxt = filt[last] * (1 - par.forget[skill_tm[last]]) + (1 - filt[last]) * par.learn[skill_tm[last]]
        counts = _sequence_lengths(lay)[last]
        self._counts: dict[tuple[Hashable, Hashable], int] = {}
        for o, k, p, n in zip(owner, skill_tm[last], nxt, counts, strict=True):
            s = enc.student_keys[enc.student[o]]
            self.states_.setdefault(s, {})[self.skill_ids_[k]] = float(p)
            self._counts[(s, self.skill_ids_[k])] = int(n)

    def to_json(self) -> str:
        """Versioned JSON (no pickle)."""
        self._check_fitted()
        state = {"skill_ids": _json.ids_to_json(self.skill_ids_), "prior": self.prior_, "learn": self.learn_,
                 "forget": self.forget_, "guess": self.guess_, "slip": self.slip_,
                 "n_iter": self.n_iter_, "log_likelihood": self.log_likelihood_,
                 "states": [[s, [[k, p] for k, p in d.items()]] for s, d in self.states_.items()],
                 "counts": [[s, k, n] for (s, k), n in self._counts.items()]}
        return _json.dump("BKT", self.get_params(), state)

    @classmethod
    def from_json(cls, text: str) -> BKT:
        params, st = _json.load(text, "BKT")
        model = cls(**params)
        model.skill_ids_ = _json.ids_from_json(st["skill_ids"])
        model._skill_vocab = {k: i for i, k in enumerate(model.skill_ids_)}
        for name in ("prior", "learn", "forget", "guess", "slip"):
            setattr(model, name + "_", np.asarray(st[name], dtype=float))
        model.n_iter_, model.log_likelihood_ = int(st["n_iter"]), float(st["log_likelihood"])
        model.states_ = {_json.ids_from_json([s])[0]: {_json.ids_from_json([k])[0]: float(p) for k, p in d}
                         for s, d in st["states"]}
        model._counts = {(_json.ids_from_json([s])[0], _json.ids_from_json([k])[0]): int(n) for s, k, n in st["counts"]}
        return model

    def _check_fitted(self) -> None:
        if not hasattr(self, "prior_"):
            raise NotFittedError("This BKT is not fitted yet; call fit(responses) first.")


def _skill_of_entries(lay: _Layout) -> np.ndarray:
    """Skill code of each time-major entry."""
    seq_index = np.concatenate([np.arange(n) for n in lay.counts]) if lay.counts.size else np.zeros(0, np.int64)
    return lay.seq_skill[seq_index]


def _has_next(lay: _Layout) -> np.ndarray:
    """True where the same sequence has a later entry."""
    out = np.zeros(lay.tm.size, bool)
    for t in range(len(lay.counts) - 1):
        out[lay.offsets[t]: lay.offsets[t] + lay.counts[t + 1]] = True
    return out


def _sequence_lengths(lay: _Layout) -> np.ndarray:
    """Length of the sequence each time-major entry belongs to."""
    n_seq = int(lay.counts[0]) if lay.counts.size else 0
    lengths = np.zeros(n_seq, np.int64)
    for n in lay.counts:
        lengths[:n] += 1
    seq_index = np.concatenate([np.arange(n) for n in lay.counts]) if lay.counts.size else np.zeros(0, np.int64)
    return lengths[seq_index]


def _log_likelihood(pred: np.ndarray, y: np.ndarray, sk: np.ndarray, par: _Params) -> float:
    p = np.clip(pred * (1 - par.slip[sk]) + (1 - pred) * par.guess[sk], 1e-12, 1 - 1e-12)
    return float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))
