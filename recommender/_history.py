"""Mastery models on history features: :class:`HistoryBoost` (gradient boosting) and :class:`BestLR`.

Both read a response log, build :mod:`recommender._features` for every row from that student's
earlier rows only, and learn P(correct). ``partial_fit`` applies a new graded response to the
student's running state in microseconds; the population model is not refitted.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from recommender import _json
from recommender._errors import NotFittedError
from recommender._features import FEATURE_NAMES, StudentHistory, history_features
from recommender._log import (
    EncodedLog,
    build_vocab,
    each_response,
    encode,
    skill_vocab_of,
    validate_responses,
)
from recommender._results import SkillMastery
from recommender._tables import PopulationTables, out_of_fold_priors

logger = logging.getLogger(__name__)


class _HistoryModel:
    """Shared fit/predict/online/serialisation logic; subclasses supply the estimator."""

    _name = "history"

    def __init__(self, *, smoothing: float = 5.0, oof_folds: int = 5, keep_states: bool = True,
                 random_state: int | None = None) -> None:
        self.smoothing = smoothing
        self.oof_folds = oof_folds
        self.keep_states = keep_states
        self.random_state = random_state

    # --- estimator hooks -------------------------------------------------------------------------
    def _fit_estimator(self, X: np.ndarray, enc: EncodedLog, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _raw_score(self, X: np.ndarray, enc: EncodedLog) -> np.ndarray:
        raise NotImplementedError

    def _estimator_state(self) -> dict[str, Any]:
        raise NotImplementedError

    def _load_estimator(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    # --- public API ------------------------------------------------------------------------------
    def fit(self, responses: pd.DataFrame) -> _HistoryModel:
        """Learn population tables and the estimator from a response log; returns ``self``."""
        log = validate_responses(responses)
        rng = np.random.default_rng(self.random_state)
        self.item_ids_ = list(build_vocab(log["item_id"]))
        self.skill_ids_ = list(skill_vocab_of(log))
        self._index()
        enc = encode(log, self._item_vocab, self._skill_vocab)
        pri = out_of_fold_priors(enc, len(self.item_ids_), len(self.skill_ids_), self.smoothing,
                                 self.oof_folds, rng)
        X = history_features(enc, pri)
        tables = PopulationTables.fit(enc, np.ones(enc.n), len(self.item_ids_), len(self.skill_ids_), self.smoothing)
        self.states_: dict[Hashable, StudentHistory] = {}
        # Replaying the students' histories (pure Python) overlaps with growing the trees (native code
        # that releases the GIL): on 2 cores the fit takes the longer of the two, not their sum.
        replay = _Replay(self, tables, log) if self.keep_states else None
        self._fit_estimator(X, enc, rng)
        if replay is not None:
            replay.join()
        self.tables_ = tables
        logger.info("fitted %s on %d responses", type(self).__name__, enc.n)
        return self

    def predict_proba(self, responses: pd.DataFrame) -> np.ndarray:
        """P(correct) of each row, from the fitted population and that student's earlier rows in ``responses``.

        Rows of students the model has never seen are predicted online through their sequence
        (cold start from the population priors). Returns one probability per row, in row order.
        """
        self._check_fitted()
        log = validate_responses(responses)
        enc = encode(log, self._item_vocab, self._skill_vocab)
        pri = self.tables_.priors(enc)
        p = _sigmoid(self._raw_score(history_features(enc, pri), enc))
        out = np.empty(enc.n)
        out[enc.order] = p
        return out

    def partial_fit(self, responses: pd.DataFrame) -> _HistoryModel:
        """Apply new graded responses (rows in time order) to the students' states, without refitting."""
        self._check_fitted()
        for response in each_response(responses):
            self.update(*response)
        return self

    def update(self, student_id: Hashable, item_id: Hashable, skill_ids: Sequence[Hashable], correct: float) -> None:
        """Apply one graded response to one student's state (the fast path of ``partial_fit``)."""
        self._apply(self.tables_, student_id, item_id, skill_ids, correct)

    def _apply(self, tables: PopulationTables, student_id: Hashable, item_id: Hashable,
               skill_ids: Sequence[Hashable], correct: float) -> None:
        pri_row, _ = tables.row_priors(self._item_vocab.get(item_id, -1),
                                        [self._skill_vocab.get(k, -1) for k in skill_ids])
        state = self.states_.get(student_id)
        if state is None:
            state = self.states_[student_id] = StudentHistory()
        state.update(tuple(skill_ids), item_id, correct, pri_row)

    def predict_next(self, student_id: Hashable, item_id: Hashable, skill_ids: Sequence[Hashable]) -> float:
        """P(correct) of the student's next response to ``item_id``, from the stored state."""
        self._check_fitted()
        skills = tuple(skill_ids)
        X = self._state_row(self.states_.get(student_id) or StudentHistory(), item_id, skills)
        return float(_sigmoid(self._raw_score(X[None, :], self._row_codes([item_id], [skills])))[0])

    def mastery(self, student_id: Hashable, skill_ids: Sequence[Hashable] | None = None) -> dict[Hashable, SkillMastery]:
        """Per knowledge point: P(correct) on a typical (new) item of the skill now, with uncertainty.

        The uncertainty is the spread of a Beta posterior with the prediction as mean and the
        student's responses on the skill as evidence: ``sqrt(p (1 - p) / (n + 3))``.
        """
        self._check_fitted()
        state = self.states_.get(student_id) or StudentHistory()
        skills = list(skill_ids) if skill_ids is not None else self.skill_ids_
        rows = np.array([self._state_row(state, ("__typical__", k), (k,)) for k in skills])
        codes = self._row_codes([("__typical__", k) for k in skills], [(k,) for k in skills])
        p = _sigmoid(self._raw_score(rows, codes)) if skills else np.zeros(0)
        out = {}
        for k, pk in zip(skills, p, strict=True):
            n = int(state.skills[k][0]) if k in state.skills else 0
            out[k] = SkillMastery(k, float(pk), float(np.sqrt(pk * (1 - pk) / (n + 3))), n)
        return out

    def to_json(self) -> str:
        """Versioned JSON of parameters, population tables, estimator and student states (no pickle)."""
        self._check_fitted()
        states = [[s, _state_to_json(h)] for s, h in self.states_.items()]
        state = {"item_ids": _json.ids_to_json(self.item_ids_), "skill_ids": _json.ids_to_json(self.skill_ids_),
                 "tables": self.tables_.to_dict(), "estimator": self._estimator_state(),
                 "states": states, "features": list(FEATURE_NAMES)}
        return _json.dump(type(self).__name__, self.get_params(), state)

    @classmethod
    def from_json(cls, text: str) -> _HistoryModel:
        """Rebuild a model written by :meth:`to_json`; predictions are identical."""
        params, state = _json.load(text, cls.__name__)
        model = cls(**params)
        model.item_ids_ = _json.ids_from_json(state["item_ids"])
        model.skill_ids_ = _json.ids_from_json(state["skill_ids"])
        model._index()
        model.tables_ = PopulationTables.from_dict(state["tables"])
        model._load_estimator(state["estimator"])
        model.states_ = {_json.ids_from_json([s])[0]: _state_from_json(h) for s, h in state["states"]}
        return model

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """scikit-learn style: the constructor arguments."""
        return {"smoothing": self.smoothing, "oof_folds": self.oof_folds, "keep_states": self.keep_states,
                "random_state": self.random_state}

    # --- helpers ---------------------------------------------------------------------------------
    def _index(self) -> None:
        self._item_vocab = {v: i for i, v in enumerate(self.item_ids_)}
        self._skill_vocab = {v: i for i, v in enumerate(self.skill_ids_)}

    def _check_fitted(self) -> None:
        if not hasattr(self, "tables_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit(responses) first.")

    def _row_codes(self, items: list[Hashable], skills: list[tuple[Hashable, ...]]) -> EncodedLog:
        """A small encoded log of single rows (unknown ids get code -1) for the online paths."""
        lengths = [len(k) for k in skills]
        return EncodedLog(order=np.arange(len(items)), student=np.arange(len(items)),
                          item=np.array([self._item_vocab.get(i, -1) for i in items], dtype=np.int64),
                          skill_ptr=np.r_[0, np.cumsum(lengths)].astype(np.int64),
                          skill_idx=np.array([self._skill_vocab.get(k, -1) for ks in skills for k in ks], dtype=np.int64),
                          correct=np.zeros(len(items)), student_keys=np.arange(len(items)).astype(object))

    def _state_row(self, state: StudentHistory, item_id: Hashable, skills: tuple[Hashable, ...]) -> np.ndarray:
        pri_row, skill_p = self.tables_.row_priors(self._item_vocab.get(item_id, -1),
                                                    [self._skill_vocab.get(k, -1) for k in skills])
        return state.features(skills, item_id, pri_row, skill_p, self.tables_.global_p)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))


