"""History features of each response, from that student's EARLIER responses only.

Two implementations of one definition: :func:`history_features` computes every row of an encoded log
at once (numpy scans that advance every group one step at a time), :class:`StudentHistory` keeps one student's
running state so that a new graded response is applied in microseconds (``partial_fit``). The tests
check that both give the same numbers on real sequences.

The feature set extends "Best-LR" (Gervet et al. 2020) with per-item difficulty from the training
students, exponentially decayed success rates ("R-PFA"/"PFA-decay") overall and per skill, the
student's running residual against item difficulty (an online ability estimate), recency of each
skill (attempts since its last attempt) and the last outcome overall, per skill and per item.
Attempts are the clock: the AKT files carry no timestamps.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recommender._log import EncodedLog

STUDENT_DECAYS = (0.5, 0.8, 0.95)
SKILL_DECAYS = (0.5, 0.8)
RESID_DECAY = 0.95
THETA_DECAYS = (0.9, 0.97)
MF_DECAY = 0.95
_NO_SKILL = 1 << 62  # run key of a response whose first skill is unknown to the encoder

FEATURE_NAMES = (
    "item_logit", "item_log_n", "skill_logit", "n_skills",
    "s_log_n", "s_log_c", "s_rate", "s_dec50", "s_dec80", "s_dec95", "s_resid", "s_resid_dec",
    "s_last1", "s_last2", "s_last3", "run_n", "run_rate",
    "k_log_n", "k_log_c", "k_rate", "k_dec50", "k_dec80", "k_resid", "k_last", "k_since",
    "k_streak", "k_wrong_streak",
    "i_log_n", "i_rate", "i_last",
    "irt_logit", "s_theta", "s_theta90", "s_theta97", "irt_pred",
    "irt2_a", "irt2_b", "s_theta2", "irt2_pred", "irt2_pred90",
    "mf_pred", "mf_pred95",
)  # fmt: skip
N_FEATURES = len(FEATURE_NAMES)
_SKILL_FEATURES = FEATURE_NAMES[17:27]


@dataclass(frozen=True)
class Priors:
    """Per-response priors from the training students: item logit, log item count, item P(correct)."""

    item_logit: np.ndarray
    item_log_n: np.ndarray
    item_p: np.ndarray
    skill_p: np.ndarray  # per skill entry (CSR order)
    global_p: float
    irt_logit: np.ndarray  # 1PL logit of an average student on the item
    irt2_a: np.ndarray  # 2PL discrimination of the item
    irt2_b: np.ndarray  # 2PL difficulty of the item
    item_u: np.ndarray  # (n, K) latent factors of the item (residual matrix factorisation)


def _starts(*keys: np.ndarray) -> np.ndarray:
    if keys[0].size == 0:
        return np.zeros(0, dtype=bool)
    change = np.zeros(keys[0].size, dtype=bool)
    change[0] = True
    for k in keys:
        change[1:] |= k[1:] != k[:-1]
    return change


def _group_start_index(starts: np.ndarray) -> np.ndarray:
    idx = np.where(starts, np.arange(starts.size), 0)
    return np.maximum.accumulate(idx) if idx.size else idx


class _Seg:
    """Contiguous groups (a start mask) and, per offset k inside a group, the elements at offset k.

    Scans advance all groups one offset at a time, so each group's sums are computed from its own
    elements only: no floating-point residue of other rows (not even later rows of another group).
    """

    def __init__(self, starts: np.ndarray) -> None:
        self.mask = starts
        self.gs = _group_start_index(starts)
        offset = np.arange(starts.size) - self.gs
        order = np.argsort(offset, kind="stable")
        counts = np.bincount(offset) if offset.size else np.zeros(0, np.int64)
        self.steps = np.split(order, np.cumsum(counts)[:-1]) if counts.size else []

    def inclusive(self, x: np.ndarray, lam: float = 1.0) -> np.ndarray:
        """v_t = lam * v_{t-1} + x_t within each group (x may be 2-D: one scan per column)."""
        v = x.astype(float).copy()
        for idx in self.steps[1:]:
            v[idx] = lam * v[idx - 1] + v[idx]
        return v


def _exclusive_cumsum(x: np.ndarray, st: _Seg) -> np.ndarray:
    """Sum of x over the earlier elements of each element's group."""
    return _previous(st.inclusive(x), st, missing=0.0)


