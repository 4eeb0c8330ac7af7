"""Simulated students for benchmarking homework policies: hidden skills that grow, fade and slip.

Each student has a hidden skill per knowledge point (kp), in logits. A policy never sees skills; it
sees what a teacher sees: which items were answered correctly and how many minutes they took.

One attempt of student ``s`` at item ``i`` (knowledge points ``K_i``, true difficulty ``b_i``)::

    theta = mean(skill[s, k] for k in K_i)            compensatory: a strong kp makes up for a weak one
    p     = sigmoid(theta - b_i)                      latent P(correct), a Rasch (1PL) item
    P(correct) = guess + (1 - guess - slip) * p       what is drawn (and what p_correct() returns)

    gain  = rate_s * zpd(p)                           logits of skill learned, the same right or wrong
    zpd(p) = exp(-(logit(p) - logit(p_opt))^2 / (2 zpd_width^2))

        zpd |            .-"-.                     most is learned where p = p_opt: hard enough to
          1 |          .'     '.                   make errors, easy enough to succeed usually;
            |        .'         '.                 almost nothing at p -> 0 (lost) or p -> 1
            |     _.'             '._              (nothing new)
          0 +---------------|------------------ logit(p)
                         logit(p_opt)

    each kp k in K_i gains  gain / |K_i| * (prereq_floor + (1 - prereq_floor) * min_pre sigmoid(skill[s, pre]))
                            over k's direct prerequisites (factor 1 when k has none)

Starting skill: ``initial_mean + ability_s - depth_drop * depth_k + N(0, kp_sd)``. At the end of a
day every kp the student did not practise that day forgets part of what was learned above the
starting level: ``skill -= forget_rate * max(skill - initial, 0) / (1 + stability)``; every distinct
day of practice adds ``stability_gain`` to the kp's stability (the spacing effect). Minutes spent are
``item_minutes * speed_s * lognormal(0, time_noise_sd)``. Mastery of a kp is
``sigmoid(skill)``, the latent P(correct) on an item of difficulty 0, and a kp is mastered at
``mastery_p``. Every number is a field of :class:`LearnerConfig`; its docstring says why each
default was chosen.

>>> cur = Curriculum.synthetic(n_kps=3, items_per_kp=20, seed=0)
>>> sim = LearnerSimulator(cur, n_students=4, seed=0)
>>> sim.students
('s0001', 's0002', 's0003', 's0004')
>>> before = sim.mastery()[0, 0]
>>> correct, minutes = sim.answer(0, np.arange(10))
>>> correct.dtype, minutes.shape, bool(sim.mastery()[0, 0] > before)
(dtype('bool'), (10,), True)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd

from recommender._errors import DataFormatError

logger = logging.getLogger(__name__)

# field -> (low, high, low inclusive, high inclusive); None = unbounded
_RANGES: dict[str, tuple[float | None, float | None, bool, bool]] = {
    "ability_sd": (0.0, None, True, False), "kp_sd": (0.0, None, True, False),
    "initial_mean": (None, None, False, False), "depth_drop": (None, None, False, False),
    "learning_rate": (0.0, None, True, False), "learning_rate_sd": (0.0, None, True, False),
    "p_opt": (0.0, 1.0, False, False), "zpd_width": (0.0, None, False, False),
    "prereq_floor": (0.0, 1.0, True, True), "forget_rate": (0.0, 1.0, True, True),
    "stability_gain": (0.0, None, True, False), "slip": (0.0, 1.0, True, False),
    "guess": (0.0, 1.0, True, False), "speed_sd": (0.0, None, True, False),
    "time_noise_sd": (0.0, None, True, False), "mastery_p": (0.0, 1.0, False, False),
}


def _range_text(name: str) -> str:
    low, high, low_in, high_in = _RANGES[name]
    left = "(-inf" if low is None else ("[" if low_in else "(") + f"{low:g}"
    right = "inf)" if high is None else f"{high:g}" + ("]" if high_in else ")")
    return f"{left}, {right}"


def _in_range(name: str, value: float) -> bool:
    low, high, low_in, high_in = _RANGES[name]
    above = low is None or value > low or (low_in and value == low)
    below = high is None or value < high or (high_in and value == high)
    return math.isfinite(value) and above and below


@dataclass(frozen=True)
class LearnerConfig:
    """Every assumption of the learner simulator, in one place (logits unless said otherwise).

    Defaults are judgement calls anchored where the literature gives an anchor; none is tuned to make
    any selection policy win. Change any of them with :meth:`with_overrides` (the benchmark's ``--set``).

    * ``ability_sd`` = 1.0: spread of students' general ability. IRT scales ability as N(0, 1)
      (Rasch; Lord 1980), so one logit is the conventional class spread.
    * ``kp_sd`` = 0.7: a student's deviation on one kp from their general ability. Knowledge-tracing
      data show large per-skill differences within a student (why per-skill models beat one ability);
      0.7 keeps general ability the larger share of the variance (1.0 vs 0.49).
    * ``initial_mean`` = 0.3: mean starting skill on a root kp, sigmoid(0.3) = 0.57 on an item of
      typical difficulty: partly learned in class, not mastered (below ``mastery_p``).
    * ``depth_drop`` = 0.8: each prerequisite level deeper starts this much lower (taught later, less
      practised). An assumption, not a published figure; 0 removes it.
    * ``learning_rate`` = 0.25: median skill gain of one attempt at the ideal difficulty. Additive
      Factors Model and Performance Factors Analysis fits (Cen, Koedinger & Junker 2006; Pavlik, Cen
      & Koedinger 2009) report learning of roughly 0.05-0.3 logits per practice opportunity, averaged
      over items of all difficulties; the ideal attempt sits at the top of that range.
    * ``learning_rate_sd`` = 0.4: students' learning rates are log-normal around the median (always
      positive, skewed: a few learn much faster), ratio of about 1.5 between quartiles.
    * ``p_opt`` = 0.7: success probability at which an attempt teaches most. Desirable difficulties
      (Bjork 1994) and the region of proximal learning (Metcalfe & Kornell 2005) put the best practice
      where errors are frequent but not the rule; Wilson et al. (2019) derive 0.85 for gradient
      learners. 0.7 is a middle value; rerun with 0.5 or 0.85 to see how much the results depend on it.
    * ``zpd_width`` = 1.0: width of the gain curve in logit(p) around logit(p_opt). With 1.0, an attempt
      at p = 0.5 or 0.85 teaches about 70% as much as at p_opt, at p = 0.95 or 0.2 about 10%, at
      p = 0.99 or 0.05 almost nothing (Vygotsky's zone of proximal development, drawn as a Gaussian).
    * ``prereq_floor`` = 0.2: share of the gain left when a direct prerequisite is not known at all
      (sigmoid(skill) -> 0); the gain scales linearly up to 1 as the weakest prerequisite is mastered
      (mastery learning: Bloom 1968; knowledge-space prerequisites: Doignon & Falmagne 1985).
    * ``forget_rate`` = 0.03: daily share of the learned skill (above the starting level) lost on a
      day without practice, divided by ``1 + stability``: 2% a day (half-life about 5 weeks) after one
      day of practice, 0.9% after five (exponential forgetting with a memory strength
      that grows with spaced practice, as in half-life regression, Settles & Meeder 2016, and DASH,
      Lindsey et al. 2014). Skill never falls below the starting level.
    * ``stability_gain`` = 0.5: stability added per distinct day a kp is practised, not per attempt:
      the same attempts spread over more days are retained longer (spacing effect, Cepeda et al. 2006).
    * ``slip`` = 0.08 and ``guess`` = 0.05: P(wrong | knows) and the floor P(right | lost). BKT fits
      give slips of about 0.05-0.15; the fixture bank is all numeric fill-in items, where a guess
      rarely lands (multiple choice would warrant 0.2-0.25).
    * ``speed_sd`` = 0.25: students' working speed is log-normal around the bank's estimate; a factor
      of about 1.4 between the quartiles (log-normal response times: van der Linden 2006).
    * ``time_noise_sd`` = 0.3: per-item log-normal noise on minutes spent.
    * ``mastery_p`` = 0.8: a kp is mastered when the latent P(correct) on an item of typical
      difficulty (difficulty 0) reaches this; the 80% criterion of mastery learning (Bloom 1968).

    >>> LearnerConfig().with_overrides(["p_opt=0.5", "slip=0.1"]).p_opt
    0.5
    >>> LearnerConfig().with_overrides({"kp_size": 1})
    Traceback (most recent call last):
    ...
    recommender._errors.DataFormatError: unknown learner parameter 'kp_size'; valid: ability_sd, ...
    """

    ability_sd: float = 1.0
    kp_sd: float = 0.7
    initial_mean: float = 0.3
    depth_drop: float = 0.8
    learning_rate: float = 0.25
    learning_rate_sd: float = 0.4
    p_opt: float = 0.7
    zpd_width: float = 1.0
    prereq_floor: float = 0.2
    forget_rate: float = 0.03
    stability_gain: float = 0.5
    slip: float = 0.08
    guess: float = 0.05
    speed_sd: float = 0.25
    time_noise_sd: float = 0.3
    mastery_p: float = 0.8

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not _in_range(f.name, value):
                raise DataFormatError(f"learner parameter {f.name}={value!r} must be a number in "
                                      f"{_range_text(f.name)}")
        if self.guess + self.slip >= 1.0:
            raise DataFormatError(f"learner parameters guess + slip must be below 1, got "
                                  f"{self.guess} + {self.slip}")

    def with_overrides(self, overrides: Mapping[str, str | float] | Iterable[str]) -> LearnerConfig:
        """A copy with some fields changed: ``{"p_opt": 0.5}`` or ``["p_opt=0.5", "slip=0.1"]``.

        Values may be strings (as typed on a command line); an unknown name or a value that is not a
        number in the field's range raises :class:`DataFormatError` naming the field.

        >>> LearnerConfig().with_overrides({"slip": "0.1", "guess": 0.2}).to_dict()["guess"]
        0.2
        """
        pairs = _override_pairs(overrides)
        valid = [f.name for f in fields(self)]
        changes: dict[str, float] = {}
        for name, raw in pairs:
            if name not in valid:
                raise DataFormatError(f"unknown learner parameter {name!r}; valid: {', '.join(valid)}")
            try:
                changes[name] = float(raw)
            except (TypeError, ValueError):
                raise DataFormatError(f"learner parameter {name}={raw!r} is not a number; "
                                      f"expected one in {_range_text(name)}") from None
        return replace(self, **changes)

    def to_dict(self) -> dict[str, float]:
        """Every field and its value, in declaration order (for printing with a benchmark's figures)."""
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}


def _override_pairs(overrides: Mapping[str, str | float] | Iterable[str]) -> list[tuple[str, str | float]]:
    if isinstance(overrides, Mapping):
        return [(str(k).strip(), v) for k, v in overrides.items()]
    if isinstance(overrides, str):
        overrides = [overrides]
    pairs: list[tuple[str, str | float]] = []
    for text in overrides:
        name, sep, value = str(text).partition("=")
        if not sep:
            raise DataFormatError(f"learner override {text!r} is not NAME=VALUE (e.g. p_opt=0.5)")
        pairs.append((name.strip(), value.strip()))
    return pairs


# ------------------------------------------------------------------------------------ curriculum


def _topological_depth(n: int, edges: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Longest prerequisite path to each node (roots 0); a cycle raises DataFormatError."""
    depth = np.zeros(n, dtype=np.int64)
    indegree = np.bincount(edges[:, 1], minlength=n) if edges.size else np.zeros(n, dtype=np.int64)
    children: list[list[int]] = [[] for _ in range(n)]
    for pre, dep in edges:
        children[pre].append(dep)
    ready = [k for k in range(n) if indegree[k] == 0]
    seen = 0
    while ready:
        k = ready.pop()
        seen += 1
        for c in children[k]:
            depth[c] = max(depth[c], depth[k] + 1)
            indegree[c] -= 1
            if indegree[c] == 0:
                ready.append(c)
    if seen < n:
        cycle = sorted(names[k] for k in range(n) if indegree[k] > 0)
        raise DataFormatError(f"prerequisites form a cycle among: {', '.join(cycle)}")
    return depth


@dataclass(frozen=True, eq=False)
class Curriculum:
    """Knowledge points, their prerequisite DAG and an item bank with TRUE difficulties.

    Item ``i`` practises ``knowledge_points[k]`` for each ``k`` in
    ``item_kp_idx[item_kp_ptr[i]:item_kp_ptr[i + 1]]`` (CSR). ``item_difficulty`` is the hidden
    difficulty in logits (policies must not read it); ``item_minutes`` the bank's time estimate.

    >>> cur = Curriculum.synthetic(n_kps=6, items_per_kp=10)
    >>> cur.knowledge_points, cur.depth().tolist(), len(cur.item_ids)
    (('kp0', 'kp1', 'kp2', 'kp3', 'kp4', 'kp5'), [0, 1, 1, 2, 2, 2], 60)
    """

    knowledge_points: tuple[str, ...]
    prerequisites: tuple[tuple[str, str], ...]
    item_ids: np.ndarray
    item_kp_ptr: np.ndarray
    item_kp_idx: np.ndarray
    item_difficulty: np.ndarray
    item_minutes: np.ndarray

    def __post_init__(self) -> None:
        n_items, n_kps = len(self.item_ids), len(self.knowledge_points)
        if len(set(self.knowledge_points)) != n_kps:
            raise DataFormatError("curriculum knowledge_points contain duplicates")
        if len(self.item_kp_ptr) != n_items + 1 or len(self.item_difficulty) != n_items \
                or len(self.item_minutes) != n_items:
            raise DataFormatError(f"curriculum arrays disagree on the number of items ({n_items}): "
                                  "item_kp_ptr needs n+1 entries, item_difficulty and item_minutes n")
        if self.item_kp_ptr[0] != 0 or np.any(np.diff(self.item_kp_ptr) < 1) \
                or self.item_kp_ptr[-1] != len(self.item_kp_idx):
            raise DataFormatError("curriculum item_kp_ptr must start at 0, rise by at least 1 per item "
                                  "(every item has a knowledge point) and end at len(item_kp_idx)")
        if self.item_kp_idx.size and (self.item_kp_idx.min() < 0 or self.item_kp_idx.max() >= n_kps):
            raise DataFormatError(f"curriculum item_kp_idx must index the {n_kps} knowledge points")
        unknown = {k for edge in self.prerequisites for k in edge} - set(self.knowledge_points)
        if unknown:
            raise DataFormatError(f"prerequisites name unknown knowledge points: {sorted(unknown)}")
        self.depth()  # raises on a cycle

    def prerequisite_index(self) -> np.ndarray:
        """The prerequisite edges as an (n_edges, 2) int array of (prerequisite, dependent) indices."""
        pos = {k: i for i, k in enumerate(self.knowledge_points)}
        return np.array([(pos[a], pos[b]) for a, b in self.prerequisites], dtype=np.int64).reshape(-1, 2)

    def depth(self) -> np.ndarray:
        """Prerequisite depth of each knowledge point: 0 for a root, else 1 + its deepest prerequisite."""
        return _topological_depth(len(self.knowledge_points), self.prerequisite_index(), self.knowledge_points)

    def item_index(self, ids: Iterable[object]) -> np.ndarray:
        """Positions of items given by id (what :meth:`LearnerSimulator.answer` takes).

        >>> Curriculum.synthetic(n_kps=2, items_per_kp=5).item_index(["i00007", "i00002"]).tolist()
        [7, 2]
        """
        pos = {str(v): i for i, v in enumerate(self.item_ids)}
        wanted = [str(v) for v in ids]
        unknown = [v for v in wanted if v not in pos]
        if unknown:
            raise DataFormatError(f"{len(unknown)} item ids are not in the curriculum, e.g. {unknown[:3]}")
        return np.array([pos[v] for v in wanted], dtype=np.int64)

    def item_counts(self) -> np.ndarray:
        """How many items practise each knowledge point (a kp with 0 can never be practised)."""
        return np.bincount(self.item_kp_idx, minlength=len(self.knowledge_points))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, prerequisites: Iterable[tuple[str, str]], *,
                   label_scale: float = 0.6, label_noise: float = 0.5, seed: int = 0) -> Curriculum:
        """A curriculum from a bank-like frame: columns ``id``, ``knowledge_points`` (``;``-separated),
        ``difficulty`` (the bank's 1-5 label) and ``minutes``.

        The label is a noisy view of the truth: true difficulty =
        ``label_scale * (label - 3) + N(0, label_noise)`` (seeded), so label 3 is typical (0 logits)
        and a policy reading labels cannot know items' exact difficulty. Knowledge points are the
        sorted union of those in ``prerequisites`` and in the items; rows without one are dropped.

        >>> frame = pd.DataFrame({"id": ["a", "b"], "knowledge_points": ["add;sub", "sub"],
        ...                       "difficulty": [1, 5], "minutes": [2.0, 3.5]})
        >>> cur = Curriculum.from_frame(frame, [("add", "sub")], label_noise=0.0)
        >>> cur.knowledge_points, cur.item_difficulty.tolist(), cur.item_kp_idx.tolist()
        (('add', 'sub'), [-1.2, 1.2], [0, 1, 1])
        """
        _check_columns(frame)
        edges = tuple((str(a), str(b)) for a, b in prerequisites)
        kp_lists = [_split_kps(v) for v in frame["knowledge_points"]]
        keep = np.array([bool(k) for k in kp_lists], dtype=bool)
        if not keep.all():
            logger.info("Curriculum.from_frame: dropped %d rows without knowledge points", int((~keep).sum()))
        rows = frame.loc[keep]
        kp_lists = [k for k, kept in zip(kp_lists, keep, strict=True) if kept]
        labels = _numeric_column(rows, "difficulty", positive=False)
        minutes = _numeric_column(rows, "minutes", positive=True)
        names = tuple(sorted({k for e in edges for k in e} | {k for ks in kp_lists for k in ks}))
        pos = {k: i for i, k in enumerate(names)}
        ptr = np.r_[0, np.cumsum([len(ks) for ks in kp_lists])].astype(np.int64)
        idx = np.array([pos[k] for ks in kp_lists for k in ks], dtype=np.int64)
        noise = np.random.default_rng(seed).normal(0.0, label_noise, len(rows)) if label_noise > 0 else 0.0
        difficulty = label_scale * (labels - 3.0) + noise
        return cls(names, edges, rows["id"].astype(str).to_numpy(dtype=object), ptr, idx,
                   np.asarray(difficulty, dtype=float), minutes)

    @classmethod
    def synthetic(cls, n_kps: int = 6, items_per_kp: int = 60, seed: int = 0) -> Curriculum:
        """A small binary-tree curriculum (``kp0`` the root; ``kp{j}`` needs ``kp{(j - 1) // 2}``) with
        single-kp items: labels 1-5 uniform, minutes 1.5-4 in half minutes. For tests and quick runs.
        """
        if n_kps < 1 or items_per_kp < 1:
            raise DataFormatError(f"synthetic curriculum needs n_kps >= 1 and items_per_kp >= 1, "
                                  f"got {n_kps} and {items_per_kp}")
        rng = np.random.default_rng(seed)
        n = n_kps * items_per_kp
        frame = pd.DataFrame({
            "id": [f"i{j:05d}" for j in range(n)],
            "knowledge_points": [f"kp{j // items_per_kp}" for j in range(n)],
            "difficulty": rng.integers(1, 6, n),
            "minutes": rng.integers(3, 9, n) / 2.0,
        })
        edges = [(f"kp{(j - 1) // 2}", f"kp{j}") for j in range(1, n_kps)]
        return cls.from_frame(frame, edges, seed=seed)


def _check_columns(frame: pd.DataFrame) -> None:
    missing = [c for c in ("id", "knowledge_points", "difficulty", "minutes") if c not in frame.columns]
    if missing:
        raise DataFormatError(f"item frame lacks columns {missing}; has {list(frame.columns)}")


def _split_kps(value: object) -> list[str]:
    if not isinstance(value, str):
        return []
    return list(dict.fromkeys(k.strip() for k in value.split(";") if k.strip()))


def _numeric_column(rows: pd.DataFrame, column: str, *, positive: bool) -> np.ndarray:
    values = pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | ((values <= 0) if positive else False)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        need = "a positive number" if positive else "a number"
        raise DataFormatError(f"item {rows['id'].tolist()[j]!r}: field {column}={rows[column].tolist()[j]!r} "
                              f"is not {need} ({int(bad.sum())} such rows)")
    return values


# ------------------------------------------------------------------------------------ simulator


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class LearnerSimulator:
    """A class of simulated students working items of a :class:`Curriculum` day by day.

    The same ``(curriculum, config, n_students, seed)`` gives the same students (starting skills,
    learning rates, speeds) and, for the same calls, the same answers: each student draws answers
    from a random stream of their own, so several policies can be run on identical classes (one
    simulator per policy). Standard normal draws are scaled by the config, so changing one
    parameter does not reshuffle the others' draws.

    >>> sim = LearnerSimulator(Curriculum.synthetic(), n_students=3, seed=1)
    >>> sim.skills().shape, sim.day
    ((3, 6), 0)
    >>> sim.next_day(2); sim.day
    2
    """

    def __init__(self, curriculum: Curriculum, config: LearnerConfig | None = None,
                 n_students: int = 100, seed: int = 0) -> None:
        if n_students < 1:
            raise DataFormatError(f"n_students must be at least 1, got {n_students}")
        self.curriculum = curriculum
        self.config = config = config if config is not None else LearnerConfig()
        width = max(4, len(str(n_students)))
        self.students: tuple[str, ...] = tuple(f"s{j + 1:0{width}d}" for j in range(n_students))
        self.day = 0
        pop_seed, answer_seed = np.random.SeedSequence(seed).spawn(2)
        pop = np.random.default_rng(pop_seed)
        n_kps = len(curriculum.knowledge_points)
        ability = config.ability_sd * pop.standard_normal(n_students)
        deviation = config.kp_sd * pop.standard_normal((n_students, n_kps))
        self._rate = config.learning_rate * np.exp(config.learning_rate_sd * pop.standard_normal(n_students))
        self._speed = np.exp(config.speed_sd * pop.standard_normal(n_students))
        depth = curriculum.depth()
        self._initial = config.initial_mean + ability[:, None] - config.depth_drop * depth[None, :] + deviation
        self._skill = self._initial.copy()
        self._stability = np.zeros((n_students, n_kps))
        self._last_day = np.full((n_students, n_kps), -1, dtype=np.int64)
        self._rngs = [np.random.default_rng(s) for s in answer_seed.spawn(n_students)]
        edges = curriculum.prerequisite_index()
        self._prereqs = [edges[edges[:, 1] == k, 0] for k in range(n_kps)]

    def __repr__(self) -> str:
        return (f"LearnerSimulator({len(self.students)} students, "
                f"{len(self.curriculum.knowledge_points)} knowledge points, day {self.day})")

    def skills(self) -> np.ndarray:
        """A copy of the hidden skills, (n_students, n_kps), in logits."""
        return self._skill.copy()

    def mastery(self) -> np.ndarray:
        """(n_students, n_kps): latent P(correct) on an item of difficulty 0, ``sigmoid(skill)``."""
        return _sigmoid(self._skill)

    def mastered(self) -> np.ndarray:
        """(n_students, n_kps) booleans: ``mastery() >= config.mastery_p``."""
        return self.mastery() >= self.config.mastery_p

    def p_correct(self, student: int, items: np.ndarray | Sequence[int]) -> np.ndarray:
        """Observable P(correct) of ``student`` (an index) on each item (indices into the curriculum),
        slip and guess included, at the current skills; nothing is learned.

        >>> sim = LearnerSimulator(Curriculum.synthetic(), n_students=2)
        >>> p = sim.p_correct(0, [0, 1, 2])
        >>> p.shape, bool(((p >= 0.05) & (p <= 0.92)).all())
        ((3,), True)
        """
        s, idx = self._check_student(student), self._check_items(items)
        cur, cfg = self.curriculum, self.config
        lengths = np.diff(cur.item_kp_ptr)[idx]
        owner = np.repeat(np.arange(idx.size), lengths)
        starts = np.repeat(cur.item_kp_ptr[idx] - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
        kps = cur.item_kp_idx[starts + np.arange(owner.size)]
        theta = np.bincount(owner, weights=self._skill[s, kps], minlength=idx.size) / lengths
        latent = _sigmoid(theta - cur.item_difficulty[idx])
        return cfg.guess + (1.0 - cfg.guess - cfg.slip) * latent

    def answer(self, student: int, items: np.ndarray | Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """``student`` works ``items`` in order: returns (correct booleans, minutes spent).

        Each attempt is drawn at the skills left by the attempts before it, then teaches (see the
        module docstring). An item with several kps is answered at their mean skill (compensatory)
        and its gain is split equally between them.
        """
        s, idx = self._check_student(student), self._check_items(items)
        cur, cfg = self.curriculum, self.config
        rng = self._rngs[s]
        draws, noise = rng.random(idx.size), rng.standard_normal(idx.size)
        minutes = cur.item_minutes[idx] * self._speed[s] * np.exp(cfg.time_noise_sd * noise)
        correct = np.empty(idx.size, dtype=bool)
        for j, i in enumerate(idx.tolist()):
            kps = cur.item_kp_idx[cur.item_kp_ptr[i]:cur.item_kp_ptr[i + 1]]
            margin = float(self._skill[s, kps].mean()) - float(cur.item_difficulty[i])
            p = 1.0 / (1.0 + math.exp(-margin))
            correct[j] = draws[j] < cfg.guess + (1.0 - cfg.guess - cfg.slip) * p
            self._learn(s, kps, margin)
        return correct, minutes

    def _learn(self, s: int, kps: np.ndarray, margin: float) -> None:
        """Credit one attempt's gain to the item's kps (margin = logit of the latent P(correct))."""
        cfg = self.config
        distance = margin - math.log(cfg.p_opt / (1.0 - cfg.p_opt))
        gain = self._rate[s] * math.exp(-distance * distance / (2.0 * cfg.zpd_width ** 2)) / len(kps)
        factors = [self._prereq_factor(s, int(k)) for k in kps]
        for k, factor in zip(kps.tolist(), factors, strict=True):
            self._skill[s, k] += gain * factor
            if self._last_day[s, k] != self.day:
                self._stability[s, k] += cfg.stability_gain
                self._last_day[s, k] = self.day

    def _prereq_factor(self, s: int, k: int) -> float:
        pre = self._prereqs[k]
        if not pre.size:
            return 1.0
        known = 1.0 / (1.0 + math.exp(-float(self._skill[s, pre].min())))
        return self.config.prereq_floor + (1.0 - self.config.prereq_floor) * known

    def next_day(self, days: int = 1) -> None:
        """End the day ``days`` times: kps not practised that day forget (see :class:`LearnerConfig`)."""
        if int(days) != days or days < 1:
            raise DataFormatError(f"next_day needs a whole number of days >= 1, got {days!r}")
        rate = self.config.forget_rate
        for _ in range(int(days)):
            idle = self._last_day != self.day
            excess = np.maximum(self._skill - self._initial, 0.0)
            self._skill -= idle * rate * excess / (1.0 + self._stability)
            self.day += 1

    def _check_student(self, student: int) -> int:
        if isinstance(student, bool) or not isinstance(student, int | np.integer) \
                or not 0 <= student < len(self.students):
            raise DataFormatError(f"student must be an index in [0, {len(self.students)}), got {student!r}")
        return int(student)

    def _check_items(self, items: np.ndarray | Sequence[int]) -> np.ndarray:
        idx = np.asarray(items)
        n = len(self.curriculum.item_ids)
        if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
            raise DataFormatError(f"items must be a 1-d array of item indices, got dtype {idx.dtype} "
                                  f"shape {idx.shape}")
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise DataFormatError(f"item indices must lie in [0, {n}), got {idx.min()}..{idx.max()}")
        return idx.astype(np.int64)
