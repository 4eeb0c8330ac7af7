"""District admins read every school's aggregates and nothing else, on both engines.

Two schools each give a class a set from the fixture bank on a day (in the store's 双减 ledger),
print its sheets, fill them with real handwritten digits and scan them back. A district key then
reads the overview (HTML) and one row of aggregates per school (JSON), checked against the answers
the schools' own admins see; every other route answers it 403, and no school key reads the district.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from uploads import MakeClient, app_routes, wait_for_upload

from homework import ItemBank
from homework._assignments import AssignmentRequest, compose_assignment
from homework._printing import sheet_spec

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
BANK = FIXTURES / "bank" / "items.csv"
DAY = dt.date(2026, 11, 24)
CLASSES = {"north": [("s01", "李雷"), ("s02", "韩梅梅"), ("s03", "王芳")], "south": [("s01", "张伟"), ("s02", "刘洋")]}


def _scanned_class(client: Any, database_url: str, school: str, admin: dict[str, str], station: dict[str, str],
                   folder: Path) -> None:
    from homework.storage import LedgerStore, open_engine
    from scanning import DigitBank, generate_set, scanner

    bank = ItemBank()
    bank.import_file(BANK)
    assignment = compose_assignment(bank, AssignmentRequest(knowledge_points=("number.fraction",), minutes=8, grade=6,
                                                            seed=4), assignment_id=f"{school}-hw-1")
    students = CLASSES[school]
    with LedgerStore(open_engine(database_url), school).assigning(DAY) as (ledger, _db):
        ledger.assign(assignment, [s for s, _ in students], DAY)
    spec = sheet_spec(bank, assignment, students, class_name="六(3)班")
    assert client.post("/assignments", json=spec.model_dump(mode="json"), headers=admin).status_code == 201
    truth = generate_set(spec, folder, [scanner(200, 0)],
                         DigitBank.load(FIXTURES / "handwriting" / "mnist_digits_500.npz"), seed=6)
    files = [("files", (p.file, (folder / p.file).read_bytes(), "image/jpeg")) for p in truth]
    for accepted in client.post("/scans", files=files, headers=station).json():
        assert wait_for_upload(client, accepted, headers=admin)["job"]["status"] == "done"


@pytest.fixture
def district(make_client: MakeClient, database_url: str, tmp_path: Path) -> dict[str, Any]:
    from homework.storage import KeyStore, open_engine

    keys = KeyStore(open_engine(database_url))
    client = make_client(open_access=False, bank=BANK)
    h: dict[str, dict[str, str]] = {"district": {"X-API-Key": keys.create("district_admin", school=None)}}
    for school in CLASSES:
        h[school] = {"X-API-Key": keys.create("school_admin", school=school)}
        station = {"X-API-Key": keys.create("station", school=school)}
        h[f"{school}_teacher"] = {"X-API-Key": keys.create("teacher", school=school, teacher="t1")}
        _scanned_class(client, database_url, school, h[school], station, tmp_path / school)
    return {"client": client, "h": h}


def test_the_district_reads_each_schools_aggregates_and_no_student(district: dict[str, Any]) -> None:
    client, h = district["client"], district["h"]
    page = client.get("/district/overview", headers=h["district"])
    assert page.status_code == 200 and "全区作业概况" in page.text
    assert "north · 六(3)班" in page.text and "south · 六(3)班" in page.text  # the same class name, two schools
    assert not any(name in page.text for _, name in CLASSES["north"] + CLASSES["south"])
    summary = client.get("/district/overview.json", headers=h["district"]).json()
    assert summary["schools_in_store"] == 2 and [s["school_id"] for s in summary["schools"]] == ["north", "south"]
    for row in summary["schools"]:
        answers = client.get(f"/assignments/{row['school_id']}-hw-1/answers", headers=h[row["school_id"]]).json()
        graded = [a["correct"] for a in answers if a["grade_status"] == "graded" and a["max_score"]]
        assert row["students"] == len(CLASSES[row["school_id"]]) == row["sheets"] and row["classes"] == 1
        assert row["facility"] == pytest.approx(sum(graded) / len(graded))
        assert 0 < row["mean_mastery"] < 1 and 0 < row["mean_score_share"] <= 1
        assert row["student_days"] == row["students"] and row["over_cap_days"] == row["students_over_cap"] == 0
        assert row["mean_daily_minutes"] > 0 and row["share_over"] == 0
    assert "s01" not in str(summary) and "李雷" not in str(summary)


def test_only_district_admins_read_the_district(district: dict[str, Any]) -> None:
    client, h = district["client"], district["h"]
    for who in ("north", "north_teacher", "south"):
        for path in ("/district/overview", "/district/overview.json"):
            assert client.get(path, headers=h[who]).status_code == 403, (who, path)
    assert client.get("/district/overview.json").status_code == 401


def test_a_district_key_reads_no_schools_objects_and_writes_nothing(district: dict[str, Any]) -> None:
    client, h = district["client"], district["h"]
    routes = {(m, p) for m, p in app_routes(client) if p != "/health" and not p.startswith("/district")}
    for method, path in sorted(routes):
        concrete = (path.replace("{assignment_id}", "north-hw-1").replace("{fmt}", "csv")
                    .replace("{class_name}", "六(3)班").replace("{student_id}", "s01"))
        for name in ("upload_id", "job_id", "page_id", "review_id"):
            concrete = concrete.replace(f"{{{name}}}", "1")
        response = client.request(method, concrete, headers=h["district"])
        assert response.status_code == 403, (method, concrete, response.status_code)
    assert len(routes) >= 20
