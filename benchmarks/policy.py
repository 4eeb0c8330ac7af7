"""Does targeted homework help students learn? Policies compared on simulated students, plus selection speed.

    python benchmarks/policy.py [--json] [--students 200] [--weeks 6] [--minutes 20] [--seed 0]
                                [--set NAME=VALUE ...] [--select NAME=VALUE ...] [--model historyboost]
                                [--refit weekly] [--sensitivity] [--no-speed] [--no-policies]

The world (everything from the repository; no ../shared needed):

* items: the fixture bank's 2,155 real Math23K/Ape210K problems with their knowledge points, 1-5
  difficulty labels and estimated minutes; prerequisites: the taxonomy's DAG. Each item's TRUE
  difficulty is its label plus noise (``recommender.Curriculum.from_frame``), hidden from policies.
* students: ``recommender.LearnerSimulator`` (assumptions in the README, "Learner simulator";
  change any with ``--set``), a cohort of ``--students``, the same students under every policy.
* the unit: grade 6 "fractions, decimals, percentages" (5 knowledge points), ``--weeks`` weeks of
  five homework days, ``--minutes`` estimated minutes a day for every policy.
* last year's cohort (300 other simulated students, 12 days of random practice) gives the log the
  mastery model is fitted on and that calibrates item easiness; this year's students start unknown
  to the model (cold start).

Policies, each filling the same daily minutes:

* uniform: the teacher's choice, one set for the whole class: the unit's points in prerequisite order,
  the same number of days each, each day ``homework.compose_assignment`` with mixed difficulty and
  no item the class has had.
* random: each student gets random unit items they have not had.
* targeted: ``recommender.select_for_class`` (default ``SelectionPolicy``) on the mastery model,
  with each student's history, the unit test at the end of the last week, and prerequisites.
* oracle (only with ``--policies ... oracle``): targeted told the simulator's true mastery, a ceiling
  that shows how much is lost to estimating mastery; not a policy anyone can run.

Figures. Mastery gained is the sum over knowledge points of the rise in each student's latent
P(correct) on an item of typical difficulty, per 100 homework minutes actually spent (the simulator's
minutes, not the bank's estimates). The headline sums over every point of the curriculum: what the
students learned wherever it was (targeted sets also teach the unit's prerequisites, which the issue's
"prerequisites first" rule asks for); the same over the unit's five points alone is printed beside
it. Also: the weakest quartile (lowest starting mastery) separately; the share of students who master
every point of the unit; the share of (student, point) pairs of the unit not mastered at the start and
mastered at the end, and the median minutes it took; the gain after each week; and the minutes the
targeted class needed to gain what each baseline gained in all its minutes. Targets (issue 5):
targeted >= 1.5x uniform and >= 2x random in gain per minute; the weakest quartile gains at least as
much under targeted as under uniform. ``--sensitivity`` reruns under other assumptions.

The targeted policy's model is refitted on all answers every weekend (``--refit``), and updated
online after every answer; ``--model`` picks HistoryBoost (the platform's default), BKT or BestLR;
``--select NAME=VALUE`` changes a ``SelectionPolicy`` setting.

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
from homework._taxonomy import _PREREQUISITES  # noqa: E402
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

BANK = ROOT / "fixtures" / "bank" / "items.csv"
UNIT = ("number.decimal", "number.fraction", "number.percent", "ratio.proportion", "percent.price")
"""The unit, in the order a teacher following prerequisites would teach it."""
GRADE = 6
START = dt.date(2026, 9, 7)  # a Monday
MODELS: dict[str, Any] = {"historyboost": HistoryBoost, "bkt": BKT, "bestlr": BestLR}
PREREQUISITES: dict[str, list[str]] = {}
for _pre, _post in _PREREQUISITES:
    PREREQUISITES.setdefault(_post, []).append(_pre)


@dataclass
class World:
    """What every policy shares: the bank, the simulated curriculum, the fitted model and the cohort."""

    frame: pd.DataFrame
    bank: ItemBank
    curriculum: Curriculum
    pool: ItemPool
    model_json: str
    last_year: pd.DataFrame
    refit: str
    model_name: str
    policy: SelectionPolicy
    config: LearnerConfig
    students: int
    seed: int
    index_of: dict[str, int] = field(default_factory=dict)
    unit_items: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    unit_kps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


def build_world(config: LearnerConfig, students: int, seed: int, model_name: str = "historyboost",
                policy: SelectionPolicy | None = None, refit: str = "weekly") -> World:
    frame = pd.read_csv(BANK, keep_default_na=False)
    frame = frame[frame["grade"] <= GRADE].reset_index(drop=True)
    bank = ItemBank()
    bank.import_frame(frame)
    curriculum = Curriculum.from_frame(frame, _PREREQUISITES, seed=seed)
    index_of = {str(i): j for j, i in enumerate(curriculum.item_ids)}
    kp_pos = {k: j for j, k in enumerate(curriculum.knowledge_points)}
    unit_kps = np.array([kp_pos[k] for k in UNIT])
    on_unit = np.array([bool(set(curriculum.item_kp_idx[curriculum.item_kp_ptr[i]:curriculum.item_kp_ptr[i + 1]])
                             & set(unit_kps.tolist())) for i in range(len(curriculum.item_ids))])
    pool = ItemPool.from_frame(frame)
    log = last_years_log(curriculum, config, seed)
    model = MODELS[model_name](random_state=seed).fit(log)
    pool.calibrate(log)
    world = World(frame, bank, curriculum, pool, model.to_json(), log, refit, model_name, policy or SelectionPolicy(),
                  config, students, seed, index_of,
                  np.flatnonzero(on_unit), unit_kps)
    return world


def last_years_log(curriculum: Curriculum, config: LearnerConfig, seed: int, n: int = 300,
                   days: int = 12, per_day: int = 10) -> pd.DataFrame:
    """Another cohort's answers to random items over ``days`` days: the district's history."""
    sim = LearnerSimulator(curriculum, config, n_students=n, seed=seed + 10_000)
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
    """What a policy sees on one homework day."""

    date: dt.date
    week: int
    index: int
    weeks: int
    minutes: float
    history: list[tuple[str, str, float, dt.date]]
    model: Any
    done: list[set[int]]  # items each student has had


Chooser = Callable[[World, LearnerSimulator, Day], dict[int, np.ndarray]]


def uniform(world: World, sim: LearnerSimulator, day: Day) -> dict[int, np.ndarray]:
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


def random_items(world: World, sim: LearnerSimulator, day: Day) -> dict[int, np.ndarray]:
    """Each student: random unit items not had before, up to the day's minutes."""
    rng = np.random.default_rng([world.seed, day.date.toordinal()])
    minutes = world.curriculum.item_minutes
    out = {}
    for s in range(len(sim.students)):
        chosen, total = [], 0.0
        for i in rng.permutation(world.unit_items):
            if i not in day.done[s] and total + minutes[i] <= day.minutes:
                chosen.append(int(i))
                total += minutes[i]
            if day.minutes - total < 1.0:
                break
        out[s] = np.array(chosen, dtype=np.int64)
    return out


