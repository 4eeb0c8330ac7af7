"""Assignments from explicit items and from requests, the 双减 caps across subjects, and 分层 tiers."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from homework._assignments import (
    Assignment,
    AssignmentRequest,
    HomeworkCaps,
    HomeworkLedger,
    build_assignment,
    compose_assignment,
    layered_assignments,
)
from homework._bank import ItemBank
from homework._errors import AssignmentError, CapExceededError
from homework._taxonomy import taxonomy_graph

BANK = Path(__file__).resolve().parents[2] / "fixtures" / "bank" / "items.csv"
DAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def bank() -> ItemBank:
    bank = ItemBank(taxonomy_graph())
    bank.import_file(BANK)
    return bank


def test_explicit_items_keep_their_order_and_sum_their_minutes(bank: ItemBank) -> None:
    ids = ["m23k-5320", "m23k-13188", "ape-454036"]
    assignment = build_assignment(bank, ids, assignment_id="hw-1", title="周一数学")
    assert assignment.item_ids == tuple(ids) and assignment.subject == "math"
    assert assignment.total_minutes == pytest.approx(sum(bank.get(i).minutes for i in ids))
    assert assignment.grade == max(bank.get(i).grade for i in ids)
    assert {"rate.distance", "number.fraction", "geometry.circle"} <= set(assignment.knowledge_points)


@pytest.mark.parametrize(("ids", "message"), [
    ([], "at least one item"), (["m23k-5320", "m23k-5320"], "more than once"), (["nope"], "no item with id"),
])
def test_bad_explicit_lists_are_refused(bank: ItemBank, ids: list[str], message: str) -> None:
    with pytest.raises(AssignmentError, match=message):
        build_assignment(bank, ids)


def test_a_request_gets_about_its_minutes_covering_every_point_with_mixed_difficulty(bank: ItemBank) -> None:
    request = AssignmentRequest(knowledge_points=("number.fraction", "rate.distance"), minutes=30, grade=5)
    assignment = compose_assignment(bank, request)
    assert abs(assignment.total_minutes - 30) <= 0.15 * 30
    rows = bank.rows(assignment.item_ids)
    assert (rows["grade"] <= 5).all()
    kps = rows["knowledge_points"].str.split(";")
    assert kps.map(lambda k: "number.fraction" in k).any() and kps.map(lambda k: "rate.distance" in k).any()
    assert kps.map(lambda k: bool({"number.fraction", "rate.distance"} & set(k))).all()
    assert {1, 2} & set(rows["difficulty"]) and 3 in set(rows["difficulty"]) and {4, 5} & set(rows["difficulty"])
    again = compose_assignment(bank, request, assignment_id="x")
    assert again.item_ids == assignment.item_ids  # the seed makes it repeatable
    other = compose_assignment(bank, request.model_copy(update={"seed": 1}))
    assert other.item_ids != assignment.item_ids


def test_requests_that_cannot_be_met_say_why(bank: ItemBank, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(AssignmentError, match=r"no math item of grade <= 3 covers \['percent.interest'\]"):
        compose_assignment(bank, AssignmentRequest(knowledge_points=("percent.interest",), minutes=20, grade=3,
                                                   lower_grades=True))
    few = AssignmentRequest(knowledge_points=("percent.interest",), minutes=200, grade=6)
    with caplog.at_level(logging.WARNING, logger="homework._assignments"):
        assignment = compose_assignment(bank, few)
    assert assignment.total_minutes < 200 and "for a 200.0 min request" in caplog.text
    with pytest.raises(ValidationError, match="1 <= low <= high <= 5"):
        AssignmentRequest(knowledge_points=("number.whole",), minutes=10, grade=4, difficulty=(4, 2))


def test_layered_variants_differ_in_difficulty_not_in_topic_or_time(bank: ItemBank) -> None:
    request = AssignmentRequest(knowledge_points=("number.fraction",), minutes=20, grade=6, seed=3)
    tiers = layered_assignments(bank, request, assignment_id="hw-9")
    assert list(tiers) == ["basic", "improve", "extend"]
    assert [t.id for t in tiers.values()] == ["hw-9-basic", "hw-9-improve", "hw-9-extend"]
    mean = {name: bank.rows(a.item_ids)["difficulty"].mean() for name, a in tiers.items()}
    assert mean["basic"] < mean["improve"] < mean["extend"]
    assert bank.rows(tiers["basic"].item_ids)["difficulty"].max() <= 2
    assert bank.rows(tiers["extend"].item_ids)["difficulty"].min() >= 3
    for assignment in tiers.values():
        assert abs(assignment.total_minutes - 20) <= 3 and assignment.tier in tiers
    assert not set(tiers["basic"].item_ids) & set(tiers["improve"].item_ids)


def _assignment(name: str, subject: str, grade: int, minutes: float) -> Assignment:
    return Assignment(name, subject, grade, (f"{name}-q",), (minutes,))


def test_caps_count_every_subject_per_student_and_day_and_say_by_how_much() -> None:
    ledger = HomeworkLedger()
    ledger.assign(_assignment("yw", "chinese", 5, 25), ["s1", "s2", "s3"], DAY)
    ledger.assign(_assignment("yy", "english", 5, 15), ["s1"], DAY)
    math = _assignment("sx", "math", 5, 30)
    check = ledger.check(math, ["s1", "s2", "s3"], DAY)
    assert (check.ok, check.over_by, check.students_over, check.highest_total) == (False, 10.0, ("s1",), 70.0)
    with pytest.raises(CapExceededError, match=r"双减 grades 3-6: at most 60 min/day is exceeded by 10 min on "
                                               r"2026-11-23: 'sx' \(math, 30 min\) would bring 1 student\(s\) to "
                                               r"70 min \(s1; already assigned: chinese 25 min, english 15 min\)"):
        ledger.assign(math, ["s1", "s2", "s3"], DAY)
    assert ledger.load("s2", DAY) == {"chinese": 25.0}  # the refused assignment was not recorded
    assert ledger.assign(math, ["s2", "s3"], DAY).ok  # 55 min: within the cap
    assert ledger.assign(math, ["s1"], DAY + dt.timedelta(days=1)).ok  # a new day starts from zero


@pytest.mark.parametrize(("grade", "minutes", "ok", "cap_text"), [
    (1, 5, False, "双减 grades 1-2: no written homework is exceeded by 5 min"),
    (2, 0.5, False, "双减 grades 1-2: no written homework"),
    (6, 60, True, ""), (6, 61, False, "at most 60 min/day is exceeded by 1 min"),
    (9, 90, True, ""), (8, 95, False, "双减 grades 7-9: at most 90 min/day is exceeded by 5 min"),
    (11, 200, True, ""),
])
def test_default_caps_follow_shuang_jian(grade: int, minutes: float, ok: bool, cap_text: str) -> None:
    check = HomeworkLedger().check(_assignment("a", "math", grade, minutes), ["s"], DAY)
    assert check.ok is ok and cap_text in check.message


def test_a_school_can_configure_its_caps_and_choose_to_warn(caplog: pytest.LogCaptureFixture) -> None:
    caps = HomeworkCaps.model_validate({"bands": [{"low": 3, "high": 6, "minutes": 45, "label": "实验小学"}],
                                        "on_exceed": "warn"})
    ledger = HomeworkLedger(caps)
    with caplog.at_level(logging.WARNING, logger="homework._assignments"):
        check = ledger.assign(_assignment("sx", "math", 4, 50), ["s1"], DAY)
    assert not check.ok and check.over_by == 5 and "实验小学 grades 3-6: at most 45 min/day" in caplog.text
    assert ledger.load("s1", DAY) == {"math": 50.0}  # warned, but recorded
    assert ledger.check(_assignment("x", "math", 2, 30), ["s1"], DAY).ok  # this school set no grade-2 band
    with pytest.raises(ValidationError, match="grade 4 is in two cap bands"):
        HomeworkCaps.model_validate({"bands": [{"low": 3, "high": 6, "minutes": 60}, {"low": 4, "high": 4,
                                                                                      "minutes": 30}]})


def test_the_ledger_round_trips_through_json() -> None:
    ledger = HomeworkLedger(HomeworkCaps.model_validate({"bands": [{"low": 3, "high": 6, "minutes": 45}]}))
    ledger.assign(_assignment("yw", "chinese", 5, 25), ["s1", "s2"], DAY)
    again = HomeworkLedger.from_json(ledger.to_json())
    assert again.load("s1", DAY) == {"chinese": 25.0} and again.caps == ledger.caps
    assert not again.check(_assignment("sx", "math", 5, 30), ["s2"], DAY).ok
    with pytest.raises(AssignmentError, match="not a homework ledger: unknown ledger version 7"):
        HomeworkLedger.from_json('{"version": 7}')


def test_a_requested_point_no_item_can_cover_is_named_in_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    bank = ItemBank()
    bank.import_file(Path(__file__).resolve().parents[2] / "fixtures" / "bank" / "items.csv")
    request = AssignmentRequest(knowledge_points=("number.fraction", "number.percent"), minutes=20, grade=5)
    with caplog.at_level("WARNING", logger="homework._assignments"):
        assignment = compose_assignment(bank, request, assignment_id="g5-pct")
    assert all("number.percent" not in bank.get(i).knowledge_points for i in assignment.item_ids)
    assert "covers none of ['number.percent']" in caplog.text
