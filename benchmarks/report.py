"""Stage 3 report speed and size: a class of 50 students x 30 assignments (targets: <= 1 s, <= 2 MB).

    python benchmarks/report.py                 # a table
    python benchmarks/report.py --json          # one {"figure", "value", "unit"} object per line
    python benchmarks/report.py --students 50 --assignments 30 --out class.html

The class is simulated (``homework._simulated``: the fixture bank's real items answered by
``recommender.LearnerSimulator`` students, plus a Chinese assignment every third day) and written as
the store's own answer rows. Timed: building the frames from those rows (``report_data``), then each
report from the frames (median of ``--repeat`` runs), in wall time and in this process's CPU time. The
machine is shared, so the load average is printed with the figures; CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from homework import ItemBank  # noqa: E402
from homework._reports import class_report, overview_report, report_data, student_report  # noqa: E402
from homework._simulated import simulate_records  # noqa: E402


def _median_seconds(fn, repeat: int) -> tuple[float, float, object]:  # noqa: ANN001 - any callable
    """Median wall time, median CPU time of this process (less disturbed by other work), last result."""
    wall, cpu, out = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu), out


def measure(students: int, assignments: int, repeat: int, out: Path | None) -> list[tuple[str, float, str]]:
    """The figures, as (name, value, unit)."""
    bank = ItemBank()
    bank.import_file(ROOT / "fixtures" / "bank" / "items.csv")
    records = simulate_records(bank, classes=[("六(1)班", students)], assignments=assignments)
    frames_s, frames_cpu, data = _median_seconds(lambda: report_data(records, bank), repeat)
    class_s, class_cpu, html = _median_seconds(lambda: class_report(data, "六(1)班"), repeat)
    student_s, _, _ = _median_seconds(lambda: student_report(data, "c1s01"), repeat)
    overview_s, _, _ = _median_seconds(lambda: overview_report(data), repeat)
    if out is not None:
        out.write_text(str(html), encoding="utf-8")
    sheets = data.sheets
    return [
        ("students", float(students), ""), ("assignments (math + Chinese)", float(sheets["assignment_id"].nunique()), ""),
        ("answer rows", float(len(records.answers)), ""),
        ("frames from answer rows (report_data), wall", frames_s, "s"),
        ("class report from the frames, wall", class_s, "s"),
        ("class report total, wall (target <= 1 s)", frames_s + class_s, "s"),
        ("class report total, CPU time of this process", frames_cpu + class_cpu, "s"),
        ("class report HTML size (target <= 2 MB)", len(str(html).encode()) / 1e6, "MB"),
        ("student report from the frames, wall", student_s, "s"),
        ("overview report from the frames, wall", overview_s, "s"),
        ("load average (1 min) at the end", os.getloadavg()[0], ""),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--assignments", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, help="also write the class report here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    for name, value, unit in measure(args.students, args.assignments, args.repeat, args.out):
        if args.json:
            print(json.dumps({"figure": name, "value": round(value, 4), "unit": unit}, ensure_ascii=False))
        else:
            print(f"{name:<55} {value:>10.3f} {unit}")


if __name__ == "__main__":
    main()
