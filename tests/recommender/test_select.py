"""Targeted selection on the real fixture bank (2,155 Math23K/Ape210K items) and its prerequisite graph."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from homework._taxonomy import _PREREQUISITES
from recommender import (
    BKT,
    DataFormatError,
    ItemPool,
    Scope,
    SelectionPolicy,
    SkillMastery,
    read_akt,
    select_for_class,
    select_items,
    tiered_sets,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
TODAY = dt.date(2026, 11, 23)
PREREQS: dict[str, list[str]] = {}
for _pre, _post in _PREREQUISITES:
    PREREQS.setdefault(_post, []).append(_pre)
SCOPE = Scope(subject="math", grade=6,
              knowledge_points=("number.fraction", "number.decimal", "geometry.area_perimeter"))


@pytest.fixture(scope="module")
def bank() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "bank" / "items.csv", keep_default_na=False)


@pytest.fixture()
def pool(bank: pd.DataFrame) -> ItemPool:
    return ItemPool.from_frame(bank)


def mastery(**levels: float) -> dict[str, SkillMastery]:
    """Every taxonomy point at 0.9 (mastered) unless given, e.g. ``number_fraction=0.4``."""
    points = {p for edge in _PREREQUISITES for p in edge}
    out = {k: SkillMastery(k, 0.9, 0.05, 20) for k in points}
    for name, p in levels.items():
        kp = name.replace("_", ".", 1)
        out[kp] = SkillMastery(kp, p, 0.1, 8)
    return out


def test_picks_sit_in_the_band_fill_the_budget_and_explain_themselves(pool: ItemPool) -> None:
    chosen = select_items(pool, "s1", mastery(number_fraction=0.5, number_decimal=0.55, geometry_area_perimeter=0.4),
                          minutes=30, scope=SCOPE, prerequisites=PREREQS, today=TODAY)
    assert chosen.total_minutes <= 30
    assert chosen.total_minutes >= 30 - pool.minutes.max()
    assert {p.purpose for p in chosen.picks} == {"learn"}
    in_band = [0.6 <= p.p_success <= 0.85 for p in chosen.picks]
    assert sum(in_band) / len(in_band) >= 0.9
    given = mastery(number_fraction=0.5, number_decimal=0.55, geometry_area_perimeter=0.4)
    assert chosen.model_mastery == {k: pytest.approx(given[k].p_correct) for k in chosen.model_mastery}
    again = pool.predict(chosen.mastery_used, pool.positions(chosen.item_ids))
    np.testing.assert_allclose(again, [p.p_success for p in chosen.picks], atol=1e-4)
    assert all(p.mastery == pytest.approx(chosen.mastery_used[p.knowledge_point], abs=1e-4) for p in chosen.picks)
    for pick in chosen.picks:
        assert pick.reason.startswith(f"{pick.knowledge_point}: mastery {pick.mastery:.2f}")
        assert f"predicted success {pick.p_success:.2f}" in pick.reason
        assert pick.knowledge_point in pool.knowledge_points_of(int(pool.positions([pick.item_id])[0]))
    assert len(set(chosen.item_ids)) == len(chosen.item_ids)


def test_spreads_the_minutes_across_the_weak_points(pool: ItemPool) -> None:
    chosen = select_items(pool, "s1", mastery(number_fraction=0.5, number_decimal=0.55, geometry_area_perimeter=0.4),
                          minutes=40, scope=SCOPE, prerequisites=PREREQS, today=TODAY)
    counts = pd.Series([p.knowledge_point for p in chosen.picks]).value_counts()
    assert set(counts.index) == set(SCOPE.knowledge_points)
    assert counts.min() >= 3 and counts.max() <= 0.6 * counts.sum()
    equal = select_items(pool, "s1", mastery(number_fraction=0.5, number_decimal=0.55, geometry_area_perimeter=0.4),
                         minutes=40, scope=SCOPE, prerequisites=PREREQS, today=TODAY,
                         policy=SelectionPolicy(proportional=False))
    counts = pd.Series([p.knowledge_point for p in equal.picks]).value_counts()
    assert len(counts) == 3 and counts.max() - counts.min() <= 1


def test_an_unmastered_prerequisite_comes_first(pool: ItemPool) -> None:
    blocked = select_items(pool, "s1", mastery(number_fraction=0.5, number_whole=0.4, number_factors=0.9),
                           minutes=20, scope=Scope(subject="math", grade=6, knowledge_points=("number.fraction",)),
                           prerequisites=PREREQS, today=TODAY)
    assert {p.knowledge_point for p in blocked.picks} == {"number.whole"}
    assert all(p.purpose == "prerequisite" and "prerequisite of number.fraction" in p.reason for p in blocked.picks)
    ready = select_items(pool, "s1", mastery(number_fraction=0.5), minutes=20,
                         scope=Scope(subject="math", grade=6, knowledge_points=("number.fraction",)),
                         prerequisites=PREREQS, today=TODAY)
    assert {p.knowledge_point for p in ready.picks} == {"number.fraction"}
    unanswered = mastery(number_fraction=0.5)  # a prerequisite at a low prior, never answered: no evidence
    unanswered["number.whole"] = SkillMastery("number.whole", 0.4, 0.33, 0)
    chosen = select_items(pool, "s1", unanswered, minutes=20,
                          scope=Scope(subject="math", grade=6, knowledge_points=("number.fraction",)),
                          prerequisites=PREREQS, today=TODAY)
    assert {p.knowledge_point for p in chosen.picks} == {"number.fraction"}
    assert all("prerequisite number.whole not answered yet" in p.reason for p in chosen.picks)


def test_recent_items_are_not_repeated_and_old_mistakes_come_back_as_variants(pool: ItemPool,
                                                                              bank: pd.DataFrame) -> None:
    weak = mastery(number_fraction=0.5)
    scope = Scope(subject="math", grade=6, knowledge_points=("number.fraction",))
    first = select_items(pool, "s1", weak, minutes=20, scope=scope, prerequisites=PREREQS, today=TODAY)
    done = pd.DataFrame({"item_id": first.item_ids, "correct": 1, "date": TODAY - dt.timedelta(days=3)})
    second = select_items(pool, "s1", weak, minutes=20, scope=scope, prerequisites=PREREQS, history=done, today=TODAY)
    assert not set(first.item_ids) & set(second.item_ids)

    decimal_item = bank.loc[bank["knowledge_points"] == "number.decimal", "id"].iloc[0]
    wrong_day = TODAY - dt.timedelta(days=8)
    history = pd.concat([done, pd.DataFrame({"item_id": [decimal_item], "correct": [0], "date": [wrong_day]})])
    third = select_items(pool, "s1", mastery(number_fraction=0.5, number_percent=0.6), minutes=20,
                         scope=Scope(subject="math", grade=6, knowledge_points=("number.percent",)),
                         prerequisites=PREREQS, history=history, today=TODAY)
    reviews = [p for p in third.picks if p.purpose == "review"]
    assert reviews and all(p.knowledge_point == "number.decimal" for p in reviews)
    assert decimal_item not in third.item_ids
    assert f"answered wrong on {wrong_day.isoformat()}" in reviews[0].reason
    assert sum(p.minutes for p in reviews) <= 0.3 * 20 + 1e-9
    # reviewed correctly the day after: the next review waits for the 3-day interval
    reviewed = pd.concat([history, pd.DataFrame({"item_id": [reviews[0].item_id], "correct": [1],
                                                 "date": [TODAY - dt.timedelta(days=1)]})])
    fourth = select_items(pool, "s1", mastery(number_fraction=0.5, number_percent=0.6), minutes=20,
                          scope=Scope(subject="math", grade=6, knowledge_points=("number.percent",)),
                          prerequisites=PREREQS, history=reviewed, today=TODAY)
    assert not [p for p in fourth.picks if p.purpose == "review"]


def test_a_test_date_brings_back_mastered_points_and_all_mastered_means_extend(pool: ItemPool,
                                                                               bank: pd.DataFrame) -> None:
    old = bank.loc[bank["knowledge_points"] == "number.fraction", "id"].iloc[:2]
    history = pd.DataFrame({"item_id": old, "correct": 1, "date": TODAY - dt.timedelta(days=20)})
    scope = Scope(subject="math", grade=6, knowledge_points=("number.fraction", "number.percent"),
                  test_date=TODAY + dt.timedelta(days=5))
    chosen = select_items(pool, "s1", mastery(number_percent=0.5), minutes=20, scope=scope, prerequisites=PREREQS,
                          history=history, today=TODAY)
    tests = [p for p in chosen.picks if p.purpose == "test"]
    assert tests and tests[0].knowledge_point == "number.fraction"
    assert f"the test on {scope.test_date}" in tests[0].reason
    strong = select_items(pool, "s1", mastery(), minutes=15, scope=SCOPE, prerequisites=PREREQS, today=TODAY)
    assert {p.purpose for p in strong.picks} == {"extend"}
    assert "every knowledge point in scope is mastered" in strong.notes[0]


def test_a_class_gets_different_sets_for_different_students(pool: ItemPool) -> None:
    rng = np.random.default_rng(3)
    students = [f"s{i:02d}" for i in range(50)]
    levels = {s: mastery(number_fraction=rng.uniform(0.3, 0.95), number_decimal=rng.uniform(0.3, 0.95),
                         geometry_area_perimeter=rng.uniform(0.3, 0.95)) for s in students}
    sets = select_for_class(pool, students, levels, minutes={s: 20 + i % 3 for i, s in enumerate(students)},
                            scope=SCOPE, prerequisites=PREREQS, today=TODAY)
    assert list(sets) == students
    for i, s in enumerate(students):
        assert sets[s].total_minutes <= 20 + i % 3
        weak = {k for k in SCOPE.knowledge_points if sets[s].mastery_used[k] < 0.8}
        assert {p.knowledge_point for p in sets[s].picks if p.purpose == "learn"} <= weak
    assert len({sets[s].item_ids for s in students}) == 50
    twins = select_for_class(pool, ["a", "b"], {"a": levels["s00"], "b": levels["s00"]}, minutes=20,
                             scope=SCOPE, prerequisites=PREREQS, today=TODAY)
    assert twins["a"].item_ids != twins["b"].item_ids


def test_tiers_split_the_class_by_mastery_and_give_the_weak_tier_easier_items(pool: ItemPool) -> None:
    students = [f"s{i:02d}" for i in range(30)]
    levels = {s: mastery(number_fraction=0.3 + 0.02 * i, number_decimal=0.3 + 0.02 * i,
                         geometry_area_perimeter=0.3 + 0.015 * i)
              for i, s in enumerate(students)}
    centre = SelectionPolicy(item_value="centre")  # nearest the band's middle: easiness follows mastery
    tiers = tiered_sets(pool, students, levels, minutes=20, scope=SCOPE, prerequisites=PREREQS, today=TODAY,
                        policy=centre)
    assert [len(tiers.students(t)) for t in "ABC"] == [10, 10, 10]
    assert set(tiers.students("A")) == set(students[20:]) and set(tiers.students("C")) == set(students[:10])
    ease = {t: pool.easiness[pool.positions(tiers.sets[t].item_ids)].mean() for t in "ABC"}
    assert ease["C"] > ease["B"] > ease["A"]
    assert all(s.total_minutes <= 20 for s in tiers.sets.values())
    same = tiered_sets(pool, students[:7], {s: mastery(number_fraction=0.5) for s in students[:7]}, minutes=20,
                       scope=SCOPE, prerequisites=PREREQS, today=TODAY)
    assert [len(same.students(t)) for t in "ABC"] == [3, 2, 2]  # ties are split by rank, no tier left empty


def test_a_fitted_model_is_a_mastery_source_and_calibration_follows_the_data() -> None:
    log = read_akt(FIXTURES / "kt" / "assist2009_pid_sample.csv")
    model = BKT(random_state=0).fit(log)
    items = log.drop_duplicates("item_id").assign(
        id=lambda f: f["item_id"].astype(str), minutes=2.0,
        knowledge_points=lambda f: f["skill_ids"].map(lambda ks: ";".join(str(k) for k in ks)))
    pool = ItemPool.from_frame(items)
    pool.calibrate(log.assign(item_id=log["item_id"].astype(str)))
    rate = log.groupby(log["item_id"].astype(str))["correct"].agg(["mean", "size"])
    busy = rate[rate["size"] >= 2]
    ease = pd.Series(pool.easiness[pool.positions(busy.index)], index=busy.index)
    assert (busy["mean"] == 0).sum() >= 3 and (busy["mean"] == 1).sum() >= 3
    assert (ease[busy["mean"] == 0] < 0).all() and (ease[busy["mean"] == 1] > 0).all()
    assert pool.calibrated.sum() == rate.shape[0]
    student = log["student_id"].iloc[0]
    chosen = select_for_class(pool, [student], model, minutes=10, today=TODAY)[student]
    assert chosen.picks and chosen.total_minutes <= 10
    assert 0 < chosen.confidence <= 1


def test_bad_input_is_named(pool: ItemPool, bank: pd.DataFrame) -> None:
    with pytest.raises(DataFormatError, match="'knowledge_points'.*no items in the pool"):
        select_items(pool, "s", mastery(), minutes=10, scope=Scope(knowledge_points=("no.such",)))
    with pytest.raises(DataFormatError, match="'band'"):
        SelectionPolicy(band=(0.9, 0.6))
    with pytest.raises(DataFormatError, match="'date'"):
        select_items(pool, "s", mastery(), minutes=10, history=pd.DataFrame({"item_id": ["x"], "correct": [1]}))
    with pytest.raises(DataFormatError, match="no mastery given for student 'ghost'"):
        select_for_class(pool, ["ghost"], {}, minutes=10)
    with pytest.raises(DataFormatError, match="'minutes'"):
        ItemPool.from_frame(bank.drop(columns="minutes"))
    with pytest.raises(DataFormatError, match="must be >= 0"):
        select_items(pool, "s", mastery(), minutes=-5)


def test_latest_results_correct_an_optimistic_model(pool: ItemPool, bank: pd.DataFrame) -> None:
    scope = Scope(subject="math", grade=6, knowledge_points=("number.fraction",))
    optimistic = mastery(number_fraction=0.7)
    centre = SelectionPolicy(item_value="centre")  # per minute, the fresh set is already the shortest, easiest
    fresh = select_items(pool, "s1", optimistic, minutes=20, scope=scope, prerequisites=PREREQS, today=TODAY,
                         policy=centre)
    easy = bank.loc[(bank["knowledge_points"] == "number.fraction") & (bank["difficulty"] <= 2), "id"].iloc[:30]
    failed = pd.DataFrame({"item_id": easy, "correct": 0, "date": TODAY - dt.timedelta(days=20)})
    corrected = select_items(pool, "s1", optimistic, minutes=20, scope=scope, prerequisites=PREREQS,
                             history=failed, today=TODAY, policy=centre)
    assert fresh.mastery_shift == 0 and corrected.mastery_shift < -1
    assert any("moved by" in note for note in corrected.notes)
    ease = {name: pool.easiness[pool.positions(s.item_ids)].mean() for name, s in (("fresh", fresh),
                                                                                   ("corrected", corrected))}
    assert ease["corrected"] > ease["fresh"] + 0.3
    off = select_items(pool, "s1", optimistic, minutes=20, scope=scope, prerequisites=PREREQS, history=failed,
                       today=TODAY, policy=SelectionPolicy(calibration_window=0))
    assert off.mastery_shift == 0


def test_a_point_practised_only_beside_another_is_separated_from_it(pool: ItemPool, bank: pd.DataFrame) -> None:
    """Every discount item also carries number.percent; the model's 0.64 on percent.price is success on
    those items, so with number.percent at 0.9 the point itself must be weaker than 0.64."""
    scope = Scope(subject="math", grade=6, knowledge_points=("percent.price",))
    model = mastery(percent_price=0.64)
    chosen = select_items(pool, "s1", model, minutes=15, scope=scope, prerequisites=PREREQS, today=TODAY)
    assert chosen.model_mastery["percent.price"] == pytest.approx(0.64)
    assert chosen.mastery_used["percent.price"] < 0.5
    assert chosen.picks and all(p.knowledge_point == "percent.price" for p in chosen.picks)
    plain = select_items(pool, "s1", model, minutes=15, scope=scope, prerequisites=PREREQS, today=TODAY,
                         policy=SelectionPolicy(unmix=False))
    assert plain.mastery_used["percent.price"] == pytest.approx(0.64)
    price_items = pool.positions(bank.loc[bank["knowledge_points"].str.contains("percent.price"), "id"])
    one_point = [i for i in price_items if len(pool.knowledge_points_of(int(i))) == 1]
    assert not one_point


def test_priority_learnable_prefers_the_half_learned_point_and_gap_the_weakest(pool: ItemPool) -> None:
    levels = mastery(number_fraction=0.5, number_decimal=0.2, geometry_area_perimeter=0.75)
    one = Scope(subject="math", grade=6, knowledge_points=SCOPE.knowledge_points)

    def first_point(priority: str) -> str:
        chosen = select_items(pool, "s1", levels, minutes=3, scope=one, prerequisites=PREREQS, today=TODAY,
                              policy=SelectionPolicy(priority=priority, max_points=1, unmix=False))
        return chosen.picks[0].knowledge_point

    assert first_point("learnable") == "number.fraction"   # 4 p (1 - p) is highest at 0.5
    assert first_point("gap") == "number.decimal"          # farthest below mastery


def test_below_band_never_leaves_an_out_of_reach_point_for_others(bank: pd.DataFrame) -> None:
    """Fractions at mastery 0.1: even the easiest fraction item is predicted below the band (items on one
    point only). "nearest" (the old rule) still gives fraction items below the band; "never" gives none
    below it and spends the minutes on other points instead."""
    pool = ItemPool.from_frame(bank[~bank["knowledge_points"].str.contains(";")])
    weak = mastery(number_fraction=0.1, number_decimal=0.5)
    scope = Scope(subject="math", grade=6, knowledge_points=("number.fraction", "number.decimal"))
    nearest = select_items(pool, "s1", weak, minutes=20, scope=scope, prerequisites=PREREQS, today=TODAY,
                           policy=SelectionPolicy(unmix=False))
    assert any(p.knowledge_point == "number.fraction" and p.p_success < 0.6 for p in nearest.picks)
    never = select_items(pool, "s1", weak, minutes=20, scope=scope, prerequisites=PREREQS, today=TODAY,
                         policy=SelectionPolicy(unmix=False, below_band="never"))
    assert never.picks and all(p.p_success >= 0.6 for p in never.picks)
    assert never.total_minutes >= 20 - pool.minutes.max()
    assert "number.fraction" not in {p.knowledge_point for p in never.picks}


def test_class_prior_replaces_the_no_evidence_value_and_prerequisites_cap_it(pool: ItemPool) -> None:
    scope = Scope(subject="math", grade=6, knowledge_points=("number.percent",))
    policy = SelectionPolicy(unmix=False, prior="class")

    def student(percent: SkillMastery, decimal: float = 0.9) -> dict[str, SkillMastery]:
        out = mastery(number_decimal=decimal)
        out["number.percent"] = percent
        return out

    answered = SkillMastery("number.percent", 0.3, 0.1, 6)
    unanswered = SkillMastery("number.percent", 0.5, 0.25, 0)
    given = {"a": student(answered), "b": student(answered), "c": student(answered), "new": student(unanswered),
             "weak": student(unanswered, decimal=0.2)}
    sets = select_for_class(pool, list(given), given, minutes=10, scope=scope, prerequisites=PREREQS,
                            today=TODAY, policy=policy)
    assert sets["new"].mastery_used["number.percent"] == pytest.approx(0.3)  # the class's mean, not 0.5
    assert sets["weak"].mastery_used["number.percent"] == pytest.approx(0.2)  # no better than its prerequisite
    assert sets["a"].mastery_used["number.percent"] == pytest.approx(0.3)  # an answered point keeps its value
    default = select_for_class(pool, ["new"], given, minutes=10, scope=scope, prerequisites=PREREQS, today=TODAY,
                               policy=SelectionPolicy(unmix=False))
    assert default["new"].mastery_used["number.percent"] == pytest.approx(0.5)


def test_focus_keeps_a_set_on_the_point_practised_lately(pool: ItemPool) -> None:
    """Fractions (0.5) rank just above decimals (0.45); with decimals practised yesterday and focus on,
    the one point of the set stays decimals until they are mastered."""
    levels = mastery(number_fraction=0.5, number_decimal=0.45)
    scope = Scope(subject="math", grade=6, knowledge_points=("number.fraction", "number.decimal"))
    decimal_items = [str(pool.ids[i]) for i in range(len(pool)) if pool.knowledge_points_of(i) == ("number.decimal",)]
    history = pd.DataFrame({"item_id": decimal_items[:3], "correct": 1.0, "date": TODAY - dt.timedelta(days=1)})
    base = SelectionPolicy(unmix=False, calibration_window=0, max_points=1)
    plain = select_items(pool, "s1", levels, minutes=10, scope=scope, prerequisites=PREREQS, today=TODAY,
                         history=history, policy=base)
    assert {p.knowledge_point for p in plain.picks} == {"number.fraction"}
    focused = select_items(pool, "s1", levels, minutes=10, scope=scope, prerequisites=PREREQS, today=TODAY,
                           history=history, policy=SelectionPolicy(unmix=False, calibration_window=0, max_points=1,
                                                                   focus_days=3))
    assert {p.knowledge_point for p in focused.picks} == {"number.decimal"}


def test_per_minute_value_picks_shorter_items_in_the_same_band(pool: ItemPool) -> None:
    """Expected learning per minute prefers short items among those near the band; the nearest-the-middle
    rule ignores minutes. Same point, same mastery, same minutes: more, shorter items, still in reach."""
    levels = mastery(number_fraction=0.5)
    scope = Scope(subject="math", grade=6, knowledge_points=("number.fraction",))

    def chosen(value: str) -> list[float]:
        sets = select_items(pool, "s1", levels, minutes=40, scope=scope, prerequisites=PREREQS, today=TODAY,
                            policy=SelectionPolicy(unmix=False, item_value=value))  # type: ignore[arg-type]
        assert all(0.45 <= p.p_success <= 0.95 for p in sets.picks)
        return [p.minutes for p in sets.picks]

    centre, per_minute = chosen("centre"), chosen("per_minute")
    assert np.mean(per_minute) < 0.8 * np.mean(centre)
    assert len(per_minute) > len(centre)


def test_stopping_rule_sets_nothing_new_once_the_scope_is_mastered(pool: ItemPool) -> None:
    done = mastery()  # every point at 0.9
    extend = select_items(pool, "s1", done, minutes=15, scope=SCOPE, prerequisites=PREREQS, today=TODAY)
    assert extend.picks and {p.purpose for p in extend.picks} == {"extend"}
    stop = select_items(pool, "s1", done, minutes=15, scope=SCOPE, prerequisites=PREREQS, today=TODAY,
                        policy=SelectionPolicy(when_mastered="stop"))
    assert stop.picks == ()
    assert any("stopping rule" in note for note in stop.notes)


def test_band_follows_the_students_observed_success(pool: ItemPool) -> None:
    """A student who got their last 40 answers right gets items predicted harder than the fixed band
    gives; one who got them wrong, easier ones (the model's mastery is the same for both)."""
    levels = mastery(number_fraction=0.5)
    scope = Scope(subject="math", grade=6, knowledge_points=("number.fraction",))
    other = [str(pool.ids[i]) for i in range(len(pool)) if pool.knowledge_points_of(i) == ("number.whole",)][:40]

    def mean_success(correct: float, window: int) -> float:
        history = pd.DataFrame({"item_id": other, "correct": correct, "date": TODAY - dt.timedelta(days=20)})
        sets = select_items(pool, "s1", levels, minutes=30, scope=scope, prerequisites=PREREQS, today=TODAY,
                            history=history, policy=SelectionPolicy(unmix=False, calibration_window=0,
                                                                    review_share=0, band_window=window))
        return float(np.mean([p.p_success for p in sets.picks]))

    fixed = mean_success(1.0, 0)
    assert mean_success(1.0, 40) < fixed - 0.1
    assert mean_success(0.0, 40) > fixed + 0.05
    with pytest.raises(DataFormatError, match="band_window"):
        SelectionPolicy(band_window=-1)
