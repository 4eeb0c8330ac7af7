"""Targeted homework (个性作业靶向投放): each student's next set, picked from the item pool by mastery.

For one student, within the teacher's :class:`Scope` and a time budget::

    0 mastery    the model's P(correct) per point, with points only practised beside others separated
                 from them (``unmix``) and a per-student shift when the latest results disagree
    1 learn      knowledge points below mastery (0.8); one whose prerequisite is below ``ready_threshold``
                 (0.5) is replaced by that prerequisite ("prerequisites first"); the ``max_points`` (3)
                 with the highest expected gain 4p(1-p) x readiness (plus uncertainty, a test soon),
                 their minutes shared in proportion to it
    2 review     points answered wrong before and not under active practice, when their spaced interval
                 is due (1, 3, 7, 14, 30 days after the last practice); a different item (错题 variant);
                 at most ``review_share`` (20 %) of the minutes
    3 test prep  mastered points the next test covers, not practised for a week
    4 extend     every point in scope mastered: harder items on them
    each pick    an item whose predicted success lies in the desirable-difficulty band (0.55-0.83)
                 with the most expected learning per minute (near the band's middle, short), with a
                 little noise so classmates get different items; not
                 one the student did in the last ``recent_days`` or got wrong; its minutes fit what is left

Every :class:`Pick` says why in words a teacher can read. The budget is the caller's: the ``homework``
package passes the smaller of the teacher's minutes and what the 双减 cap leaves for that day.

>>> frame = pd.DataFrame({"id": [f"q{i}" for i in range(8)], "subject": "math", "grade": 4,
...     "knowledge_points": ["add"] * 4 + ["mul"] * 4, "difficulty": [1, 2, 3, 4] * 2, "minutes": 3.0})
>>> pool = ItemPool.from_frame(frame)
>>> weak = {"add": SkillMastery("add", 0.9, 0.05, 20), "mul": SkillMastery("mul", 0.45, 0.1, 6)}
>>> chosen = select_items(pool, "s1", weak, minutes=6, prerequisites={"mul": ["add"]},
...                       today=dt.date(2026, 11, 23))
>>> [(p.item_id, p.purpose) for p in chosen.picks]
[('q4', 'learn'), ('q5', 'learn')]
>>> print(chosen.picks[0].reason)
mul: mastery 0.45 ± 0.10 after 6 answers, below 0.80; prerequisites ready (each 0.50 or more); predicted success 0.73
>>> chosen.picks[1].reason.endswith("predicted success 0.60")  # inside the 0.55-0.83 band
True
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from recommender._errors import DataFormatError
from recommender._pool import ItemPool, ScopedItems, logit, sigmoid
from recommender._results import SkillMastery

logger = logging.getLogger(__name__)

Purpose = Literal["learn", "prerequisite", "review", "test", "extend"]
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Scope:
    """What the teacher allows: subject, the highest grade of items, knowledge points (empty: all the
    pool has in that subject and grade range), and the next test with the points it covers (default:
    the scope's points)."""

    subject: str | None = None
    grade: int | None = None
    knowledge_points: tuple[str, ...] = ()
    test_date: dt.date | None = None
    test_points: tuple[str, ...] = ()
    min_grade: int | None = None


@dataclass(frozen=True)
class SelectionPolicy:
    """Every rule of selection as a number a district can change (the module docstring tells the order).

    ``band``: the desirable-difficulty band of predicted success; ``mastery_threshold``: a point is
    mastered at this P(correct); ``ready_threshold``: a prerequisite below it is learned first;
    ``priority``: ``"learnable"`` (expected gain, 4p(1-p) x readiness) or ``"gap"`` (distance to
    mastery), plus ``uncertainty_weight`` x std; ``proportional``: minutes shared by priority, else
    round-robin; ``unmix``: separate points only practised beside others; ``recent_days``: no item
    done this recently; ``review_intervals``/``review_share``: the spaced-review schedule and its
    share of the minutes; ``max_points``: points learned in one set; ``test_window_days``/
    ``test_review_days``: test prep; ``window``: candidates priced per pick; ``jitter``: noise so
    classmates differ; ``calibration_window``/``calibration_strength``: the per-student correction
    (0 turns it off); ``below_band``: with no unused item in the band, ``"nearest"`` takes the nearest
    item on either side, ``"never"`` only easier ones (a point with none is left for its prerequisites
    or other points, reviews included); ``prior``: a point the student has never answered takes the
    model's value (``"model"``) or the class's mean where at least three classmates answered it, capped
    by its weakest prerequisite (``"class"``); ``focus_days``/``focus_bonus``: a point practised in the
    last ``focus_days`` days and not yet mastered gets ``focus_bonus`` more priority, so a set stays on
    its points until they are mastered (0 turns it off); ``item_value``: among the candidates, the item
    whose predicted success is nearest the band's middle (``"centre"``) or the one with the most expected
    learning per minute (``"per_minute"``: a bell over logit(success) centred on the band, one half-width
    of the band in logits wide, divided by the item's minutes); ``when_mastered``: once every point in
    scope is mastered, harder items on them (``"extend"``) or nothing beyond due reviews and test prep
    (``"stop"``: the stopping rule of mastery learning, and the 双减 principle that a set teaching nothing
    is not set); ``band_window``: the band moves per student so that their last ``band_window`` answers'
    success lands at its middle (0 turns it off; see :meth:`_Context.band_for`); ``seed``: the noise.
    """

    band: tuple[float, float] = (0.55, 0.83)
    mastery_threshold: float = 0.8
    ready_threshold: float = 0.5
    uncertainty_weight: float = 0.5
    proportional: bool = True
    unmix: bool = True
    priority: Literal["gap", "learnable"] = "learnable"
    recent_days: int = 14
    review_intervals: tuple[int, ...] = (1, 3, 7, 14, 30)
    review_share: float = 0.2
    max_points: int = 3
    test_window_days: int = 14
    test_review_days: int = 7
    window: int = 48
    jitter: float = 0.04
    calibration_window: int = 40
    calibration_strength: float = 10.0
    below_band: Literal["nearest", "never"] = "nearest"
    prior: Literal["model", "class"] = "model"
    focus_days: int = 0
    focus_bonus: float = 0.5
    item_value: Literal["centre", "per_minute"] = "per_minute"
    when_mastered: Literal["extend", "stop"] = "extend"
    band_window: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        lo, hi = self.band
        if not 0 < lo < hi < 1:
            raise DataFormatError(f"<policy>: field 'band': needs 0 < low < high < 1, got {self.band}")
        for name in ("mastery_threshold", "ready_threshold"):
            if not 0 <= getattr(self, name) < 1:
                raise DataFormatError(f"<policy>: field {name!r}: must be in [0, 1), got {getattr(self, name)}")
        if self.band_window < 0:
            raise DataFormatError(f"<policy>: field 'band_window': must be >= 0, got {self.band_window}")
        if not 0 <= self.review_share <= 1 or self.max_points < 1:
            raise DataFormatError("<policy>: field 'review_share': must be in [0, 1] (and max_points >= 1)")


@dataclass(frozen=True)
class Pick:
    """One chosen item and why: ``purpose`` is learn, prerequisite, review, test or extend."""

    item_id: str
    knowledge_point: str
    minutes: float
    p_success: float
    mastery: float
    mastery_std: float
    purpose: Purpose
    reason: str


@dataclass(frozen=True)
class TargetedSet:
    """A student's next homework set. ``confidence`` is the mean confidence of the mastery estimates the
    picks relied on (1 = certain); ``notes`` say what could not be done (e.g. nothing left in the band);
    ``mastery_shift`` is the logit correction selection applied to the model's mastery for this student
    because the student's latest results disagreed with it (see :meth:`_Context.calibration`);
    ``model_mastery`` is what the model said per knowledge point and ``mastery_used`` what selection
    decided on after that correction and after separating points only practised together with
    others (:class:`_Mixing`); each pick's ``mastery`` is from ``mastery_used``."""

    student_id: Hashable
    picks: tuple[Pick, ...]
    budget_minutes: float
    notes: tuple[str, ...] = ()
    confidence: float = 0.0
    mastery_shift: float = 0.0
    model_mastery: dict[str, float] = field(default_factory=dict)
    mastery_used: dict[str, float] = field(default_factory=dict)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(p.item_id for p in self.picks)

    @property
    def total_minutes(self) -> float:
        return round(float(sum(p.minutes for p in self.picks)), 2)


@dataclass(frozen=True)
class TieredSets:
    """分层作业: one set per tier (``A`` strongest ... ``C`` weakest) and each student's tier; ``cutoffs`` is
    the lowest mean mastery in each tier but the last."""

    sets: dict[str, TargetedSet]
    tier_of: dict[Hashable, str]
    cutoffs: tuple[float, ...]

    def students(self, tier: str) -> list[Hashable]:
        return [s for s, t in self.tier_of.items() if t == tier]


MasterySource = Any
"""A fitted mastery model (anything with ``mastery(student, skill_ids)``, e.g. :class:`BKT`) or a mapping
``student -> {knowledge point: SkillMastery or P(correct)}``."""


def select_items(pool: ItemPool, student: Hashable, mastery: Mapping[str, SkillMastery | float], *,
                 minutes: float, scope: Scope = Scope(), prerequisites: Mapping[str, Iterable[str]] | None = None,
                 history: pd.DataFrame | None = None, policy: SelectionPolicy = SelectionPolicy(),
                 today: dt.date | None = None) -> TargetedSet:
    """One student's next set. ``history`` is the student's past answers (``item_id``, ``correct``,
    ``date``); ``prerequisites`` maps a knowledge point to its direct prerequisites."""
    sets = select_for_class(pool, [student], {student: mastery}, minutes=minutes, scope=scope,
                            prerequisites=prerequisites,
                            history=None if history is None else history.assign(student_id=student),
                            policy=policy, today=today)
    return sets[student]


def select_for_class(pool: ItemPool, students: Sequence[Hashable], mastery: MasterySource, *,
                     minutes: float | Mapping[Hashable, float], scope: Scope = Scope(),
                     prerequisites: Mapping[str, Iterable[str]] | None = None, history: pd.DataFrame | None = None,
                     policy: SelectionPolicy = SelectionPolicy(), today: dt.date | None = None,
                     progress: Callable[[int, int], None] | None = None) -> dict[Hashable, TargetedSet]:
    """Every student's set in one call (the scope is resolved once). ``minutes`` is one budget for all or
    one per student; ``history`` has ``student_id, item_id, correct, date`` rows for the whole class;
    ``progress(done, total)`` is called every 500 students."""
    ctx = _Context.build(pool, scope, prerequisites or {}, policy, today or dt.date.today())
    past = _past_by_student(pool, history)
    given = [_mastery_of(mastery, student, ctx.relevant_names) for student in students]
    prior = ctx.class_prior(given)
    out: dict[Hashable, TargetedSet] = {}
    for i, student in enumerate(students):
        budget = float(minutes[student] if isinstance(minutes, Mapping) else minutes)
        state = ctx.state(given[i], prior)
        out[student] = ctx.select(student, state, past.get(student, _Past.empty()), budget, i)
        if progress and (i + 1) % 500 == 0:
            progress(i + 1, len(students))
    return out


def tiered_sets(pool: ItemPool, students: Sequence[Hashable], mastery: MasterySource, *, minutes: float,
                scope: Scope = Scope(), prerequisites: Mapping[str, Iterable[str]] | None = None,
                history: pd.DataFrame | None = None, policy: SelectionPolicy = SelectionPolicy(),
                today: dt.date | None = None, tiers: Sequence[str] = ("A", "B", "C")) -> TieredSets:
    """分层作业 for a teacher who prints one sheet per tier: students are split into equal-sized tiers by
    their mean mastery over the scope (``A`` strongest), and each tier gets one set chosen for the tier's
    median mastery per knowledge point. No item any member did recently is used; a tier sheet has no
    per-student review (those belong in :func:`select_for_class`)."""
    if not students:
        raise DataFormatError("<class>: field 'students': a class needs at least one student")
    ctx = _Context.build(pool, scope, prerequisites or {}, replace(policy, review_share=0.0),
                         today or dt.date.today())
    states = {s: ctx.state(_mastery_of(mastery, s, ctx.relevant_names)) for s in students}
    scores = np.array([states[s].p[ctx.scope_codes].mean() for s in students])
    rank = np.empty(len(students), dtype=np.int64)  # by rank, not by score: ties cannot empty a tier
    rank[np.argsort(-scores, kind="stable")] = np.arange(len(students))
    level = rank * len(tiers) // len(students)
    tier_of = {s: tiers[int(t)] for s, t in zip(students, level, strict=True)}
    cutoffs = tuple(float(scores[level == t].min()) for t in range(len(tiers) - 1) if (level == t).any())
    past = _past_by_student(pool, history)
    sets = {}
    for i, tier in enumerate(tiers):
        members = [s for s in students if tier_of[s] == tier]
        if not members:
            continue
        stacked = {f: np.stack([getattr(states[s], f) for s in members]) for f in ("p", "std", "n", "known")}
        p, std, n = (np.median(stacked[f], axis=0) for f in ("p", "std", "n"))
        median = _State(p, std, n, known=stacked["known"].mean(axis=0) >= 0.5)
        seen = _Past.union([past[s] for s in members if s in past])
        sets[tier] = ctx.select(f"tier {tier}", median, seen, float(minutes), i)
    return TieredSets(sets, tier_of, cutoffs)


# ------------------------------------------------------------------------------------ internals


@dataclass(frozen=True)
class _State:
    """One student's mastery over every knowledge point of the pool, by code."""

    p: np.ndarray
    std: np.ndarray
    n: np.ndarray
    known: np.ndarray  # evidence about the student on the point: own answers, or a value the caller gave


@dataclass(frozen=True)
class _Mixing:
    """Separates the mastery of points that are only practised together with others.

    The model's mastery of a point is success on the items tagged with it; when those items also carry
    other points (a discount problem is percent.price *and* number.percent), that success is the items'
    mean logit over their points, by the same link selection predicts with. Per point ``k`` in scope:
    ``model[k] = sum_j M[k, j] pure[j]``, ``M[k, j]`` = mean over k's items of ``1/|points|`` if the
    item has ``j``. Solving for ``pure`` on the scope's points and their prerequisites (others taken as
    the model says; least squares with a small ridge towards the model) gives the mastery the link
    needs, so an item on two points is not credited twice with the easier one.
    """

    solve: np.ndarray  # codes solved for
    other: np.ndarray  # codes that co-occur with them, taken as given
    square: np.ndarray  # M[solve, solve]
    solver: np.ndarray  # (M'M + ridge I)^-1 over the solved points
    cross: np.ndarray  # M[solve, other]
    ridge: float

    @classmethod
    def build(cls, pool: ItemPool, tables: ScopedItems, codes: list[int]) -> _Mixing | None:
        rows = {}
        for code in codes:
            items = tables[code].positions if tables.has(code) else np.zeros(0, np.int64)
            if not items.size:
                continue
            lengths = pool.kp_ptr[items + 1] - pool.kp_ptr[items]
            flat = np.repeat(pool.kp_ptr[items] - np.r_[0, np.cumsum(lengths)[:-1]], lengths) + np.arange(lengths.sum())
            weights = np.repeat(1.0 / lengths, lengths) / items.size
            row = pd.Series(weights).groupby(pool.kp_idx[flat]).sum()
            if row.get(code, 1.0) < 1.0 - 1e-9:
                rows[code] = row
        if not rows:
            return None
        solve = np.array(codes, dtype=np.int64)
        other = np.array(sorted({int(j) for row in rows.values() for j in row.index} - set(codes)), dtype=np.int64)
        where = {int(c): i for i, c in enumerate(solve)}
        where_other = {int(c): i for i, c in enumerate(other)}
        square, cross = np.eye(solve.size), np.zeros((solve.size, other.size))
        for code, row in rows.items():
            i = where[code]
            square[i, i] = 0.0
            for j, weight in row.items():
                if int(j) in where:
                    square[i, where[int(j)]] += weight
                else:
                    cross[i, where_other[int(j)]] += weight
        ridge = 0.05
        return cls(solve, other, square, np.linalg.inv(square.T @ square + ridge * np.eye(solve.size)), cross, ridge)

    def unmix(self, logits: np.ndarray) -> np.ndarray:
        """Pure logits for the solved points (clipped to +-4), the others unchanged. A small ridge towards the
        model's own values keeps points that only ever appear together (no way to tell them apart) where
        the model put them."""
        out = logits.copy()
        given = logits[self.solve]
        target = given - self.cross @ logits[self.other]
        pure = self.solver @ (self.square.T @ target + self.ridge * given)
        out[self.solve] = np.clip(pure, -4.0, 4.0)
        return out


class _Target(NamedTuple):
    """A knowledge point to deal items to, why, the point it unblocks, and its share of the minutes."""

    code: int
    purpose: Purpose
    target: int | None = None
    weight: float = 1.0


@dataclass(frozen=True)
class _Past:
    """One student's answers: pool positions, correctness and day numbers (days since 1970)."""

    pos: np.ndarray
    correct: np.ndarray
    day: np.ndarray

    @classmethod
    def empty(cls) -> _Past:
        return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64))

    @classmethod
    def union(cls, parts: list[_Past]) -> _Past:
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("pos", "correct", "day")))


