"""Settings that change what the app serves: ``docs`` turns ``/docs``, ``/redoc`` and ``/openapi.json``
on and off, given directly or through the ``HOMEWORK_DOCS`` variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from uploads import MakeClient

from api import Settings, create_app

DOC_PATHS = ("/docs", "/redoc", "/openapi.json")


def test_docs_are_served_when_the_setting_is_on(make_client: MakeClient) -> None:
    client = make_client(docs=True)
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    assert "/scans" in spec.json()["paths"]
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200
        assert "/openapi.json" in page.text


def test_docs_are_not_found_when_the_setting_is_off(make_client: MakeClient) -> None:
    client = make_client(docs=False)
    for path in DOC_PATHS:
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
        assert "paths" not in response.json()
    assert client.get("/health").status_code == 200  # the rest of the app is served as before


@pytest.mark.parametrize(("value", "served"), [("false", False), ("0", False), ("true", True)])
def test_docs_follow_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str,
                                     served: bool) -> None:
    monkeypatch.setenv("HOMEWORK_DOCS", value)
    monkeypatch.chdir(tmp_path)  # no .env file of the working directory
    settings = Settings(data_dir=tmp_path, open_access=True, workers=0)
    assert settings.docs is served
    with TestClient(create_app(settings)) as client:
        assert [client.get(p).status_code == 200 for p in DOC_PATHS] == [served] * len(DOC_PATHS)
