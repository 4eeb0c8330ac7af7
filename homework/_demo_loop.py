"""The demo's second half: the loop from the item bank, through paper, to mastery and targeted sets (stages 1-4).

Runs after the paper round trip of :mod:`homework._demo`, on the same class, with the fixture bank
(2,155 real Math23K/Ape210K problems tagged with knowledge points), every step through one
:class:`~homework.HomeworkService` (as the API, the CLI and the workers use it)::

    7 teacher_assigns   "about 25 minutes of fractions, decimals and percentages, mixed difficulty"
                        for grade 6, recorded in the store's ledger under the 双减 daily cap across subjects
    8 print_homework    question paper (Chinese stems) + answer sheet per student
    9 answer_and_scan   students write answers in real handwriting; the sheets come back scanned
   10 update_mastery    graded answers -> response log -> BKT mastery per student x knowledge point,
                        the wrong-answer notebook (错题本), and the "minutes spent" they wrote
   11 target_next_sets  the next day's set for each student, picked by that mastery from the bank
                        (20 minutes on the same points and their prerequisites, under the cap: one
                        student already has 45 minutes of Chinese), and the A/B/C tiers of the class
   12 write_reports     stage 3 for the teacher: the class report (HTML), the 错题本 of the student
                        with the most mistakes (PDF, with their own handwriting) and the grades (Excel, CSV)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homework._demo import Progress
from homework.storage import DEFAULT_SCHOOL

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BANK = FIXTURES / "bank" / "items.csv"
KNOWLEDGE_POINTS = ("number.fraction", "number.decimal", "number.percent")
DAY = dt.date(2026, 11, 23)
NEXT_DAY = DAY + dt.timedelta(days=1)
CLASS_NAME = "六年级(2)班"  # the loop's homework is grade 6 (the paper round trip before it is grade 7)


@dataclass(frozen=True)
class LoopSummary:
    """What the loop part of the demo did."""

    assignment_id: str
    items: int
    minutes: float
    cap_message: str
    refused_message: str
    papers: tuple[Path, Path]
    answers_graded: int
    answers_in_review: int
    mastery: Any  # pandas frame: student x knowledge point -> p_correct
    wrong_answers: int
    minutes_spent: dict[str, float]
    targeted: Any = None  # homework.TargetedHomework: each student's next set (step 11)
    tiers: Any = None  # homework.TieredHomework: the same class in A/B/C tiers
    reports: tuple[Path, ...] = ()  # step 12: class report, one student's 错题本, grade exports


def teacher_assigns(service: Any, students: list[tuple[str, str]]) -> tuple[Any, Any, str, str]:
    """Step 7: compose the assignment from the bank and record it in the school's 双减 ledger in the store
    (the cap checked inside the same transaction), its answer sheets registered for scanning.

    Also shows a refusal: a second, 45-minute assignment for the same day breaks the grade 3-6 cap.
    """
    from homework import CapExceededError, ItemBank
    from homework._assignments import AssignmentRequest

    bank = ItemBank()
    bank.import_file(BANK)
    request = AssignmentRequest(knowledge_points=KNOWLEDGE_POINTS, minutes=25, grade=6, seed=7,
                                title="分数、小数与百分数 Fractions, decimals, percentages")
    assignment = service.compose(bank, request, assignment_id="g6-math-loop")[""]
    check = service.assign_homework(DEFAULT_SCHOOL, assignment, students, DAY, bank=bank, class_name=CLASS_NAME)
    extra = service.compose(bank, request.model_copy(update={"minutes": 45, "seed": 8}), assignment_id="g6-extra")[""]
    try:
        service.assign_homework(DEFAULT_SCHOOL, extra, students, DAY, bank=bank, class_name=CLASS_NAME)
        refused = ""
    except CapExceededError as exc:
        refused = str(exc)
    return bank, assignment, check.message or f"within the cap ({check.highest_total:g} min)", refused


def print_homework(bank: Any, assignment: Any, spec: Any, out: Path) -> Any:
    """Step 8: the question paper and the answer sheet of every student."""
    from homework._printing import print_assignment

    students = [{"id": s.id, "name": s.name} for s in spec.students]
    return print_assignment(bank, assignment, students, out / "homework", class_name=CLASS_NAME)


def answer_and_scan(service: Any, printed: Any, out: Path, seed: int, progress: Progress | None = None) -> int:
    """Step 9: students answer (real handwriting), stations scan, the service reads and grades (the sheet
    was registered when the homework was recorded in step 7). Returns the pages received."""
    from homework._demo import _reporter, receive_all
    from scanning import DigitBank, generate_set, phone, scanner

    digits = DigitBank.load(FIXTURES / "handwriting" / "mnist_digits_500.npz")
    truth = generate_set(printed.spec, out / "homework" / "scans", [scanner(200, 0), scanner(300, 2), phone(10)],
                         digits, seed=seed,
                         progress=_reporter(progress, "answer_and_scan", len(printed.spec.students)))
    uploads = [(out / "homework" / "scans" / page.file, page.kind) for page in truth]
    receive_all(service, uploads, len(truth), _reporter(progress, "receive_homework", len(truth)))
    return len(truth)


def update_mastery(service: Any, bank: Any, assignment: Any,
                   students: list[str]) -> tuple[Any, int, int, int, dict[str, float], Any]:
    """Step 10: the graded answers update a BKT mastery model; the notebook collects wrong answers."""
    from homework._loop import mastery_table, minutes_spent, responses_from_answers, wrong_answers
    from recommender import BKT

    answers = service.answers(DEFAULT_SCHOOL, assignment.id)
    log = responses_from_answers(answers, assignment, bank)
    model = BKT(random_state=0).fit(log)
    table = mastery_table(model, students, KNOWLEDGE_POINTS)
    in_review = sum(a["grade_status"] == "needs_review" for a in answers)
    notebook = wrong_answers(answers, assignment, bank)
    return table, len(log), in_review, len(notebook), minutes_spent(answers, assignment), model


def target_next_sets(service: Any, bank: Any, assignment: Any, model: Any,
                     people: list[tuple[str, str]]) -> tuple[Any, Any]:
    """Step 11: each student's next-day set from the mastery of step 10, and the class in tiers A/B/C.

    The history (what each student did and got wrong on :data:`DAY`) keeps those items out and brings
    wrong points back as review. The first student already has 45 minutes of Chinese the next day
    (recorded in the ledger first), so the 双减 cap leaves 15 minutes for that student's set. The tiers
    (one sheet each, the teacher's alternative) are planned on the ledger without being recorded; the
    per-student sets are then recorded, with their answer sheets, all through the service.
    """
    from homework._assignments import Assignment
    from homework._targeting import TargetRequest, history_from_answers

    students = [s for s, _ in people]
    history = history_from_answers(service.answers(DEFAULT_SCHOOL, assignment.id), bank, assignment=assignment,
                                   day=DAY)
    chinese = Assignment("g6-chinese-next", "chinese", 6, ("yw-reading",), (45.0,))
    service.assign_homework(DEFAULT_SCHOOL, chinese, students[:1], NEXT_DAY)
    request = TargetRequest(subject="math", grade=6, knowledge_points=KNOWLEDGE_POINTS, minutes=20)
    common = {"scope": request, "day": NEXT_DAY, "history": history, "class_name": CLASS_NAME,
              "names": dict(people)}
    tiers = service.assign_targeted(DEFAULT_SCHOOL, bank, model, students, tiers=True, record=False,
                                    assignment_id="g6-math-tier", **common)
    targeted = service.assign_targeted(DEFAULT_SCHOOL, bank, model, students, assignment_id="g6-math-next", **common)
    return targeted, tiers


def write_reports(service: Any, bank: Any, assignment: Any, model: Any, out: Path) -> tuple[Path, ...]:
    """Step 12: what the teacher opens the next morning: the class report, the 错题本 of the student with
    the most mistakes, and the grades as Excel and CSV, in ``out/reports`` (days from the store's ledger)."""
    from homework._analytics import mistake_notebook
    from homework._exports import grade_table, write_grades
    from homework._notebook import write_notebook
    from homework._reports import class_report, write_report

    folder = out / "reports"
    data = service.report_data(DEFAULT_SCHOOL, bank, model=model, school_name="示范小学")
    report = write_report(class_report(data, CLASS_NAME), folder / "class-report.html")
    mistakes = mistake_notebook(data.answers[data.answers["assignment_id"] == assignment.id], bank)
    worst = str(mistakes["student_id"].value_counts().idxmax()) if len(mistakes) else str(data.sheets["student_id"].iloc[0])
    notebook = write_notebook(data, folder / f"错题本-{worst}.pdf", students=[worst],
                              store=service.intake(DEFAULT_SCHOOL).store)
    table = grade_table(data.answers, data.sheets, [assignment.id], CLASS_NAME)
    return (report, notebook, write_grades(table, folder / "grades.xlsx", title=assignment.id),
            write_grades(table, folder / "grades.csv"))


def run_loop(spec: Any, out: Path, seed: int, timed: Any, progress: Progress | None = None) -> LoopSummary:
    """Steps 7-12 on the class of ``spec``, all through one :class:`~homework.HomeworkService` over a fresh
    SQLite store in ``out/homework/store`` (its ledger, sheets, scans, answers and reports);
    ``timed(name, fn, *args)`` runs and times each step."""
    from homework._demo import demo_service

    service = demo_service(out / "homework" / "store")
    students = [s.id for s in spec.students]
    people = [(s.id, s.name) for s in spec.students]
    bank, assignment, cap, refused = timed("teacher_assigns", teacher_assigns, service, people)
    printed = timed("print_homework", print_homework, bank, assignment, spec, out)
    timed("answer_and_scan", answer_and_scan, service, printed, out, seed, progress)
    table, graded, review, wrong, minutes, model = timed("update_mastery", update_mastery, service, bank, assignment,
                                                         students)
    targeted, tiers = timed("target_next_sets", target_next_sets, service, bank, assignment, model, people)
    reports = timed("write_reports", write_reports, service, bank, assignment, model, out)
    return LoopSummary(assignment.id, len(assignment), assignment.total_minutes, cap, refused,
                       (printed.questions, printed.sheets), graded, review, table, wrong, minutes, targeted, tiers,
                       reports)
