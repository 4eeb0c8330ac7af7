"""Answer-sheet rendering speed: layout, PDF, rasterising at 200 dpi, PNG + JSON, per page.

    python benchmarks/render.py            # a table
    python benchmarks/render.py --json     # one {"figure", "value", "unit"} object per line

Runs on ``fixtures/sheets/example.json`` (every field type, Chinese + English) with the class
repeated to ``--students`` students; fonts are loaded once before timing (about 0.3 s, once per
process). Single process; figures measured while other work shares the machine are pessimistic.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import scanning  # noqa: E402
from scanning._render import _pages, rasterize, write_pdf  # noqa: E402
from scanning._text import register_fonts  # noqa: E402


def _spec(students: int) -> scanning.SheetSpec:
    data = json.loads((ROOT / "fixtures" / "sheets" / "example.json").read_text(encoding="utf-8"))
    data["students"] = [{"id": f"s{i:04d}", "name": f"学生 Student {i}"} for i in range(students)]
    return scanning.load_spec(data)


def measure(students: int, dpi: float) -> list[tuple[str, float, str]]:
    """The figures, as (name, value, unit)."""
    register_fonts()
    spec = _spec(students)
    start = time.perf_counter()
    pages = _pages(spec)
    layout = time.perf_counter() - start
    buffer = io.BytesIO()
    start = time.perf_counter()
    write_pdf(pages, buffer)
    pdf = time.perf_counter() - start
    start = time.perf_counter()
    images = list(rasterize(buffer.getvalue(), dpi))
    raster = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        scanning.render_png(spec, tmp, dpi)
        png = time.perf_counter() - start
    n = len(images)
    return [
        ("pages", n, "pages"),
        ("layout_ms_per_page", 1000 * layout / n, "ms"),
        ("pdf_ms_per_page", 1000 * pdf / n, "ms"),
        (f"rasterize_{dpi:g}dpi_ms_per_page", 1000 * raster / n, "ms"),
        ("pdf_plus_raster_ms_per_page", 1000 * (pdf + raster) / n, "ms"),
        (f"png_json_{dpi:g}dpi_ms_per_page", 1000 * png / n, "ms"),
        ("pdf_bytes_per_page", len(buffer.getvalue()) / n, "bytes"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--dpi", type=float, default=200.0)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args()
    figures = measure(args.students, args.dpi)
    for name, value, unit in figures:
        if args.json:
            print(json.dumps({"figure": name, "value": round(value, 2), "unit": unit}))
        else:
            print(f"{name:32s} {value:10.1f} {unit}")


if __name__ == "__main__":
    main()
