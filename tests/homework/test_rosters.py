"""Rosters: the CSV read row by row with clear errors, and the store's classes, students and teachers on
both engines (upserts, replace, a teacher's classes, the roster check on scanned pages, key binding)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from homework import HomeworkError, HomeworkService, RosterError, read_roster
from homework.storage import KeyStore, open_engine

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
ROSTER = FIXTURES / "rosters" / "school.csv"
HEADER = "class_id,class_name,grade,student_id,student_name,teacher_id,teacher_name,subject\n"


@pytest.fixture
def service(database_url: str) -> HomeworkService:
    return HomeworkService(open_engine(database_url))


def test_the_fixture_roster_reads_without_an_issue() -> None:
    roster = read_roster(ROSTER)
    assert roster.issues == () and len(roster.rows) == 8
    assert {r.display_name for r in roster.rows} == {"七年级(3)班", "七年级(4)班"}
    teacher_row = next(r for r in roster.rows if r.student_id is None)
    assert (teacher_row.teacher_id, teacher_row.teacher_name, teacher_row.subject) == ("t-zhou", "周老师", "")


def test_chinese_headers_and_a_gb18030_file_from_excel_are_read() -> None:
    text = "班级编号,班级,年级,学号,姓名,教师编号,教师,学科\r\nc1,一(1)班,3,s1,李雷,t1,李老师,数学\r\n"
    roster = read_roster(text.encode("gb18030"))
    assert roster.issues == ()
    (row,) = roster.rows
    assert (row.class_id, row.class_name, row.student_name, row.teacher_name, row.subject) == (
        "c1", "一(1)班", "李雷", "李老师", "数学")


def test_every_bad_row_is_reported_with_its_row_field_and_reason_and_good_rows_kept() -> None:
    text = HEADER + "\n".join([
        "c1,一班,3,s1,李雷,,,",             # row 2: fine
        "c1,一班,three,s2,韩梅梅,,,",        # row 3: grade
        "c1,一班,3,s3,,,,",                  # row 4: a student without a name
        ",一班,3,s4,张伟,,,",                # row 5: no class id
        "c1,一班,4,s5,Lucy,,,",              # row 6: the class was grade 3
        "c2,二班,3,s1,李雷,,,",              # row 7: s1 is in c1 already
        "c1,一班,3,,,,王老师,math",          # row 8: a teacher without an id
        "c1,一班,3,,,,,",                    # row 9: nobody
        "c1,一班,3,s 6,Bad Id,,,",           # row 10: an id a QR code cannot carry
        "",                                  # an empty line: skipped
        "c1,一班,3,s7,Ok,t1,,",              # row 12: fine (the teacher named by id)
    ]) + "\n"
    roster = read_roster(text.encode())
    assert [r.student_id for r in roster.rows] == ["s1", "s7"]
    assert [str(i) for i in roster.issues] == [
        "row 3, grade: must be a whole number from 1 to 12, got three",
        "row 4, student_name: a student needs a name",
        "row 5, class_id: Input should be a valid string",
        "row 6, grade: class 'c1' is grade 3 on an earlier row",
        "row 7, student_id: student 's1' is in class 'c1' on an earlier row",
        "row 8, teacher_id: a teacher (or subject) needs a teacher id",
        "row 9, student_id: the row names neither a student nor a teacher",
        "row 10, student_id: 's 6' is not an id (letters, digits, _ . - and at most 40 characters)",
    ]
    assert roster.rejected_rows == 8


def test_a_file_without_the_required_columns_says_which_are_missing() -> None:
    roster = read_roster(b"name,student\nx,y\n")
    assert roster.rows == () and [str(i) for i in roster.issues] == [
        "row 1, class_id, grade: missing column(s); the columns are class_id, class_name, grade, student_id, "
        "student_name, teacher_id, teacher_name, subject"]


def test_import_upserts_and_replace_takes_unlisted_students_out_of_their_class(service: HomeworkService) -> None:
    report = service.import_roster("s1", ROSTER)
    assert (report.classes, report.students, report.teachers, report.left, report.rejected) == (2, 7, 3, (), 0)
    roster = service.roster("s1")
    classes = {c.class_id: c for c in roster.classes()}
    assert classes["c7-3"].students == ("st01", "st02", "st03", "st04")
    assert classes["c7-3"].teachers == (("t-li", "math"), ("t-zhou", ""))
    li = roster.teacher_scope("t-li")
    assert li.students == {"st01", "st02", "st03", "st04"} and li.class_names == {"七年级(3)班"}
    assert roster.teacher_scope("t-nobody").students == frozenset()
    # st04 moves to c7-4, st02 is no longer listed, t-li stops teaching c7-3 and teaches c7-4
    moved = HEADER + "c7-3,七年级(3)班,7,st01,李雷,t-zhou,周老师,\nc7-3,七年级(3)班,7,st03,王芳,,,\n" \
                     "c7-4,七年级(4)班,7,st04,张伟,t-li,李老师,math\n"
    report = service.import_roster("s1", moved.encode(), replace=True)
    assert report.left == ("st02", "st05", "st06", "st07")
    assert roster.teacher_scope("t-li").students == {"st04"}
    assert roster.enrolled("st01") and not roster.enrolled("st02") and not roster.enrolled("st99")
    assert roster.people(["st02", "st04", "st99"]) == {
        "st02": roster.people(["st02"])["st02"], "st04": roster.people(["st04"])["st04"]}
    assert roster.people(["st02"])["st02"].class_name == "" and roster.people(["st04"])["st04"].class_name == "七年级(4)班"
    assert service.roster("another-school").classes() == []  # schools apart


def test_replace_with_an_invalid_row_and_a_file_with_no_valid_row_change_nothing(service: HomeworkService) -> None:
    service.import_roster("s1", ROSTER)
    bad = HEADER + "c7-3,七年级(3)班,7,st01,李雷,,,\nc7-3,七年级(3)班,x,st02,韩梅梅,,,\n"
    with pytest.raises(RosterError, match=r"1 row\(s\) are invalid; --replace takes nothing out") as caught:
        service.import_roster("s1", bad.encode(), replace=True)
    assert [i.row for i in caught.value.issues] == [3]
    with pytest.raises(RosterError, match="no valid roster row: row 2, grade"):
        service.import_roster("s1", (HEADER + "c1,,0,s1,x,,,\n").encode())
    assert service.roster("s1").teacher_scope("t-li").students == {"st01", "st02", "st03", "st04"}


def test_a_teacher_key_names_a_teacher_on_the_roster_once_the_school_has_one(service: HomeworkService) -> None:
    keys = KeyStore(service.engine)
    assert keys.create("teacher", school="s1", teacher="t-anyone")  # no roster yet: any teacher id
    service.import_roster("s1", ROSTER)
    assert keys.check(keys.create("teacher", school="s1", teacher="t-li")).teacher_id == "t-li"
    with pytest.raises(HomeworkError, match="teacher 't-ghost' is not on the roster of school 's1'"):
        keys.create("teacher", school="s1", teacher="t-ghost")


def test_a_scan_of_a_student_in_no_class_of_the_roster_is_kept_not_graded(service: HomeworkService) -> None:
    scans = FIXTURES / "scans"
    for school in ("with-roster", "without"):
        service.intake(school).register(scans / "spec.json")
    service.import_roster("with-roster", ROSTER)
    page = next(scans.glob("fx-scan-1_st08_p1_*.jpg"))
    (kept,) = service.intake("with-roster").receive(page).pages
    assert kept.status == "not_on_roster" and "'st08' is not in any class of the school's roster" in kept.message
    assert service.intake("with-roster").store.answers() == []
    (read,) = service.intake("without").receive(page).pages  # no roster in the store: the sheet's list decides
    assert read.status == "read"


def test_the_cli_imports_a_roster_and_prints_each_rejected_row(tmp_path: Path) -> None:
    from homework.cli import _commands, app  # noqa: F401  (_commands registers the commands)

    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    runner = CliRunner()
    done = runner.invoke(app, ["roster", "import", str(ROSTER), "--school", "s1", "--database-url", url])
    assert done.exit_code == 0, done.output
    assert "s1: 2 class(es), 7 student(s), 3 teacher(s) written; 0 row(s) rejected" in done.output
    shown = runner.invoke(app, ["roster", "show", "--school", "s1", "--database-url", url])
    assert "c7-4 七年级(4)班 grade 7: 3 student(s); t-wang (math)" in shown.output and "st05 刘洋" in shown.output
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "c1,一班,3,s1,李雷,,,\nc1,一班,13,s2,韩梅梅,,,\n", encoding="utf-8")
    partly = runner.invoke(app, ["roster", "import", str(bad), "--school", "s1", "--database-url", url])
    assert partly.exit_code == 1 and "row 3, grade: must be a whole number from 1 to 12, got 13" in partly.output
    teacher = runner.invoke(app, ["keys", "create", "--school", "s1", "--role", "teacher", "--teacher", "t-x",
                                  "--database-url", url])
    assert teacher.exit_code == 2 and "not on the roster of school 's1'" in teacher.output
