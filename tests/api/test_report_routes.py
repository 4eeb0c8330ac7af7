"""Stage 3 over HTTP: a school's teacher gets the class and student reports, the 错题本 and the grades of
a class whose sheets were really scanned; a station key gets none of them."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pypdfium2 as pdfium
import pytest
from uploads import MakeClient, wait_for_upload

from homework import ItemBank
from homework._assignments import AssignmentRequest, compose_assignment
from homework._printing import sheet_spec

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
BANK = FIXTURES / "bank" / "items.csv"
STUDENTS = [("s01", "李雷"), ("s02", "韩梅梅"), ("s03", "王芳")]


@pytest.fixture
def school(make_client: MakeClient, database_url: str, tmp_path: Path) -> dict[str, Any]:
    from homework.storage import KeyStore, open_engine
    from scanning import DigitBank, generate_set, scanner

    keys = KeyStore(open_engine(database_url))
    teacher, station = keys.create("teacher", school="S", teacher="t1"), keys.create("station", school="S")
    client = make_client(open_access=False, bank=BANK)
    bank = ItemBank()
    bank.import_file(BANK)
    assignment = compose_assignment(bank, AssignmentRequest(knowledge_points=("number.fraction",), minutes=8, grade=6,
                                                            seed=4), assignment_id="api-rep-1")
    spec = sheet_spec(bank, assignment, STUDENTS, class_name="六(3)班")
    headers = {"X-API-Key": teacher}
    assert client.post("/assignments", json=spec.model_dump(mode="json"), headers=headers).status_code == 201
    truth = generate_set(spec, tmp_path / "scans", [scanner(200, 0)],
                         DigitBank.load(FIXTURES / "handwriting" / "mnist_digits_500.npz"), seed=6)
    files = [("files", (p.file, (tmp_path / "scans" / p.file).read_bytes(), "image/jpeg")) for p in truth]
    for accepted in client.post("/scans", files=files, headers={"X-API-Key": station}).json():
        assert wait_for_upload(client, accepted, headers=headers)["job"]["status"] == "done"
    return {"client": client, "teacher": headers, "station": {"X-API-Key": station}}


def test_a_teacher_gets_the_reports_notebook_and_grades_of_the_school(school: dict[str, Any]) -> None:
    client, teacher = school["client"], school["teacher"]
    page = client.get("/reports/classes/六(3)班", headers=teacher)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "六(3)班 作业报告" in page.text and "韩梅梅" in page.text and 'data-chart="heatmap"' in page.text
    student = client.get("/reports/students/s02", headers=teacher)
    assert student.status_code == 200 and "韩梅梅 的作业报告" in student.text
    assert client.get("/reports/school", headers=teacher).status_code == 200
    pdf = client.get("/reports/notebook.pdf", params={"class_name": "六(3)班"}, headers=teacher)
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    pages = pdfium.PdfDocument(pdf.content)
    assert sum(p.get_textpage().get_text_range().startswith("错题本") for p in pages) == 3
    pages.close()
    xlsx = client.get("/reports/grades.xlsx", params={"assignment_id": "api-rep-1"}, headers=teacher)
    table = pd.read_excel(io.BytesIO(xlsx.content))
    assert xlsx.status_code == 200 and table["姓名"].tolist() == ["李雷", "韩梅梅", "王芳"] and "总分" in table
    csv = client.get("/reports/grades.csv", params={"class_name": "六(3)班"}, headers=teacher)
    assert csv.status_code == 400 and "no assignment to export" in csv.json()["detail"]  # no ledger day


def test_reports_refuse_stations_and_say_what_is_missing(school: dict[str, Any]) -> None:
    client, teacher = school["client"], school["teacher"]
    for path in ("/reports/classes/六(3)班", "/reports/students/s02", "/reports/school",
                 "/reports/notebook.pdf?student=s02", "/reports/grades.csv?assignment_id=api-rep-1"):
        assert client.get(path, headers=school["station"]).status_code == 403, path
    missing = client.get("/reports/classes/九(9)班", headers=teacher)
    assert missing.status_code == 404 and "六(3)班" in missing.json()["detail"]
    both = client.get("/reports/grades.csv", params={"assignment_id": "x", "class_name": "y"}, headers=teacher)
    assert both.status_code == 422