class _Replay:
    """Builds every student's state from a validated log in a background thread (used by ``fit``)."""

    def __init__(self, model: _HistoryModel, tables: PopulationTables, log: pd.DataFrame) -> None:
        self._model, self._tables, self._log = model, tables, log
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="history-replay", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            m, t, log = self._model, self._tables, self._log
            for s, i, k, c in zip(log["student_id"], log["item_id"], log["skill_ids"], log["correct"], strict=True):
                m._apply(t, s, i, k, float(c))
        except BaseException as exc:  # re-raised in the caller's thread by join()
            self._error = exc

    def join(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


def _state_to_json(h: StudentHistory) -> dict[str, Any]:
    d = asdict(h)
    d["skills"] = [[k, v] for k, v in h.skills.items()]
    d["items"] = [[k, v] for k, v in h.items.items()]
    return d


def _state_from_json(d: dict[str, Any]) -> StudentHistory:
    d = dict(d)
    d["skills"] = {_json.ids_from_json([k])[0]: v for k, v in d["skills"]}
    d["items"] = {_json.ids_from_json([k])[0]: v for k, v in d["items"]}
    if isinstance(d.get("run_key"), list):
        d["run_key"] = tuple(d["run_key"])
    for name in ("mf_s", "mf_s_dec"):
        d[name] = None if d.get(name) is None else np.asarray(d[name], dtype=float)
    return StudentHistory(**d)


def targets(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Row indices, 0/1 labels and weights; partial credit c becomes two rows weighted c and 1 - c."""
    rows = np.arange(y.size)
    frac = (y > 0) & (y < 1)
    if not frac.any():
        return rows, (y >= 0.5).astype(int), None
    f = np.flatnonzero(frac)
    rows = np.r_[rows, f]
    labels = np.r_[(y >= 0.5).astype(int), np.zeros(f.size, int)]
    labels[f] = 1
    weights = np.r_[np.ones(y.size), 1 - y[f]]
    weights[f] = y[f]
    return rows, labels, weights


class HistoryBoost(_HistoryModel):
    """Gradient-boosted trees (scikit-learn ``HistGradientBoostingClassifier``) on history features.

    The default mastery model: best AUC in ``benchmarks/mastery.py`` (see the README).
    The fitted trees are copied into plain arrays, so predictions, ``to_json`` and ``from_json``
    never depend on pickle.
    """

    def __init__(self, *, max_iter: int = 150, learning_rate: float = 0.1, max_leaf_nodes: int = 31,
                 l2_regularization: float = 5.0, min_samples_leaf: int = 100, max_bins: int = 63,
                 n_threads: int | None = 1, max_tree_rows: int | None = 2_000_000, smoothing: float = 5.0,
                 oof_folds: int = 5, keep_states: bool = True, random_state: int | None = None) -> None:
        super().__init__(smoothing=smoothing, oof_folds=oof_folds, keep_states=keep_states,
                         random_state=random_state)
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.l2_regularization = l2_regularization
        self.min_samples_leaf = min_samples_leaf
        self.max_bins = max_bins
        self.n_threads = n_threads
        self.max_tree_rows = max_tree_rows

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {**super().get_params(), "max_iter": self.max_iter, "learning_rate": self.learning_rate,
                "max_leaf_nodes": self.max_leaf_nodes, "l2_regularization": self.l2_regularization,
                "min_samples_leaf": self.min_samples_leaf, "max_bins": self.max_bins, "n_threads": self.n_threads,
                "max_tree_rows": self.max_tree_rows}

    def _fit_estimator(self, X: np.ndarray, enc: EncodedLog, rng: np.random.Generator) -> None:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from threadpoolctl import threadpool_limits

        rows, labels, weights = targets(enc.correct)
        if self.max_tree_rows is not None and enc.n > self.max_tree_rows:
            # Trees learn from a random subset of whole students; tables, priors and states use all.
            n_students = int(enc.student.max()) + 1
            keep = rng.random(n_students) < self.max_tree_rows / enc.n
            mask = keep[enc.student[rows]]
            rows, labels = rows[mask], labels[mask]
            weights = weights[mask] if weights is not None else None
        clf = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate, max_leaf_nodes=self.max_leaf_nodes,
            l2_regularization=self.l2_regularization, min_samples_leaf=self.min_samples_leaf,
            max_bins=self.max_bins, early_stopping=False, random_state=int(rng.integers(2**31 - 1)),
        )
        # OpenMP threads spin while they wait: on a shared 2-core machine 1 thread grew the trees in
        # 26 s where 2 threads took 218 s (ASSISTments 2009, load average 6).
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            clf.fit(X[rows], labels, sample_weight=weights)
        self.forest_ = _Forest.from_sklearn(clf)

    def _raw_score(self, X: np.ndarray, enc: EncodedLog) -> np.ndarray:
        return self.forest_.decision_function(X)

    def _estimator_state(self) -> dict[str, Any]:
        return self.forest_.to_dict()

    def _load_estimator(self, state: dict[str, Any]) -> None:
        self.forest_ = _Forest.from_dict(state)


class _Forest:
    """Boosted regression trees as flat arrays; evaluates all trees at once with numpy."""

    _FIELDS = ("feature", "threshold", "left", "right", "leaf", "value", "missing_left")

    def __init__(self, baseline: float, roots: np.ndarray, **arrays: np.ndarray) -> None:
        self.baseline = baseline
        self.roots = roots
        self.feature, self.threshold = arrays["feature"], arrays["threshold"]
        self.left, self.right, self.leaf = arrays["left"], arrays["right"], arrays["leaf"]
        self.value, self.missing_left = arrays["value"], arrays["missing_left"]

    @classmethod
    def from_sklearn(cls, clf: Any) -> _Forest:
        # scikit-learn keeps fitted trees in private attributes; fail loudly if that changes.
        try:
            trees = [p[0].nodes for p in clf._predictors]
            baseline = float(np.ravel(clf._baseline_prediction)[0])
        except (AttributeError, IndexError) as exc:
            raise RuntimeError("this scikit-learn version stores boosted trees differently") from exc
        offsets = np.cumsum([0] + [t.size for t in trees[:-1]]).astype(np.int64)
        nodes = np.concatenate(trees) if trees else np.zeros(0, dtype=[("feature_idx", int)])
        shift = np.repeat(offsets, [t.size for t in trees])
        return cls(baseline, offsets,
                   feature=nodes["feature_idx"].astype(np.int64), threshold=nodes["num_threshold"].astype(float),
                   left=nodes["left"].astype(np.int64) + shift, right=nodes["right"].astype(np.int64) + shift,
                   leaf=nodes["is_leaf"].astype(bool), value=nodes["value"].astype(float),
                   missing_left=nodes["missing_go_to_left"].astype(bool))

    def decision_function(self, X: np.ndarray, chunk: int = 8192) -> np.ndarray:
        out = np.empty(X.shape[0])
        for a in range(0, X.shape[0], chunk):
            out[a:a + chunk] = self._raw(X[a:a + chunk])
        return out

    def _raw(self, X: np.ndarray) -> np.ndarray:
        node = np.broadcast_to(self.roots, (X.shape[0], self.roots.size)).copy()
        rows = np.arange(X.shape[0])[:, None]
        while True:
            inner = ~self.leaf[node]
            if not inner.any():
                break
            x = X[rows, self.feature[node]]
            go_left = np.where(np.isnan(x), self.missing_left[node], x <= self.threshold[node])
            node = np.where(inner, np.where(go_left, self.left[node], self.right[node]), node)
        return self.baseline + self.value[node].sum(axis=1)

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline, "roots": self.roots.tolist(),
                **{name: getattr(self, name).tolist() for name in self._FIELDS}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> _Forest:
        kinds = {"feature": np.int64, "left": np.int64, "right": np.int64, "leaf": bool, "missing_left": bool,
                 "threshold": float, "value": float}
        return cls(float(d["baseline"]), np.asarray(d["roots"], dtype=np.int64),
                   **{k: np.asarray(d[k], dtype=t) for k, t in kinds.items()})


class BestLR(_HistoryModel):
    """Logistic regression in the "Best-LR" family (Gervet et al. 2020), on scikit-learn.

    Sparse design: item one-hots, skill multi-hots and the standardised history features
    (counts of earlier successes and failures per skill, per item and overall, decayed rates, ...).
    """

    def __init__(self, *, C: float = 1.0, solver: str = "lbfgs", smoothing: float = 5.0, oof_folds: int = 5,
                 keep_states: bool = True, random_state: int | None = None) -> None:
        super().__init__(smoothing=smoothing, oof_folds=oof_folds, keep_states=keep_states,
                         random_state=random_state)
        self.C = C
        self.solver = solver

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {**super().get_params(), "C": self.C, "solver": self.solver}

    def _design(self, X: np.ndarray, enc: EncodedLog) -> Any:
        import scipy.sparse as sp

        Z = (X - self.mean_) / self.scale_
        ki = (enc.item >= 0) & (enc.item < self.n_items_)  # a new item id has no one-hot
        items = sp.csr_matrix((ki.astype(float), (np.arange(enc.n), np.where(ki, enc.item, 0))),
                              shape=(enc.n, self.n_items_))
        ks = (enc.skill_idx >= 0) & (enc.skill_idx < self.n_skills_)
        skills = sp.csr_matrix((ks.astype(float), (enc.skill_owner(), np.where(ks, enc.skill_idx, 0))),
                               shape=(enc.n, self.n_skills_))
        return sp.hstack([sp.csr_matrix(Z), items, skills], format="csr")

    def _fit_estimator(self, X: np.ndarray, enc: EncodedLog, rng: np.random.Generator) -> None:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        self.mean_, self.scale_ = X.mean(axis=0), X.std(axis=0) + 1e-9
        self.n_items_, self.n_skills_ = len(self.item_ids_), len(self.skill_ids_)
        rows, labels, weights = targets(enc.correct)
        clf = LogisticRegression(C=self.C, solver=self.solver, max_iter=300,
                                 random_state=int(rng.integers(2**31 - 1)))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            clf.fit(self._design(X, enc)[rows], labels, sample_weight=weights)
        if caught:
            logger.warning("BestLR: %s stopped before convergence (max_iter=300)", self.solver)
        self.coef_, self.intercept_ = clf.coef_.ravel().copy(), float(clf.intercept_[0])

    def _raw_score(self, X: np.ndarray, enc: EncodedLog) -> np.ndarray:
        return np.asarray(self._design(X, enc) @ self.coef_).ravel() + self.intercept_

    def _estimator_state(self) -> dict[str, Any]:
        return {"mean": self.mean_.tolist(), "scale": self.scale_.tolist(), "coef": self.coef_.tolist(),
                "intercept": self.intercept_, "n_items": self.n_items_, "n_skills": self.n_skills_}

    def _load_estimator(self, state: dict[str, Any]) -> None:
        self.mean_, self.scale_ = np.asarray(state["mean"]), np.asarray(state["scale"])
        self.coef_, self.intercept_ = np.asarray(state["coef"]), float(state["intercept"])
        self.n_items_, self.n_skills_ = int(state["n_items"]), int(state["n_skills"])
