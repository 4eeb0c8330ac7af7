"""The HTTP API end to end over real fixture scans: register, print, upload, review, answers."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from uploads import MakeClient, health_when, wait_for_upload

from api import Settings

SCANS = Path(__file__).resolve().parents[2] / "fixtures" / "scans"
TRUTH = json.loads((SCANS / "truth.json").read_text(encoding="utf-8"))
SPEC = json.loads((SCANS / "spec.json").read_text(encoding="utf-8"))


def _file(student: str, page: int) -> Path:
    (entry,) = [p for p in TRUTH["pages"] if p["student_id"] == student and p["page_index"] == page]
    return SCANS / entry["file"]


@pytest.fixture
def keys(database_url: str) -> dict[str, str]:
    """A station's and teacher t-li's keys of school sch-a."""
    from homework.storage import KeyStore, open_engine

    store = KeyStore(open_engine(database_url))
    return {"station": store.create("station", school="sch-a"),
            "teacher": store.create("teacher", school="sch-a", teacher="t-li")}


@pytest.fixture
def client(make_client: MakeClient, keys: dict[str, str]) -> TestClient:
    """A client that sends t-li's key unless told otherwise; no access without a key."""
    client = make_client(open_access=False)
    client.headers["X-API-Key"] = keys["teacher"]
    return client


def _post(client: TestClient, *paths: Path, key: str | None = None):
    files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in paths]
    return client.post("/scans", files=files, headers={"X-API-Key": key} if key is not None else {})


def test_a_request_without_a_valid_key_is_refused(client: TestClient, keys: dict[str, str]) -> None:
    for key, message in (("hw_00000000_wrong", "unknown or revoked X-API-Key"), ("", "missing X-API-Key")):
        response = _post(client, _file("st01", 0), key=key)
        assert response.status_code == 401 and message in response.json()["detail"]
    tampered = keys["teacher"][:-1] + ("A" if keys["teacher"][-1] != "A" else "B")
    assert client.get("/review", headers={"X-API-Key": tampered}).status_code == 401


def test_a_station_key_uploads_and_follows_its_job_but_reads_nothing(client: TestClient,
                                                                       keys: dict[str, str]) -> None:
    client.post("/assignments", json=SPEC)
    station = {"X-API-Key": keys["station"]}
    accepted = _post(client, _file("st06", 0), key=keys["station"])
    assert accepted.status_code == 202
    job = accepted.json()[0]
    assert client.get(job["job_url"], headers=station).status_code == 200
    for path in (job["upload_url"], "/review", "/scans/kept", "/assignments/fx-scan-1/answers",
                 "/assignments/fx-scan-1/sheets.pdf", "/scans/pages/1/file"):
        refused = client.get(path, headers=station)
        assert refused.status_code == 403 and "a station key may not" in refused.json()["detail"], path
    assert client.post("/assignments", json=SPEC, headers=station).status_code == 403


