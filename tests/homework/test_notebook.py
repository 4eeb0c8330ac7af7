"""The 错题本 PDF from a really scanned class: the student's own writing, the key, a practice item."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from typer.testing import CliRunner

from homework import HomeworkError, HomeworkLedger, ItemBank, ScanStore, mistake_notebook
from homework._notebook import answer_crops, write_notebook
from homework._records import store_records
from homework._reports import report_data
from homework.cli import _commands  # noqa: F401  (registers every command)
from homework.cli._app import app
from homework.storage import sqlite_url

BANK = Path(__file__).resolve().parents[2] / "fixtures" / "bank" / "items.csv"


@pytest.fixture(scope="module")
def scanned(scanned_store, bank: ItemBank):
    store_dir, ledger = scanned_store
    store = ScanStore(store_dir)
    records = store_records(store, bank, HomeworkLedger.from_json(ledger.read_text(encoding="utf-8")))
    return store, report_data(records, bank)


def _images(page: pdfium.PdfPage) -> int:
    return sum(obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE for obj in page.get_objects())


def test_crops_are_cut_from_the_scans_for_every_mistake(scanned) -> None:
    store, data = scanned
    notebook = mistake_notebook(data.answers, data.bank)
    assert len(notebook) > 0
    crops = answer_crops(store, notebook)
    assert len(crops) == len(notebook)
    for crop in crops.values():
        assert crop.ndim == 2 and crop.shape[0] > 20 and crop.shape[1] > crop.shape[0]
        assert crop.min() < 128 < crop.max()  # pencil on paper, not an empty or black cut


def test_a_class_notebook_gives_each_student_their_own_pages(scanned, tmp_path: Path) -> None:
    store, data = scanned
    students = sorted(data.sheets["student_id"].unique())
    pdf_path = write_notebook(data, tmp_path / "class.pdf", students=students, store=store)
    pdf = pdfium.PdfDocument(pdf_path)
    texts = [page.get_textpage().get_text_range() for page in pdf]
    names = dict(zip(data.sheets["student_id"], data.sheets["name"], strict=False))
    starts = [i for i, t in enumerate(texts) if t.startswith("错题本")]
    assert len(starts) == len(students)
    for student, start in zip(students, starts, strict=True):
        assert names[student] in texts[start] and "六(3)班" in texts[start] and "2026-11-23" in texts[start]
    notebook = mistake_notebook(data.answers, data.bank)
    assert sum(_images(page) for page in pdf) == len(notebook)  # one crop per mistake
    everything = "".join(texts)
    assert everything.count("再练一题：") == (notebook["variant_id"] != "").sum()
    assert "(1/" not in everything and "**" not in everything
    assert pdf[0].get_size() == pytest.approx((595.28, 841.89), abs=0.5)  # A4


def test_notebook_refuses_unknown_students_and_a_missing_bank(scanned, tmp_path: Path) -> None:
    store, data = scanned
    with pytest.raises(HomeworkError, match="no homework of student"):
        write_notebook(data, tmp_path / "x.pdf", students=["nobody"])
    with pytest.raises(HomeworkError, match="needs the item bank"):
        write_notebook(type(data)(data.answers, data.sheets, data.mastery, data.caps, None), tmp_path / "x.pdf",
                       students=["s01"])


def test_notebook_command(scanned_store, tmp_path: Path) -> None:
    store, _ = scanned_store
    base = ["notebook", "--db", sqlite_url(store), "--bank", str(BANK)]
    run = CliRunner().invoke(app, [*base, str(tmp_path / "s02.pdf"), "--student", "s02"])
    assert run.exit_code == 0, run.output
    assert "韩梅梅" in pdfium.PdfDocument(tmp_path / "s02.pdf")[0].get_textpage().get_text_range()
    run = CliRunner().invoke(app, [*base, str(tmp_path / "all.pdf"), "--class", "六(3)班"])
    assert run.exit_code == 0 and "of 3 student(s)" in run.output
    run = CliRunner().invoke(app, [*base, str(tmp_path / "none.pdf"), "--class", "九(9)班"])
    assert run.exit_code == 2 and "no homework of class" in run.output
