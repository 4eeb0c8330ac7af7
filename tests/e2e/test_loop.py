"""The loop on real inputs: bank items -> assignment -> printed sheets -> pencil + real handwriting ->
scans -> intake -> graded answers -> response log -> mastery per student and knowledge point."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from homework import ItemBank
from homework._assignments import AssignmentRequest, compose_assignment
from homework._intake import Intake
from homework._loop import item_analysis, mastery_table, minutes_spent, responses_from_answers, wrong_answers
from homework._printing import field_items, sheet_spec
from homework.storage import ScanStore
from recommender import BKT
from scanning import DigitBank, generate_set, scanner

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
STUDENTS = [("s01", "李雷"), ("s02", "韩梅梅"), ("s03", "Wang Fang")]
KPS = ("number.fraction", "number.decimal", "number.percent")


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("loop")
    bank = ItemBank()
    bank.import_file(FIXTURES / "bank" / "items.csv")
    assignment = compose_assignment(bank, AssignmentRequest(knowledge_points=KPS, minutes=20, grade=5, seed=3),
                                    assignment_id="loop-hw-1")
    spec = sheet_spec(bank, assignment, STUDENTS, class_name="五(2)班")
    digits = DigitBank.load(FIXTURES / "handwriting" / "mnist_digits_500.npz")
    truth = generate_set(spec, out / "scans", [scanner(200, 0), scanner(300, 2)], digits, seed=11)
    from scanning import get_backend

    intake = Intake(ScanStore(out / "store"), ocr=get_backend("rapidocr"))
    intake.register(spec)
    for page in truth:
        intake.receive(out / "scans" / page.file)
    return bank, assignment, intake


def test_graded_answers_become_one_response_per_item_with_its_knowledge_points(loop) -> None:
    bank, assignment, intake = loop
    answers = intake.store.answers(assignment.id)
    log = responses_from_answers(answers, assignment, bank)
    graded = [a for a in answers if a["grade_status"] == "graded" and a["field_id"] in field_items(assignment)]
    assert len(log) == len(graded) > 0
    assert set(log["item_id"]) <= set(assignment.item_ids)
    for row in log.itertuples():
        assert row.skill_ids == bank.get(row.item_id).knowledge_points
        assert 0.0 <= row.correct <= 1.0
    items = field_items(assignment)
    in_review = {(a["student_id"], items[a["field_id"]]) for a in answers
                 if a["grade_status"] == "needs_review" and a["field_id"] in items}
    assert in_review, "the seeded class has an answer waiting for a teacher"
    assert not in_review & set(zip(log["student_id"], log["item_id"], strict=True))


def test_mastery_follows_the_graded_answers(loop) -> None:
    bank, assignment, intake = loop
    answers = intake.store.answers(assignment.id)
    log = responses_from_answers(answers, assignment, bank)
    model = BKT(random_state=0).fit(log)
    table = mastery_table(model, [s for s, _ in STUDENTS], KPS)
    assert len(table) == len(STUDENTS) * len(KPS)
    assert table["p_correct"].between(0, 1).all()
    share_right = log.groupby("student_id")["correct"].mean()
    believed = table.groupby("student_id")["p_correct"].mean()
    best, worst = share_right.idxmax(), share_right.idxmin()
    assert share_right[best] - share_right[worst] > 0.3, "the seeded class has strong and weak students"
    assert believed.idxmax() == best and believed.idxmin() == worst

    before = model.mastery("s01", [KPS[0]])[KPS[0]].p_correct
    item = next(i for i in assignment.item_ids if KPS[0] in bank.get(i).knowledge_points)
    one = pd.DataFrame([{"student_id": "s01", "item_id": item, "skill_ids": (KPS[0],), "correct": 1.0,
                         "timestamp": 1e12}])
    model.partial_fit(one)
    assert model.mastery("s01", [KPS[0]])[KPS[0]].p_correct > before


def test_wrong_answer_notebook_and_minutes_spent(loop) -> None:
    bank, assignment, intake = loop
    answers = intake.store.answers(assignment.id)
    notebook = wrong_answers(answers, assignment, bank)
    wrong = [a for a in answers if a["grade_status"] == "graded" and a["correct"] == 0
             and a["field_id"] in field_items(assignment)]
    assert len(notebook) == len(wrong)
    assert all(isinstance(stem, str) and stem for stem in notebook["stem"])
    minutes = minutes_spent(answers, assignment)
    assert set(minutes) <= {s for s, _ in STUDENTS}
    assert all(np.isfinite(v) and 0 <= v < 100 for v in minutes.values())


def test_item_analysis_matches_the_graded_answers(loop) -> None:
    bank, assignment, intake = loop
    answers = intake.store.answers(assignment.id)
    table = item_analysis(answers, assignment)
    assert list(table["item_id"]) == list(assignment.item_ids)
    log = responses_from_answers(answers, assignment, bank)
    for row in table.itertuples():
        mine = log[log["item_id"] == row.item_id]["correct"]
        assert row.graded == len(mine)
        if len(mine):
            assert row.facility == pytest.approx(mine.mean())
        assert np.isnan(row.discrimination) or -1.0 <= row.discrimination <= 1.0
    assert table["discrimination"].notna().sum() >= 3  # items graded for all three students, not all alike
    assert table["in_review"].sum() == sum(a["grade_status"] == "needs_review" and a["field_id"] not in ("minutes", "started")
                                           for a in answers)
