"""The learner simulator: deterministic classes, the attempt model's shape, forgetting, real bank input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from homework._taxonomy import _PREREQUISITES
from recommender import Curriculum, DataFormatError, LearnerConfig, LearnerSimulator

BANK = Path(__file__).resolve().parents[2] / "fixtures" / "bank" / "items.csv"
# Every student identical, every kp starting at initial_mean: effects can be read off exactly.
FLAT = LearnerConfig(ability_sd=0.0, kp_sd=0.0, learning_rate_sd=0.0, depth_drop=0.0, speed_sd=0.0)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _curriculum(difficulty: list[float], item_kps: list[list[int]] | None = None,
                kps: tuple[str, ...] = ("a",), edges: tuple[tuple[str, str], ...] = ()) -> Curriculum:
    item_kps = item_kps if item_kps is not None else [[0]] * len(difficulty)
    ptr = np.r_[0, np.cumsum([len(k) for k in item_kps])].astype(np.int64)
    return Curriculum(kps, edges, np.array([f"i{j}" for j in range(len(difficulty))], dtype=object), ptr,
                      np.array([k for ks in item_kps for k in ks], dtype=np.int64),
                      np.array(difficulty, dtype=float), np.full(len(difficulty), 2.0))


def _gain(sim: LearnerSimulator, item: int, kp: int = 0) -> float:
    before = sim.skills()[0, kp]
    sim.answer(0, [item])
    return float(sim.skills()[0, kp] - before)


@pytest.fixture(scope="module")
def bank_curriculum() -> Curriculum:
    return Curriculum.from_frame(pd.read_csv(BANK), _PREREQUISITES, seed=0)


# ------------------------------------------------------------------------------------ determinism


def _run(sim: LearnerSimulator, days: int = 3) -> tuple[np.ndarray, np.ndarray]:
    answers, minutes = [], []
    for _ in range(days):
        for s in range(len(sim.students)):
            c, m = sim.answer(s, np.arange(s, s + 8))
            answers.append(c)
            minutes.append(m)
        sim.next_day()
    return np.concatenate(answers), np.concatenate(minutes)


def test_same_seed_gives_the_same_class_and_answers_and_another_seed_does_not() -> None:
    cur = Curriculum.synthetic(seed=0)
    a, b, c = (LearnerSimulator(cur, n_students=20, seed=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(a.skills(), b.skills())
    assert not np.allclose(a.skills(), c.skills())
    ra, rb, rc = _run(a), _run(b), _run(c)
    np.testing.assert_array_equal(ra[0], rb[0])
    np.testing.assert_array_equal(ra[1], rb[1])
    np.testing.assert_array_equal(a.skills(), b.skills())
    assert not np.array_equal(ra[0], rc[0])


def test_a_students_answers_do_not_depend_on_what_the_others_were_given() -> None:
    cur = Curriculum.synthetic(seed=0)
    a, b = LearnerSimulator(cur, n_students=5, seed=3), LearnerSimulator(cur, n_students=5, seed=3)
    b.answer(1, np.arange(40))  # another student works 40 items in b only
    np.testing.assert_array_equal(a.answer(0, np.arange(30))[0], b.answer(0, np.arange(30))[0])


def test_changing_one_parameter_keeps_the_other_draws() -> None:
    cur = Curriculum.synthetic(seed=0)
    base = LearnerSimulator(cur, n_students=30, seed=1)
    slippy = LearnerSimulator(cur, LearnerConfig().with_overrides(["slip=0.2"]), n_students=30, seed=1)
    np.testing.assert_array_equal(base.skills(), slippy.skills())


# ------------------------------------------------------------------------------------ the attempt model


def test_practice_near_p_opt_teaches_most_and_exactly_the_learning_rate() -> None:
    cfg = FLAT.with_overrides({"initial_mean": 0.0})
    # latent p = sigmoid(0 - b): items at p = 0.7 (p_opt), 0.99 and 0.05
    cur = _curriculum([-_logit(0.7), -_logit(0.99), -_logit(0.05)])
    gains = [_gain(LearnerSimulator(cur, cfg, n_students=1), item) for item in range(3)]
    assert gains[0] == pytest.approx(cfg.learning_rate, rel=1e-9)
    assert gains[1] < 0.02 * gains[0] and gains[2] < 0.02 * gains[0]
    distance = _logit(0.99) - _logit(0.7)
    assert gains[1] == pytest.approx(cfg.learning_rate * math.exp(-distance**2 / 2), rel=1e-9)


def test_an_unknown_prerequisite_slows_learning_until_it_is_learned() -> None:
    cfg = FLAT.with_overrides({"initial_mean": -4.0, "forget_rate": 0.0})
    target = -4.0 - _logit(0.7)  # item 0 on b at p_opt; items 1.. on a, a ladder of difficulties
    ladder = list(np.arange(-5.0, 3.0, 0.25))
    kps = [[1]] + [[0]] * len(ladder)
    with_edge = _curriculum([target, *ladder], kps, kps=("a", "b"), edges=(("a", "b"),))
    without = _curriculum([target, *ladder], kps, kps=("a", "b"))
    blocked = _gain(LearnerSimulator(with_edge, cfg, n_students=1), 0, kp=1)
    free = _gain(LearnerSimulator(without, cfg, n_students=1), 0, kp=1)
    expected = cfg.prereq_floor + (1 - cfg.prereq_floor) / (1 + math.exp(4.0))
    assert blocked == pytest.approx(free * expected, rel=1e-9)
    assert blocked < 0.3 * free
    sim = LearnerSimulator(with_edge, cfg, n_students=1)
    for _ in range(60):  # learn the prerequisite a on items near p_opt
        aim = sim.skills()[0, 0] - _logit(0.7)
        sim.answer(0, [1 + int(np.argmin(np.abs(np.array(ladder) - aim)))])
    assert sim.mastery()[0, 0] > 0.5
    assert _gain(sim, 0, kp=1) > 2 * blocked


def test_the_weakest_of_several_prerequisites_limits_learning() -> None:
    cfg = FLAT.with_overrides({"initial_mean": 0.0})
    cur = _curriculum([-_logit(0.7)], [[2]], kps=("a", "b", "c"), edges=(("a", "c"), ("b", "c")))
    sim = LearnerSimulator(cur, cfg, n_students=1)
    sim._skill[0, :2] = [3.0, -2.0]  # a known, b not: set hidden skills directly
    factor = cfg.prereq_floor + (1 - cfg.prereq_floor) / (1 + math.exp(2.0))
    assert _gain(sim, 0, kp=2) == pytest.approx(cfg.learning_rate * factor, rel=1e-9)


def test_a_multi_kp_item_is_answered_at_the_mean_skill_and_splits_its_gain() -> None:
    cfg = FLAT.with_overrides({"initial_mean": 0.0, "slip": 0.1, "guess": 0.2})
    cur = _curriculum([0.5], [[0, 1]], kps=("a", "b"))
    sim = LearnerSimulator(cur, cfg, n_students=1)
    sim._skill[0] = [2.0, -1.0]  # set hidden skills directly to check the formula
    expected = 0.2 + 0.7 / (1 + math.exp(-(0.5 - 0.5)))
    assert sim.p_correct(0, [0])[0] == pytest.approx(expected)
    before = sim.skills()[0]
    sim.answer(0, [0])
    gains = sim.skills()[0] - before
    assert gains[0] == pytest.approx(gains[1])
    distance = 0.0 - _logit(cfg.p_opt)
    assert gains.sum() == pytest.approx(cfg.learning_rate * math.exp(-distance**2 / 2))


@pytest.mark.parametrize(("initial", "expected"), [(12.0, 1 - 0.1), (-12.0, 0.2)])
def test_correct_rate_tends_to_one_minus_slip_and_to_guess(initial: float, expected: float) -> None:
    cfg = FLAT.with_overrides({"initial_mean": initial, "slip": 0.1, "guess": 0.2})
    sim = LearnerSimulator(_curriculum([0.0]), cfg, n_students=2, seed=5)
    rate = np.mean([sim.answer(s, np.zeros(3000, dtype=np.int64))[0].mean() for s in range(2)])
    assert abs(rate - expected) < 0.015  # 6000 draws: sd 0.004-0.005
    assert sim.p_correct(0, [0])[0] == pytest.approx(expected, abs=1e-4)


def test_minutes_scale_with_the_bank_estimate_and_speed() -> None:
    cfg = LearnerConfig(speed_sd=0.0, time_noise_sd=0.0)
    cur = Curriculum.synthetic(seed=2)
    _, minutes = LearnerSimulator(cur, cfg, n_students=1).answer(0, np.arange(50))
    np.testing.assert_allclose(minutes, cur.item_minutes[:50])
    _, noisy = LearnerSimulator(cur, n_students=1).answer(0, np.arange(50))
    ratio = np.log(noisy / cur.item_minutes[:50])
    assert 0.15 < ratio.std() < 0.45  # time_noise_sd = 0.3


# ------------------------------------------------------------------------------------ forgetting


def test_idle_days_lower_mastery_but_never_below_the_start() -> None:
    cfg = FLAT.with_overrides({"initial_mean": -1.0})
    sim = LearnerSimulator(_curriculum([-1.0 - _logit(0.7)]), cfg, n_students=1)
    start = sim.mastery()[0, 0]
    sim.answer(0, [0] * 10)
    learned = sim.mastery()[0, 0]
    sim.next_day()  # practised today: nothing forgotten
    assert sim.mastery()[0, 0] == learned
    excess = sim.skills()[0, 0] - cfg.initial_mean
    sim.next_day()  # one idle day after one day of practice, however many attempts it had
    lost = 1 - (sim.skills()[0, 0] - cfg.initial_mean) / excess
    assert lost == pytest.approx(cfg.forget_rate / (1 + cfg.stability_gain), rel=1e-9)
    sim.next_day(30)
    after = sim.mastery()[0, 0]
    assert start < after < learned
    sim.next_day(3000)
    assert sim.mastery()[0, 0] == pytest.approx(start, abs=1e-3)
    assert sim.mastery()[0, 0] >= start


def test_spaced_practice_is_retained_better_than_the_same_attempts_massed() -> None:
    cfg = FLAT.with_overrides({"initial_mean": -1.0})
    cur = _curriculum([-1.0 - _logit(0.7)])
    massed, spaced = LearnerSimulator(cur, cfg, n_students=1), LearnerSimulator(cur, cfg, n_students=1)
    for day in range(10):
        if day == 9:
            massed.answer(0, [0] * 12)
        if day % 3 == 0:
            spaced.answer(0, [0] * 3)
        massed.next_day()
        spaced.next_day()
    start = cfg.initial_mean
    kept_massed, kept_spaced = massed.skills()[0, 0] - start, spaced.skills()[0, 0] - start
    massed.next_day(60)
    spaced.next_day(60)
    assert spaced.skills()[0, 0] - start > 1.3 * (massed.skills()[0, 0] - start)
    assert kept_spaced < kept_massed * 1.05  # not because more was learned: spacing is retention


# ------------------------------------------------------------------------------------ the real bank


def test_the_fixture_bank_with_the_taxonomy_prerequisites(bank_curriculum: Curriculum) -> None:
    cur = bank_curriculum
    frame = pd.read_csv(BANK)
    assert len(cur.item_ids) == len(frame) and "number.whole" in cur.knowledge_points
    depth = dict(zip(cur.knowledge_points, cur.depth().tolist(), strict=True))
    assert depth["number.whole"] == 0 and depth["number.percent"] == 3 and depth["percent.price"] == 4
    first = cur.item_kp_idx[cur.item_kp_ptr[0]:cur.item_kp_ptr[1]]
    assert [cur.knowledge_points[k] for k in first] == frame.loc[0, "knowledge_points"].split(";")
    assert np.corrcoef(cur.item_difficulty, frame["difficulty"])[0, 1] > 0.7
    assert (cur.item_counts() > 0).all()
    np.testing.assert_array_equal(cur.item_index(frame["id"][::-1]), np.arange(len(frame))[::-1])
    with pytest.raises(DataFormatError, match=r"1 item ids are not in the curriculum, e\.g\. \['nope'\]"):
        cur.item_index(["nope", frame["id"][0]])


def test_a_class_learns_the_bank_by_practice(bank_curriculum: Curriculum) -> None:
    sim = LearnerSimulator(bank_curriculum, n_students=30, seed=0)
    start = sim.mastery()
    assert 0.2 < start.mean() < 0.5  # deeper kps start lower: depth_drop
    rng = np.random.default_rng(0)
    for _ in range(10):
        for s in range(30):
            sim.answer(s, rng.integers(0, len(bank_curriculum.item_ids), 15))
        sim.next_day()
    assert sim.mastery().mean() > start.mean() + 0.05
    assert sim.mastered().mean() > (start >= 0.8).mean()


def test_from_frame_rejects_bad_rows_and_cycles() -> None:
    frame = pd.DataFrame({"id": ["a", "b", "c"], "knowledge_points": ["x", "y;x", None],
                          "difficulty": [1, 3, 2], "minutes": [2.0, 1.0, 1.0]})
    cur = Curriculum.from_frame(frame, [("x", "y")])
    assert list(cur.item_ids) == ["a", "b"]  # c has no knowledge point
    with pytest.raises(DataFormatError, match="lacks columns"):
        Curriculum.from_frame(frame.drop(columns="minutes"), [])
    with pytest.raises(DataFormatError, match=r"item 'b': field minutes=-1\.0 is not a positive number"):
        Curriculum.from_frame(frame.assign(minutes=[2.0, -1.0, 1.0]), [])
    with pytest.raises(DataFormatError, match="field difficulty='hard'"):
        Curriculum.from_frame(frame.assign(difficulty=[1, "hard", 2]), [])
    with pytest.raises(DataFormatError, match="cycle among: x, y"):
        Curriculum.from_frame(frame, [("x", "y"), ("y", "x")])


def test_item_and_student_indices_are_checked() -> None:
    sim = LearnerSimulator(Curriculum.synthetic(n_kps=2, items_per_kp=5), n_students=2)
    with pytest.raises(DataFormatError, match=r"item indices must lie in \[0, 10\)"):
        sim.answer(0, [3, 10])
    with pytest.raises(DataFormatError, match="item indices"):
        sim.p_correct(0, ["i00001"])
    with pytest.raises(DataFormatError, match=r"student must be an index in \[0, 2\)"):
        sim.answer(2, [0])
    with pytest.raises(DataFormatError, match="whole number of days"):
        sim.next_day(0)


# ------------------------------------------------------------------------------------ overrides


def test_with_overrides_converts_strings_and_mappings() -> None:
    cfg = LearnerConfig().with_overrides(["p_opt=0.5", " slip = 0.1 "])
    assert (cfg.p_opt, cfg.slip, cfg.guess) == (0.5, 0.1, LearnerConfig().guess)
    assert LearnerConfig().with_overrides({"forget_rate": "0"}).forget_rate == 0.0
    assert cfg.to_dict()["p_opt"] == 0.5 and len(cfg.to_dict()) == 16


@pytest.mark.parametrize(("overrides", "message"), [
    (["p_optimal=0.5"], r"unknown learner parameter 'p_optimal'; valid: ability_sd, .*p_opt"),
    (["slip"], "not NAME=VALUE"),
    ({"slip": "lots"}, r"slip='lots' is not a number; expected one in \[0, 1\)"),
    (["p_opt=1.2"], r"p_opt=1\.2 must be a number in \(0, 1\)"),
    (["zpd_width=0"], r"zpd_width=0\.0 must be a number in \(0, inf\)"),
    (["learning_rate=nan"], "learning_rate=nan"),
    ({"slip": 0.5, "guess": 0.6}, "guess \\+ slip must be below 1"),
])
def test_with_overrides_rejects_unknown_names_and_bad_values(overrides: object, message: str) -> None:
    with pytest.raises(DataFormatError, match=message):
        LearnerConfig().with_overrides(overrides)  # type: ignore[arg-type]
