"""The HTTP API end to end over real fixture scans: register, print, upload, review, answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import Settings, create_app

SCANS = Path(__file__).resolve().parents[2] / "fixtures" / "scans"
TRUTH = json.loads((SCANS / "truth.json").read_text(encoding="utf-8"))
SPEC = json.loads((SCANS / "spec.json").read_text(encoding="utf-8"))


def _file(student: str, page: int) -> Path:
    (entry,) = [p for p in TRUTH["pages"] if p["student_id"] == student and p["page_index"] == page]
    return SCANS / entry["file"]


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path / "data", api_keys=["station-1"])))


def _post(client: TestClient, *paths: Path, key: str = "station-1"):
    files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in paths]
    return client.post("/scans", files=files, headers={"X-API-Key": key})


def test_a_request_without_a_key_is_refused(client: TestClient) -> None:
    response = _post(client, _file("st01", 0), key="wrong")
    assert response.status_code == 401
    assert "X-API-Key" in response.json()["detail"]


def test_register_print_upload_review_and_answers(client: TestClient) -> None:
    headers = {"X-API-Key": "station-1"}
    created = client.post("/assignments", json=SPEC, headers=headers)
    assert created.status_code == 201 and created.json()["assignment_id"] == "fx-scan-1"

    pdf = client.get("/assignments/fx-scan-1/sheets.pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    uploaded = _post(client, _file("st06", 1), _file("st06", 0))
    assert uploaded.status_code == 201
    reports = uploaded.json()
    assert [p["status"] for r in reports for p in r["pages"]] == ["read", "read"]
    assert reports[1]["completed_sheets"] == [["fx-scan-1", "st06"]]
    assert "st06" not in client.get("/assignments/fx-scan-1/missing-pages", headers=headers).json()

    queue = client.get("/review", params={"assignment_id": "fx-scan-1"}, headers=headers).json()
    assert queue, "the fixture sheet has answers flagged for review"
    item = queue[0]
    crop = client.get(item["crop_url"], headers=headers)
    assert crop.status_code == 200 and crop.content.startswith(b"\x89PNG")
    resolved = client.post(f"/review/{item['review_id']}", json={"value": "B", "teacher": "t-li"}, headers=headers)
    assert resolved.status_code == 200 and resolved.json()["graded_by"] == "t-li"
    again = client.post(f"/review/{item['review_id']}", json={"value": "B", "teacher": "t-li"}, headers=headers)
    assert again.status_code == 409

    rows = client.get("/assignments/fx-scan-1/answers", headers=headers).json()
    assert {r["student_id"] for r in rows} == {"st06"}
    assert any(r["grade_status"] == "graded" for r in rows)


def test_bad_pages_are_kept_and_downloadable(client: TestClient) -> None:
    headers = {"X-API-Key": "station-1"}
    client.post("/assignments", json=SPEC, headers=headers)
    response = client.post("/scans", files=[("files", ("x.jpg", b"\xff\xd8\xff\xe0 truncated", "image/jpeg"))],
                           headers=headers)
    (page,) = response.json()[0]["pages"]
    assert page["status"] == "bad_image"
    kept = client.get("/scans/kept", headers=headers).json()
    assert [k["page_id"] for k in kept] == [page["page_id"]]
    original = client.get(f"/scans/pages/{page['page_id']}/file", headers=headers)
    assert original.content == b"\xff\xd8\xff\xe0 truncated"


def test_unknown_assignment_is_a_404(client: TestClient) -> None:
    response = client.get("/assignments/nope/sheets.pdf", headers={"X-API-Key": "station-1"})
    assert response.status_code == 404
    assert response.json()["error"] == "UnknownAssignmentError"


def test_the_default_data_folder_is_per_user_never_the_working_directory(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("HOMEWORK_DATA_DIR", raising=False)
    assert Settings().data_dir == tmp_path / "xdg" / "homework-loop"
    monkeypatch.setenv("HOMEWORK_DATA_DIR", str(tmp_path / "mine"))
    assert Settings().data_dir == tmp_path / "mine"
