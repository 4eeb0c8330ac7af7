"""The elementary-math taxonomy and tagger, checked against hand labels of real Math23K/Ape210K problems."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from homework._bank import ItemBank
from homework._items import item_answer_key
from homework._taxonomy import (
    TAXONOMY,
    TYPICAL_GRADE,
    equation_steps,
    items_from_word_problems,
    score_tagging,
    tag_problem,
    taxonomy_graph,
)
from scanning import Answer, grade, parse_key

BANK = Path(__file__).resolve().parents[2] / "fixtures" / "bank"


def _labels(part: str) -> list[dict[str, str]]:
    with open(BANK / "hand_labels.csv", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["set"] == part]


@pytest.mark.parametrize(("part", "floor_precision", "floor_recall"),
                         [("dev", 0.93, 0.95), ("dev2", 0.95, 0.95), ("test", 0.9, 0.88)])
def test_tagging_agrees_with_the_hand_labels(part: str, floor_precision: float, floor_recall: float) -> None:
    rows = _labels(part)
    truth = {r["id"]: set(r["knowledge_points"].split(";")) for r in rows}
    guess = {r["id"]: set(tag_problem(r["text"], r["equation"], r["answer"]).knowledge_points) for r in rows}
    scores = score_tagging(guess, truth)
    assert scores.confidence == len(rows) >= 60
    assert scores.precision >= floor_precision and scores.recall >= floor_recall
    assert scores.per_point["number.fraction"][1] >= 0.9  # the commonest topic is found


def test_hand_labels_use_only_the_taxonomy_and_cover_most_of_it() -> None:
    used = {kp for part in ("dev", "dev2", "test") for r in _labels(part) for kp in r["knowledge_points"].split(";")}
    known = {kp.id for kp in TAXONOMY}
    assert used <= known and len(used) >= 18
    assert len(_labels("dev")) + len(_labels("dev2")) + len(_labels("test")) >= 100


@pytest.mark.parametrize(("equation", "steps"), [
    ("x=225/(1-0.85)", 2), ("x=1800/8/5", 2), ("x=1-(5/4)+(7/12)-(9/20)+(11/30)+(15/56)", 5),
    ("x=3*3*3*3", 3), ("x=381654729", 0), ("x=10/(((5)/(7+5))-((1)/(4+1)))", 6), ("x=4**2+3*1", 3),
])
def test_solution_steps_count_operators_not_fraction_bars(equation: str, steps: int) -> None:
    assert equation_steps(equation) == steps


def test_difficulty_and_minutes_grow_with_steps_and_length() -> None:
    short = tag_problem("计算：500+501+502+503=．", "x=500+501+502+503", "2006")
    long = tag_problem("一个水池有甲进水管和乙出水管，单独开甲管10分钟可以注满水池，单独开乙管15分钟可以把满池水放尽．"
                       "一次，由于工作人员的疏忽，在打开甲管后若干分钟才匆忙关闭乙管，又过了相同的时间才注满全池．"
                       "问甲管一共注水多少时间？", "x=1/((1/10)*2-(1/15))*2", "15")
    assert (short.steps, short.difficulty) == (3, 3) and (long.steps, long.difficulty) == (4, 4)
    assert short.minutes < long.minutes and set(long.knowledge_points) == {"number.fraction", "rate.work"}
    assert long.confidence > tag_problem("有60个草莓，吃了18个，还剩几个？", "x=60-18", "42").confidence


def test_the_taxonomy_is_a_documented_dag() -> None:
    graph = taxonomy_graph()
    assert set(graph) == {kp.id for kp in TAXONOMY} == set(TYPICAL_GRADE)
    assert all(kp.name and kp.name_zh and kp.description for kp in TAXONOMY)
    assert "percent.price" in graph.descendants("number.fraction")
    assert len(graph.topological_order()) == len(TAXONOMY)


@pytest.fixture(scope="module")
def fixture_bank() -> ItemBank:
    bank = ItemBank(taxonomy_graph())
    report = bank.import_file(BANK / "items.csv")
    assert (report.rejected, report.issues) == (0, ())
    return bank


def test_fixture_bank_holds_the_real_items_tagged_as_the_tagger_says(fixture_bank: ItemBank) -> None:
    assert 2000 <= len(fixture_bank) <= 5000
    rows = _labels("dev") + _labels("dev2") + _labels("test")
    problems = [{"id": r["id"].split("-", 1)[1], "original_text": r["text"], "equation": r["equation"], "ans": r["answer"]}
                for r in rows]
    rebuilt = {row["id"].replace("x-", "", 1): row for row in items_from_word_problems(problems, "x", "x")}
    for row in rows:  # the committed fixture matches what the tagger produces today
        item = fixture_bank.get(row["id"])
        assert ";".join(item.knowledge_points) == rebuilt[row["id"].split("-", 1)[1]]["knowledge_points"]
    counts = fixture_bank.knowledge_point_counts()
    assert counts["number.whole"] > 500 and counts["rate.distance"] > 50 and counts["geometry.volume"] > 20


def test_every_fixture_item_key_grades_its_own_answer_right(fixture_bank: ItemBank) -> None:
    items = fixture_bank.items(list(fixture_bank.frame["id"][:400]))
    for item in items:
        key = parse_key(item_answer_key(item))
        assert grade(key, Answer(str(key.values[0]))).correct, item.id
        assert not grade(key, Answer(str(key.values[0] + 1))).correct, item.id


def test_fixture_bank_answers_real_teacher_queries(fixture_bank: ItemBank) -> None:
    fractions_g5 = fixture_bank.query(knowledge_points="number.fraction", grade=5, difficulty=(1, 2))
    assert len(fractions_g5) > 20 and fractions_g5["knowledge_points"].str.contains("number.fraction").all()
    meeting = fixture_bank.query(text="相遇", knowledge_points="rate.distance")
    assert len(meeting) > 10 and meeting["stem"].str.contains("相遇").all()
    with_descendants = fixture_bank.query(knowledge_points="number.percent", descendants=True)
    assert len(with_descendants) > len(fixture_bank.query(knowledge_points="number.percent"))