def _exclusive_decayed(x: np.ndarray, st: _Seg, lam: float) -> np.ndarray:
    """sum_{j<t, same group} lam**(t-1-j) * x_j."""
    return _previous(st.inclusive(x, lam), st, missing=0.0)


def _previous(x: np.ndarray, st: _Seg, missing: float = -1.0, lag: int = 1) -> np.ndarray:
    """x of the element ``lag`` places earlier in the same group, else ``missing``."""
    out = np.full(x.shape, missing, dtype=float)
    if len(x) > lag:
        out[lag:] = x[:-lag]
        out[np.arange(len(x)) - st.gs < lag] = missing
    return out


def _exclusive_streak(hit: np.ndarray, st: _Seg) -> np.ndarray:
    """Number of consecutive ``hit`` elements right before each element, within its group."""
    t = np.arange(hit.size)
    marker = np.where(~hit, t, np.where(st.mask, t - 1, -1))
    inclusive = t - np.maximum.accumulate(marker) if t.size else t
    return _previous(inclusive.astype(float), st, missing=0.0)


def _student_block(enc: EncodedLog, pri: Priors) -> dict[str, np.ndarray]:
    y, g = enc.correct, pri.global_p
    st = _Seg(enc.student_starts())
    ones = np.ones_like(y)
    n, c = _exclusive_cumsum(ones, st), _exclusive_cumsum(y, st)
    resid = y - pri.item_p
    f = {"s_log_n": np.log1p(n), "s_log_c": np.log1p(c), "s_rate": (c + 2 * g) / (n + 2)}
    for name, lam in zip(("s_dec50", "s_dec80", "s_dec95"), STUDENT_DECAYS, strict=True):
        f[name] = (_exclusive_decayed(y, st, lam) + g) / (_exclusive_decayed(ones, st, lam) + 1)
    f["s_resid"] = _exclusive_cumsum(resid, st) / (n + 5)
    dn = _exclusive_decayed(ones, st, RESID_DECAY)
    f["s_resid_dec"] = _exclusive_decayed(resid, st, RESID_DECAY) / (dn + 2)
    for lag in (1, 2, 3):
        f[f"s_last{lag}"] = _previous(y, st, lag=lag)
    first_skill = enc.skill_idx[enc.skill_ptr[:-1]] if enc.n else np.zeros(0, np.int64)
    run_st = _Seg(_starts(enc.student, first_skill))
    run_n = _exclusive_cumsum(ones, run_st)
    f["run_n"] = np.log1p(run_n)
    f["run_rate"] = (_exclusive_cumsum(y, run_st) + g) / (run_n + 1)
    return f


def _skill_block(enc: EncodedLog, pri: Priors) -> dict[str, np.ndarray]:
    owner = enc.skill_owner()
    pos = np.arange(enc.n) - _group_start_index(enc.student_starts())
    stud, skill = enc.student[owner], enc.skill_idx
    perm = np.lexsort((owner, skill, stud))
    st = _Seg(_starts(stud[perm], skill[perm]))
    y = enc.correct[owner][perm]
    pk = pri.skill_p[perm]
    resid = y - pri.item_p[owner][perm]
    ones = np.ones_like(y)
    n, c = _exclusive_cumsum(ones, st), _exclusive_cumsum(y, st)
    cols = [np.log1p(n), np.log1p(c), (c + 2 * pk) / (n + 2)]
    for lam in SKILL_DECAYS:
        cols.append((_exclusive_decayed(y, st, lam) + pk) / (_exclusive_decayed(ones, st, lam) + 1))
    cols.append(_exclusive_cumsum(resid, st) / (n + 3))
    cols.append(_previous(y, st))
    p = pos[owner][perm].astype(float)
    since = p - _previous(p, st, missing=np.nan)
    cols.append(np.where(np.isnan(since), -1.0, np.log1p(since)))
    cols.append(_exclusive_streak(y >= 0.5, st))
    cols.append(_exclusive_streak(y < 0.5, st))
    pair = np.empty((perm.size, len(cols)))
    pair[perm] = np.column_stack(cols)
    if not enc.n:
        return {name: np.zeros(0) for name in _SKILL_FEATURES}
    mean = np.add.reduceat(pair, enc.skill_ptr[:-1], axis=0) / np.diff(enc.skill_ptr)[:, None]
    return dict(zip(_SKILL_FEATURES, mean.T, strict=True))


