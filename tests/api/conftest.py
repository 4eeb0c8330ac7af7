"""The API's test clients, on both engines, with the in-process worker running (the app's lifespan)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from uploads import MakeClient

from api import Settings, create_app


@pytest.fixture
def make_client(database_url: str, tmp_path: Path) -> Iterator[MakeClient]:
    """``make_client(**settings)``: a started app on this test's database (each call a new app, same data);
    open access (no key needed) unless ``open_access=False``."""
    with ExitStack() as stack:
        def make(**settings: Any) -> TestClient:
            settings = {"data_dir": tmp_path / "data", "database_url": database_url, "open_access": True, **settings}
            return stack.enter_context(TestClient(create_app(Settings(**settings))))

        yield make
