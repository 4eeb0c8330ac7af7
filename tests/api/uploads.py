"""Helpers for the API tests: following an upload until its job ends."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

MakeClient = Callable[..., TestClient]


def app_routes(client: TestClient) -> set[tuple[str, str]]:
    """Every (method, path template) the app serves, as its OpenAPI document lists them (FastAPI keeps an
    included router's routes behind one entry of ``app.routes``, so that list misses them)."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return {(method.upper(), path) for path, operations in paths.items() for method in operations}


def wait_for_upload(client: TestClient, accepted: dict[str, Any], *, headers: dict[str, str] | None = None,
                    timeout: float = 120.0) -> dict[str, Any]:
    """``GET`` an upload until its job is done or failed; its final state."""
    deadline = time.monotonic() + timeout
    while True:
        upload = client.get(accepted["upload_url"], headers=headers or {}).json()
        if upload["job"]["status"] in ("done", "failed") or time.monotonic() > deadline:
            return upload
        time.sleep(0.05)


def health_when(client: TestClient, ready: Callable[[dict[str, Any]], bool], *, timeout: float = 10.0) -> dict[str, Any]:
    """``GET /health`` until ``ready(body)`` (its snapshot is refreshed in the background); the last body."""
    deadline = time.monotonic() + timeout
    while True:
        body = client.get("/health").json()
        if ready(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.05)