def _item_block(enc: EncodedLog, pri: Priors) -> dict[str, np.ndarray]:
    perm = np.lexsort((np.arange(enc.n), enc.item, enc.student))
    st = _Seg(_starts(enc.student[perm], enc.item[perm]))
    y = enc.correct[perm]
    n, c = _exclusive_cumsum(np.ones_like(y), st), _exclusive_cumsum(y, st)
    out = {}
    for name, col in (("i_log_n", np.log1p(n)), ("i_rate", (c + pri.item_p[perm]) / (n + 1)),
                      ("i_last", _previous(y, st))):
        out[name] = np.empty(enc.n)
        out[name][perm] = col
    return out


def _irt_block(enc: EncodedLog, pri: Priors) -> dict[str, np.ndarray]:
    """One Newton step from ability 0 given the earlier responses: an online 1PL ability estimate."""
    st = _Seg(enc.student_starts())
    p = 1.0 / (1.0 + np.exp(-pri.irt_logit))
    r, h = enc.correct - p, p * (1 - p)
    theta = _exclusive_cumsum(r, st) / (_exclusive_cumsum(h, st) + 1.0)
    f = {"irt_logit": pri.irt_logit, "s_theta": theta, "irt_pred": pri.irt_logit + theta}
    for name, lam in zip(("s_theta90", "s_theta97"), THETA_DECAYS, strict=True):
        f[name] = _exclusive_decayed(r, st, lam) / (_exclusive_decayed(h, st, lam) + 1.0)
    a, b = pri.irt2_a, pri.irt2_b
    p2 = 1.0 / (1.0 + np.exp(-a * (0.0 - b)))
    r2, h2 = a * (enc.correct - p2), a * a * p2 * (1 - p2)
    theta2 = _exclusive_cumsum(r2, st) / (_exclusive_cumsum(h2, st) + 1.0)
    theta2_90 = _exclusive_decayed(r2, st, THETA_DECAYS[0]) / (_exclusive_decayed(h2, st, THETA_DECAYS[0]) + 1.0)
    f.update({"irt2_a": a, "irt2_b": b, "s_theta2": theta2, "irt2_pred": a * (theta2 - b),
              "irt2_pred90": a * (theta2_90 - b)})
    # residual factorisation: earlier residuals (after ability) projected on item factors
    resid = (enc.correct - 1.0 / (1.0 + np.exp(-f["irt_pred"])))[:, None]
    dot, dot_dec = np.zeros(enc.n), np.zeros(enc.n)
    for c in range(0, pri.item_u.shape[1], 8):  # 8 factors at a time bounds the memory
        u = pri.item_u[:, c:c + 8].astype(float)
        dot += np.sum(u * _exclusive_cumsum(u * resid, st), axis=1)
        dot_dec += np.sum(u * _exclusive_decayed(u * resid, st, MF_DECAY), axis=1)
    f["mf_pred"] = dot / (_exclusive_cumsum(np.ones(enc.n), st) + 5)
    f["mf_pred95"] = dot_dec / (_exclusive_decayed(np.ones(enc.n), st, MF_DECAY) + 5)
    return f


def history_features(enc: EncodedLog, pri: Priors) -> np.ndarray:
    """Feature matrix (n_responses x N_FEATURES) in encoded order; row t sees only rows before t."""
    lengths = np.diff(enc.skill_ptr)
    sp = np.clip(pri.skill_p, 1e-4, 1 - 1e-4)
    f = {"item_logit": pri.item_logit, "item_log_n": pri.item_log_n, "n_skills": lengths.astype(float)}
    f["skill_logit"] = (np.add.reduceat(np.log(sp / (1 - sp)), enc.skill_ptr[:-1]) / lengths
                        if enc.n else np.zeros(0))
    f.update(_student_block(enc, pri))
    f.update(_skill_block(enc, pri))
    f.update(_item_block(enc, pri))
    f.update(_irt_block(enc, pri))
    return np.column_stack([f[name] for name in FEATURE_NAMES]) if enc.n else np.zeros((0, N_FEATURES))


_NEW_SKILL = (0.0, 0.0, None, None, None, 0.0, -1.0, -1.0, 0.0, 0.0)


