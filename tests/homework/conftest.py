"""Fixtures shared by the homework tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from homework import HomeworkLedger, ItemBank

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture(scope="session")
def ocr():  # noqa: ANN201
    """The default OCR backend, loaded once."""
    from scanning import get_backend

    return get_backend("rapidocr")


@pytest.fixture(scope="session")
def bank() -> ItemBank:
    """The fixture bank (2,155 real Math23K/Ape210K problems), imported once; tests must not change it."""
    bank = ItemBank()
    bank.import_file(FIXTURES / "bank" / "items.csv")
    return bank


@pytest.fixture(scope="session")
def scanned_store(tmp_path_factory: pytest.TempPathFactory, bank: ItemBank) -> tuple[Path, Path]:
    """Three students of 六(3)班 answer 10 minutes of fractions on paper; scanned, read, graded; the set is
    recorded in the store's ledger, and also saved as an old-style ledger file (for the library's tests)."""
    from homework._assignments import AssignmentRequest, compose_assignment
    from homework._intake import Intake
    from homework._printing import sheet_spec
    from homework.storage import DEFAULT_SCHOOL, LedgerStore, ScanStore
    from scanning import DigitBank, generate_set, get_backend, scanner

    out = tmp_path_factory.mktemp("store")
    assignment = compose_assignment(bank, AssignmentRequest(knowledge_points=("number.fraction",), minutes=10,
                                                            grade=6, seed=2), assignment_id="rep-hw-1")
    students = [("s01", "李雷"), ("s02", "韩梅梅"), ("s03", "王芳")]
    spec = sheet_spec(bank, assignment, students, class_name="六(3)班")
    truth = generate_set(spec, out / "scans", [scanner(200, 0)], DigitBank.load(
        FIXTURES / "handwriting" / "mnist_digits_500.npz"), seed=4)
    intake = Intake(ScanStore(out / "store"), ocr=get_backend("rapidocr"))
    intake.register(spec)
    for page in truth:
        intake.receive(out / "scans" / page.file)
    ledger = HomeworkLedger()
    ledger.assign(assignment, [s for s, _ in students], dt.date(2026, 11, 23))
    (out / "ledger.json").write_text(ledger.to_json(), encoding="utf-8")
    LedgerStore(intake.store.engine, DEFAULT_SCHOOL).import_ledger(ledger)
    return out / "store", out / "ledger.json"