def _day(date: dt.date) -> int:
    return (date - _EPOCH).days


def _past_by_student(pool: ItemPool, history: pd.DataFrame | None) -> dict[Hashable, _Past]:
    if history is None or history.empty:
        return {}
    missing = {"student_id", "item_id", "correct", "date"} - set(history.columns)
    if missing:
        raise DataFormatError(f"<history>: field {sorted(missing)[0]!r}: column missing "
                              "(needs student_id, item_id, correct, date)")
    pos = history["item_id"].astype(str).map(pool._pos)
    known = history.loc[pos.notna()]
    days = pd.to_datetime(known["date"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    frame = pd.DataFrame({"student_id": known["student_id"].to_numpy(), "pos": pos[pos.notna()].astype(np.int64),
                          "correct": known["correct"].astype(float).to_numpy(), "day": days})
    return {s: _Past(g["pos"].to_numpy(), g["correct"].to_numpy(), g["day"].to_numpy())
            for s, g in frame.groupby("student_id", sort=False)}


def _mastery_of(source: MasterySource, student: Hashable, kps: list[str]) -> Mapping[str, Any]:
    if hasattr(source, "mastery"):
        result: Mapping[str, Any] = source.mastery(student, kps)
        return result
    if student not in source:
        raise DataFormatError(f"<mastery>: field 'student_id': no mastery given for student {student!r}")
    found: Mapping[str, Any] = source[student]
    return found


@dataclass
class _Context:
    """Everything shared by the students of one call: scope tables, prerequisites, policy, today."""

    pool: ItemPool
    scope: Scope
    policy: SelectionPolicy
    today: int
    tables: ScopedItems
    scope_codes: np.ndarray
    test_codes: set[int]
    prereqs: dict[int, list[int]]
    relevant_names: list[str]
    names: tuple[str, ...]
    mixing: _Mixing | None

    @classmethod
    def build(cls, pool: ItemPool, scope: Scope, prerequisites: Mapping[str, Iterable[str]],
              policy: SelectionPolicy, today: dt.date) -> _Context:
        tables = pool.scoped(scope.subject, scope.grade, scope.min_grade)
        has_items = set(np.flatnonzero(tables.counts).tolist())
        codes = pool._kp_code
        if scope.knowledge_points:
            unknown = [k for k in scope.knowledge_points if k not in codes]
            if unknown:
                raise DataFormatError(f"<scope>: field 'knowledge_points': {unknown} have no items in the pool")
            scope_codes = [codes[k] for k in scope.knowledge_points]
        else:
            scope_codes = sorted(has_items)
        if not any(c in has_items for c in scope_codes):
            raise DataFormatError(f"<scope>: field 'knowledge_points': no item of {scope.subject or 'any subject'} "
                                  f"up to grade {scope.grade} covers the scope")
        prereqs = {codes[k]: [codes[p] for p in pres if p in codes and codes[p] in has_items]
                   for k, pres in prerequisites.items() if k in codes}
        relevant = _ancestors(scope_codes, prereqs)
        test = scope.test_points or scope.knowledge_points
        test_codes = {codes[k] for k in test if k in codes} if scope.test_date else set()
        mixing = _Mixing.build(pool, tables, sorted(relevant)) if policy.unmix else None
        asked = sorted(relevant | (set(mixing.other.tolist()) if mixing else set()))
        return cls(pool, scope, policy, _day(today), tables, np.asarray(scope_codes, dtype=np.int64), test_codes,
                   prereqs, [pool.kp_names[c] for c in asked], pool.kp_names, mixing)

    def state(self, mastery: Mapping[str, Any], prior: Mapping[int, float] | None = None) -> _State:
        """One student's mastery by code; with ``policy.prior == "class"``, points the student never
        answered (a :class:`SkillMastery` with no answers, or missing) take the class's ``prior`` and are
        capped by their weakest prerequisite."""
        k = len(self.names)
        p, std, n, known = np.full(k, 0.5), np.full(k, 0.25), np.zeros(k), np.zeros(k, dtype=bool)
        codes = self.pool._kp_code
        for name, value in mastery.items():
            code = codes.get(str(name))
            if code is None:
                continue
            if isinstance(value, SkillMastery):
                p[code], std[code], n[code] = value.p_correct, value.std, value.n_responses
                known[code] = value.n_responses > 0
            else:
                p[code], known[code] = float(value), True
        if self.policy.prior == "class":
            self._apply_prior(p, known, prior or {})
        return _State(p, std, n, known)

    def class_prior(self, given: Sequence[Mapping[str, Any]]) -> dict[int, float]:
        """Per relevant point, the mean mastery of the classmates who answered it (three or more)."""
        if self.policy.prior != "class":
            return {}
        values: dict[str, list[float]] = {}
        for mastery in given:
            for name, value in mastery.items():
                if isinstance(value, SkillMastery) and value.n_responses > 0:
                    values.setdefault(str(name), []).append(value.p_correct)
        codes = self.pool._kp_code
        return {codes[k]: float(np.mean(v)) for k, v in values.items() if len(v) >= 3 and k in codes}

    def _apply_prior(self, p: np.ndarray, answered: np.ndarray, prior: Mapping[int, float]) -> None:
        done: set[int] = set()

        def settle(code: int, depth: int = 0) -> float:
            if code in done or depth > 32:
                return float(p[code])
            done.add(code)
            pres = [settle(q, depth + 1) for q in self.prereqs.get(code, [])]
            if not answered[code]:
                p[code] = min([prior.get(code, float(p[code]))] + pres)
            return float(p[code])

        for code in _ancestors(self.scope_codes, self.prereqs):
            settle(code)

    def select(self, student: Hashable, state: _State, past: _Past, budget: float, index: int) -> TargetedSet:
        if budget < 0:
            raise DataFormatError(f"<budget>: field 'minutes': must be >= 0, got {budget}")
        rng = np.random.default_rng([self.policy.seed, index])
        given = state.p
        state, shift = self.corrected(state, past)
        picker = _Picker(self, state, past, budget, rng, self.band_for(state, past))
        if abs(shift) >= 0.2:
            picker.notes.append(f"mastery estimates moved by {shift:+.2f} logits to match the student's latest results")
        ranked = self._learning_targets(state, past)
        learn = ranked[: self.policy.max_points]
        active = {t.code for t in learn}
        reviews = [r for r in self._reviews(state, past) if r.code not in active]
        picker.fill(reviews, self.policy.review_share * budget)
        stop = self.policy.when_mastered == "stop"
        extend = [] if stop and not learn else [_Target(int(c), "extend") for c in self.scope_codes
                                                 if self.tables.has(int(c))]
        if not learn:
            picker.notes.append("every knowledge point in scope is mastered: " + (
                "no new items (stopping rule), only due reviews" if stop else "harder items to extend"))
        for targets in (learn, ranked[self.policy.max_points:], self._unmastered_prerequisites(state, active), extend):
            if picker.budget - picker.spent < 0.5:
                break
            picker.fill(targets, budget)
        used = [state.std[self.pool._kp_code[p.knowledge_point]] for p in picker.picks]
        confidence = float(np.clip(1 - 2 * np.mean(used), 0, 1)) if used else 0.0
        return TargetedSet(student, tuple(picker.picks), budget, tuple(picker.notes), round(confidence, 6),
                           round(shift, 6), self._by_name(given), self._by_name(state.p))

    def corrected(self, state: _State, past: _Past) -> tuple[_State, float]:
        """The mastery selection decides on: points only practised beside others separated (``unmix``),
        then shifted by the student's latest results; and the shift."""
        if self.mixing is not None:
            state = replace(state, p=sigmoid(self.mixing.unmix(logit(state.p))))
        shift = self.calibration(state, past)
        if shift:
            state = replace(state, p=sigmoid(logit(state.p) + shift))
        return state, shift

    def calibration(self, state: _State, past: _Past) -> float:
        """How far (in logits) the student's latest results sit from what mastery and easiness predict for
        them now: a shrunk Newton step of a per-student intercept. It corrects a model that is too
        optimistic or pessimistic about this student (a cold start, a cohort unlike the training one) and
        the winner's curse of picking the items whose estimated easiness is highest. (A further step per
        knowledge point made no difference in ``benchmarks/policy.py``.)"""
        window = self.policy.calibration_window
        if not window or not past.pos.size:
            return 0.0
        last = np.argsort(past.day, kind="stable")[-window:]
        p = self.pool.predict_logits(logit(state.p), past.pos[last])
        residual = float(np.sum(past.correct[last] - p))
        return residual / (float(np.sum(p * (1 - p))) + 0.25 * self.policy.calibration_strength)

    def band_for(self, state: _State, past: _Past) -> tuple[float, float]:
        """The band of predicted success for this student: the policy's, moved (in logits) by how far the
        student's last ``band_window`` answers' success sits from the band's middle, shrunk by
        n / (n + 20). A student who succeeds more often than the band aims at gets items predicted
        harder, one who succeeds less often easier ones, whatever the cause (a model that misjudges
        them, items mislabelled for them)."""
        lo, hi = self.policy.band
        window = self.policy.band_window
        if not window or not past.pos.size:
            return lo, hi
        last = np.argsort(past.day, kind="stable")[-window:]
        n = last.size
        observed = (float(np.sum(past.correct[last])) + 0.5) / (n + 1.0)
        move = n / (n + 20.0) * float(logit(observed) - logit((lo + hi) / 2))
        low, high = (float(sigmoid(logit(x) - move)) for x in (lo, hi))
        return min(max(low, 0.01), 0.98), min(max(high, 0.02), 0.99)

    def _by_name(self, p: np.ndarray) -> dict[str, float]:
        codes = self.pool._kp_code
        return {name: round(float(p[codes[name]]), 6) for name in self.relevant_names}

    def mastered(self, state: _State, code: int) -> bool:
        return bool(state.p[code] >= self.policy.mastery_threshold)

    def _route(self, state: _State, code: int, depth: int = 0) -> int:
        """The point to learn for target ``code``: itself, or its first prerequisite that the student's own
        answers (or a mastery the caller stated) put below ``ready_threshold``, recursively. A prerequisite
        the student never answered is no evidence of a gap: its estimate is the prior, moved only by the
        per-student shift that other points' answers produced, so it never displaces the teacher's scope."""
        for pre in self.prereqs.get(code, []):
            if state.known[pre] and state.p[pre] < self.policy.ready_threshold and depth < 32:
                return self._route(state, pre, depth + 1)
        return code

    def _unmastered_prerequisites(self, state: _State, active: set[int]) -> list[_Target]:
        """Prerequisites of the scope not yet mastered, weakest first: where minutes go when the scope's own
        points have no item in reach (``below_band="never"``)."""
        scope = {int(c) for c in self.scope_codes}
        codes = [c for c in _ancestors(self.scope_codes, self.prereqs) - scope - active
                 if not self.mastered(state, c) and self.tables.has(c)]
        return [_Target(c, "prerequisite", None) for c in sorted(codes, key=lambda c: state.p[c])]

    def _practised_lately(self, past: _Past) -> set[int]:
        if not self.policy.focus_days or not past.pos.size:
            return set()
        recent = past.pos[past.day > self.today - self.policy.focus_days]
        return set(self.pool.kp_idx[self.pool.kp_ptr[recent]].tolist())

    def _learning_targets(self, state: _State, past: _Past | None = None) -> list[_Target]:
        """Every point to learn, highest priority first (the caller takes ``max_points``)."""
        thr, urgent = self.policy.mastery_threshold, self._test_soon()
        focus = self._practised_lately(past or _Past.empty())
        best: dict[int, tuple[float, Purpose, int | None]] = {}
        for code in (int(c) for c in self.scope_codes):
            if self.mastered(state, code):
                continue
            route = self._route(state, code)
            p = state.p[route]
            if self.policy.priority == "gap":
                need = thr - p
            else:  # expected gain: most where the point is half learned and its prerequisites are known
                ready = min((state.p[q] for q in self.prereqs.get(route, [])), default=1.0)
                need = 4 * p * (1 - p) * ready
            priority = need + self.policy.uncertainty_weight * state.std[route] + (0.3 if urgent and code in self.test_codes else 0)
            priority += self.policy.focus_bonus if route in focus else 0.0
            purpose: Purpose = "learn" if route == code else "prerequisite"
            if self.tables.has(route) and priority > best.get(route, (-np.inf,))[0]:
                best[route] = (priority, purpose, None if route == code else code)
        ranked = sorted(best.items(), key=lambda kv: -kv[1][0])
        return [_Target(code, purpose, target, max(float(priority), 0.05) if self.policy.proportional else 1.0)
                for code, (priority, purpose, target) in ranked]

    def _test_soon(self) -> bool:
        return self.scope.test_date is not None and 0 <= _day(self.scope.test_date) - self.today \
            <= self.policy.test_window_days

    def _reviews(self, state: _State, past: _Past) -> list[_Target]:
        """Due reviews, most overdue first: wrong points on their spaced schedule, then test prep."""
        if not past.pos.size or self.policy.review_share == 0:
            return []
        pool, intervals = self.pool, self.policy.review_intervals
        first = pool.kp_idx[pool.kp_ptr[past.pos]]
        allowed = set(int(c) for c in _ancestors(self.scope_codes, self.prereqs))
        due: list[tuple[float, int, Purpose]] = []
        for code in np.unique(first):
            code = int(code)
            if code not in allowed or not self.tables.has(code):
                continue
            mine = first == code
            days, correct = past.day[mine], past.correct[mine]
            since_practice = self.today - int(days.max())
            wrong = days[correct < 0.5]
            if wrong.size:
                reviews = int(np.unique(days[(days > wrong.max()) & (correct >= 0.5)]).size)
                if reviews < len(intervals) and since_practice >= intervals[reviews]:
                    due.append((since_practice - intervals[reviews], code, "review"))
            elif code in self.test_codes and self._test_soon() and since_practice >= self.policy.test_review_days:
                due.append((since_practice - self.policy.test_review_days - 100, code, "test"))
        due.sort(key=lambda d: -d[0])
        return [_Target(code, purpose) for _, code, purpose in due]


def _ancestors(codes: Iterable[int], prereqs: Mapping[int, list[int]]) -> set[int]:
    seen: set[int] = set()
    stack = [int(c) for c in codes]
    while stack:
        code = stack.pop()
        if code not in seen:
            seen.add(code)
            stack.extend(prereqs.get(code, []))
    return seen


class _Picker:
    """Deals items to one student's set, target by target, until the budget is spent."""

    def __init__(self, ctx: _Context, state: _State, past: _Past, budget: float, rng: np.random.Generator,
                 band: tuple[float, float] | None = None) -> None:
        self.ctx, self.state, self.past, self.rng = ctx, state, past, rng
        self.band = band or ctx.policy.band
        self.band_logits = (float(logit(self.band[0])), float(logit(self.band[1])))
        self.budget, self.spent = budget, 0.0
        self.picks: list[Pick] = []
        self.notes: list[str] = []
        recent = past.pos[past.day > ctx.today - ctx.policy.recent_days]
        wrong = past.pos[past.correct < 0.5]
        self.used: set[int] = set(recent.tolist()) | set(wrong.tolist())
        self.kp_logits = logit(state.p)
        self.last_wrong = {int(pos): int(day) for pos, day in zip(past.pos[past.correct < 0.5],
                                                                  past.day[past.correct < 0.5], strict=True)}

    def fill(self, targets: list[_Target], minutes: float) -> None:
        """Deal items to ``targets`` until ``minutes`` (of the set's total) are used or nothing fits: the next
        item goes to the target with the highest ``weight / (1 + items it has)`` (round-robin when the
        weights are equal), so minutes are shared in proportion to the weights and every target gets some."""
        limit = min(minutes, self.budget)
        live = dict(enumerate(targets))
        given = [0] * len(targets)
        while live:
            j = max(live, key=lambda k: (targets[k].weight / (1 + given[k]), -k))
            t = live[j]
            if self._pick(t.code, t.purpose, t.target, limit - self.spent):
                given[j] += 1
            else:
                del live[j]

    def _pick(self, code: int, purpose: Purpose, target: int | None, room: float) -> bool:
        ctx, table = self.ctx, self.ctx.tables[code]
        lo, hi = self.band
        low, high = self.band_logits
        a, b = np.searchsorted(table.easiness, [low - self.kp_logits[code], high - self.kp_logits[code]])
        candidates = self._usable(self._sample(table.positions[a:b]), room)
        if not candidates.size and b - a > ctx.policy.window:
            candidates = self._usable(table.positions[a:b], room)
        if not candidates.size:  # nothing unused in the band: the nearest items on either side (or easier only)
            w = ctx.policy.window
            below = table.positions[max(0, a - w):a] if ctx.policy.below_band == "nearest" else table.positions[:0]
            candidates = self._usable(np.r_[below, table.positions[b:b + w]], room)
        if not candidates.size:
            return False
        p = ctx.pool.predict_logits(self.kp_logits, candidates)
        best = int(np.argmin(self._score(p, candidates)))
        chosen = int(candidates[best])
        self.used.add(chosen)
        self.spent += float(ctx.pool.minutes[chosen])
        self.picks.append(self._explain(chosen, code, purpose, target, float(p[best]), lo <= p[best] <= hi))
        return True

    def _score(self, p: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """Lower is better: distance of predicted success from the band's middle (``"centre"``), or minus the
        expected learning per minute (``"per_minute"``), each with a little noise."""
        lo, hi = self.band
        noise = self.ctx.policy.jitter * self.rng.random(p.size)
        if self.ctx.policy.item_value == "centre":
            return np.abs(p - (lo + hi) / 2) + noise
        low, high = self.band_logits
        centre, half = (low + high) / 2, (high - low) / 2
        value = np.exp(-0.5 * ((logit(p) - centre) / half) ** 2) / np.maximum(self.ctx.pool.minutes[candidates], 0.5)
        return -value * (1 + noise)

    def _sample(self, window: np.ndarray) -> np.ndarray:
        """At most ``policy.window`` random items of ``window`` (a wide band can hold thousands)."""
        w = self.ctx.policy.window
        return window if window.size <= w else window[self.rng.choice(window.size, size=w, replace=False)]

    def _usable(self, candidates: np.ndarray, room: float) -> np.ndarray:
        """Candidates that fit the minutes left and that the student has not done recently or got wrong."""
        candidates = candidates[self.ctx.pool.minutes[candidates] <= room + 1e-9]
        if self.used and candidates.size:
            used = self.used  # a set lookup per candidate: candidates are a window of ~50, isin sorts
            candidates = candidates[np.fromiter((c not in used for c in candidates.tolist()), bool, candidates.size)]
        return candidates

    def _explain(self, pos: int, code: int, purpose: Purpose, target: int | None, p: float, in_band: bool) -> Pick:
        ctx, st = self.ctx, self.state
        name, thr = ctx.names[code], ctx.policy.mastery_threshold
        m, sd, n = float(st.p[code]), float(st.std[code]), int(st.n[code])
        level = f"mastery {m:.2f} ± {sd:.2f} after {n} answers"
        if purpose == "learn":
            pres = ctx.prereqs.get(code, [])
            unknown = [ctx.names[q] for q in pres if not st.known[q] and st.p[q] < ctx.policy.ready_threshold]
            why = f"{level}, below {thr:.2f}; " + (
                f"prerequisite {', '.join(unknown)} not answered yet" if unknown else
                f"prerequisites ready (each {ctx.policy.ready_threshold:.2f} or more)" if pres else "no prerequisites")
        elif purpose == "prerequisite":
            why = (f"prerequisite of {ctx.names[target or code]} (mastery {st.p[target or code]:.2f}); {level}, "
                   f"below {ctx.policy.ready_threshold:.2f}: learn this first")
        elif purpose == "review":
            why = f"review: answered wrong on {self._last_wrong_date(code)}; {level}; a different item"
        elif purpose == "test":
            why = f"the test on {ctx.scope.test_date} covers it; {level}"
        else:
            why = f"mastered ({level}); a harder item to extend"
        band = "" if in_band else f" (no unused item in the {self.band[0]:.2f}-{self.band[1]:.2f} band)"
        return Pick(str(ctx.pool.ids[pos]), name, float(ctx.pool.minutes[pos]), round(p, 4), round(m, 4),
                    round(sd, 4), purpose, f"{name}: {why}; predicted success {p:.2f}{band}")

    def _last_wrong_date(self, code: int) -> str:
        pool = self.ctx.pool
        days = [d for pos, d in self.last_wrong.items() if pool.kp_idx[pool.kp_ptr[pos]] == code]
        return (_EPOCH + dt.timedelta(days=max(days))).isoformat() if days else "an earlier day"
