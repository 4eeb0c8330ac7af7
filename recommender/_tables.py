"""Population tables learned from the training students: item and skill difficulty, a 1PL fit.

The history models turn these into per-response priors (:class:`recommender._features.Priors`).
For the training rows themselves the priors come from the OTHER students only (out-of-fold, by
student), so a model never learns to trust an item difficulty that contains the row's own label.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from recommender._features import Priors
from recommender._irt import fit_2pl
from recommender._log import EncodedLog


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def fit_1pl(
    student: np.ndarray, item: np.ndarray, y: np.ndarray, w: np.ndarray, n_items: int,
    *, iters: int = 20, l2: float = 1.0,
) -> tuple[float, np.ndarray]:
    """Joint maximum a posteriori 1PL (Rasch) fit, ``logit P = mu + theta_s - b_i``, by damped Newton steps.

    Returns ``(mu, b)``; abilities are nuisance parameters here (held-out students get theirs online).

    >>> s = np.array([0, 0, 1, 1]); i = np.array([0, 1, 0, 1]); y = np.array([1., 0., 1., 1.])
    >>> mu, b = fit_1pl(s, i, y, np.ones(4), 2)
    >>> bool(b[1] > b[0])   # item 1 was failed once, so it is harder
    True
    """
    ns = int(student.max()) + 1 if student.size else 0
    theta, b = np.zeros(ns), np.zeros(n_items)
    m = float(np.clip(np.average(y, weights=w), 1e-3, 1 - 1e-3)) if w.sum() else 0.5
    mu = float(np.log(m / (1 - m)))
    for _ in range(iters):
        p = _sigmoid(mu + theta[student] - b[item])
        g, h = w * (y - p), w * p * (1 - p)
        theta += np.clip((np.bincount(student, g, ns) - l2 * theta) / (np.bincount(student, h, ns) + l2), -1, 1)
        p = _sigmoid(mu + theta[student] - b[item])
        g, h = w * (y - p), w * p * (1 - p)
        b -= np.clip((np.bincount(item, g, n_items) + l2 * b) / (np.bincount(item, h, n_items) + l2), -1, 1)
        p = _sigmoid(mu + theta[student] - b[item])
        mu += float(np.clip(np.sum(w * (y - p)) / max(np.sum(w * p * (1 - p)), 1e-9), -1, 1))
    return mu, b


@dataclass(frozen=True)
class PopulationTables:
    """Counts and difficulties from training students; codes index ``item_n``/``skill_p``/``irt_b``."""

    global_p: float
    skill_p: np.ndarray
    item_n: np.ndarray
    item_c: np.ndarray
    irt_mu: float
    irt_b: np.ndarray
    irt2_a: np.ndarray
    irt2_b: np.ndarray
    item_u: np.ndarray  # (n_items, N_FACTORS)
    smoothing: float

    @classmethod
    def fit(cls, enc: EncodedLog, w: np.ndarray, n_items: int, n_skills: int, smoothing: float) -> PopulationTables:
        """Tables from the responses with weight 1 in ``w`` (0 leaves a response out)."""
        y = enc.correct
        g = float(np.sum(w * y) / max(np.sum(w), 1e-9))
        owner = enc.skill_owner()
        known = enc.skill_idx < n_skills
        sk, wk = enc.skill_idx[known], w[owner][known]
        kn = np.bincount(sk, wk, n_skills)
        kc = np.bincount(sk, wk * y[owner][known], n_skills)
        known_i = enc.item < n_items
        item_n = np.bincount(enc.item[known_i], w[known_i], n_items)
        item_c = np.bincount(enc.item[known_i], (w * y)[known_i], n_items)
        mu, b = fit_1pl(enc.student[known_i], enc.item[known_i], y[known_i], w[known_i], n_items)
        used = known_i & (w > 0)
        a2, b2 = fit_2pl(enc.student[used], enc.item[used], y[used], n_items, two_pl=True, iters=20)
        u = item_factors(enc, used, mu - b[np.where(known_i, enc.item, 0)], n_items)
        return cls(g, (kc + smoothing * g) / (kn + smoothing), item_n, item_c, mu, b, a2, b2, u, smoothing)

    def skill_probs(self, skill_codes: np.ndarray) -> np.ndarray:
        k = self.skill_p.size
        known = (skill_codes >= 0) & (skill_codes < k)
        return np.where(known, self.skill_p[np.clip(skill_codes, 0, max(k - 1, 0))], self.global_p)

    def priors(self, enc: EncodedLog) -> Priors:
        """Per-response priors of an encoded log (unknown items fall back to their skills)."""
        skill_p = self.skill_probs(enc.skill_idx)
        lengths = np.diff(enc.skill_ptr)
        p_skills = np.add.reduceat(skill_p, enc.skill_ptr[:-1]) / lengths if enc.n else np.zeros(0)
        ni = self.item_n.size
        known = enc.item < ni
        idx = np.minimum(enc.item, max(ni - 1, 0))
        n = np.where(known, self.item_n[idx], 0.0)
        c = np.where(known, self.item_c[idx], 0.0)
        p = np.clip((c + self.smoothing * p_skills) / (n + self.smoothing), 1e-3, 1 - 1e-3)
        irt = np.where(known, self.irt_mu - self.irt_b[idx], _logit(p_skills))
        a2 = np.where(known, self.irt2_a[idx], self._irt2_default[0])
        b2 = np.where(known, self.irt2_b[idx], self._irt2_default[1])
        u = self.item_u[idx] * known[:, None].astype(np.float32)
        return Priors(np.log(p / (1 - p)), np.log1p(n), p, skill_p, self.global_p, irt, a2, b2, u)

    @cached_property
    def _irt2_default(self) -> tuple[float, float]:
        """2PL parameters of an item never seen in training: the mean item."""
        return (float(np.mean(self.irt2_a)), float(np.mean(self.irt2_b))) if self.irt2_a.size else (1.0, 0.0)

    @cached_property
    def _lists(self) -> tuple[list[float], ...]:
        return (self.skill_p.tolist(), self.item_n.tolist(), self.item_c.tolist(), self.irt_b.tolist(),
                self.irt2_a.tolist(), self.irt2_b.tolist(), list(self.item_u.astype(float)))

    def row_priors(self, item_code: int, skill_codes: Sequence[int]) -> tuple[tuple[Any, ...], list[float]]:
        """Priors of one response, as :meth:`priors` would compute them (online path, plain floats)."""
        skill_list, item_n, item_c, irt_b, irt2_a, irt2_b, item_u = self._lists
        k = len(skill_list)
        skill_p = [skill_list[c] if 0 <= c < k else self.global_p for c in skill_codes]
        p_skills = sum(skill_p) / len(skill_p)
        known = 0 <= item_code < len(item_n)
        n = item_n[item_code] if known else 0.0
        c = item_c[item_code] if known else 0.0
        p = min(max((c + self.smoothing * p_skills) / (n + self.smoothing), 1e-3), 1 - 1e-3)
        ps = min(max(p_skills, 1e-3), 1 - 1e-3)
        irt = self.irt_mu - irt_b[item_code] if known else math.log(ps / (1 - ps))
        a2, b2 = (irt2_a[item_code], irt2_b[item_code]) if known else self._irt2_default
        u = item_u[item_code] if known else np.zeros(self.item_u.shape[1])
        return (math.log(p / (1 - p)), math.log1p(n), p, irt, a2, b2, u), skill_p

    def to_dict(self) -> dict[str, object]:
        return {"global_p": self.global_p, "skill_p": self.skill_p.tolist(), "item_n": self.item_n.tolist(),
                "item_c": self.item_c.tolist(), "irt_mu": self.irt_mu, "irt_b": self.irt_b.tolist(),
                "irt2_a": self.irt2_a.tolist(), "irt2_b": self.irt2_b.tolist(), "item_u": self.item_u.tolist(),
                "smoothing": self.smoothing}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PopulationTables:
        arr = {k: np.asarray(d[k], dtype=float) for k in ("skill_p", "item_n", "item_c", "irt_b", "irt2_a", "irt2_b")}
        u = np.asarray(d["item_u"], dtype=np.float32).reshape(len(arr["irt_b"]), N_FACTORS)
        return cls(float(d["global_p"]), arr["skill_p"], arr["item_n"], arr["item_c"], float(d["irt_mu"]),
                   arr["irt_b"], arr["irt2_a"], arr["irt2_b"], u, float(d["smoothing"]))


N_FACTORS = 32


def item_factors(enc: EncodedLog, used: np.ndarray, irt_logit: np.ndarray, n_items: int) -> np.ndarray:
    """Item factors (n_items x N_FACTORS) of the students x items matrix of residuals after ability.

    The residual of a response is ``y - sigmoid(1PL logit + the student's running ability)``, the same
    quantity the features accumulate; a truncated randomized SVD (scikit-learn, fixed seed, one BLAS thread,
    so every run gives the same factors) gives them,
    scaled by the square root of their singular values. Sign flips of a factor leave every feature unchanged.
    """
    import scipy.sparse as sp
    from sklearn.utils.extmath import randomized_svd

    from recommender._features import _exclusive_cumsum, _Seg

    out = np.zeros((n_items, N_FACTORS), dtype=np.float32)
    st = _Seg(enc.student_starts())
    p = _sigmoid(irt_logit)
    theta = _exclusive_cumsum(enc.correct - p, st) / (_exclusive_cumsum(p * (1 - p), st) + 1.0)
    r = (enc.correct - _sigmoid(irt_logit + theta))[used]
    n_students = int(enc.student.max()) + 1 if enc.n else 0
    k = min(N_FACTORS, n_students - 1, n_items - 1)
    if k < 1 or not used.any():
        return out
    shape = (n_students, n_items)
    coords = (enc.student[used], enc.item[used])
    total = sp.csr_matrix((r, coords), shape=shape)
    count = sp.csr_matrix((np.ones(r.size), coords), shape=shape)
    total.data /= count.data
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):  # same summation order on every run
        _, s, vt = randomized_svd(total, n_components=k, n_iter=5, random_state=0)
    vt *= np.where(np.take_along_axis(vt, np.abs(vt).argmax(axis=1)[:, None], axis=1) < 0, -1.0, 1.0)
    out[:, :k] = vt.T * np.sqrt(np.maximum(s, 0.0))
    return out


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-3, 1 - 1e-3)
    return np.log(p / (1 - p))


def out_of_fold_priors(
    enc: EncodedLog, n_items: int, n_skills: int, smoothing: float, folds: int, rng: np.random.Generator
) -> Priors:
    """Priors of each training response computed from the other students' folds."""
    n_students = int(enc.student.max()) + 1 if enc.n else 0
    fold_of = rng.integers(0, folds, size=n_students)[enc.student]
    owner = enc.skill_owner()
    parts: dict[str, np.ndarray] = {}
    global_p = float(np.mean(enc.correct)) if enc.n else 0.5
    for k in range(folds):
        held = fold_of == k
        pri = PopulationTables.fit(enc, (~held).astype(float), n_items, n_skills, smoothing).priors(enc)
        for name in ("item_logit", "item_log_n", "item_p", "irt_logit", "irt2_a", "irt2_b"):
            parts.setdefault(name, np.zeros(enc.n))[held] = getattr(pri, name)[held]
        parts.setdefault("skill_p", np.zeros(enc.skill_idx.size))[held[owner]] = pri.skill_p[held[owner]]
        parts.setdefault("item_u", np.zeros((enc.n, N_FACTORS), dtype=np.float32))[held] = pri.item_u[held]
    return Priors(parts["item_logit"], parts["item_log_n"], parts["item_p"], parts["skill_p"], global_p,
                  parts["irt_logit"], parts["irt2_a"], parts["irt2_b"], parts["item_u"])


def vocab_codes(vocab: dict[Hashable, int], keys: Sequence[Hashable]) -> list[int]:
    """Codes of ids (-1 for unknown), for the online path."""
    return [vocab.get(k, -1) for k in keys]
