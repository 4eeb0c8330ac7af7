"""The reports opened in a real browser: Debian's chromium driven by Playwright (no browser downloaded).

Each report is opened from a file with every network request refused, and every plot is checked as
drawn: it has a size on the page, its marks are laid out, and the drawn sizes follow the numbers of
the frames behind them (a bar twice the count is twice as tall).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from homework import ItemBank, daily_minutes
from homework._reports import class_report, overview_report, report_data, student_report, write_report
from homework._simulated import simulate_records

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CLASS = "六(1)班"

# Every chart as drawn: kind, size on the page, and its marks with their data and laid-out boxes.
CHARTS_JS = """() => [...document.querySelectorAll('svg.chart')].map(svg => {
  const box = svg.getBoundingClientRect();
  const marks = [...svg.querySelectorAll('[data-value],[data-share],[data-x]')].map(m => {
    const b = m.getBBox();
    return {cls: m.getAttribute('class'), value: m.getAttribute('data-value'), share: m.getAttribute('data-share'),
            over: m.getAttribute('data-over'), key: m.getAttribute('data-key'), w: b.width, h: b.height};
  });
  return {kind: svg.dataset.chart, title: svg.getAttribute('aria-label'), w: box.width, h: box.height, marks};
})"""


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], object]:
    bank = ItemBank()
    bank.import_file(FIXTURES / "bank" / "items.csv")
    data = report_data(simulate_records(bank, classes=[(CLASS, 15), ("六(2)班", 10)], assignments=6, seed=4), bank)
    out = tmp_path_factory.mktemp("reports")
    paths = {"class": write_report(class_report(data, CLASS), out / "class.html"),
             "student": write_report(student_report(data, "c1s02"), out / "student.html"),
             "overview": write_report(overview_report(data), out / "overview.html")}
    return paths, data


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (apt-get install chromium; `make test` installs it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield chromium
        chromium.close()


def drawn(browser, path: Path) -> list[dict]:  # noqa: ANN001
    page = browser.new_page()
    outside: list[str] = []
    errors: list[str] = []
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
               else (outside.append(route.request.url), route.abort()))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    charts = page.evaluate(CHARTS_JS)
    page.close()
    assert outside == [] and errors == []
    return charts


def test_every_plot_of_every_report_is_drawn(browser, reports) -> None:  # noqa: ANN001
    paths, _ = reports
    for name, path in paths.items():
        charts = drawn(browser, path)
        assert charts, name
        for chart in charts:
            assert chart["w"] > 100 and chart["h"] > 40, (name, chart["title"])
            assert chart["marks"], (name, chart["title"])
            assert any(m["w"] > 0 and m["h"] > 0 for m in chart["marks"]), (name, chart["title"])


def test_class_plots_show_the_class_numbers(browser, reports) -> None:  # noqa: ANN001
    paths, data = reports
    charts = drawn(browser, paths["class"])
    sheets = data.sheets[data.sheets["class_name"] == CLASS]
    heat = next(c for c in charts if c["kind"] == "heatmap")
    mastery = data.mastery[data.mastery["student_id"].isin(sheets["student_id"])]
    shown = mastery[mastery["knowledge_point"].isin(mastery.loc[mastery["n_responses"] > 0, "knowledge_point"])]
    assert sorted(round(float(m["value"]), 3) for m in heat["marks"]) == sorted(shown["p_correct"].round(3))
    assert len({(m["w"], m["h"]) for m in heat["marks"]}) == 1  # every cell drawn the same size

    hours = next(c for c in charts if c["kind"] == "bars" and "开始" in c["title"])
    values = [float(m["value"]) for m in hours["marks"]]
    assert sum(values) == (sheets["started"].dt.hour >= 14).sum()
    tallest = max(range(len(values)), key=values.__getitem__)
    for value, mark in zip(values, hours["marks"], strict=True):  # heights follow the counts
        assert mark["h"] == pytest.approx(hours["marks"][tallest]["h"] * value / values[tallest], abs=0.6)

    for bars in (c for c in charts if c["kind"] == "stacked-bars"):
        widths = [m["w"] for m in bars["marks"]]
        shares = [float(m["share"]) for m in bars["marks"]]
        scale = sum(widths) / sum(shares)
        assert widths == pytest.approx([s * scale for s in shares], abs=0.3)
        assert any(m["key"] == "1" for m in bars["marks"])

    strip = next(c for c in charts if c["kind"] == "dot-strip")
    dots = [m for m in strip["marks"] if m["cls"] == "dot"]
    days = daily_minutes(sheets)
    assert sum(m["over"] == "1" for m in dots) == (days["over"] > 0).sum()
    assert len(dots) == days["minutes"].notna().sum()
    assert [m["value"] for m in strip["marks"] if m["cls"] == "reference"] == ["60"]  # the grade 6 cap
