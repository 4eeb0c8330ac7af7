"""Reports: every plot present with the numbers of the frames behind it; offline; the CLI on a real store."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from homework import HomeworkError, ItemBank, daily_minutes
from homework._reports import class_report, overview_report, report_data, student_report
from homework._simulated import simulate_records
from homework.cli import _commands  # noqa: F401  (registers every command)
from homework.cli._app import app
from homework.storage import sqlite_url

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
BANK = FIXTURES / "bank" / "items.csv"


@pytest.fixture(scope="module")
def data(bank: ItemBank):
    records = simulate_records(bank, classes=[("六(1)班", 14), ("六(2)班", 9)], assignments=8, seed=5)
    return report_data(records, bank)


def charts_of(html: str) -> dict[str, list[ElementTree.Element]]:
    found: dict[str, list[ElementTree.Element]] = {}
    for svg in re.findall(r"<svg class=\"chart\".*?</svg>", html, flags=re.S):
        element = ElementTree.fromstring(svg)  # each chart is well-formed XML
        found.setdefault(element.get("data-chart", ""), []).append(element)
    return found


def marks(svg: ElementTree.Element, cls: str) -> list[ElementTree.Element]:
    return [e for e in svg.iter() if e.get("class") == cls]


def test_class_report_draws_every_plot_from_the_class_numbers(data) -> None:
    html = class_report(data, "六(1)班")
    charts = charts_of(html)
    assert set(charts) == {"heatmap", "stacked-bars", "bars", "scatter", "dot-strip"}
    students = data.sheets[data.sheets["class_name"] == "六(1)班"]["student_id"].unique()
    heat = charts["heatmap"][0]
    mastery = data.mastery[data.mastery["student_id"].isin(students)]
    points = mastery.loc[mastery["n_responses"] > 0, "knowledge_point"].nunique()
    cells = marks(heat, "cell")
    assert len(cells) == len(students) * points == int(heat.get("data-rows")) * int(heat.get("data-columns"))
    assert sum(int(c.get("data-n")) for c in cells) == mastery["n_responses"].sum()
    assert len(charts["stacked-bars"]) == data.sheets["assignment_id"].nunique() == 8 + 3  # math, Chinese
    for bar_chart in charts["stacked-bars"]:
        segments = marks(bar_chart, "segment")
        assert segments and sum(float(s.get("data-share")) for s in segments) == pytest.approx(
            int(bar_chart.get("data-bars")), abs=0.01 * len(segments))
    days = daily_minutes(data.sheets[data.sheets["class_name"] == "六(1)班"])
    dots = marks(charts["dot-strip"][0], "dot")
    assert len(dots) == days["minutes"].notna().sum() and days["minutes"].isna().any()  # unknown days not drawn at 0
    assert sum(d.get("data-over") == "1" for d in dots) == (days["over"] > 0).sum() > 0
    hours = next(c for c in charts["bars"] if "开始" in c.get("aria-label", ""))
    started = data.sheets[(data.sheets["class_name"] == "六(1)班") & data.sheets["started"].notna()]
    assert sum(float(b.get("data-value")) for b in marks(hours, "bar")) == (started["started"].dt.hour >= 14).sum()


def test_reports_are_self_contained(data) -> None:
    for html in (class_report(data, "六(2)班"), student_report(data, "c2s01"), overview_report(data)):
        assert "<script" not in html and "<link" not in html and "@import" not in html
        assert not re.search(r"(src|href)=\"?(https?:)?//", html)
        assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html


def test_student_report_lists_the_mistakes_with_a_practice_item_and_typeset_stems(data) -> None:
    html = student_report(data, "c1s02")
    mine = data.answers[(data.answers["student_id"] == "c1s02") & (data.answers["status"] == "graded")
                        & (data.answers["share"] < 1)]
    notebook = html.split("<h2>错题本</h2>")[1]
    assert notebook.count("<tr>") == len(mine) + 1
    assert "(1/" not in notebook and '<span class="frac">' in notebook
    charts = charts_of(html)
    assert {"bars", "scatter"} <= set(charts)


def test_overview_compares_the_classes(data) -> None:
    html = overview_report(data, school="示范小学")
    assert "六(1)班" in html and "六(2)班" in html
    heat = charts_of(html)["heatmap"][0]
    assert heat.get("data-rows") == "2"


def test_unknown_class_or_student_is_refused_with_what_is_known(data) -> None:
    with pytest.raises(HomeworkError, match=r"no homework of class '七\(1\)班'.*六\(1\)班"):
        class_report(data, "七(1)班")
    with pytest.raises(HomeworkError, match="no homework of student"):
        student_report(data, "nobody")


def test_report_command_writes_the_class_and_student_reports_of_a_scanned_store(scanned_store, tmp_path) -> None:
    store, _ = scanned_store
    base = ["report", "--db", sqlite_url(store), "--bank", str(BANK)]
    run = CliRunner().invoke(app, [*base, "六(3)班", "--out", str(tmp_path / "class.html")])
    assert run.exit_code == 0, run.output
    html = (tmp_path / "class.html").read_text(encoding="utf-8")
    assert "六(3)班" in html and "韩梅梅" in html and "2026-11-23" in html
    assert len(marks(charts_of(html)["heatmap"][0], "cell")) > 0
    run = CliRunner().invoke(app, [*base, "--student", "s02", "--out", str(tmp_path / "s02.html")])
    assert run.exit_code == 0, run.output and "韩梅梅" in (tmp_path / "s02.html").read_text(encoding="utf-8")
    run = CliRunner().invoke(app, [*base, "--overview", "--out", str(tmp_path / "all.html")])
    assert run.exit_code == 0, run.output


def test_report_command_errors_are_plain(scanned_store, tmp_path) -> None:
    store, _ = scanned_store
    run = CliRunner().invoke(app, ["report", "六(3)班", "--bank", str(BANK)])  # the default store: none yet
    assert run.exit_code == 2 and "no store at" in run.output and str(tmp_path / "user-data") in run.output
    run = CliRunner().invoke(app, ["report", "九(9)班", "--db", sqlite_url(store), "--bank", str(BANK)])
    assert run.exit_code == 2 and "no homework of class" in run.output
    run = CliRunner().invoke(app, ["report", "--db", sqlite_url(store), "--bank", str(BANK)])
    assert run.exit_code == 2 and "name a CLASS" in run.output
    run = CliRunner().invoke(app, ["report", "六(3)班", "--db", sqlite_url(store), "--bank", str(BANK),
                                   "--ledger", str(tmp_path / "ledger.json")])
    assert run.exit_code == 2 and "--ledger is gone" in run.output and "homework db import-ledger" in run.output
