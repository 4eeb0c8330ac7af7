"""Rosters over HTTP and teachers kept to their own classes, on both engines.

School S imports ``fixtures/rosters/school.csv``: t-li teaches 七年级(3)班 (st01-st04), t-wang
七年级(4)班 (st05-st07); st08 is in no class. The fixture assignment is given to all eight. A
station sends one TIFF holding st01's and st05's first pages, and st08's page; t-li sends st02's.
Each teacher then sees their own students' answers, reviews, pages, reports and sets; the other
class's objects answer 404, as another school's do.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import cv2
import pypdfium2 as pdfium
import pytest
import tifffile
from uploads import MakeClient, wait_for_upload

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SCANS = FIXTURES / "scans"
SPEC = json.loads((SCANS / "spec.json").read_text(encoding="utf-8"))
ROSTER = FIXTURES / "rosters" / "school.csv"


def _page(student: str) -> Path:
    return next(SCANS.glob(f"fx-scan-1_{student}_p1_*.jpg"))


def _tiff(*students: str) -> bytes:
    out = io.BytesIO()
    with tifffile.TiffWriter(out) as writer:
        for student in students:
            writer.write(cv2.imread(str(_page(student)), cv2.IMREAD_GRAYSCALE), compression="zlib")
    return out.getvalue()


def _pdf_text(data: bytes) -> list[str]:
    pdf = pdfium.PdfDocument(data)
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


@pytest.fixture
def school(make_client: MakeClient, database_url: str) -> dict[str, Any]:
    from homework.storage import KeyStore, open_engine

    keys = KeyStore(open_engine(database_url))
    admin, station = keys.create("school_admin", school="S"), keys.create("station", school="S")
    client = make_client(open_access=False, bank=FIXTURES / "bank" / "items.csv")
    imported = client.post("/rosters", files={"file": ("school.csv", ROSTER.read_bytes(), "text/csv")},
                           headers={"X-API-Key": admin})
    assert imported.status_code == 200, imported.text
    h = {"admin": {"X-API-Key": admin}, "li": {"X-API-Key": keys.create("teacher", school="S", teacher="t-li")},
         "wang": {"X-API-Key": keys.create("teacher", school="S", teacher="t-wang")},
         "station": {"X-API-Key": station}}
    assert client.post("/assignments", json=SPEC, headers=h["admin"]).status_code == 201
    files = [("files", ("batch.tif", _tiff("st01", "st05"), "image/tiff")),
             ("files", (_page("st08").name, _page("st08").read_bytes(), "image/jpeg"))]
    batch, st08 = client.post("/scans", files=files, headers=h["station"]).json()
    mine = client.post("/scans", files=[("files", ("mine.jpg", _page("st02").read_bytes(), "image/jpeg"))],
                       headers=h["li"]).json()[0]
    uploads = {name: wait_for_upload(client, a, headers=h["admin"])
               for name, a in (("batch", batch), ("st08", st08), ("mine", mine))}
    return {"client": client, "h": h, "report": imported.json(), **uploads}


def test_the_admin_imports_the_roster_and_each_key_lists_the_classes_it_sees(school: dict[str, Any]) -> None:
    client, h = school["client"], school["h"]
    assert {k: school["report"][k] for k in ("classes", "students", "teachers", "rejected_rows")} == {
        "classes": 2, "students": 7, "teachers": 3, "rejected_rows": 0}
    assert [c["class_id"] for c in client.get("/rosters", headers=h["admin"]).json()] == ["c7-3", "c7-4"]
    (li,) = client.get("/rosters", headers=h["li"]).json()
    assert li["name"] == "七年级(3)班" and [s["name"] for s in li["students"]] == ["李雷", "韩梅梅", "王芳", "张伟"]
    bad = b"class_id,grade,student_id,student_name\nc9,nine,s9,X\n,5,s10,Y\n"
    refused = client.post("/rosters", files={"file": ("bad.csv", bad, "text/csv")}, headers=h["admin"])
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_roster"
    assert [e["loc"] for e in refused.json()["errors"]] == [["row 2", "grade"], ["row 3", "class_id"]]
    for who in ("li", "station"):  # only a school admin writes the roster
        forbidden = client.post("/rosters", files={"file": ("r.csv", ROSTER.read_bytes(), "text/csv")},
                                headers=h[who])
        assert forbidden.status_code == 403


def test_the_store_roster_keeps_a_student_in_no_class_for_a_human(school: dict[str, Any]) -> None:
    (page,) = school["st08"]["pages"]
    assert page["status"] == "not_on_roster" and "not in any class of the school's roster" in page["message"]


def test_each_teacher_sees_only_their_own_students_work(school: dict[str, Any]) -> None:
    client, h, aid = school["client"], school["h"], SPEC["assignment_id"]

    def students(path: str, who: str) -> set[str]:
        response = client.get(path, headers=h[who])
        assert response.status_code == 200, (path, who, response.text)
        return {row["student_id"] for row in response.json()}

    assert students(f"/assignments/{aid}/answers", "admin") == {"st01", "st02", "st05"}
    assert students(f"/assignments/{aid}/answers", "li") == {"st01", "st02"}
    assert students(f"/assignments/{aid}/answers", "wang") == {"st05"}
    assert students("/review", "li") <= {"st01", "st02"} and students("/review", "wang") <= {"st05"}
    assert set(client.get(f"/assignments/{aid}/missing-pages", headers=h["wang"]).json()) == {"st05", "st06", "st07"}
    assert {p["student_id"] for p in client.get("/scans/kept", headers=h["admin"]).json()} == {"st08"}
    assert client.get("/scans/kept", headers=h["li"]).json() == []  # st08 is in no class of theirs
    batch = school["batch"]
    assert [p["student_id"] for p in client.get(f"/uploads/{batch['upload_id']}", headers=h["wang"]).json()["pages"]] \
        == ["st05"]
    assert client.get(f"/uploads/{school['st08']['upload_id']}", headers=h["li"]).status_code == 404
    assert client.get(f"/uploads/{school['mine']['upload_id']}", headers=h["li"]).status_code == 200  # sent it
    assert client.get(f"/uploads/{school['mine']['upload_id']}", headers=h["wang"]).status_code == 404
    assert client.get(f"/jobs/{school['mine']['job']['job_id']}", headers=h["wang"]).status_code == 404
    page = batch["pages"][0]["page_id"]  # the batch holds st05's page too: only the admin downloads it whole
    assert client.get(f"/scans/pages/{page}/file", headers=h["li"]).status_code == 404
    assert client.get(f"/scans/pages/{page}/file", headers=h["admin"]).status_code == 200
    own = school["mine"]["pages"][0]["page_id"]
    assert client.get(f"/scans/pages/{own}/file", headers=h["li"]).status_code == 200


def test_a_teacher_of_one_class_gets_404_for_the_other_class(school: dict[str, Any]) -> None:
    client, h, aid = school["client"], school["h"], SPEC["assignment_id"]
    reviews = client.get("/review", headers=h["wang"]).json()
    assert reviews, "st05's page has writing boxes to review"
    theirs = reviews[0]["review_id"]
    not_found = [
        ("GET", f"/review/{theirs}/crop.png", None),
        ("POST", f"/review/{theirs}", {"value": "1"}),
        ("GET", "/reports/classes/七年级(4)班", None),
        ("GET", "/reports/classes/c7-4", None),
        ("GET", "/reports/students/st05", None),
        ("GET", "/reports/notebook.pdf?student=st05", None),
        ("GET", "/reports/notebook.pdf?class_name=c7-4", None),
        ("GET", "/reports/grades.csv?class_name=七年级(4)班", None),
        ("POST", "/targeted", {"students": ["st01", "st05"], "grade": 7, "minutes": 10, "day": "2026-11-24"}),
    ]
    for method, path, body in not_found:
        response = client.request(method, path, json=body, headers=h["li"])
        assert response.status_code == 404, (path, response.status_code, response.text)
    assert client.get(f"/review/{theirs}/crop.png", headers=h["wang"]).status_code == 200
    # the fixture sheet's fields are not bank items, so no class has a report yet: t-li's own class passes the
    # roster's check and reaches the report ("no homework"), the other class stops at it
    own = client.get("/reports/classes/七年级(3)班", headers=h["li"]).json()["detail"]
    other = client.get("/reports/classes/七年级(4)班", headers=h["li"]).json()["detail"]
    assert own.startswith("no homework of class '七年级(3)班'") and other == "no class '七年级(4)班' among your classes"
    assert "st05" not in client.get("/reports/school", headers=h["li"]).text
    assert client.get(f"/reports/grades.csv?assignment_id={aid}", headers=h["li"]).json()["detail"] == (
        "no sheets of ['fx-scan-1']")  # past the scope check (the fixture's fields are not bank items)
    # an assignment for 七年级(4)班 alone is not t-li's at all, and t-li may not register one
    theirs_only = {**SPEC, "assignment_id": "c7-4-only", "students": [s for s in SPEC["students"]
                                                                       if s["id"] in {"st05", "st06"}]}
    assert client.post("/assignments", json=theirs_only, headers=h["li"]).status_code == 404
    assert client.post("/assignments", json=theirs_only, headers=h["wang"]).status_code == 201
    for path in ("/assignments/c7-4-only/answers", "/assignments/c7-4-only/sheets.pdf",
                 "/assignments/c7-4-only/missing-pages", "/reports/grades.csv?assignment_id=c7-4-only"):
        assert client.get(path, headers=h["li"]).status_code == 404, path
    overwrite = {**theirs_only, "students": [s for s in SPEC["students"] if s["id"] == "st01"]}
    assert client.post("/assignments", json=overwrite, headers=h["li"]).status_code == 404  # not t-li's id


def test_sheets_and_question_papers_carry_the_rosters_names_and_classes(school: dict[str, Any]) -> None:
    client, h = school["client"], school["h"]
    sheets = _pdf_text(client.get(f"/assignments/{SPEC['assignment_id']}/sheets.pdf", headers=h["li"]).content)
    text = "\n".join(sheets)
    assert "王芳" in text and "Wang Fang" not in text  # the roster's name, not the spec's
    assert "七年级(3)班" in text and "刘洋" not in text and "st05" not in text  # t-li's students only
    made = client.post("/targeted", headers=h["li"], json={"students": ["st03"], "grade": 7, "minutes": 10,
                                                           "day": "2026-11-25"})
    assert made.status_code == 200, made.text
    aid = made.json()["students"][0]["assignment_id"]
    paper = "\n".join(_pdf_text(client.get(f"/assignments/{aid}/questions.pdf", headers=h["li"]).content))
    assert "王芳" in paper and "七年级(3)班" in paper and "st03" in paper
    sheet = "\n".join(_pdf_text(client.get(f"/assignments/{aid}/sheets.pdf", headers=h["li"]).content))
    assert "王芳" in sheet and "七年级(3)班" in sheet
    assert client.get(f"/assignments/{aid}/questions.pdf", headers=h["wang"]).status_code == 404


def test_a_sheet_printed_with_roster_names_is_read_back(school: dict[str, Any], tmp_path: Path) -> None:
    """The names on the sheet change only its header: the QR and its layout checksum still match the spec."""
    client, h = school["client"], school["h"]
    pdf = pdfium.PdfDocument(client.get(f"/assignments/{SPEC['assignment_id']}/sheets.pdf", headers=h["wang"]).content)
    image = pdf[0].render(scale=200 / 72).to_pil().convert("L")  # st05's first page
    pdf.close()
    path = tmp_path / "st05.png"
    image.save(path)
    accepted = client.post("/scans", files=[("files", ("st05.png", path.read_bytes(), "image/png"))],
                           headers=h["station"]).json()[0]
    wait_for_upload(client, accepted, headers=h["admin"])  # a teacher sees it once their student's page is read
    (page,) = client.get(accepted["upload_url"], headers=h["wang"]).json()["pages"]
    assert (page["status"], page["student_id"]) == ("duplicate", "st05")  # read, and st05's page 1 is in already