def targeted(world: World, sim: LearnerSimulator, day: Day, mastery: Any = None,
             policy: SelectionPolicy | None = None) -> dict[int, np.ndarray]:
    """``select_for_class`` on the mastery model, the class's history and the unit test date."""
    test = START + dt.timedelta(weeks=day.weeks) - dt.timedelta(days=3)
    scope = Scope(subject="math", grade=GRADE, knowledge_points=UNIT, test_date=test)
    history = pd.DataFrame(day.history, columns=["student_id", "item_id", "correct", "date"]) if day.history else None
    sets = select_for_class(world.pool, list(sim.students), mastery or day.model, minutes=day.minutes, scope=scope,
                            prerequisites=PREREQUISITES, history=history, today=day.date,
                            policy=policy or world.policy)
    return {s: np.array([world.index_of[i] for i in sets[student].item_ids], dtype=np.int64)
            for s, student in enumerate(sim.students)}


def oracle(world: World, sim: LearnerSimulator, day: Day) -> dict[int, np.ndarray]:
    """``targeted`` told each student's TRUE mastery by the simulator (never available in practice): how
    much of targeted's result is lost to estimating mastery."""
    cfg, names = world.config, world.curriculum.knowledge_points
    observed = cfg.guess + (1 - cfg.guess - cfg.slip) * sim.mastery()
    truth = {student: {k: SkillMastery(k, float(observed[s, j]), 0.05, 10) for j, k in enumerate(names)}
             for s, student in enumerate(sim.students)}
    exact = dataclasses.replace(world.policy, unmix=False, calibration_window=0)  # nothing to correct
    return targeted(world, sim, day, truth, exact)


