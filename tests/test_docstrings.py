"""Every docstring example in the packages runs and shows its real output (house style)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import recommender

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["api", "homework", "scanning", "recommender"]
MODULES = sorted(
    info.name
    for package in PACKAGES
    for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}.")
    if not info.name.endswith("__main__")
)
# Names the examples may use without importing them: the fixtures folder and the usual aliases.
GLOBS = {**vars(recommender), "FIXTURES": ROOT / "fixtures", "np": np, "pd": pd}


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module: str) -> None:
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, extraglobs=GLOBS, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {module} failed"


def test_the_packages_have_examples() -> None:
    finder = doctest.DocTestFinder()
    counted = sum(len(t.examples) for m in MODULES for t in finder.find(importlib.import_module(m)))
    assert counted >= 50
