"""Two schools on one server: every route, tried with school A's keys on school B's objects, finds nothing.

School B registers an assignment, uploads a readable page and a junk file, and gets a targeted set.
School A's teacher then asks for each of B's objects by id on every route: 404 (never 403, which
would confirm that the object exists), empty lists, and B's data unchanged. A test at the end checks
that this file tried every route the app has.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from uploads import MakeClient, app_routes, wait_for_upload

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SCANS = FIXTURES / "scans"
SPEC = json.loads((SCANS / "spec.json").read_text(encoding="utf-8"))
TRUTH = json.loads((SCANS / "truth.json").read_text(encoding="utf-8"))
TRIED: set[tuple[str, str]] = set()


def _page(student: str, page: int) -> Path:
    (entry,) = [p for p in TRUTH["pages"] if p["student_id"] == student and p["page_index"] == page]
    return SCANS / entry["file"]


def _call(client: TestClient, method: str, route: str, path: str, key: str, **kw: Any) -> Any:
    TRIED.add((method, route))
    return client.request(method, path, headers={"X-API-Key": key}, **kw)


@pytest.fixture
def schools(make_client: MakeClient, database_url: str) -> dict[str, Any]:
    """School B's objects, and the keys of both schools and of the district."""
    from homework.storage import KeyStore, open_engine

    store = KeyStore(open_engine(database_url))
    keys = {"a_teacher": store.create("teacher", school="A", teacher="t-a"),
            "a_admin": store.create("school_admin", school="A"),
            "b_admin": store.create("school_admin", school="B"),
            "a_station": store.create("station", school="A"),
            "b_teacher": store.create("teacher", school="B", teacher="t-b"),
            "b_station": store.create("station", school="B"),
            "district": store.create("district_admin", school=None)}
    client = make_client(open_access=False, bank=FIXTURES / "bank" / "items.csv")
    roster = {"file": ("school.csv", (FIXTURES / "rosters" / "school.csv").read_bytes(), "text/csv")}
    assert client.post("/rosters", files=roster, headers={"X-API-Key": keys["b_admin"]}).status_code == 200
    keys["b_teacher"] = store.create("teacher", school="B", teacher="t-li")  # 七年级(3)班: st01-st04
    b = {"X-API-Key": keys["b_admin"]}
    assert client.post("/assignments", json=SPEC, headers=b).status_code == 201
    files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in (_page("st01", 0),)]
    files.append(("files", ("junk.png", b"not a scan", "image/png")))
    accepted = client.post("/scans", files=files, headers={"X-API-Key": keys["b_station"]}).json()
    uploads = [wait_for_upload(client, a, headers=b) for a in accepted]
    review = client.get("/review", headers=b).json()[0]
    targeted = client.post("/targeted", headers=b, json={"students": ["st01"], "grade": 6, "minutes": 10,
                                                         "day": "2026-11-24"}).json()
    return {"client": client, "keys": keys, "database_url": database_url, "upload": uploads[0], "junk": uploads[1], "review": review,
            "set": targeted["students"][0]["assignment_id"]}


def test_school_a_finds_none_of_school_bs_objects(schools: dict[str, Any]) -> None:
    client, key, upload = schools["client"], schools["keys"]["a_teacher"], schools["upload"]
    page, review, aid = upload["pages"][0], schools["review"], SPEC["assignment_id"]
    not_found = [
        ("GET", "/assignments/{assignment_id}/sheets.pdf", f"/assignments/{aid}/sheets.pdf"),
        ("GET", "/assignments/{assignment_id}/questions.pdf", f"/assignments/{schools['set']}/questions.pdf"),
        ("GET", "/assignments/{assignment_id}/answers", f"/assignments/{aid}/answers"),
        ("GET", "/assignments/{assignment_id}/missing-pages", f"/assignments/{aid}/missing-pages"),
        ("GET", "/uploads/{upload_id}", f"/uploads/{upload['upload_id']}"),
        ("GET", "/jobs/{job_id}", f"/jobs/{upload['job']['job_id']}"),
        ("GET", "/scans/pages/{page_id}/file", f"/scans/pages/{page['page_id']}/file"),
        ("GET", "/review/{review_id}/crop.png", f"/review/{review['review_id']}/crop.png"),
        ("GET", "/reports/classes/{class_name}", f"/reports/classes/{SPEC['class_name']}"),
        ("GET", "/reports/students/{student_id}", "/reports/students/st01"),
        ("GET", "/reports/school", "/reports/school"),
        ("GET", "/reports/notebook.pdf", "/reports/notebook.pdf?student=st01"),
        ("GET", "/reports/grades.{fmt}", f"/reports/grades.csv?assignment_id={aid}"),
    ]
    for method, route, path in not_found:
        assert _call(client, method, route, path, key).status_code == 404, path
    resolved = _call(client, "POST", "/review/{review_id}", f"/review/{review['review_id']}", key, json={"value": "A"})
    assert resolved.status_code == 404
    assert _call(client, "GET", "/review", "/review", key).json() == []
    assert _call(client, "GET", "/rosters", "/rosters", key).json() == []
    template = _call(client, "POST", "/sheet-templates", "/sheet-templates", key,  # makes no school object
                     files=[("files", ("template.json", b"{}", "application/json"))])
    assert template.status_code == 403  # a school admin's, and it answers with a sheet stored nowhere
    assert _call(client, "GET", "/scans/kept", "/scans/kept", key).json() == []
    b, b_admin = ({"X-API-Key": schools["keys"][k]} for k in ("b_teacher", "b_admin"))
    assert [r["review_id"] for r in client.get("/review", headers=b).json()][0] == review["review_id"]
    assert client.get("/scans/kept", headers=b).json() == []  # the junk page is no student's: the admin's
    assert [k["page_id"] for k in client.get("/scans/kept", headers=b_admin).json()] == [
        schools["junk"]["pages"][0]["page_id"]]


