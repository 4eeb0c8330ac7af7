"""The test suite's throw-away servers (``tests/postgres_server.py``, ``tests/redis_server.py``) for benchmarks.

They are loaded by path: putting ``tests/`` on ``sys.path`` would let its ``scanning``, ``recommender`` and
``homework`` folders shadow the installed packages as namespace packages.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

TESTS = Path(__file__).resolve().parents[1] / "tests"


def test_helper(name: str) -> ModuleType:
    """``tests/<name>.py`` as a module, with ``tests/debian_packages.py`` (which it imports) loaded first."""
    for module_name in ("debian_packages", name):
        if module_name in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(module_name, TESTS / f"{module_name}.py")
        assert spec is not None and spec.loader is not None
        module = sys.modules[module_name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules[name]
