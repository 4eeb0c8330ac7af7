"""The package layout's contracts: one-way imports and explicit public APIs."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["api", "homework", "scanning", "recommender"]
# Which of our packages each package may import: api -> homework -> {scanning, recommender}.
ALLOWED = {
    "api": {"api", "homework", "scanning", "recommender"},
    "homework": {"homework", "scanning", "recommender"},
    "scanning": {"scanning"},
    "recommender": {"recommender"},
}


def _imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_flow_one_way(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    offences = {
        str(f.relative_to(ROOT)): sorted(_imported_packages(f) - ALLOWED[package]) for f in files
    }
    offences = {f: bad for f, bad in offences.items() if bad}
    assert not offences, f"{package} imports packages it must not: {offences}"


@pytest.mark.parametrize("package", PACKAGES)
def test_public_api_is_declared_and_importable(package: str) -> None:
    module = importlib.import_module(package)
    assert isinstance(module.__all__, list)
    for name in module.__all__:
        assert hasattr(module, name), f"{package}.__all__ names {name!r}, which it does not define"