def test_school_a_cannot_overwrite_school_bs_key_or_grade_into_it(schools: dict[str, Any]) -> None:
    from homework import HomeworkService
    from homework.storage import open_engine

    client, keys = schools["client"], schools["keys"]
    forged = json.loads(json.dumps(SPEC))
    forged["fields"][0]["key"] = {"correct": "D"}
    assert _call(client, "POST", "/assignments", "/assignments", keys["a_teacher"], json=forged).status_code == 201
    accepted = _call(client, "POST", "/scans", "/scans", keys["a_station"],
                     files=[("files", ("p.jpg", _page("st02", 0).read_bytes(), "image/jpeg"))]).json()[0]
    assert accepted["duplicate_of"] is None  # B's files are not A's duplicates either
    a_upload = wait_for_upload(client, accepted, headers={"X-API-Key": keys["a_teacher"]})
    assert a_upload["pages"][0]["status"] == "read"  # read into A's own assignment of that id
    b = {"X-API-Key": keys["b_teacher"]}
    answers = client.get(f"/assignments/{SPEC['assignment_id']}/answers", headers=b).json()
    assert {a["student_id"] for a in answers} == {"st01"}  # A's scan of st02 did not land in B
    first = next(a for a in answers if a["field_id"] == SPEC["fields"][0]["id"])
    assert first["grade_reason"] != "" and client.get(
        f"/assignments/{SPEC['assignment_id']}/missing-pages", headers=b).json()["st02"] == [1, 2]
    targeted = _call(client, "POST", "/targeted", "/targeted", keys["a_teacher"],
                     json={"students": ["st01"], "grade": 6, "minutes": 10, "day": "2026-11-24"})
    assert targeted.status_code == 200  # A's own ledger: B's 10 minutes for st01 do not count here
    assert targeted.json()["students"][0]["budget"] == 10
    mine = "class_id,grade,student_id,student_name,teacher_id\nc1,7,st01,A's st01,t-a\n"
    imported = _call(client, "POST", "/rosters", "/rosters", keys["a_admin"],
                     files={"file": ("a.csv", mine.encode(), "text/csv")})
    assert imported.status_code == 200 and imported.json()["students"] == 1
    b_roster = client.get("/rosters", headers={"X-API-Key": keys["b_admin"]}).json()
    assert [s["name"] for s in b_roster[0]["students"]][0] == "李雷"  # B's st01 untouched by A's roster
    assert [c["class_id"] for c in client.get("/rosters", headers={"X-API-Key": keys["a_teacher"]}).json()] == ["c1"]
    items = {"files": ("items.csv", (FIXTURES / "bank" / "items.csv").read_bytes(), "text/csv")}
    assert _call(client, "POST", "/bank/items", "/bank/items", keys["a_teacher"], files=items).status_code == 403
    assert _call(client, "POST", "/bank/items", "/bank/items", keys["a_admin"], files=items).status_code == 200
    service = HomeworkService(open_engine(schools["database_url"]))
    assert len(service.bank("A")) == 2155 and service.bank("B") is None  # into A's store only


def test_stations_and_the_district_key_read_no_school_data(schools: dict[str, Any]) -> None:
    client, keys, upload = schools["client"], schools["keys"], schools["upload"]
    for who in ("b_station", "district"):
        for path in (upload["job"]["job_id"] and f"/uploads/{upload['upload_id']}", "/review", "/scans/kept",
                     f"/assignments/{SPEC['assignment_id']}/answers"):
            assert client.get(path, headers={"X-API-Key": keys[who]}).status_code == 403, (who, path)
    job = client.get(f"/jobs/{upload['job']['job_id']}", headers={"X-API-Key": keys["b_station"]})
    assert job.status_code == 200 and job.json()["status"] == "done"


def test_every_route_was_tried_across_schools(make_client: MakeClient) -> None:
    routes = {(m, p) for m, p in app_routes(make_client()) if p != "/health" and not p.startswith("/district")}
    assert len(routes) >= 20 and routes <= TRIED, f"routes never tried across schools: {sorted(routes - TRIED)}"
