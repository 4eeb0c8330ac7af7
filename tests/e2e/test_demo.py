"""``homework demo`` end to end: print, fill with real handwriting, scan, read, grade, summarise."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from homework._demo import run_demo
from homework.cli import _commands  # noqa: F401  (registers every command)
from homework.cli._app import app


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    steps: list[str] = []
    out = tmp_path_factory.mktemp("demo")
    result = run_demo(out, students=3, seed=5, progress=lambda step, done, total: steps.append(step))
    return result, steps


def test_every_step_runs_and_reports_progress(summary) -> None:  # noqa: ANN001
    result, steps = summary
    assert list(result.seconds) == ["load_class", "print_sheets", "fill_and_scan", "station_uploads", "receive_scans",
                                    "teacher_assigns", "print_homework", "answer_and_scan", "update_mastery",
                                    "target_next_sets", "write_reports"]
    assert {"fill_and_scan", "receive_scans"} <= set(steps)
    assert result.pdf.read_bytes()[:5] == b"%PDF-"
    assert len(list((result.out / "scans").glob("*.jpg"))) == result.pages == 3


def test_every_page_is_read_and_graded_against_the_truth(summary) -> None:  # noqa: ANN001
    result, _ = summary
    assert result.pages_read == result.pages and result.kept_for_human == ()
    right, total = result.bubble_fields_right
    assert total == 3 * 8 and right == total  # 8 bubble fields per sheet of the example spec
    hw_right, hw_auto = result.handwriting_auto_right
    assert hw_right == hw_auto and hw_auto >= 3
    assert [s.student_id for s in result.students] == ["s2301", "s2302", "s2303"]
    for s in result.students:
        assert 0 <= s.score <= s.max_score == 10
        assert s.auto_graded + s.to_review >= 9  # every keyed field is graded or queued for review


def test_the_loop_from_the_bank_reaches_mastery(summary) -> None:  # noqa: ANN001
    result, _ = summary
    loop = result.loop
    assert 15 <= loop.minutes <= 35 and loop.items >= 3
    assert "60 min/day is exceeded by" in loop.refused_message
    assert all(p.read_bytes()[:5] == b"%PDF-" for p in loop.papers)
    assert loop.answers_graded + loop.answers_in_review >= 3 * loop.items
    assert set(loop.mastery["student_id"]) == {"s2301", "s2302", "s2303"}
    assert loop.mastery["p_correct"].between(0, 1).all()
    assert 0 <= loop.wrong_answers <= loop.answers_graded



def test_each_student_gets_a_next_set_from_that_mastery_within_the_cap(summary) -> None:  # noqa: ANN001
    result, _ = summary
    loop = result.loop
    targeted = loop.targeted
    assert targeted.day == dt.date(2026, 11, 24) and list(targeted.students) == ["s2301", "s2302", "s2303"]
    mastery = loop.mastery.set_index(["student_id", "knowledge_point"])["p_correct"]
    for student, mine in targeted.students.items():
        assert mine.assignment is not None and mine.assignment.tier == "targeted"
        assert mine.assignment.id == f"g6-math-next-{student}"
        # s2301 already has 45 min of Chinese that day: the 60 min cap leaves 15
        assert mine.budget == (15 if student == "s2301" else 20)
        assert mine.budget - 4 <= mine.assignment.total_minutes <= mine.budget
        for pick in mine.selection.picks:
            assert pick.reason.startswith(f"{pick.knowledge_point}: ") and "predicted success" in pick.reason
            if (student, pick.knowledge_point) in mastery.index:
                model_said = mine.selection.model_mastery[pick.knowledge_point]
                assert model_said == pytest.approx(mastery[(student, pick.knowledge_point)], abs=1e-6)
            assert pick.mastery == pytest.approx(mine.selection.mastery_used[pick.knowledge_point], abs=2e-4)
    picks = [p for mine in targeted.students.values() for p in mine.selection.picks]
    reviews = [p for p in picks if p.purpose == "review"]
    assert loop.wrong_answers > 0 and reviews  # what was wrong on the 23rd comes back, as another item
    assert all("answered wrong on 2026-11-23" in p.reason for p in reviews)
    levels = {s: tuple(mastery[s]) for s in targeted.students}
    differ = [(a, b) for a in levels for b in levels if a < b and levels[a] != levels[b]]
    assert differ and all(targeted.students[a].assignment.item_ids != targeted.students[b].assignment.item_ids
                          for a, b in differ)
    tiers = loop.tiers
    assert sorted(tiers.tier_of.values()) == ["A", "B", "C"] and tiers.budget == 15
    assert all(0 < a.total_minutes <= 15 for a in tiers.assignments.values())


def test_the_demo_ends_with_a_class_report_a_notebook_and_the_grades(summary) -> None:  # noqa: ANN001
    import pandas as pd
    import pypdfium2 as pdfium

    loop = summary[0].loop
    report, notebook, xlsx, csv = loop.reports
    html = report.read_text(encoding="utf-8")
    assert "六年级(2)班 作业报告" in html and html.count('data-chart="heatmap"') == 1 and "<script" not in html
    pages = pdfium.PdfDocument(notebook)
    text = pages[0].get_textpage().get_text_range()
    assert text.startswith("错题本") and "六年级(2)班" in text and len(pages) >= 1
    grades = pd.read_excel(xlsx)
    assert len(grades) == 3 and "总分" in grades and "用时（分钟）" in grades
    pd.testing.assert_frame_equal(pd.read_csv(csv), grades, check_dtype=False)


def test_cli_prints_the_summary(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    run = CliRunner().invoke(app, ["demo", "--out", str(out), "--students", "2", "--seed", "9"])
    assert run.exit_code == 0, run.output
    assert "g7-math-w03: 2 students, 2 pages" in run.output
    assert "bubble fields read right 16/16" in run.output
    assert "mastery (P(correct) next, BKT)" in run.output
    assert "next sets (stage 4, 个性作业) for 2026-11-24" in run.output
    assert "why s2301 gets these items:" in run.output and "or one sheet per tier" in run.output
    assert (out / "sheets.pdf").exists() and (out / "store").is_dir()
    assert "for the teacher (stage 3)" in run.output and (out / "reports" / "class-report.html").exists()
