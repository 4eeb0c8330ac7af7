"""Does targeted homework help students learn? Policies compared on simulated classes, plus selection speed.

    python benchmarks/policy.py [--json] [--students 200] [--weeks 6] [--minutes 20] [--seed 0]
                                [--family | --member NAME ...] [--policies NAME ...]
                                [--set NAME=VALUE ...] [--select NAME=VALUE ...] [--model historyboost]
                                [--refit weekly] [--no-recalibrate] [--sensitivity] [--no-speed] [--no-policies]

The world (everything from the repository; no ../shared needed):

* items: the fixture bank's 2,155 real Math23K/Ape210K problems with their knowledge points, 1-5
  difficulty labels and estimated minutes; prerequisites: the taxonomy's DAG. Each item's TRUE
  difficulty is its label plus noise (``recommender.Curriculum.from_frame``), hidden from policies.
* students: a cohort of ``--students``, the same students under every policy. ``--family`` runs every
  member of ``FAMILY`` (issue 12), classes that differ in how students learn and in what the bank's
  labels say: ``recommender.LearnerSimulator`` under other assumptions (starting skill in or out of
  reach, forgetting, the success rate that teaches most), coarse or fine, absolute or relative labels,
  cold or warm starts, and ``benchmarks/knowledge_state_learner.py``, a learner written apart from the
  selection rules and frozen before any policy ran on it. Without ``--family``: the reference member
  (``--member`` picks others; ``--set`` changes the simulator's assumptions).
* the unit: grade 6 "fractions, decimals, percentages" (5 knowledge points), ``--weeks`` weeks of
  five homework days, ``--minutes`` estimated minutes a day for every policy.
* warm start: last year's cohort (300 other simulated students, 12 days of random practice) gives the
  log the mastery model is fitted on and that calibrates item easiness. Cold start: no such log; the
  model is first fitted on this year's answers after the first day (nightly in the first week) and
  items are priced by their labels until then. Each refit also recalibrates item easiness on every
  answer so far (``ItemPool.recalibrated``; ``--no-recalibrate`` keeps last year's or the labels').

Policies, each filling the same daily minutes:

* uniform: the teacher's choice, one set for the whole class: the unit's points in prerequisite order,
  the same number of days each, each day ``homework.compose_assignment`` with mixed difficulty and
  no item the class has had.
* random: each student gets random unit items they have not had.
* three-in-a-row: mastery learning as in ASSISTments skill builders, online (it sees each answer
  at once, which paper homework cannot): the unit's points and their prerequisites in curriculum order,
  random items of the current point until three in a row are right; every point passed: random unit
  items, or nothing when targeted's ``when_mastered`` is ``"stop"`` (the same stopping rule for both).
* weakest-ready: each student practises the one point (of the unit and its prerequisites) with the
  lowest mastery among those not mastered whose prerequisites are ready, random items of it.
* targeted: ``recommender.select_for_class`` (default ``SelectionPolicy``) on the mastery model,
  with each student's history, the unit test at the end of the last week, and prerequisites.
* oracle: targeted told the simulator's true P(correct) on a typical item of each point, a reference
  that shows how much is lost to estimating mastery; not a policy anyone can run, and not an optimum
  (it keeps the selection rules, band included).

Figures. Mastery gained is the sum over knowledge points of the rise in each student's latent
P(correct) on an item of typical difficulty (for the knowledge-state learner: points known), per 100
homework minutes actually spent (the simulator's minutes, not the bank's estimates). The headline sums
over every point of the curriculum: what the students learned wherever it was; the same over the unit's
five points alone is printed beside it. Also: the weakest quartile (lowest starting mastery)
separately; the share of (student, point) pairs of the unit not mastered at the start and mastered at
the end; distinct points a day; the share of items whose true P(correct) was below 0.3; and for
targeted, a reliability curve of its predicted success against the answers (each prediction made
before the answer: held out), its share of reviews and of reviews below 0.3. Targets (issue 12), on
every member: targeted >= 1.5x three-in-a-row's gain per minute, >= 0.6x the oracle's, the weakest
quartile gaining at least as much as under uniform. ``--sensitivity`` reruns the reference member under
other assumptions.

The model behind targeted and weakest-ready is refitted on all answers every weekend (``--refit``), and
updated online after every answer; ``--model`` picks HistoryBoost (the platform's default), BKT or
BestLR; ``--select NAME=VALUE`` changes a ``SelectionPolicy`` setting.

Speed: a class of 50 and 10,000 students over a synthetic 700,000-item bank (10 subjects x 9 grades
x 20 points, a third of the items on two points) with BKT mastery and 50 past answers per student.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from homework import AssignmentRequest, ItemBank, compose_assignment  # noqa: E402
from homework._taxonomy import _PREREQUISITES, TYPICAL_GRADE  # noqa: E402
from recommender import (  # noqa: E402
    BKT,
    BestLR,
    Curriculum,
    HistoryBoost,
    ItemPool,
    LearnerConfig,
    LearnerSimulator,
    Scope,
    SelectionPolicy,
    SkillMastery,
    select_for_class,
)

sys.path.insert(0, str(ROOT / "benchmarks"))
from knowledge_state_learner import KnowledgeStateLearner  # noqa: E402

BANK = ROOT / "fixtures" / "bank" / "items.csv"
UNIT = ("number.decimal", "number.fraction", "number.percent", "ratio.proportion", "percent.price")
"""The unit, in the order a teacher following prerequisites would teach it."""
GRADE = 6
START = dt.date(2026, 9, 7)  # a Monday
MODELS: dict[str, Any] = {"historyboost": HistoryBoost, "bkt": BKT, "bestlr": BestLR}
PREREQUISITES: dict[str, list[str]] = {}
for _pre, _post in _PREREQUISITES:
    PREREQUISITES.setdefault(_post, []).append(_pre)


@dataclass(frozen=True)
class Member:
    """One simulated class of the family: how its students learn and what the policies are told.

    ``learner``: ``"zpd"`` (``recommender.LearnerSimulator`` with ``overrides``) or ``"knowledge-state"``
    (``benchmarks/knowledge_state_learner.py``, frozen, written apart from the selection rules).
    ``labels``: how many difficulty labels the bank shows (5 fine, 3-4 coarse); ``relative``: labels rank
    items within their knowledge point (a hard point's easiest item is a "1") instead of on one scale;
    ``point_sd``: spread of the points' own difficulty (logits), which only absolute labels show;
    ``cold``: no previous cohort (the model and the item calibration start from nothing).
    ``bank_labels``: keep the bank's own labels (the reference member).
    """

    name: str
    learner: str = "zpd"
    overrides: tuple[str, ...] = ()
    labels: int = 5
    relative: bool = False
    point_sd: float = 0.5
    cold: bool = False
    bank_labels: bool = False

    def describe(self) -> str:
        labels = "bank labels" if self.bank_labels else (
            f"{self.labels} {'relative' if self.relative else 'absolute'} labels")
        return f"{self.learner} learner; {', '.join(self.overrides) or 'default assumptions'}; {labels}; " \
               f"{'cold start' if self.cold else 'warm (last year fitted)'}"


FAMILY = (
    Member("reference", bank_labels=True, point_sd=0.0),
    Member("out-of-reach-cold", overrides=("initial_mean=-1.0", "forget_rate=0.01"), labels=4, cold=True),
    Member("in-reach-forgetful", overrides=("initial_mean=1.2", "forget_rate=0.15", "p_opt=0.85"), relative=True),
    Member("p-opt-0.5-cold", overrides=("initial_mean=-0.3", "forget_rate=0.0", "p_opt=0.5"), labels=3,
           relative=True, cold=True),
    Member("knowledge-state-cold", learner="knowledge-state", labels=4, cold=True),
)
"""The family of simulated classes issue 12 asks for: starting skill from mostly in reach
(``initial_mean=1.2``) to mostly out of reach (-1.0; the knowledge-state class knows a fifth of its
points), coarse or fine labels, absolute or relative, forgetting from none to strong (0.15 a day),
optimal success 0.5 to 0.85, cold and warm starts, and one learner written apart from the rules."""
LABEL_VALUES = {5: (1, 2, 3, 4, 5), 4: (1, 2, 3, 4), 3: (2, 3, 4)}


@dataclass
class World:
    """What every policy shares: the bank, the simulated curriculum, the fitted model and the cohort."""

    frame: pd.DataFrame
    bank: ItemBank
    curriculum: Curriculum
    pool: ItemPool
    model_json: str | None
    last_year: pd.DataFrame
    refit: str
    model_name: str
    policy: SelectionPolicy
    config: LearnerConfig
    students: int
    seed: int
    member: Member = FAMILY[0]
    index_of: dict[str, int] = field(default_factory=dict)
    unit_items: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    unit_kps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    items_of: dict[int, np.ndarray] = field(default_factory=dict)
    kp_code: dict[str, int] = field(default_factory=dict)
    recalibrate: bool = True
    predictions: dict[int, list[tuple[float, str]]] = field(default_factory=dict)

    def learners(self, n: int | None = None, seed: int | None = None) -> Any:
        """A fresh class of this member's students (the same class for every policy)."""
        n, seed = n or self.students, self.seed if seed is None else seed
        if self.member.learner == "knowledge-state":
            return KnowledgeStateLearner(self.curriculum, n_students=n, seed=seed)
        return LearnerSimulator(self.curriculum, self.config, n_students=n, seed=seed)


def typical_p_correct(world: World, sim: Any) -> np.ndarray:
    """(students, points): the observable P(correct) on an item of typical difficulty."""
    if hasattr(sim, "typical_p_correct"):
        return np.asarray(sim.typical_p_correct())
    cfg = world.config
    return cfg.guess + (1 - cfg.guess - cfg.slip) * sim.mastery()


def member_bank(frame: pd.DataFrame, member: Member, seed: int) -> tuple[pd.DataFrame, Curriculum]:
    """The bank the policies see (its difficulty labels per ``member``) and the hidden true difficulties:
    ``0.6 (bank label - 3) + N(0, 0.5)`` plus each point's own offset ``N(0, point_sd)``."""
    curriculum = Curriculum.from_frame(frame, _PREREQUISITES, seed=seed)
    if member.bank_labels:
        return frame, curriculum
    rng = np.random.default_rng([seed, 12])
    offset = rng.normal(0.0, member.point_sd, len(curriculum.knowledge_points))
    first = curriculum.item_kp_idx[curriculum.item_kp_ptr[:-1]]
    truth = curriculum.item_difficulty + offset[first]
    seen = truth + rng.normal(0.0, 0.3, truth.size)
    groups = first if member.relative else np.zeros_like(first)
    rank = pd.Series(seen).groupby(groups).rank(pct=True).to_numpy()
    values = np.array(LABEL_VALUES[member.labels])
    labels = values[np.minimum((rank * member.labels).astype(int), member.labels - 1)]
    return frame.assign(difficulty=labels), dataclasses.replace(curriculum, item_difficulty=truth)


def build_world(config: LearnerConfig, students: int, seed: int, model_name: str = "historyboost",
                policy: SelectionPolicy | None = None, refit: str = "weekly", member: Member = FAMILY[0]) -> World:
    frame = pd.read_csv(BANK, keep_default_na=False)
    frame = frame[frame["grade"] <= GRADE].reset_index(drop=True)
    frame, curriculum = member_bank(frame, member, seed)
    bank = ItemBank()
    bank.import_frame(frame)
    index_of = {str(i): j for j, i in enumerate(curriculum.item_ids)}
    kp_pos = {k: j for j, k in enumerate(curriculum.knowledge_points)}
    unit_kps = np.array([kp_pos[k] for k in UNIT])
    owner = np.repeat(np.arange(len(curriculum.item_ids)), np.diff(curriculum.item_kp_ptr))
    items_of = {k: np.unique(owner[curriculum.item_kp_idx == k]) for k in range(len(kp_pos))}
    world = World(frame, bank, curriculum, ItemPool.from_frame(frame), None,
                  pd.DataFrame(columns=["student_id", "item_id", "skill_ids", "correct"]), refit, model_name,
                  policy or SelectionPolicy(), config, students, seed, member, index_of,
                  np.unique(np.concatenate([items_of[k] for k in unit_kps])), unit_kps, items_of, kp_pos)
    if not member.cold:
        world.last_year = last_years_log(world)
        world.model_json = MODELS[model_name](random_state=seed).fit(world.last_year).to_json()
        world.pool.calibrate(world.last_year)
    return world


def last_years_log(world: World, n: int = 300, days: int = 12, per_day: int = 10) -> pd.DataFrame:
    """Another cohort's answers to random items over ``days`` days: the district's history."""
    curriculum, seed = world.curriculum, world.seed
    sim = world.learners(n, seed + 10_000)
    rng = np.random.default_rng(seed + 20_000)
    rows: list[tuple[str, str, tuple[str, ...], float]] = []
    for _ in range(days):
        for s, student in enumerate(sim.students):
            items = rng.choice(len(curriculum.item_ids), per_day, replace=False)
            correct, _ = sim.answer(s, items)
            rows += [(f"last-year-{student}", str(curriculum.item_ids[i]), kps_of(curriculum, i), float(c))
                     for i, c in zip(items, correct, strict=True)]
        sim.next_day()
    return pd.DataFrame(rows, columns=["student_id", "item_id", "skill_ids", "correct"])


def kps_of(curriculum: Curriculum, i: int) -> tuple[str, ...]:
    names = curriculum.knowledge_points
    return tuple(names[k] for k in curriculum.item_kp_idx[curriculum.item_kp_ptr[i]:curriculum.item_kp_ptr[i + 1]])


# --------------------------------------------------------------------------------------- policies


@dataclass
class Day:
    """What a policy sees on one homework day (and what it keeps between days in ``state``)."""

    date: dt.date
    week: int
    index: int
    weeks: int
    minutes: float
    history: list[tuple[str, str, float, dt.date]]
    model: Any
    done: list[set[int]]  # items each student has had
    pool: ItemPool
    answers: list[list[tuple[int, bool]]]  # each student's (item, correct), in order
    state: dict[str, Any] = field(default_factory=dict)

    def mastery(self, student: str, points: list[str]) -> dict[str, float]:
        """The platform's model's P(correct) per point (0.5 before any model is fitted: a cold start)."""
        if self.model is None:
            return {k: 0.5 for k in points}
        return {str(k): m.p_correct for k, m in self.model.mastery(student, points).items()}


Chooser = Callable[[World, Any, Day], dict[int, np.ndarray]]


def uniform(world: World, sim: Any, day: Day) -> dict[int, np.ndarray]:
    """The teacher's set for the whole class: the unit's points in order, the same number of days each,
    mixed difficulty, nothing the class has had."""
    days = day.weeks * 5
    topic = (UNIT[min(day.index * len(UNIT) // days, len(UNIT) - 1)],)
    had = set().union(*day.done)
    request = AssignmentRequest(knowledge_points=topic, minutes=day.minutes, grade=GRADE, difficulty="mixed",
                                tolerance=0.1, seed=day.date.toordinal(),
                                exclude=tuple(str(world.curriculum.item_ids[i]) for i in had))
    assignment = compose_assignment(world.bank, request)
    items = np.array([world.index_of[i] for i in assignment.item_ids])
    return {s: items for s in range(len(sim.students))}


def fill(world: World, candidates: np.ndarray, done: set[int], minutes: float,
         rng: np.random.Generator) -> list[int]:
    """Random ``candidates`` not had before, up to ``minutes`` of the bank's estimates."""
    chosen, total = [], 0.0
    for i in rng.permutation(candidates):
        if int(i) not in done and total + world.curriculum.item_minutes[i] <= minutes:
            chosen.append(int(i))
            total += world.curriculum.item_minutes[i]
        if minutes - total < 1.0:
            break
    return chosen


def random_items(world: World, sim: Any, day: Day) -> dict[int, np.ndarray]:
    """Each student: random unit items not had before, up to the day's minutes."""
    rng = np.random.default_rng([world.seed, day.date.toordinal()])
    return {s: np.array(fill(world, world.unit_items, day.done[s], day.minutes, rng), dtype=np.int64)
            for s in range(len(sim.students))}


def three_in_a_row(world: World, sim: Any, day: Day, s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mastery learning as in ASSISTments skill builders (online, so it sees each answer at once): the
    student works the unit's points and their prerequisites in curriculum order (``CURRICULUM``), random
    items of the current point, until three answers on it in a row are right; then the next point. Every
    point passed: random unit items, or nothing under targeted's stopping rule (``when_mastered="stop"``).
    Returns the day's items, whether each was right, the minutes spent
    and each item's true P(correct) when it was given."""
    rng = np.random.default_rng([world.seed, day.date.toordinal(), 3, s])
    current = day.state.setdefault("point", [0] * len(sim.students))
    streak = day.state.setdefault("streak", [0] * len(sim.students))
    cur, left = world.curriculum, day.minutes
    items, right, used, p_true = [], [], [], []
    while left >= 1.0:
        code = world.kp_code[CURRICULUM[current[s]]] if current[s] < len(CURRICULUM) else None
        if code is None and world.policy.when_mastered == "stop":
            break  # the same stopping rule as targeted's: every skill builder done, no more homework
        chosen = fill(world, world.items_of[code] if code is not None else world.unit_items,
                      day.done[s] | set(items), left, rng)
        if not chosen:
            break
        i = chosen[0]
        p_true.append(float(sim.p_correct(s, [i])[0]))
        correct, minutes = sim.answer(s, [i])
        items.append(i)
        right.append(bool(correct[0]))
        used.append(float(minutes[0]))
        left -= float(cur.item_minutes[i])
        if code is not None:
            streak[s] = streak[s] + 1 if correct[0] else 0
            if streak[s] >= 3:
                current[s], streak[s] = current[s] + 1, 0
    return (np.array(items, dtype=np.int64), np.array(right, dtype=bool), np.array(used), np.array(p_true))


def weakest_ready(world: World, sim: Any, day: Day) -> dict[int, np.ndarray]:
    """Each student practises the one point, of the unit and its prerequisites, with the lowest mastery
    (the platform's model) among those not yet mastered (0.8) whose prerequisites are ready (0.5):
    random items of it."""
    rng = np.random.default_rng([world.seed, day.date.toordinal(), 4])
    points = sorted(_ancestors(UNIT))
    code = {k: j for j, k in enumerate(world.curriculum.knowledge_points)}
    out = {}
    for s, student in enumerate(sim.students):
        m = day.mastery(student, points)
        ready = [k for k in points if m[k] < 0.8 and all(m.get(q, 0.5) >= 0.5 for q in PREREQUISITES.get(k, []))]
        pool = world.items_of[code[min(ready, key=lambda k: m[k])]] if ready else world.unit_items
        out[s] = np.array(fill(world, pool, day.done[s], day.minutes, rng), dtype=np.int64)
    return out


def _ancestors(points: tuple[str, ...]) -> set[str]:
    seen: set[str] = set()
    stack = list(points)
    while stack:
        k = stack.pop()
        if k not in seen:
            seen.add(k)
            stack.extend(PREREQUISITES.get(k, []))
    return seen


def _offline(world: World, sim: Any, day: Day) -> dict[int, np.ndarray]:
    raise AssertionError("an online policy is run one student at a time by run()")


def targeted(world: World, sim: Any, day: Day, mastery: Any = None,
             policy: SelectionPolicy | None = None) -> dict[int, np.ndarray]:
    """``select_for_class`` on the mastery model, the class's history and the unit test date."""
    test = START + dt.timedelta(weeks=day.weeks) - dt.timedelta(days=3)
    scope = Scope(subject="math", grade=GRADE, knowledge_points=UNIT, test_date=test)
    history = pd.DataFrame(day.history, columns=["student_id", "item_id", "correct", "date"]) if day.history else None
    source = mastery or day.model or {student: {} for student in sim.students}
    sets = select_for_class(day.pool, list(sim.students), source, minutes=day.minutes, scope=scope,
                            prerequisites=PREREQUISITES, history=history, today=day.date,
                            policy=policy or world.policy)
    world.predictions = {s: [(p.p_success, p.purpose) for p in sets[student].picks]
                         for s, student in enumerate(sim.students)}
    return {s: np.array([world.index_of[i] for i in sets[student].item_ids], dtype=np.int64)
            for s, student in enumerate(sim.students)}


def oracle(world: World, sim: Any, day: Day) -> dict[int, np.ndarray]:
    """``targeted`` told each student's TRUE mastery by the simulator (never available in practice): how
    much of targeted's result is lost to estimating mastery."""
    names = world.curriculum.knowledge_points
    observed = typical_p_correct(world, sim)
    truth = {student: {k: SkillMastery(k, float(observed[s, j]), 0.05, 10) for j, k in enumerate(names)}
             for s, student in enumerate(sim.students)}
    exact = dataclasses.replace(world.policy, unmix=False, calibration_window=0, band_window=0,
                                band=oracle_band(world))  # nothing to correct; the true best difficulty
    return targeted(world, sim, day, truth, exact)


def oracle_band(world: World) -> tuple[float, float]:
    """The band the oracle aims at, from the learner's true dynamics: centred on the success that
    teaches most (``p_opt`` seen through slips and guesses), as wide in logits as the policy's band;
    for the knowledge-state learner, whose attempts teach the same at any difficulty, every success
    (so the oracle's choice among a point's items is by minutes alone when ``item_value`` is
    ``per_minute``)."""
    if world.member.learner == "knowledge-state":
        return (0.02, 0.98)
    cfg = world.config

    def logit(p: float) -> float:
        return float(np.log(p / (1 - p)))

    def sigmoid(z: float) -> float:
        return float(1 / (1 + np.exp(-z)))

    best = logit(cfg.guess + (1 - cfg.guess - cfg.slip) * cfg.p_opt)
    lo, hi = (logit(x) for x in world.policy.band)
    return sigmoid(best - (hi - lo) / 2), sigmoid(best + (hi - lo) / 2)


Online = Callable[[World, Any, Day, int], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
ONLINE: dict[str, Online] = {"three-in-a-row": three_in_a_row}
"""Policies that see each answer as it is given (a computer, not paper): one student's day at a time."""
POLICIES: dict[str, Chooser] = {"uniform": uniform, "random": random_items, "three-in-a-row": _offline,
                                "weakest-ready": weakest_ready, "targeted": targeted, "oracle": oracle}
DEFAULT_POLICIES = list(POLICIES)
CURRICULUM = sorted(_ancestors(UNIT), key=lambda k: (TYPICAL_GRADE[k], k != "number.decimal", k))
"""The unit's points and their prerequisites in the order they are taught (grade, then as the unit lists)."""
USES_MODEL = {"weakest-ready", "targeted"}


# ------------------------------------------------------------------------------------------ a run


def refit(world: World, day: Day, answered: list[tuple[str, str, tuple[str, ...], float]]) -> None:
    """The platform's nightly/weekly job: the model refitted and the items recalibrated on every answer."""
    log = pd.concat([world.last_year, pd.DataFrame(answered, columns=world.last_year.columns)])
    day.model = MODELS[world.model_name](random_state=world.seed).fit(log)
    if world.recalibrate:
        day.pool = day.pool.recalibrated(log)


def run(world: World, name: str, weeks: int, minutes: float) -> dict[str, Any]:
    """Simulate ``weeks`` of homework under one policy; returns its figures."""
    sim = world.learners()
    start = sim.mastery()
    model = MODELS[world.model_name].from_json(world.model_json) if world.model_json else None
    spent = np.zeros(world.students)
    first_mastered = np.full((world.students, len(world.unit_kps)), np.nan)
    day = Day(START, 0, 0, weeks, minutes, [], model, [set() for _ in sim.students], world.pool,
              [[] for _ in sim.students])
    tick = time.perf_counter()
    success: list[np.ndarray] = []
    predicted: list[tuple[float, str, float, float]] = []
    points_per_day: list[int] = []
    weekly: list[tuple[float, np.ndarray]] = []
    answered: list[tuple[str, str, tuple[str, ...], float]] = []
    daily: list[tuple[float, float]] = []
    on_unit: list[np.ndarray] = []
    cur = world.curriculum
    for week in range(weeks):
        for weekday in range(5):
            day.date, day.week, day.index = START + dt.timedelta(weeks=week, days=weekday), week, week * 5 + weekday
            world.predictions = {}
            chosen = POLICIES[name](world, sim, day) if name not in ONLINE else dict.fromkeys(range(world.students))
            for s, items in chosen.items():
                if name in ONLINE:
                    items, correct, used, p_true = ONLINE[name](world, sim, day, s)
                else:
                    p_true = sim.p_correct(s, items)
                    correct, used = sim.answer(s, items)
                success.append(p_true)
                first = cur.item_kp_idx[cur.item_kp_ptr[items]]
                points_per_day.append(int(np.unique(first).size))
                on_unit.append(np.isin(first, world.unit_kps))
                predicted += [(pred, purpose, float(c), pt) for (pred, purpose), c, pt
                              in zip(world.predictions.get(s, []), correct.tolist(), p_true.tolist(), strict=False)]
                spent[s] += used.sum()
                student = sim.students[s]
                for i, c in zip(items.tolist(), correct.tolist(), strict=True):
                    item = str(cur.item_ids[i])
                    if day.model is not None:
                        day.model.update(student, item, kps_of(cur, i), float(c))
                    answered.append((student, item, kps_of(cur, i), float(c)))
                    day.history.append((student, item, float(c), day.date))
                    day.answers[s].append((i, bool(c)))
                day.done[s].update(items.tolist())
            sim.next_day()
            nightly = world.refit == "nightly" or (world.member.cold and week == 0)
            if name in USES_MODEL and answered and (nightly or (world.refit == "weekly" and weekday == 4)):
                refit(world, day, answered)
            daily.append((float(spent.mean()), float((sim.mastery() - start).sum(axis=1).mean())))
            now = sim.mastered()[:, world.unit_kps]
            first_mastered[np.isnan(first_mastered) & now] = np.repeat(spent[:, None], len(world.unit_kps), 1)[
                np.isnan(first_mastered) & now]
        sim.next_day(2)
        weekly.append((float(spent.mean()), sim.mastery()))
    row = figures(world, name, start, sim, spent, first_mastered, time.perf_counter() - tick)
    p = np.concatenate(success)
    row["true_success_mean"] = round(float(p.mean()), 3)
    row["true_success_in_band"] = round(float(((p >= 0.6) & (p <= 0.85)).mean()), 3)
    row["true_success_below_0.3"] = round(float((p < 0.3).mean()), 3)
    row["points_per_day"] = round(float(np.mean(points_per_day)), 2)
    row["items_on_unit"] = round(float(np.concatenate(on_unit).mean()), 3)
    row["label_scale_end"] = round(day.pool.label_scale, 3)
    row["items_per_100_min"] = round(float(100 * p.size / spent.sum()), 2)
    row["daily_minutes_and_gain"] = [(round(m, 2), round(g, 4)) for m, g in daily]
    row["weekly_gain_per_100_min"] = [round(float(100 * (m - start).sum(axis=1).mean() / minutes), 4)
                                      for minutes, m in weekly]
    if predicted:
        row.update(prediction_figures(predicted))
    return row


def prediction_figures(predicted: list[tuple[float, str, float, float]]) -> dict[str, Any]:
    """How well selection's predicted success matched what happened, on answers it had not seen
    (each prediction is made the day before the answer): a reliability curve in five bins of the
    prediction (mean predicted, observed share right, true P(correct), answers), and the share of
    reviews and of reviews whose true P(correct) was below 0.3."""
    pred = np.array([p for p, _, _, _ in predicted])
    right = np.array([c for _, _, c, _ in predicted])
    truth = np.array([t for _, _, _, t in predicted])
    review = np.array([purpose in ("review", "test") for _, purpose, _, _ in predicted])
    edges = np.array([0.0, 0.3, 0.5, 0.6, 0.7, 0.85, 1.0001])
    bins = np.digitize(pred, edges) - 1
    curve = [(f"{edges[b]:.2f}-{min(edges[b + 1], 1):.2f}", round(float(pred[bins == b].mean()), 3),
              round(float(right[bins == b].mean()), 3), round(float(truth[bins == b].mean()), 3),
              int((bins == b).sum())) for b in range(edges.size - 1) if (bins == b).any()]
    return {"reliability": curve,
            "predicted_mean": round(float(pred.mean()), 3), "observed_mean": round(float(right.mean()), 3),
            "review_share": round(float(review.mean()), 3),
            "purpose_share": {k: round(float(np.mean([q == k for _, q, _, _ in predicted])), 3)
                              for k in ("learn", "prerequisite", "review", "test", "extend")},
            "reviews_below_0.3": round(float((truth[review] < 0.3).mean()), 3) if review.any() else None}


def figures(world: World, name: str, start: np.ndarray, sim: LearnerSimulator, spent: np.ndarray,
            first_mastered: np.ndarray, seconds: float) -> dict[str, Any]:
    """Mastery gained is the sum over knowledge points of the rise in latent P(correct) on a typical
    item: over every point of the curriculum (what the students learned, wherever; the headline), and
    over the unit's five points alone."""
    end, level = sim.mastery(), sim.config.mastery_p
    unit = world.unit_kps
    gain, unit_gain = (end - start).sum(axis=1), (end[:, unit] - start[:, unit]).sum(axis=1)
    weakest = start.mean(axis=1) <= np.quantile(start.mean(axis=1), 0.25)
    open_pairs = start[:, unit] < level
    reached = ~np.isnan(first_mastered) & open_pairs

    def per_100(g: np.ndarray, m: np.ndarray) -> float:
        return round(float(100 * g.mean() / m.mean()), 4)

    return {
        "policy": name, "students": len(sim.students), "days": sim.day,
        "minutes_per_day": round(float(spent.mean() / (sim.day * 5 / 7)), 2),
        "gain_per_100_min": per_100(gain, spent),
        "unit_gain_per_100_min": per_100(unit_gain, spent),
        "weakest_quartile_gain_per_100_min": per_100(gain[weakest], spent[weakest]),
        "weakest_quartile_unit_gain_per_100_min": per_100(unit_gain[weakest], spent[weakest]),
        "unit_mastery_start": round(float(start[:, unit].mean()), 4),
        "unit_mastery_end": round(float(end[:, unit].mean()), 4),
        "students_mastering_unit": round(float((end[:, unit] >= level).all(axis=1).mean()), 4),
        "unit_pairs_mastered": round(float(reached.sum() / max(open_pairs.sum(), 1)), 4),
        "median_minutes_to_mastery": round(float(np.median(first_mastered[reached])), 1) if reached.any() else None,
        "seconds": round(seconds, 1),
    }


def minutes_to_reach(curve: list[tuple[float, float]], gain: float) -> float | None:
    """Homework minutes after which a policy's mean gain first reaches ``gain`` (linear between days)."""
    before = (0.0, 0.0)
    for minutes, reached in curve:
        if reached >= gain:
            share = (gain - before[1]) / (reached - before[1]) if reached > before[1] else 1.0
            return round(before[0] + share * (minutes - before[0]), 1)
        before = (minutes, reached)
    return None


def compare(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Targeted's gain per minute over each other policy's, the weakest quartile's over uniform's, and
    the minutes targeted needed to reach each baseline's final gain; the targets of issues 5 and 12."""
    ours = results["targeted"]

    def ratio(name: str, key: str = "gain_per_100_min") -> float | None:
        return round(ours[key] / results[name][key], 3) if name in results and results[name][key] > 0 else None

    verdict: dict[str, Any] = {"figure": "targeted vs baselines"}
    for name in results:
        if name != "targeted":
            verdict[f"vs_{name}"] = ratio(name)
    verdict["weakest_quartile_vs_uniform"] = ratio("uniform", "weakest_quartile_gain_per_100_min")
    verdict["unit_only_vs_uniform"] = ratio("uniform", "unit_gain_per_100_min")
    for base in ("uniform", "random", "three-in-a-row"):
        if base in results:
            minutes, gain = results[base]["daily_minutes_and_gain"][-1]
            reach = minutes_to_reach(ours["daily_minutes_and_gain"], gain)
            verdict[f"minutes_to_{base}_outcome"] = reach
            verdict[f"speedup_to_{base}_outcome"] = round(minutes / reach, 3) if reach else None
    checks = {"vs_three-in-a-row": 1.5, "vs_oracle": 0.6, "weakest_quartile_vs_uniform": 1.0}
    verdict["targets"] = {k: (verdict.get(k), bool((verdict.get(k) or 0) >= v)) for k, v in checks.items()
                          if verdict.get(k) is not None}
    verdict["targets_met"] = all(ok for _, ok in verdict["targets"].values())
    return verdict


# ------------------------------------------------------------------------------------------ speed


def synthetic_pool(n: int, seed: int = 0) -> tuple[pd.DataFrame, ItemPool]:
    rng = np.random.default_rng(seed)
    subjects = np.array(["math"] * 4 + ["chinese", "english", "physics", "chemistry", "biology", "science"])
    subject = subjects[rng.integers(0, subjects.size, n)]
    grade = rng.integers(1, 10, n)
    prefix = np.char.add(np.char.add(subject.astype(str), "."), grade.astype(str))

    def point() -> np.ndarray:
        return np.char.add(np.char.add(prefix, ".k"), rng.integers(0, 20, n).astype(str))

    first, second = point(), point()
    kps = np.where(rng.random(n) < 1 / 3, np.char.add(np.char.add(first, ";"), second), first)
    frame = pd.DataFrame({"id": np.char.add("syn", np.arange(n).astype(str)), "subject": subject, "grade": grade,
                          "knowledge_points": kps, "difficulty": rng.integers(1, 6, n),
                          "minutes": np.round(rng.gamma(2.0, 1.5, n) + 0.5, 1)})
    return frame, ItemPool.from_frame(frame)


def bench_speed(show: Callable[[dict[str, Any]], None], items: int = 700_000) -> None:
    tick = time.perf_counter()
    frame, pool = synthetic_pool(items)
    show({"figure": "item pool built", "items": items, "points": len(pool.kp_names),
          "seconds": round(time.perf_counter() - tick, 2)})
    points = [f"math.6.k{j}" for j in range(20)]
    prerequisites = {f"math.6.k{j}": [f"math.5.k{j}", f"math.6.k{j - 1}"] for j in range(1, 20)}
    rng = np.random.default_rng(1)
    math6 = frame.loc[(frame["subject"] == "math") & (frame["grade"] <= 6), ["id", "knowledge_points"]]
    n_log = 10_000 * 50
    rows = math6.sample(n_log, replace=True, random_state=2)
    students = np.repeat([f"u{j:05d}" for j in range(10_000)], 50)
    log = pd.DataFrame({"student_id": students, "item_id": rows["id"].to_numpy(),
                        "skill_ids": [tuple(k.split(";")) for k in rows["knowledge_points"]],
                        "correct": (rng.random(n_log) < 0.7).astype(float)})
    model = BKT(random_state=0, n_iter=5).fit(log)
    dates = np.datetime64("2026-11-01") + rng.integers(0, 21, n_log).astype("timedelta64[D]")
    history = pd.DataFrame({"student_id": students, "item_id": log["item_id"], "correct": log["correct"],
                            "date": dates})
    scope = Scope(subject="math", grade=6, knowledge_points=tuple(points[:8]), test_date=dt.date(2026, 12, 1))
    today = dt.date(2026, 11, 23)
    for size in (50, 10_000):
        chosen = [f"u{j:05d}" for j in range(size)]
        part = history[history["student_id"].isin(set(chosen))]
        tick = time.perf_counter()
        sets = select_for_class(pool, chosen, model, minutes=30, scope=scope, prerequisites=prerequisites,
                                history=part, today=today)
        seconds = time.perf_counter() - tick
        picks = [len(s.picks) for s in sets.values()]
        show({"figure": f"select for {size:,} students", "items": items, "seconds": round(seconds, 3),
              "target_s": 1.0 if size == 50 else 60.0, "mean_items": round(float(np.mean(picks)), 1),
              "mean_minutes": round(float(np.mean([s.total_minutes for s in sets.values()])), 1)})


# ------------------------------------------------------------------------------------------- main


def selection_policy(changes: list[str]) -> SelectionPolicy:
    """``SelectionPolicy`` with ``NAME=VALUE`` changes (tuples as comma-separated numbers)."""
    fields: dict[str, Any] = {}
    defaults = SelectionPolicy()
    for change in changes:
        name, _, text = change.partition("=")
        if not hasattr(defaults, name):
            raise SystemExit(f"--select: unknown setting {name!r}; valid: {', '.join(defaults.__dataclass_fields__)}")
        current = getattr(defaults, name)
        if isinstance(current, bool):
            fields[name] = text.strip().lower() in ("1", "true", "yes", "on")
        elif isinstance(current, tuple):
            fields[name] = tuple(type(current[0])(v) for v in text.split(","))
        elif isinstance(current, str):
            fields[name] = text
        else:
            fields[name] = type(current)(text)
    return SelectionPolicy(**fields)


def printer(as_json: bool) -> Callable[[dict[str, Any]], None]:
    def show(row: dict[str, Any]) -> None:
        if as_json:
            print(json.dumps(row, ensure_ascii=False), flush=True)
        else:
            label = row.get("policy") or row.get("figure")
            rest = "  ".join(f"{k}={v}" for k, v in row.items() if k not in ("policy", "figure"))
            print(f"{label:<28} {rest}", flush=True)
    return show


def table(results: dict[str, dict[str, Any]]) -> None:
    columns = [("gain_per_100_min", "gain/100 min"), ("weakest_quartile_gain_per_100_min", "weakest q."),
               ("unit_gain_per_100_min", "unit only"), ("unit_pairs_mastered", "pairs mastered"),
               ("unit_mastery_end", "unit mastery"), ("minutes_per_day", "min/day"),
               ("points_per_day", "points/day"), ("true_success_below_0.3", "P<0.3 items"),
               ("true_success_mean", "mean P")]
    print(f"{'policy':<15}" + "".join(f"{title:>15}" for _, title in columns))
    for name, row in results.items():
        print(f"{name:<15}" + "".join(f"{row[key] if row[key] is not None else '-':>15}" for key, _ in columns))
    ours = results.get("targeted", {})
    if "reliability" in ours:
        print(f"targeted's predicted success on answers it had not seen (mean {ours['predicted_mean']}, observed "
              f"{ours['observed_mean']}; bin: predicted / observed / true P / answers): "
              + "; ".join(f"{b}: {p} / {o} / {t} / {n}" for b, p, o, t, n in ours["reliability"])
              + f"; reviews {ours['review_share']:.0%} of items, {ours['reviews_below_0.3']} of them below P 0.3; "
              + "items by purpose: " + ", ".join(f"{k} {v:.0%}" for k, v in ours["purpose_share"].items()))


def verdict_text(v: dict[str, Any]) -> str:
    ratios = "; ".join(f"{k[3:]} {x:.2f}x" for k, x in v.items() if k.startswith("vs_") and x is not None)
    checks = "; ".join(f"{k.replace('vs_', '/ ')} {x:.2f} ({'met' if ok else 'NOT met'})"
                       for k, (x, ok) in v["targets"].items())
    reach = "; ".join(f"{base}'s final gain after {v[f'minutes_to_{base}_outcome']} min "
                      f"({v[f'speedup_to_{base}_outcome']}x faster)" for base in ("uniform", "three-in-a-row")
                      if v.get(f"minutes_to_{base}_outcome"))
    return f"targeted's gain per minute over: {ratios}\ntargets (issue 12): {checks}\ntargeted reached {reach}"


def policies(config: LearnerConfig, args: argparse.Namespace, show: Callable[[dict[str, Any]], None],
             member: Member = FAMILY[0], label: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    world = build_world(config.with_overrides(list(member.overrides)), args.students, args.seed, args.model,
                        selection_policy(args.select), refit=args.refit, member=member)
    world.recalibrate = not args.no_recalibrate
    results = {name: run(world, name, args.weeks, args.minutes) for name in args.policies}
    verdict = compare(results) if "targeted" in results else {}
    label = member.name + (f" ({label})" if label else "")
    if args.json:
        for row in results.values():
            show({**row, "member": label})
        if verdict:
            show({**verdict, "member": label})
    else:
        print(f"\n{label}: {member.describe()}; {args.students} students, {args.weeks} weeks x 5 days, "
              f"{args.minutes:g} min/day")
        table(results)
        if verdict:
            print(verdict_text(verdict))
    return results, verdict


def family_table(family: dict[str, tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """One line per member: every policy's gain per 100 minutes, the weakest quartile under targeted and
    uniform, targeted's ratio to three-in-a-row and to the oracle."""
    names = list(next(iter(family.values()))[0])
    print("\n| member | " + " | ".join(names) + " | weakest q. targeted / uniform | targeted / three-in-a-row "
          "| targeted / oracle |")
    print("|---" * (len(names) + 4) + "|")
    for member, (results, verdict) in family.items():
        gains = " | ".join(f"{results[n]['gain_per_100_min']:.3f}" for n in names)
        weak = results.get("targeted", {}).get("weakest_quartile_gain_per_100_min")
        weak_u = results.get("uniform", {}).get("weakest_quartile_gain_per_100_min")
        three, best = (_times(verdict.get(k)) for k in ("vs_three-in-a-row", "vs_oracle"))
        print(f"| {member} | {gains} | {weak} / {weak_u} | {three} | {best} |")
    met = [m for m, (_, v) in family.items() if v.get("targets_met")]
    print(f"targets met on {len(met)} of {len(family)} members: {', '.join(met) or 'none'}")


def _times(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--weeks", type=int, default=6)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", choices=sorted(MODELS), default="historyboost",
                        help="the mastery model behind the targeted policy (default: the platform's default)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="change a LearnerConfig assumption, e.g. --set p_opt=0.5")
    parser.add_argument("--select", action="append", default=[], metavar="NAME=VALUE",
                        help="change a SelectionPolicy setting of the targeted policy, e.g. --select band=0.5,0.8")
    parser.add_argument("--policies", nargs="+", choices=sorted(POLICIES), default=DEFAULT_POLICIES,
                        help="oracle: targeted told the simulator's true mastery (a ceiling, not a policy)")
    parser.add_argument("--family", action="store_true", help="run every member of the family of simulated classes")
    parser.add_argument("--member", action="append", default=[], choices=[m.name for m in FAMILY],
                        help="run these members of the family (default: reference)")
    parser.add_argument("--sensitivity", action="store_true", help="also rerun under other assumptions")
    parser.add_argument("--refit", choices=["never", "weekly", "nightly"], default="weekly",
                        help="how often the platform refits the mastery model on all answers (online updates always)")
    parser.add_argument("--no-recalibrate", action="store_true",
                        help="item easiness from last year's answers (or the labels) only, never this year's")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--no-policies", action="store_true")
    args = parser.parse_args(argv)
    show = printer(args.json)
    logging.getLogger("homework").setLevel(logging.ERROR)  # the teacher's sets near the end run out of unused items
    config = LearnerConfig().with_overrides(args.set)
    if not args.no_policies:
        members = FAMILY if args.family else [m for m in FAMILY if m.name in args.member] or [FAMILY[0]]
        family = {m.name: policies(config, args, show, m, ", ".join(args.set)) for m in members}
        if len(family) > 1 and not args.json:
            family_table(family)
        if args.sensitivity:
            for change in (["p_opt=0.5"], ["p_opt=0.85"], ["prereq_floor=1.0"], ["forget_rate=0.0"],
                           ["kp_sd=0.0"], ["learning_rate=0.1"]):
                policies(config.with_overrides(change), args, show, FAMILY[0], ", ".join(args.set + change))
    if not args.no_speed:
        bench_speed(show)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
