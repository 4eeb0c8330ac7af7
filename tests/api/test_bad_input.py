"""The bad-input catalogue: each case sent to the running API, its outcome asserted; every error in the
one problem shape with a stable code, and documented so in OpenAPI."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import tifffile
from fastapi.testclient import TestClient
from PIL import Image
from uploads import MakeClient, wait_for_upload

SCANS = Path(__file__).resolve().parents[2] / "fixtures" / "scans"
SPEC = json.loads((SCANS / "spec.json").read_text(encoding="utf-8"))
PAGE = sorted(SCANS.glob("*.jpg"))[0].read_bytes()


def _png(array: np.ndarray) -> bytes:
    return cv2.imencode(".png", array)[1].tobytes()


def _tiff(pages: int, side: int = 64) -> bytes:
    out = io.BytesIO()
    with tifffile.TiffWriter(out) as writer:
        for i in range(pages):
            writer.write(np.full((side, side), 200 + i, np.uint8))
    return out.getvalue()


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["type"].endswith("/" + code)
    assert body["title"] and body["detail"]
    return body


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    client = make_client(max_upload_mb=1, max_pages_per_file=3, max_files_per_request=3)
    assert client.post("/assignments", json=SPEC).status_code == 201
    return client


def _send(client: TestClient, *files: tuple[str, bytes]) -> Any:
    return client.post("/scans", files=[("files", (name, data, "application/octet-stream")) for name, data in files])


def _over_pixel_limit() -> bytes:
    out = io.BytesIO()  # 8000 x 8000 = 64 megapixels: 60 is the limit; zlib makes it 70 KB
    tifffile.imwrite(out, np.zeros((8000, 8000), np.uint8), compression="zlib")
    return out.getvalue()


@pytest.mark.parametrize(("name", "make", "reason"), [
    ("strip.png", lambda: _png(np.full((1, 5000), 255, np.uint8)), "too small to be a scanned page"),
    ("column.png", lambda: _png(np.zeros((5000, 1), np.uint8)), "too small to be a scanned page"),
    ("huge.tif", _over_pixel_limit, "exceeds the 60 megapixel limit"),
])
def test_odd_images_are_kept_with_their_reason(client: TestClient, name: str, make: Any, reason: str) -> None:
    data = make()
    accepted = _send(client, (name, data))
    assert accepted.status_code == 202
    upload = wait_for_upload(client, accepted.json()[0])
    assert upload["job"]["status"] == "done"
    (page,) = upload["pages"]
    assert page["status"] == "bad_image" and reason in page["message"] and "kept for a human" in page["message"]
    assert client.get(page["file_url"]).content == data


def test_a_two_channel_image_is_read_as_grey(client: TestClient) -> None:
    out = io.BytesIO()
    grey = cv2.imdecode(np.frombuffer(PAGE, np.uint8), cv2.IMREAD_GRAYSCALE)
    Image.fromarray(np.dstack([grey, np.full_like(grey, 255)]), "LA").save(out, "PNG")
    upload = wait_for_upload(client, _send(client, ("grey-alpha.png", out.getvalue())).json()[0])
    assert [p["status"] for p in upload["pages"]] == ["read"]


def test_a_non_ascii_name_is_kept_and_served(client: TestClient) -> None:
    upload = wait_for_upload(client, _send(client, ("六年级 第3页.png", b"junk")).json()[0])
    assert upload["name"] == "六年级 第3页.png"
    served = client.get(upload["pages"][0]["file_url"])
    assert served.status_code == 200 and "filename*=UTF-8''" in served.headers["content-disposition"]


def test_a_413_says_what_was_kept_before_it(client: TestClient) -> None:
    big = b"\0" * (1024 * 1024 + 1)
    body = _problem(_send(client, ("ok.jpg", PAGE), ("big.pdf", big), ("never.jpg", b"x")), 413, "upload_too_large")
    (kept,) = body["accepted"]
    assert kept["name"] == "ok.jpg" and "big.pdf: larger than 1 MB; 1 file(s) before it were kept" in body["detail"]
    assert wait_for_upload(client, kept)["job"]["status"] == "done"
    pages = _problem(_send(client, ("five.tif", _tiff(5))), 413, "too_many_pages")
    assert pages["accepted"] == [] and "five.tif: 5 pages; at most 3 per file" in pages["detail"]
    assert _send(client, ("three.tif", _tiff(3))).status_code == 202
    files = _problem(_send(client, *[(f"{i}.png", b"x") for i in range(4)]), 413, "too_many_files")
    assert files["accepted"] == [] and "4 files in one request; at most 3" in files["detail"]


def test_ids_out_of_range_and_every_error_has_one_shape(client: TestClient) -> None:
    invalid = _problem(client.get("/uploads/9223372036854775808"), 422, "invalid_request")
    assert invalid["errors"][0]["loc"] == ["path", "upload_id"]
    _problem(client.get("/jobs/0"), 422, "invalid_request")
    _problem(client.get("/uploads/5"), 404, "not_found")
    _problem(client.get("/assignments/nope/sheets.pdf"), 404, "unknown_assignment")
    _problem(client.post("/targeted", json={"students": ["s1"], "grade": 5, "minutes": 10, "day": "2026-11-24"}),
             503, "bank_not_configured")
    _problem(client.post("/assignments", json={"not": "a spec"}), 422, "invalid_sheet")
    _problem(client.post("/review/1", json={}), 422, "invalid_request")
    _problem(client.delete("/uploads/1"), 405, "bad_request")


def test_keys_and_roles_errors_have_the_shape(make_client: MakeClient, database_url: str) -> None:
    from homework.storage import KeyStore, open_engine

    station = KeyStore(open_engine(database_url)).create("station", school="x")
    client = make_client(open_access=False)
    _problem(client.get("/review"), 401, "unauthorized")
    _problem(client.get("/review", headers={"X-API-Key": station}), 403, "forbidden")


def test_openapi_documents_the_problem_shape_on_every_route(make_client: MakeClient) -> None:
    spec = make_client().get("/openapi.json").json()
    problem = "#/components/schemas/Problem"
    for path, methods in spec["paths"].items():
        if path == "/health":
            continue
        for method, operation in methods.items():
            for status in ("401", "403", "404", "422"):
                content = operation["responses"][status]["content"]
                assert any(c["schema"]["$ref"] == problem for c in content.values()), (method, path, status)
    assert "413" in spec["paths"]["/scans"]["post"]["responses"]
    assert "503" in spec["paths"]["/targeted"]["post"]["responses"]
    assert "upload_too_large" in spec["components"]["schemas"]["Problem"]["properties"]["code"]["description"]
