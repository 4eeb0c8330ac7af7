"""Fixtures shared by the homework tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from homework import ItemBank

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture(scope="session")
def bank() -> ItemBank:
    """The fixture bank (2,155 real Math23K/Ape210K problems), imported once; tests must not change it."""
    bank = ItemBank()
    bank.import_file(FIXTURES / "bank" / "items.csv")
    return bank
