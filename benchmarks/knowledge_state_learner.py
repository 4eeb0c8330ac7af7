"""A second learner simulator, written apart from the selection rules: knowledge states, not skills.

``benchmarks/policy.py`` runs every selection policy on this learner as one member of its family of
simulated classes. It was written from the Bayesian Knowledge Tracing literature (Corbett & Anderson
1995: a skill is known or not, an attempt may teach it with a fixed probability whatever the item,
slips and guesses show it imperfectly; Khajah, Lindsey & Mozer 2016: known skills can be forgotten;
Käser et al. 2014: a skill is learned more slowly while its prerequisites are unknown) before any
policy was run on it, and its parameters (``KnowledgeStateConfig``) were frozen in the commit that
added it. Nothing here reads the selection rules: no desirable-difficulty band (an attempt teaches the
same at any difficulty), no review schedule. Do not tune these numbers to make a policy win; change
them only with a new, separately reported member.

One attempt of student ``s`` at item ``i`` (knowledge points ``K_i``, true difficulty ``b_i``)::

    known      = share of K_i the student knows (0, 1, or between for items on several points)
    P(correct) = known * (1 - slip(b_i)) + (1 - known) * guess(b_i)
    slip(b)    = sigmoid(slip_logit + difficulty_effect * b)       harder items: more slips
    guess(b)   = sigmoid(guess_logit - difficulty_effect * b)      easier items: more lucky answers
    each unknown k in K_i becomes known with P = rate_s / |K_i| * (1 if every direct prerequisite of
    k is known, else prereq_penalty)
    each day a known point is not practised it is forgotten with P = forget / (1 + practice_days)

Start: P(known) of a point = sigmoid(initial_logit + ability_s - depth_drop * depth_k). Mastery of a
point is whether it is known (0 or 1), so a class's mean mastery is the share of known pairs; the
P(correct) on a typical item (difficulty 0) is :meth:`KnowledgeStateLearner.typical_p_correct`.

>>> from recommender import Curriculum
>>> sim = KnowledgeStateLearner(Curriculum.synthetic(n_kps=3, items_per_kp=20), n_students=4, seed=0)
>>> sim.mastery().shape, sorted(set(sim.mastery().ravel().tolist())) <= [0.0, 1.0]
((4, 3), True)
>>> correct, minutes = sim.answer(0, [0, 1, 2])
>>> correct.dtype, minutes.shape
(dtype('bool'), (3,))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recommender import Curriculum


@dataclass(frozen=True)
class KnowledgeStateConfig:
    """The frozen parameters (see the module docstring for the role of each).

    * ``initial_logit`` = -0.4, ``ability_sd`` = 1.0, ``depth_drop`` = 0.6: about 40 % of root points
      known at the start, fewer deeper in the prerequisite graph.
    * ``rate`` = 0.12 (median), ``rate_sd`` = 0.5: BKT fits on ASSISTments skill builders give
      P(learn) per opportunity of roughly 0.05-0.3 (Pardos & Heffernan 2010).
    * ``slip_logit`` = -2.5, ``guess_logit`` = -1.8, ``difficulty_effect`` = 0.7: slip 0.08 and guess
      0.14 on a typical item; BKT fits put slips at 0.05-0.15 and guesses at 0.1-0.3.
    * ``prereq_penalty`` = 0.3: a point whose prerequisite is unknown is learned at 30 % of the rate.
    * ``forget`` = 0.02: P(forgetting) on an idle day, divided by 1 + days practised.
    * ``speed_sd`` = 0.25, ``time_noise_sd`` = 0.3: minutes as in the other simulator.
    """

    initial_logit: float = -0.4
    ability_sd: float = 1.0
    depth_drop: float = 0.6
    rate: float = 0.12
    rate_sd: float = 0.5
    slip_logit: float = -2.5
    guess_logit: float = -1.8
    difficulty_effect: float = 0.7
    prereq_penalty: float = 0.3
    forget: float = 0.02
    speed_sd: float = 0.25
    time_noise_sd: float = 0.3
    mastery_p: float = 0.5  # known is 1, unknown 0: mastered means known


def _sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


class KnowledgeStateLearner:
    """A class of students whose every (student, point) is known or not; the interface of
    :class:`recommender.LearnerSimulator` (``students``, ``day``, ``answer``, ``p_correct``, ``mastery``,
    ``mastered``, ``next_day``)."""

    def __init__(self, curriculum: Curriculum, config: KnowledgeStateConfig | None = None,
                 n_students: int = 100, seed: int = 0) -> None:
        self.curriculum = curriculum
        self.config = cfg = config or KnowledgeStateConfig()
        self.students: tuple[str, ...] = tuple(f"s{j + 1:04d}" for j in range(n_students))
        self.day = 0
        pop_seed, answer_seed = np.random.SeedSequence([seed, 77]).spawn(2)
        pop = np.random.default_rng(pop_seed)
        n_kps = len(curriculum.knowledge_points)
        ability = cfg.ability_sd * pop.standard_normal(n_students)
        depth = curriculum.depth()
        p_known = _sigmoid(cfg.initial_logit + ability[:, None] - cfg.depth_drop * depth[None, :])
        self._known = pop.random((n_students, n_kps)) < p_known
        self._rate = cfg.rate * np.exp(cfg.rate_sd * pop.standard_normal(n_students))
        self._speed = np.exp(cfg.speed_sd * pop.standard_normal(n_students))
        self._practice_days = np.zeros((n_students, n_kps))
        self._last_day = np.full((n_students, n_kps), -1, dtype=np.int64)
        self._rngs = [np.random.default_rng(s) for s in answer_seed.spawn(n_students)]
        edges = curriculum.prerequisite_index()
        self._prereqs = [edges[edges[:, 1] == k, 0] for k in range(n_kps)]

    def mastery(self) -> np.ndarray:
        """(students, points): 1.0 where the point is known, else 0.0."""
        return self._known.astype(np.float64)

    def mastered(self) -> np.ndarray:
        return self._known.copy()

    def typical_p_correct(self) -> np.ndarray:
        """(students, points): P(correct) on an item of difficulty 0."""
        cfg = self.config
        return np.where(self._known, 1 - float(_sigmoid(cfg.slip_logit)), float(_sigmoid(cfg.guess_logit)))

    def _kps(self, i: int) -> np.ndarray:
        cur = self.curriculum
        return cur.item_kp_idx[cur.item_kp_ptr[i]:cur.item_kp_ptr[i + 1]]

    def _p(self, s: int, i: int) -> float:
        cfg, b = self.config, float(self.curriculum.item_difficulty[i])
        known = float(self._known[s, self._kps(i)].mean())
        slip = 1 / (1 + math.exp(-(cfg.slip_logit + cfg.difficulty_effect * b)))
        guess = 1 / (1 + math.exp(-(cfg.guess_logit - cfg.difficulty_effect * b)))
        return known * (1 - slip) + (1 - known) * guess

    def p_correct(self, student: int, items: np.ndarray | Sequence[int]) -> np.ndarray:
        return np.array([self._p(student, int(i)) for i in np.asarray(items).tolist()])

    def answer(self, student: int, items: np.ndarray | Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """``student`` works ``items`` in order: (correct booleans, minutes spent)."""
        idx = np.asarray(items, dtype=np.int64)
        rng, cfg, s = self._rngs[student], self.config, int(student)
        draws, learn, noise = rng.random(idx.size), rng.random((idx.size, 8)), rng.standard_normal(idx.size)
        minutes = self.curriculum.item_minutes[idx] * self._speed[s] * np.exp(cfg.time_noise_sd * noise)
        correct = np.empty(idx.size, dtype=bool)
        for j, i in enumerate(idx.tolist()):
            correct[j] = draws[j] < self._p(s, i)
            kps = self._kps(i)
            for m, k in enumerate(kps.tolist()):
                if not self._known[s, k]:
                    pre = self._prereqs[k]
                    factor = 1.0 if not pre.size or self._known[s, pre].all() else cfg.prereq_penalty
                    self._known[s, k] = learn[j, m % 8] < self._rate[s] / len(kps) * factor
                if self._last_day[s, k] != self.day:
                    self._practice_days[s, k] += 1
                    self._last_day[s, k] = self.day
        return correct, minutes

    def next_day(self, days: int = 1) -> None:
        """End ``days`` days: a known point not practised that day may be forgotten."""
        for _ in range(int(days)):
            idle = self._last_day != self.day
            draw = np.random.default_rng([self.day, 991]).random(self._known.shape)
            forget = idle & self._known & (draw < self.config.forget / (1 + self._practice_days))
            self._known &= ~forget
            self.day += 1