POLICIES: dict[str, Chooser] = {"uniform": uniform, "random": random_items, "targeted": targeted, "oracle": oracle}
DEFAULT_POLICIES = ["uniform", "random", "targeted"]


# ------------------------------------------------------------------------------------------ a run


def run(world: World, name: str, weeks: int, minutes: float) -> dict[str, Any]:
    """Simulate ``weeks`` of homework under one policy; returns its figures."""
    sim = LearnerSimulator(world.curriculum, world.config, n_students=world.students, seed=world.seed)
    start = sim.mastery()
    model = MODELS[world.model_name].from_json(world.model_json)
    spent = np.zeros(world.students)
    first_mastered = np.full((world.students, len(world.unit_kps)), np.nan)
    day = Day(START, 0, 0, weeks, minutes, [], model, [set() for _ in sim.students])
    tick = time.perf_counter()
    success: list[np.ndarray] = []
    weekly: list[tuple[float, np.ndarray]] = []
    answered: list[tuple[str, str, tuple[str, ...], float]] = []
    daily: list[tuple[float, float]] = []
    on_unit: list[np.ndarray] = []
    for week in range(weeks):
        for weekday in range(5):
            day.date, day.week, day.index = START + dt.timedelta(weeks=week, days=weekday), week, week * 5 + weekday
            for s, items in POLICIES[name](world, sim, day).items():
                success.append(sim.p_correct(s, items))
                on_unit.append(np.isin(world.curriculum.item_kp_idx[world.curriculum.item_kp_ptr[items]], world.unit_kps))
                correct, used = sim.answer(s, items)
                spent[s] += used.sum()
                student = sim.students[s]
                for i, c in zip(items.tolist(), correct.tolist(), strict=True):
                    item = str(world.curriculum.item_ids[i])
                    day.model.update(student, item, kps_of(world.curriculum, i), float(c))
                    answered.append((student, item, kps_of(world.curriculum, i), float(c)))
                    day.history.append((student, item, float(c), day.date))
                day.done[s].update(items.tolist())
            sim.next_day()
            if name != "uniform" and name != "random" and (world.refit == "nightly" or (world.refit == "weekly" and weekday == 4)):
                this_year = pd.DataFrame(answered, columns=world.last_year.columns)
                day.model = MODELS[world.model_name](random_state=world.seed).fit(
                    pd.concat([world.last_year, this_year]))
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
    row["items_on_unit"] = round(float(np.concatenate(on_unit).mean()), 3)
    row["items_per_100_min"] = round(float(100 * p.size / spent.sum()), 2)
    row["daily_minutes_and_gain"] = [(round(m, 2), round(g, 4)) for m, g in daily]
    row["weekly_gain_per_100_min"] = [round(float(100 * (m - start).sum(axis=1).mean() / minutes), 4)
                                      for minutes, m in weekly]
    return row


def figures(world: World, name: str, start: np.ndarray, sim: LearnerSimulator, spent: np.ndarray,
            first_mastered: np.ndarray, seconds: float) -> dict[str, Any]:
    """Mastery gained is the sum over knowledge points of the rise in latent P(correct) on a typical
    item: over every point of the curriculum (what the students learned, wherever; the headline), and
    over the unit's five points alone."""
    end, level = sim.mastery(), world.config.mastery_p
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
    ours, uni, rnd = results["targeted"], results["uniform"], results["random"]

    def ratio(row: dict[str, Any], key: str) -> float:
        return round(ours[key] / row[key], 3)

    verdict = {"figure": "targeted vs baselines",
               "vs_uniform": ratio(uni, "gain_per_100_min"), "vs_random": ratio(rnd, "gain_per_100_min"),
               "weakest_quartile_vs_uniform": ratio(uni, "weakest_quartile_gain_per_100_min"),
               "unit_only_vs_uniform": ratio(uni, "unit_gain_per_100_min"),
               "unit_only_vs_random": ratio(rnd, "unit_gain_per_100_min"),
               "unit_only_weakest_quartile_vs_uniform": ratio(uni, "weakest_quartile_unit_gain_per_100_min")}
    for base, row in (("uniform", uni), ("random", rnd)):
        minutes, gain = row["daily_minutes_and_gain"][-1]
        reach = minutes_to_reach(ours["daily_minutes_and_gain"], gain)
        verdict[f"minutes_to_{base}_outcome"] = reach
        verdict[f"speedup_to_{base}_outcome"] = round(minutes / reach, 3) if reach else None
    verdict["targets_met"] = bool(verdict["vs_uniform"] >= 1.5 and verdict["vs_random"] >= 2.0
                                  and verdict["weakest_quartile_vs_uniform"] >= 1.0)
    verdict["targets_met_on_unit_only"] = bool(verdict["unit_only_vs_uniform"] >= 1.5
                                               and verdict["unit_only_vs_random"] >= 2.0
                                               and verdict["unit_only_weakest_quartile_vs_uniform"] >= 1.0)
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
               ("unit_gain_per_100_min", "unit only"), ("weakest_quartile_unit_gain_per_100_min", "unit weakest"),
               ("students_mastering_unit", "unit mastered"), ("unit_pairs_mastered", "pairs mastered"),
               ("median_minutes_to_mastery", "min to mastery"), ("minutes_per_day", "min/day"),
               ("unit_mastery_end", "unit mastery")]
    print(f"{'policy':<10}" + "".join(f"{title:>15}" for _, title in columns))
    for name, row in results.items():
        print(f"{name:<10}" + "".join(f"{row[key] if row[key] is not None else '-':>15}" for key, _ in columns))
    print(f"{'weekly':<10} gain/100 min after each week: "
          + "; ".join(f"{name} {row['weekly_gain_per_100_min']}" for name, row in results.items()))


