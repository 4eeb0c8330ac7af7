"""POST /sheet-templates (school admins), an assignment on that foreign sheet, its scans, its answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from uploads import MakeClient, wait_for_upload

SAMPLE5 = Path(__file__).resolve().parents[2] / "fixtures" / "omr_foreign" / "sample5"


@pytest.fixture
def keys(database_url: str) -> dict[str, str]:
    from homework.storage import KeyStore, open_engine

    store = KeyStore(open_engine(database_url))
    return {"admin": store.create("school_admin", school="sch-a"),
            "teacher": store.create("teacher", school="sch-a", teacher="t-li")}


@pytest.fixture
def client(make_client: MakeClient, keys: dict[str, str]) -> TestClient:
    client = make_client(open_access=False)
    client.headers["X-API-Key"] = keys["admin"]
    return client


def _template_files(*names: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (n, (SAMPLE5 / n).read_bytes(), "application/octet-stream")) for n in names]


def test_import_register_scan_and_grade(client: TestClient) -> None:
    response = client.post("/sheet-templates", files=_template_files(
        "template.json", "config.json", "evaluation.json", "omr_marker.jpg"))
    assert response.status_code == 201, response.text
    sheet = response.json()
    assert sheet["identity"] == "Roll" and len(sheet["keys"]) == 22
    body = {"assignment_id": "mock-5", "title": "Mock 5", "sheet": sheet,
            "students": [{"id": "s01", "name": "李雷", "number": "E204420109"}]}
    response = client.post("/assignments", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["fields"] == 23
    scan = [("files", ("camscanner-2.jpg", (SAMPLE5 / "camscanner-2.jpg").read_bytes(), "image/jpeg"))]
    accepted = client.post("/scans", files=scan)
    assert accepted.status_code == 202, accepted.text
    upload = wait_for_upload(client, accepted.json()[0])
    (page,) = upload["pages"]
    assert (page["status"], page["student_id"]) == ("read", "s01"), page
    answers = client.get("/assignments/mock-5/answers").json()
    assert len(answers) == 22 and sum(a["score"] for a in answers) == 55.0


def test_only_a_school_admin_imports_and_bad_templates_are_a_422(client: TestClient, keys: dict[str, str]) -> None:
    refused = client.post("/sheet-templates", files=_template_files("template.json"),
                          headers={"X-API-Key": keys["teacher"]})
    assert refused.status_code == 403 and "school_admin" in refused.json()["detail"]
    bad = b'{"pageDimensions": [10, 10], "bubbleDimensions": [2, 2], "fieldBlocks": {}, "preProcessors": []}'
    response = client.post("/sheet-templates", files=[("files", ("template.json", bad, "application/json"))])
    assert response.status_code == 422 and "fieldBlocks" in response.json()["detail"]
    response = client.post("/sheet-templates", files=_template_files("template.json"))
    assert response.status_code == 422 and "omr_marker.jpg" in response.json()["detail"]
    response = client.post("/sheet-templates", files=[("files", ("my template.json", bad, "application/json"))])
    assert response.status_code == 422 and "plain name" in response.text