@dataclass
class StudentHistory:
    """One student's running state; ``features`` then ``update`` reproduce :func:`history_features`.

    >>> h = StudentHistory()
    >>> h.update(("fractions",), "q1", 1.0, (0.4, 3.0, 0.6, 0.4, 1.0, -0.4, np.array([0.1, -0.2])))
    >>> h.n, h.skills["fractions"][:2]
    (1.0, [1.0, 1.0])
    """

    n: float = 0.0
    c: float = 0.0
    resid: float = 0.0
    last: list[float] = field(default_factory=lambda: [-1.0, -1.0, -1.0])
    dec_c: list[float] = field(default_factory=lambda: [0.0] * len(STUDENT_DECAYS))
    dec_n: list[float] = field(default_factory=lambda: [0.0] * len(STUDENT_DECAYS))
    dec_resid: float = 0.0
    run_key: Hashable = None
    run_n: float = 0.0
    run_c: float = 0.0
    theta_r: float = 0.0
    theta_h: float = 0.0
    dec_theta_r: list[float] = field(default_factory=lambda: [0.0] * len(THETA_DECAYS))
    dec_theta_h: list[float] = field(default_factory=lambda: [0.0] * len(THETA_DECAYS))
    theta2: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])  # 2PL: r, h, r decayed, h decayed
    mf_s: np.ndarray | None = None  # sum of item factors x residuals (None until the first response)
    mf_s_dec: np.ndarray | None = None
    mf_dec_n: float = 0.0
    # skill -> [n, c, resid, last, last_pos, streak, wrong_streak, dec_c..., dec_n...]
    skills: dict[Hashable, list[float]] = field(default_factory=dict)
    items: dict[Hashable, list[float]] = field(default_factory=dict)  # item -> [n, c, last]

    def features(self, skills: Sequence[Hashable], item: Hashable, pri_row: Sequence[Any],
                 skill_p: Sequence[float], global_p: float) -> np.ndarray:
        """Feature row for a response to ``item`` (skills ``skills``) given everything seen so far.

        ``pri_row`` = (item logit, log item count, item P(correct), 1PL logit, 2PL a, 2PL b, item factors).
        """
        item_logit, item_log_n, item_p, irt_logit, a2, b2, u = pri_row
        n, c, g = self.n, self.c, global_p
        sp = np.clip(np.asarray(skill_p, dtype=float), 1e-4, 1 - 1e-4)
        f = {"item_logit": item_logit, "item_log_n": item_log_n, "n_skills": float(len(skills)),
             "skill_logit": float(np.mean(np.log(sp / (1 - sp)))),
             "s_log_n": np.log1p(n), "s_log_c": np.log1p(c), "s_rate": (c + 2 * g) / (n + 2),
             "s_resid": self.resid / (n + 5),
             "s_resid_dec": self.dec_resid / (self.dec_n[STUDENT_DECAYS.index(RESID_DECAY)] + 2),
             "s_last1": self.last[0], "s_last2": self.last[1], "s_last3": self.last[2]}
        for k, name in enumerate(("s_dec50", "s_dec80", "s_dec95")):
            f[name] = (self.dec_c[k] + g) / (self.dec_n[k] + 1)
        run_n, run_c = (self.run_n, self.run_c) if skills[0] == self.run_key else (0.0, 0.0)
        f["run_n"], f["run_rate"] = np.log1p(run_n), (run_c + g) / (run_n + 1)
        rows = [self._skill_row(s, p) for s, p in zip(skills, skill_p, strict=True)]
        f.update(zip(_SKILL_FEATURES, np.mean(rows, axis=0), strict=True))
        theta = self.theta_r / (self.theta_h + 1.0)
        f["irt_logit"], f["s_theta"], f["irt_pred"] = irt_logit, theta, irt_logit + theta
        f["s_theta90"], f["s_theta97"] = (r / (h + 1.0) for r, h in zip(self.dec_theta_r, self.dec_theta_h, strict=True))
        theta2 = self.theta2[0] / (self.theta2[1] + 1.0)
        theta2_90 = self.theta2[2] / (self.theta2[3] + 1.0)
        f.update({"irt2_a": a2, "irt2_b": b2, "s_theta2": theta2, "irt2_pred": a2 * (theta2 - b2),
                  "irt2_pred90": a2 * (theta2_90 - b2)})
        nd = self.mf_dec_n
        f["mf_pred"] = float(np.dot(u, self.mf_s)) / (n + 5) if self.mf_s is not None else 0.0
        f["mf_pred95"] = float(np.dot(u, self.mf_s_dec)) / (nd + 5) if self.mf_s_dec is not None else 0.0
        it = self.items.get(item)
        f["i_log_n"], f["i_rate"], f["i_last"] = (
            (0.0, item_p, -1.0) if it is None else (np.log1p(it[0]), (it[1] + item_p) / (it[0] + 1), it[2])
        )
        return np.array([f[name] for name in FEATURE_NAMES])

    def _skill_row(self, skill: Hashable, pk: float) -> list[float]:
        s = self.skills.get(skill)
        if s is None:
            return [0.0, 0.0, pk, pk, pk, 0.0, -1.0, -1.0, 0.0, 0.0]
        n, c, resid, last, last_pos, streak, wrong = s[:7]
        nd = len(SKILL_DECAYS)
        decs = [(s[7 + k] + pk) / (s[7 + nd + k] + 1) for k in range(nd)]
        return [np.log1p(n), np.log1p(c), (c + 2 * pk) / (n + 2), *decs, resid / (n + 3), last,
                float(np.log1p(self.n - last_pos)), streak, wrong]

    def update(self, skills: Sequence[Hashable], item: Hashable, correct: float, pri_row: Sequence[Any]) -> None:
        """Apply one graded response (no refit; a few microseconds); ``pri_row`` as in :meth:`features`."""
        item_p, irt_logit, a2, b2, u = pri_row[2], pri_row[3], pri_row[4], pri_row[5], pri_row[6]
        self._update_factors(u, correct, irt_logit)
        p2 = 1.0 / (1.0 + math.exp(a2 * b2))
        r2, h2 = a2 * (correct - p2), a2 * a2 * p2 * (1 - p2)
        lam = THETA_DECAYS[0]
        t2 = self.theta2
        t2[0], t2[1], t2[2], t2[3] = t2[0] + r2, t2[1] + h2, lam * t2[2] + r2, lam * t2[3] + h2
        p = 1.0 / (1.0 + math.exp(-irt_logit))
        self.theta_r += correct - p
        self.theta_h += p * (1 - p)
        for k, lam in enumerate(THETA_DECAYS):
            self.dec_theta_r[k] = lam * self.dec_theta_r[k] + correct - p
            self.dec_theta_h[k] = lam * self.dec_theta_h[k] + p * (1 - p)
        r = correct - item_p
        hit = correct >= 0.5
        for k, lam in enumerate(STUDENT_DECAYS):
            self.dec_c[k] = lam * self.dec_c[k] + correct
            self.dec_n[k] = lam * self.dec_n[k] + 1.0
        self.dec_resid = RESID_DECAY * self.dec_resid + r
        nd = len(SKILL_DECAYS)
        for skill in dict.fromkeys(skills):
            s = self.skills.setdefault(skill, [0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0] + [0.0] * (2 * nd))
            s[0] += 1
            s[1] += correct
            s[2] += r
            s[3] = correct
            s[4] = self.n
            s[5] = s[5] + 1 if hit else 0.0
            s[6] = 0.0 if hit else s[6] + 1
            for k, lam in enumerate(SKILL_DECAYS):
                s[7 + k] = lam * s[7 + k] + correct
                s[7 + nd + k] = lam * s[7 + nd + k] + 1.0
        it = self.items.setdefault(item, [0.0, 0.0, -1.0])
        it[0] += 1
        it[1] += correct
        it[2] = correct
        if skills[0] == self.run_key:
            self.run_n += 1
            self.run_c += correct
        else:
            self.run_key, self.run_n, self.run_c = skills[0], 1.0, correct
        self.n += 1
        self.c += correct
        self.resid += r
        self.last = [correct, *self.last[:2]]

    def _update_factors(self, u: np.ndarray, correct: float, irt_logit: float) -> None:
        theta = self.theta_r / (self.theta_h + 1.0)
        ur = u * (correct - 1.0 / (1.0 + math.exp(-(irt_logit + theta))))
        if self.mf_s is None or self.mf_s_dec is None:
            self.mf_s, self.mf_s_dec = ur, ur.copy()
        else:
            self.mf_s = self.mf_s + ur
            self.mf_s_dec = MF_DECAY * self.mf_s_dec + ur
        self.mf_dec_n = MF_DECAY * self.mf_dec_n + 1.0