def verdict_text(v: dict[str, Any]) -> str:
    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    return "\n".join([
        f"targeted / uniform, gain per minute: {v['vs_uniform']:.2f}x (target 1.5x: {met(v['vs_uniform'] >= 1.5)}); "
        f"unit points only {v['unit_only_vs_uniform']:.2f}x",
        f"targeted / random,  gain per minute: {v['vs_random']:.2f}x (target 2x: {met(v['vs_random'] >= 2)}); "
        f"unit points only {v['unit_only_vs_random']:.2f}x",
        f"weakest quartile, targeted / uniform: {v['weakest_quartile_vs_uniform']:.2f}x (target 1x: "
        f"{met(v['weakest_quartile_vs_uniform'] >= 1)}); unit points only "
        f"{v['unit_only_weakest_quartile_vs_uniform']:.2f}x",
        f"minutes the targeted class needed for the gain uniform reached in all its minutes: "
        f"{v['minutes_to_uniform_outcome']} ({v['speedup_to_uniform_outcome']}x faster); "
        f"random's: {v['minutes_to_random_outcome']} ({v['speedup_to_random_outcome']}x faster)",
    ])


def policies(config: LearnerConfig, args: argparse.Namespace, show: Callable[[dict[str, Any]], None],
             label: str = "") -> dict[str, Any]:
    world = build_world(config, args.students, args.seed, args.model, selection_policy(args.select),
                        refit=args.refit)
    results = {name: run(world, name, args.weeks, args.minutes) for name in args.policies}
    verdict = compare(results) if set(DEFAULT_POLICIES) <= set(results) else {}
    if args.json:
        for row in results.values():
            show({**row, "assumptions": label or "default"})
        if verdict:
            show({**verdict, "assumptions": label or "default"})
    else:
        print(f"\n{args.students} simulated students, {args.weeks} weeks x 5 days, {args.minutes:g} min/day; "
              f"assumptions: {label or 'defaults'}")
        table(results)
        if verdict:
            print(verdict_text(verdict))
    return verdict


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
    parser.add_argument("--sensitivity", action="store_true", help="also rerun under other assumptions")
    parser.add_argument("--refit", choices=["never", "weekly", "nightly"], default="weekly",
                        help="how often the platform refits the mastery model on all answers (online updates always)")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--no-policies", action="store_true")
    args = parser.parse_args(argv)
    show = printer(args.json)
    logging.getLogger("homework").setLevel(logging.ERROR)  # the teacher's sets near the end run out of unused items
    config = LearnerConfig().with_overrides(args.set)
    if not args.no_policies:
        policies(config, args, show, ", ".join(args.set))
        if args.sensitivity:
            for change in (["p_opt=0.5"], ["p_opt=0.85"], ["prereq_floor=1.0"], ["forget_rate=0.0"],
                           ["kp_sd=0.0"], ["learning_rate=0.1"]):
                policies(config.with_overrides(change), args, show, ", ".join(args.set + change))
    if not args.no_speed:
        bench_speed(show)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
