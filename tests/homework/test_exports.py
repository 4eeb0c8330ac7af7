"""Grade exports: the table follows the graded answers; CSV and Excel read back the same; the CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from homework import HomeworkError, ItemBank
from homework._exports import assignments_between, grade_table, write_grades
from homework._reports import report_data
from homework._simulated import simulate_records
from homework.cli import _commands  # noqa: F401  (registers every command)
from homework.cli._app import app
from homework.storage import sqlite_url

BANK = Path(__file__).resolve().parents[2] / "fixtures" / "bank" / "items.csv"


@pytest.fixture(scope="module")
def data(bank: ItemBank):
    return report_data(simulate_records(bank, classes=[("六(1)班", 6), ("六(2)班", 5)], assignments=5, seed=9), bank)


def test_one_assignment_has_a_row_per_student_and_a_column_per_question(data) -> None:
    table = grade_table(data.answers, data.sheets, ["math-02"])
    mine = data.answers[data.answers["assignment_id"] == "math-02"]
    assert len(table) == mine["student_id"].nunique() == 11
    questions = [c for c in table.columns if c.startswith("第")]
    assert questions == [f"第{n}题" for n in sorted(mine["number"].unique())]
    by_student = table.set_index("学号")
    for row in mine.itertuples():
        cell = by_student.loc[row.student_id, f"第{row.number}题"]
        assert (np.isnan(cell) and row.status == "needs_review") or cell == row.score
    graded = mine[mine["status"] == "graded"].groupby("student_id")
    assert by_student["总分"].to_dict() == graded["score"].sum().to_dict()
    assert by_student["待复核"].sum() == (mine["status"] == "needs_review").sum()
    minutes = data.sheets[data.sheets["assignment_id"] == "math-02"].set_index("student_id")["minutes"]
    assert by_student["用时（分钟）"].equals(minutes.reindex(by_student.index).rename("用时（分钟）"))


def test_a_class_over_days_sums_its_assignments(data) -> None:
    days = sorted(data.sheets["day"].dt.date.unique())
    ids = assignments_between(data.sheets, "六(2)班", days[1], days[3])
    assert ids and all(days[1] <= data.sheets.loc[data.sheets["assignment_id"] == a, "day"].iloc[0].date() <= days[3]
                       for a in ids)
    table = grade_table(data.answers, data.sheets, ids, "六(2)班")
    assert set(table["班级"]) == {"六(2)班"} and len(table) == 5
    per_total = table[[f"{a} 总分" for a in ids]].sum(axis=1)
    assert table["总分"].to_numpy() == pytest.approx(per_total.to_numpy())
    assert table["得分率"].to_numpy() == pytest.approx((table["总分"] / table["满分"]).round(3).to_numpy())
    with pytest.raises(HomeworkError, match="no assignment to export"):
        grade_table(data.answers, data.sheets, assignments_between(data.sheets, "六(2)班", dt.date(2030, 1, 1)))


def test_csv_and_excel_read_back_the_same_table(data, tmp_path: Path) -> None:
    table = grade_table(data.answers, data.sheets, assignments_between(data.sheets, "六(1)班"), "六(1)班")
    csv = write_grades(table, tmp_path / "grades.csv")
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the Chinese right
    pd.testing.assert_frame_equal(pd.read_csv(csv), table, check_dtype=False)
    xlsx = write_grades(table, tmp_path / "grades.xlsx", title="六(1)班 10/12-11/20")
    back = pd.read_excel(xlsx, sheet_name=None)
    assert list(back) == ["六(1)班 10 12-11 20"]
    pd.testing.assert_frame_equal(next(iter(back.values())), table, check_dtype=False)
    with pytest.raises(HomeworkError, match="csv or .xlsx"):
        write_grades(table, tmp_path / "grades.pdf")


def test_export_command_on_a_scanned_store(scanned_store, tmp_path: Path) -> None:
    store, _ = scanned_store
    base = ["export", "--db", sqlite_url(store), "--bank", str(BANK)]  # the days come from the store's ledger
    run = CliRunner().invoke(app, [*base, str(tmp_path / "hw.xlsx"), "--assignment", "rep-hw-1"])
    assert run.exit_code == 0, run.output
    table = pd.read_excel(tmp_path / "hw.xlsx")
    assert table["姓名"].tolist() == ["李雷", "韩梅梅", "王芳"] and "第1题" in table and "用时（分钟）" in table
    run = CliRunner().invoke(app, [*base, str(tmp_path / "c.csv"), "--class", "六(3)班", "--from", "2026-11-01"])
    assert run.exit_code == 0, run.output
    assert pd.read_csv(tmp_path / "c.csv")["总分"].notna().all()
    run = CliRunner().invoke(app, [*base, str(tmp_path / "c.csv"), "--class", "六(3)班", "--from", "2027-01-01"])
    assert run.exit_code == 2 and "no assignment to export" in run.output
    run = CliRunner().invoke(app, [*base, str(tmp_path / "c.csv")])
    assert run.exit_code == 2 and "--assignment ID or --class" in run.output
