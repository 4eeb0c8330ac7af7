"""``homework target`` on the fixture bank: sets with reasons, the ledger, JSON, the merged PDF, errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pypdfium2 as pdfium
from typer.testing import CliRunner

from homework.cli import _commands  # noqa: F401  (registers every command)
from homework.cli._app import app
from homework.storage import LedgerStore, ScanStore, open_engine, sqlite_url

BANK = Path(__file__).resolve().parents[2] / "fixtures" / "bank" / "items.csv"
BASE = ["target", "--bank", str(BANK), "--grade", "6", "--kp", "number.fraction", "--kp", "number.percent",
        "--day", "2026-11-24"]


def test_target_shows_reasons_records_the_ledger_and_prints_one_pdf(tmp_path: Path) -> None:
    db, out, folder = sqlite_url(tmp_path / "db"), tmp_path / "sets.json", tmp_path / "print"
    run = CliRunner().invoke(app, [*BASE, "--student", "s1:王芳", "--student", "s2", "--minutes", "8",
                                   "--db", db, "--record", "--out", str(out), "--print", str(folder),
                                   "--class-name", "六(2)班"])
    assert run.exit_code == 0, run.output
    assert "mastery: no graded answers yet" in run.output
    assert "s1: " in run.output and "teacher's 8 min" in run.output and "predicted success" in run.output
    sets = json.loads(out.read_text(encoding="utf-8"))["students"]
    assert set(sets) == {"s1", "s2"} and all(0 < s["minutes"] <= 8 and s["reasons"] for s in sets.values())
    assert "recorded for 2026-11-24 in the ledger of default" in run.output
    recorded = LedgerStore(open_engine(db), "default").ledger(dt.date(2026, 11, 24))
    assert sum(recorded.load("s1", dt.date(2026, 11, 24)).values()) == sets["s1"]["minutes"]
    specs = ScanStore(open_engine(db)).specs()  # each set's answer sheet is registered, named and classed
    assert {s["students"][0]["name"] for s in specs.values()} == {"王芳", "s2"}
    assert {s["class_name"] for s in specs.values()} == {"六(2)班"}
    pdf = pdfium.PdfDocument(folder / "targeted.pdf")
    assert len(pdf) >= 4 and "王芳" in pdf[0].get_textpage().get_text_range()
    assert "六(2)班" in pdf[0].get_textpage().get_text_range()

    again = CliRunner().invoke(app, [*BASE, "--student", "s1", "--minutes", "60", "--db", db])
    assert again.exit_code == 0 and f"{60 - sets['s1']['minutes']:g} min left under the cap" in again.output
    assert "planned only" in again.output  # without --record nothing more is kept
    assert sum(LedgerStore(open_engine(db), "default").ledger().load("s1", dt.date(2026, 11, 24)).values()) \
        == sets["s1"]["minutes"]


def test_target_refuses_grade_two_and_an_old_ledger_file(tmp_path: Path) -> None:
    run = CliRunner().invoke(app, [*BASE, "--grade", "2", "--student", "s1"])
    assert run.exit_code == 2 and "grade 2 may not get written homework" in run.output
    run = CliRunner().invoke(app, [*BASE, "--student", "s1", "--ledger", str(tmp_path / "ledger.json")])
    assert run.exit_code == 2 and "--ledger is gone" in run.output
    assert f"homework db import-ledger {tmp_path / 'ledger.json'} --school SCHOOL" in run.output


def test_tiers_print_one_paper_per_tier_with_every_member_s_sheet(tmp_path: Path) -> None:
    folder = tmp_path / "print"
    students = ["s1:王芳", "s2:李雷", "s3:韩梅梅"]
    run = CliRunner().invoke(app, [*BASE, *(x for s in students for x in ("--student", s)), "--tiers",
                                   "--minutes", "8", "--print", str(folder)])
    assert run.exit_code == 0, run.output
    tiers = sorted(p.name for p in folder.iterdir() if p.is_dir())
    assert tiers == ["tier-A", "tier-B", "tier-C"]
    text = "".join(page.get_textpage().get_text_range() for page in pdfium.PdfDocument(folder / "targeted.pdf"))
    assert all(name in text for name in ("王芳", "李雷", "韩梅梅"))
