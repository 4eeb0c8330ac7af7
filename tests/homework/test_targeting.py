"""Stage 4 as assignments: targeted sets from the real fixture bank, a BKT model fitted on simulated
students answering its items, the 双减 ledger across subjects, tiers, printing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pypdfium2 as pdfium
import pytest

from homework import Assignment, AssignmentError, CapExceededError, HomeworkLedger, ItemBank, build_assignment
from homework._targeting import TargetRequest, item_pool, print_targeted, targeted_homework, tiered_homework
from homework._taxonomy import _PREREQUISITES, taxonomy_graph
from recommender import BKT, Curriculum, LearnerSimulator, Scope

BANK = Path(__file__).resolve().parents[2] / "fixtures" / "bank" / "items.csv"
KPS = ("number.fraction", "number.decimal", "number.percent")
FIRST_DAY = dt.date(2026, 11, 2)
DAY = dt.date(2026, 11, 9)
REQUEST = TargetRequest(subject="math", grade=5, knowledge_points=KPS, minutes=20)



@pytest.fixture(scope="module")
def bank() -> ItemBank:
    bank = ItemBank(taxonomy_graph())
    bank.import_file(BANK)
    return bank


@pytest.fixture(scope="module")
def history(bank: ItemBank) -> pd.DataFrame:
    """A week of 12 simulated students (recommender.LearnerSimulator) answering 8 bank items a day on
    fractions, decimals, percentages and whole numbers, as a response log with dates."""
    frame = bank.frame
    sim = LearnerSimulator(Curriculum.from_frame(frame, _PREREQUISITES, seed=0), n_students=12, seed=1)
    topics = frame["knowledge_points"].str.contains("fraction|decimal|percent|number.whole").to_numpy()
    candidates = np.flatnonzero(topics & (frame["grade"] <= 5).to_numpy())
    rng = np.random.default_rng(0)
    rows = []
    for d in range(5):
        for j, student in enumerate(sim.students):
            items = rng.choice(candidates, 8, replace=False)
            correct, _ = sim.answer(j, items)
            for i, ok in zip(items, correct, strict=True):
                rows.append((student, frame["id"].iloc[i], tuple(frame["knowledge_points"].iloc[i].split(";")),
                             float(ok), float(d * 86400 + j), FIRST_DAY + dt.timedelta(days=d)))
        sim.next_day()
    return pd.DataFrame(rows, columns=["student_id", "item_id", "skill_ids", "correct", "timestamp", "date"])


@pytest.fixture(scope="module")
def model(history: pd.DataFrame) -> BKT:
    return BKT(random_state=0).fit(history)


@pytest.fixture(scope="module")
def students(history: pd.DataFrame) -> list[str]:
    return sorted(history["student_id"].unique())


def test_every_student_gets_a_set_within_budget_with_reasons_recorded_in_the_ledger(
        bank: ItemBank, model: BKT, history: pd.DataFrame, students: list[str]) -> None:
    ledger = HomeworkLedger()
    homework = targeted_homework(bank, model, students, scope=REQUEST, day=DAY, ledger=ledger, history=history)
    assert list(homework.students) == students and homework.notes == ()
    for student, mine in homework.students.items():
        assignment = mine.assignment
        assert assignment is not None and assignment.id.endswith(f"-{student}") and assignment.tier == "targeted"
        assert assignment.item_ids == mine.selection.item_ids
        same = build_assignment(bank, list(assignment.item_ids), grade=5)  # what the bank says of those items
        assert (assignment.subject, assignment.minutes, set(assignment.knowledge_points)) == (
            same.subject, same.minutes, set(same.knowledge_points))
        assert 20 - 4 <= assignment.total_minutes <= 20 == mine.budget
        assert mine.budget_reason == "teacher's 20 min; 0 of the day's 60 min cap already set"
        assert ledger.load(student, DAY) == {"math": assignment.total_minutes}
        done = set(history.loc[history["student_id"] == student, "item_id"])
        assert not done & set(assignment.item_ids)  # nothing the student did in the last week
        mastery = model.mastery(student, [p.knowledge_point for p in mine.selection.picks])
        for pick in mine.selection.picks:
            assert pick.reason.startswith(f"{pick.knowledge_point}: ")
            # the model's own estimate went in; the pick shows what selection decided on after its corrections
            assert mine.selection.model_mastery[pick.knowledge_point] == pytest.approx(
                mastery[pick.knowledge_point].p_correct, abs=1e-6)
            assert pick.mastery == pytest.approx(mine.selection.mastery_used[pick.knowledge_point], abs=2e-4)
        assert 0 < mine.confidence <= 1
    sets = [h.assignment.item_ids for h in homework.students.values() if h.assignment]
    assert len(set(sets)) == len(students)
    weakest = min(students, key=lambda s: model.mastery(s, ["number.fraction"])["number.fraction"].p_correct)
    strongest = max(students, key=lambda s: model.mastery(s, ["number.fraction"])["number.fraction"].p_correct)
    assert homework.students[weakest].assignment != homework.students[strongest].assignment


def test_unmastered_prerequisites_come_from_the_banks_graph(bank: ItemBank, students: list[str]) -> None:
    weak_whole = {s: {"number.whole": 0.4, "number.fraction": 0.5, "number.factors": 0.9, "number.decimal": 0.9,
                      "number.percent": 0.9} for s in students[:2]}
    scope = Scope(subject="math", grade=6, knowledge_points=("number.fraction",))
    homework = targeted_homework(bank, weak_whole, students[:2], scope=scope, minutes=15, day=DAY)
    picks = [p for h in homework.students.values() for p in h.selection.picks]
    assert picks and {p.knowledge_point for p in picks} == {"number.whole"}
    assert all("prerequisite of number.fraction" in p.reason for p in picks)


def test_the_cap_counts_every_subject_of_the_day(bank: ItemBank, model: BKT, history: pd.DataFrame,
                                                 students: list[str]) -> None:
    ledger = HomeworkLedger()
    chinese = Assignment("yw-1", "chinese", 5, ("c1", "c2"), (30.0, 20.0))
    ledger.assign(chinese, students[:1], DAY)
    homework = targeted_homework(bank, model, students[:3], scope=REQUEST, day=DAY, ledger=ledger, history=history)
    first = homework.students[students[0]]
    assert first.budget == 10 and "10 min left under the cap" in first.budget_reason
    assert "50 min already set" in first.budget_reason
    assert first.assignment is not None and 0 < first.assignment.total_minutes <= 10
    assert sum(ledger.load(students[0], DAY).values()) <= 60
    assert homework.students[students[1]].budget == 20


    full = HomeworkLedger()
    full.assign(chinese, students[:2], DAY)
    full.assign(Assignment("sx-1", "math", 5, ("m1",), (10.0,)), students[:1], DAY)
    squeezed = targeted_homework(bank, model, students[:2], scope=REQUEST, day=DAY, ledger=full, history=history)
    assert squeezed.students[students[0]].assignment is None and squeezed.students[students[0]].budget == 0
    (note,) = squeezed.notes
    assert note.startswith(f"{students[0]}: no set (0 min left under the cap, less than the teacher's 20 min "
                           f"(双减 grades 3-6: at most 60 min/day; 60 min already set on {DAY})")
    assert set(squeezed.assignments) == {students[1]}
    assert sum(full.load(students[0], DAY).values()) == 60


def test_grade_two_gets_no_written_homework(bank: ItemBank, model: BKT, students: list[str]) -> None:
    with pytest.raises(CapExceededError, match="grade 2 may not get written homework"):
        targeted_homework(bank, model, students, scope=REQUEST.model_copy(update={"grade": 2}), day=DAY)
    with pytest.raises(AssignmentError, match="subject and the class's grade"):
        targeted_homework(bank, model, students, scope=Scope(knowledge_points=KPS), minutes=20, day=DAY)
    with pytest.raises(AssignmentError, match=r"student\(s\) \['s0001'\] appear more than once"):
        targeted_homework(bank, model, ["s0001", "s0002", "s0001"], scope=REQUEST, day=DAY)
    with pytest.raises(AssignmentError, match="positive number of minutes"):
        targeted_homework(bank, model, students, scope=Scope(subject="math", grade=5), day=DAY)


def test_tiers_split_the_class_and_record_each_sheet_for_its_students(
        bank: ItemBank, model: BKT, history: pd.DataFrame, students: list[str]) -> None:
    ledger = HomeworkLedger()
    tiers = tiered_homework(bank, model, students, scope=REQUEST, day=DAY, ledger=ledger, history=history)
    assert sorted(tiers.assignments) == ["A", "B", "C"]
    assert [len(tiers.students(t)) for t in "ABC"] == [4, 4, 4]
    for tier, assignment in tiers.assignments.items():
        assert assignment.tier == tier and assignment.total_minutes <= 20
        for student in tiers.students(tier):
            assert ledger.load(student, DAY) == {"math": assignment.total_minutes}
    score = {s: np.mean([m.p_correct for m in model.mastery(s, list(KPS)).values()]) for s in students}
    assert min(score[s] for s in tiers.students("A")) >= max(score[s] for s in tiers.students("C"))


def test_the_pool_is_cached_per_bank_and_rebuilt_when_the_bank_changes() -> None:
    bank = ItemBank()
    bank.import_frame(pd.read_csv(BANK, keep_default_na=False).head(50))
    pool = item_pool(bank)
    assert item_pool(bank) is pool and len(pool) == 50
    first = str(bank.column("id")[0])
    bank.set_minutes({first: 9.0})
    rebuilt = item_pool(bank)
    assert rebuilt is not pool and rebuilt.minutes[rebuilt.positions([first])[0]] == 9.0
    bank.import_frame(pd.read_csv(BANK, keep_default_na=False).iloc[50:60])
    assert len(item_pool(bank)) == 60
    with pytest.raises(AssignmentError, match="item bank is empty"):
        item_pool(ItemBank())


def test_print_targeted_merges_every_students_paper_and_sheet(bank: ItemBank, model: BKT, history: pd.DataFrame,
                                                            students: list[str], tmp_path: Path) -> None:
    homework = targeted_homework(bank, model, students[:2], scope=REQUEST, minutes=8, day=DAY, history=history)
    pdf = print_targeted(bank, homework, tmp_path, names={students[0]: "王芳"})
    parts = [pdfium.PdfDocument(tmp_path / s / "combined.pdf") for s in students[:2]]
    merged = pdfium.PdfDocument(pdf)
    assert len(merged) == sum(len(p) for p in parts) >= 4
    assert merged[0].get_textpage().get_text_range().count("王芳") >= 1


def test_sets_price_items_by_the_class_answers_not_only_their_labels() -> None:
    """Ten items all labelled 3: five the class always got right, five always wrong. Uncalibrated they
    look alike (predicted 0.50 for a student at 0.5, below the band); calibrated on the answers, the
    five easy ones are predicted inside the band and are the ones chosen."""
    bank = ItemBank()
    ids = [f"q{i}" for i in range(10)]
    bank.import_frame(pd.DataFrame({"id": ids, "grade": 4, "type": "numeric", "stem": "1/2 + 1/4 = ?",
                                    "answer": "0.75", "knowledge_points": "number.fraction", "difficulty": 3,
                                    "minutes": 2.0}))
    answers = pd.DataFrame([(f"old{s}", item, float(int(item[1:]) < 5), DAY - dt.timedelta(days=30))
                            for s in range(12) for item in ids], columns=["student_id", "item_id", "correct", "date"])
    request = TargetRequest(grade=4, knowledge_points=("number.fraction",), minutes=4)
    mastery = {"s1": {"number.fraction": 0.5}}
    blind = targeted_homework(bank, mastery, ["s1"], scope=request, day=DAY).students["s1"].selection
    assert all(p.p_success == 0.5 for p in blind.picks)
    seen = targeted_homework(bank, mastery, ["s1"], scope=request, day=DAY, history=answers).students["s1"]
    assert {int(p.item_id[1:]) for p in seen.selection.picks} <= {0, 1, 2, 3, 4}
    assert all(0.6 <= p.p_success <= 0.85 for p in seen.selection.picks)
    assert not item_pool(bank).calibrated.any()  # the cached pool keeps its labels
