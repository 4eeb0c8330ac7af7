"""``homework bank ...`` and ``homework assign`` on the real fixture bank."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from homework.cli import _commands  # noqa: F401  (registers the commands)
from homework.cli._app import app
from homework.storage import LedgerStore, ScanStore, open_engine, sqlite_url

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "bank" / "items.csv"
ROWS = sum(1 for _ in FIXTURE.open(encoding="utf-8")) - 1  # one item per line after the header
runner = CliRunner()


def _bank(tmp_path: Path) -> Path:
    bank = tmp_path / "bank.json"
    result = runner.invoke(app, ["bank", "import", str(FIXTURE), "--bank", str(bank)])
    assert result.exit_code == 0, result.output
    assert f"{ROWS} added, 0 updated, 0 row(s) rejected" in result.output
    return bank


def test_import_query_and_export_round_trip(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    result = runner.invoke(app, ["bank", "query", "--bank", str(bank), "--kp", "rate.distance", "--text", "相遇",
                                 "--grade", "4", "--difficulty", "1-2", "--json", "--limit", "5"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert 1 <= len(rows) <= 5 and all("相遇" in r["stem"] and r["difficulty"] <= 2 for r in rows)
    xlsx = tmp_path / "bank.xlsx"
    assert runner.invoke(app, ["bank", "export", str(xlsx), "--bank", str(bank)]).exit_code == 0
    again = runner.invoke(app, ["bank", "import", str(xlsx), "--bank", str(tmp_path / "b2.csv")])
    assert f"{ROWS} added" in again.output


def test_import_reports_bad_rows_and_strict_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,grade,type,stem,answer,minutes\nq1,5,numeric,1+1=?,2,1\nq2,5,numeric,1+2=?,three,1\n",
                   encoding="utf-8")
    result = runner.invoke(app, ["bank", "import", str(bad), "--bank", str(tmp_path / "b.csv"), "--strict"])
    assert result.exit_code == 1
    assert "1 added, 0 updated, 1 row(s) rejected" in result.output
    assert "bad.csv row 3, answer: numeric answer 'three' is not a number" in result.output


def test_assign_shows_minutes_and_refuses_over_the_cap(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    out = tmp_path / "hw.json"
    ok = runner.invoke(app, ["assign", "--bank", str(bank), "--kp", "number.fraction", "--minutes", "20",
                             "--grade", "5", "--tiers", "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    written = json.loads(out.read_text(encoding="utf-8"))
    assert list(written) == ["basic", "improve", "extend"]
    assert all(abs(v["total"] - 20) <= 3 for v in written.values())
    refused = runner.invoke(app, ["assign", "--bank", str(bank), "--items", "m23k-5320,m23k-13188",
                                  "--grade", "2"])
    assert refused.exit_code == 3
    assert "双减 grades 1-2: no written homework: grade 2 may not get written homework" in refused.output
    missing = runner.invoke(app, ["bank", "query", "--bank", str(tmp_path / "none.csv")])
    assert missing.exit_code == 2 and "no bank at" in missing.output


def test_assign_prints_papers_and_sheets(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    result = runner.invoke(app, ["assign", "--bank", str(bank), "--kp", "geometry.circle", "--minutes", "15",
                                 "--grade", "6", "--print", str(tmp_path / "print"), "--student", "s01:李雷",
                                 "--student", "s02:韩梅梅", "--class-name", "六(1)班", "--combined"])
    assert result.exit_code == 0, result.output
    folders = [p for p in (tmp_path / "print").iterdir() if p.is_dir()]
    assert len(folders) == 1
    assert {p.name for p in folders[0].iterdir()} == {"questions.pdf", "sheets.pdf", "combined.pdf", "spec.json"}
    spec = json.loads((folders[0] / "spec.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in spec["students"]] == ["李雷", "韩梅梅"] and spec["fields"][-1]["type"] == "minutes"


def test_the_store_s_ledger_carries_the_day_across_subjects(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    common = ["--bank", str(bank), "--grade", "5", "--record", "--day", "2026-11-23",
              "--student", "s01:李雷"]  # the default store: HOMEWORK_DATA_DIR (see tests/conftest.py)
    first = runner.invoke(app, ["assign", "--kp", "number.fraction", "--minutes", "40", *common])
    assert first.exit_code == 0 and "recorded for 1 student(s) on 2026-11-23" in first.output, first.output
    engine = open_engine(sqlite_url(tmp_path / "user-data"))
    (assignment, students, _), = LedgerStore(engine, "default").ledger().recorded()
    assert students == {"s01"} and assignment.id in ScanStore(engine).specs()  # its sheet can be scanned
    second = runner.invoke(app, ["assign", "--kp", "rate.distance", "--minutes", "30", *common])
    assert second.exit_code == 3 and "双减 grades 3-6: at most 60 min/day is exceeded by" in second.output
    assert "already assigned: math" in second.output
    other_day = runner.invoke(app, ["assign", "--kp", "rate.distance", "--minutes", "30", *common[:-4],
                                    "--day", "2026-11-24", "--student", "s01:李雷"])
    assert other_day.exit_code == 0, other_day.output
    old = runner.invoke(app, ["assign", "--kp", "rate.distance", "--bank", str(bank), "--ledger", "ledger.json"])
    assert old.exit_code == 2 and "--ledger is gone: the 双减 ledger is kept in the store" in old.output


def test_an_old_ledger_file_is_imported_once(tmp_path: Path) -> None:
    import datetime as dt

    from homework import Assignment, HomeworkLedger

    day = dt.date(2026, 11, 23)
    ledger = HomeworkLedger()
    ledger.assign(Assignment("yw-1", "chinese", 5, ("c1",), (35.0,)), ["s01", "s02"], day)
    path = tmp_path / "ledger.json"
    path.write_text(ledger.to_json(), encoding="utf-8")
    db = sqlite_url(tmp_path / "db")
    for added in (1, 0):
        run = runner.invoke(app, ["db", "import-ledger", str(path), "--school", "s-a", "--db", db])
        assert run.exit_code == 0 and f"{added} set(s) added to the ledger of s-a, {1 - added} already" in run.output
    assert LedgerStore(open_engine(db), "s-a").ledger(day).load("s02", day) == {"chinese": 35.0}
    refused = runner.invoke(app, ["assign", "--bank", str(FIXTURE), "--kp", "number.fraction", "--minutes", "30",
                                  "--grade", "5", "--day", "2026-11-23", "--student", "s01:李雷", "--school",
                                  "s-a", "--db", db])
    assert refused.exit_code == 3 and "already assigned: chinese 35 min" in refused.output
    (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
    bad = runner.invoke(app, ["db", "import-ledger", str(tmp_path / "bad.json"), "--db", db])
    assert bad.exit_code == 2 and "not a homework ledger" in bad.output


def test_an_unknown_knowledge_point_is_an_error_naming_the_nearest_and_points_lists_them(tmp_path: Path) -> None:
    for command in (["bank", "query", "--bank", str(FIXTURE)], ["assign", "--bank", str(FIXTURE), "--grade", "5"],
                    ["target", "--bank", str(FIXTURE), "--grade", "5", "--student", "s1"]):
        result = runner.invoke(app, [*command, "--kp", "number.fractoin"])
        assert result.exit_code == 2, result.output
        assert "unknown knowledge point 'number.fractoin'; nearest known: number.fraction" in result.output
    listed = runner.invoke(app, ["bank", "points", "--bank", str(FIXTURE), "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {r["id"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert rows["number.fraction"]["items"] > 100 and "number.whole" in rows["number.fraction"]["prerequisites"]
    assert rows["number.fraction"]["name_zh"] == "分数"


def test_tag_gives_no_point_to_text_that_is_not_mathematics() -> None:
    tagged = json.loads(runner.invoke(app, ["bank", "tag", "hello"]).stdout)
    assert tagged["knowledge_points"] == [] and tagged["confidence"] == 0.0
    story = json.loads(runner.invoke(app, ["bank", "tag", "一辆汽车3小时行了195千米，平均每小时行多少千米？"]).stdout)
    assert "rate.distance" in story["knowledge_points"] and story["confidence"] >= 0.6


def test_assign_for_grade_two_cites_the_double_reduction_rule() -> None:
    result = runner.invoke(app, ["assign", "--bank", str(FIXTURE), "--grade", "2", "--kp", "number.whole"])
    assert result.exit_code == 3
    assert "双减 grades 1-2: no written homework: grade 2 may not get written homework" in result.output
