"""Helpers for the API tests: following an upload until its job ends."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

MakeClient = Callable[..., TestClient]


def wait_for_upload(client: TestClient, accepted: dict[str, Any], *, headers: dict[str, str] | None = None,
                    timeout: float = 120.0) -> dict[str, Any]:
    """``GET`` an upload until its job is done or failed; its final state."""
    deadline = time.monotonic() + timeout
    while True:
        upload = client.get(accepted["upload_url"], headers=headers or {}).json()
        if upload["job"]["status"] in ("done", "failed") or time.monotonic() > deadline:
            return upload
        time.sleep(0.05)