def test_register_print_upload_review_and_answers(client: TestClient) -> None:
    created = client.post("/assignments", json=SPEC)
    assert created.status_code == 201 and created.json()["assignment_id"] == "fx-scan-1"

    pdf = client.get("/assignments/fx-scan-1/sheets.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    uploaded = _post(client, _file("st06", 1), _file("st06", 0))
    assert uploaded.status_code == 202
    reports = [wait_for_upload(client, a) for a in uploaded.json()]
    assert [r["job"]["status"] for r in reports] == ["done", "done"]
    assert [(p["status"], p["sheet_page"]) for r in reports for p in r["pages"]] == [("read", 2), ("read", 1)]
    assert "st06" not in client.get("/assignments/fx-scan-1/missing-pages").json()

    queue = client.get("/review", params={"assignment_id": "fx-scan-1"}).json()
    assert queue, "the fixture sheet has answers flagged for review"
    item = queue[0]
    crop = client.get(item["crop_url"])
    assert crop.status_code == 200 and crop.content.startswith(b"\x89PNG")
    resolved = client.post(f"/review/{item['review_id']}", json={"value": "B"})
    assert resolved.status_code == 200 and resolved.json()["graded_by"] == "t-li"
    again = client.post(f"/review/{item['review_id']}", json={"value": "B"})
    assert again.status_code == 409

    rows = client.get("/assignments/fx-scan-1/answers").json()
    assert {r["student_id"] for r in rows} == {"st06"}
    assert any(r["grade_status"] == "graded" for r in rows)


def test_bad_pages_are_kept_and_downloadable(client: TestClient) -> None:
    client.post("/assignments", json=SPEC)
    response = client.post("/scans", files=[("files", ("x.jpg", b"\xff\xd8\xff\xe0 truncated", "image/jpeg"))])
    (page,) = wait_for_upload(client, response.json()[0])["pages"]
    assert page["status"] == "bad_image" and "kept for a human" in page["message"]
    kept = client.get("/scans/kept").json()
    assert [k["page_id"] for k in kept] == [page["page_id"]]
    original = client.get(f"/scans/pages/{page['page_id']}/file")
    assert original.content == b"\xff\xd8\xff\xe0 truncated"


def test_unknown_assignment_is_a_404(client: TestClient) -> None:
    response = client.get("/assignments/nope/sheets.pdf")
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_assignment"


def test_the_default_data_folder_is_per_user_never_the_working_directory(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("HOMEWORK_DATA_DIR", raising=False)
    assert Settings().data_dir == tmp_path / "xdg" / "homework-loop"
    monkeypatch.setenv("HOMEWORK_DATA_DIR", str(tmp_path / "mine"))
    assert Settings().data_dir == tmp_path / "mine"


def test_uploads_are_answered_before_reading_and_a_separate_worker_reads_them(
        make_client: MakeClient, database_url: str) -> None:
    import subprocess
    import sys

    client = make_client(workers=0)  # no reading in the server: `homework worker` does it
    client.post("/assignments", json=SPEC)
    accepted = _post(client, _file("st02", 0), _file("st02", 1))
    assert accepted.status_code == 202
    first, second = accepted.json()
    assert client.get(first["job_url"]).json()["status"] == "queued"
    health = health_when(client, lambda h: h["jobs"]["queued"] == 2)
    assert health["jobs"]["queued"] == 2 and health["worker_heartbeat_age_s"] is None
    assert health["database"] == database_url.split(":")[0].split("+")[0] and health["schema_revision"] == "0005"

    worker = subprocess.run([sys.executable, "-c", "import api; api.main()", "worker", "--database-url",
                             database_url, "--until-idle"], capture_output=True, text=True, timeout=300)
    assert worker.returncode == 0, worker.stderr
    assert "2 job(s) processed" in worker.stdout
    done = wait_for_upload(client, second, timeout=5)
    assert done["job"]["status"] == "done" and done["job"]["attempts"] == 1
    assert [(p["status"], p["student_id"], p["sheet_page"]) for p in done["pages"]] == [("read", "st02", 2)]
    assert health_when(client, lambda h: h["worker_heartbeat_age_s"] is not None)["worker_heartbeat_age_s"] < 60

    again = _post(client, _file("st02", 0)).json()[0]  # the same file: recognised, not queued again
    assert (again["upload_id"], again["duplicate_of"]) == (first["upload_id"], first["upload_id"])
    done_jobs = {"queued": 0, "running": 0, "done": 2, "failed": 0}
    assert health_when(client, lambda h: h["jobs"] == done_jobs)["jobs"] == done_jobs


def test_ids_out_of_range_and_unknown_ids(client: TestClient) -> None:
    for path in ("/uploads/9223372036854775808", "/jobs/0", "/scans/pages/-1/file", "/review/2147483648/crop.png"):
        assert client.get(path).status_code == 422, path
    unknown = client.get("/uploads/12345")
    assert unknown.status_code == 404 and unknown.json()["detail"] == "no upload 12345"
    assert client.get("/jobs/12345").status_code == 404


def test_a_file_with_a_chinese_name_is_downloaded_under_that_name(client: TestClient) -> None:
    response = client.post("/scans", files=[("files", ("五(2)班 扫描.jpg", b"not an image", "image/jpeg"))])
    (page,) = wait_for_upload(client, response.json()[0])["pages"]
    original = client.get(page["file_url"])
    assert original.status_code == 200 and original.content == b"not an image"
    assert "filename*=UTF-8''%E4%BA%94%282%29%E7%8F%AD%20%E6%89%AB%E6%8F%8F.jpg" in original.headers["content-disposition"]


def test_health_answers_from_a_background_snapshot_and_503_when_the_store_fails(make_client: MakeClient,
                                                                                 database_url: str) -> None:
    from sqlalchemy import create_engine, text

    client = make_client(workers=0, health_interval_s=0.05)
    first = client.get("/health")
    assert first.status_code == 200 and 0 <= first.json()["checked_age_s"] < 5
    engine = create_engine(database_url)
    with engine.begin() as db:  # the store breaks under the running server
        db.execute(text("DROP TABLE workers"))
    engine.dispose()
    deadline = time.monotonic() + 10
    while (broken := client.get("/health")).status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert broken.status_code == 503
    assert broken.json()["code"] == "database_unavailable" and "workers" in broken.json()["detail"]
