"""Foreign sheets: OMRChecker's public samples read through the import, against OMRChecker's snapshot,
and CPU per sheet side by side with OMRChecker itself.

    python benchmarks/foreign_sheets.py                          # accuracy table (+ speed if OMRChecker is here)
    python benchmarks/foreign_sheets.py --omrchecker ~/OMRChecker   # a checkout with its venv in .venv/
    python benchmarks/foreign_sheets.py --omrchecker-python PATH    # its interpreter, if the venv is elsewhere
    python benchmarks/foreign_sheets.py --rounds 3                  # repeat the timed runs, keep the fastest

Data: ``../shared/data/omr/omrchecker`` (OMRChecker's ``samples/`` and its snapshot test results
``expected_results_test_all_samples.ambr``), or ``--data DIR`` (such a folder, or an OMRChecker
checkout, whose ``samples/community`` sheets are then read too). Every sample image named in the
snapshot and present on disk is imported from its folder (the nearest ``template.json`` above it,
as OMRChecker finds it) and read; every answer is compared with the snapshot's. Sample 6 is read a
second time with its ``template_fb_align.json`` (feature alignment to the reference image).

Speed (issue 15: our CPU per sheet <= half of OMRChecker's on the same images, in the same run):
both tools run in their own process over a copy of the same sample tree; CPU is user+system time of
that process (``resource.getrusage(RUSAGE_CHILDREN)``), divided by the sheets read, with and
without the start-up (interpreter, imports) measured by a run over no sheets. OMRChecker runs with
``show_image_level`` 0 in every ``config.json`` (no display work: its best case). OMRChecker is
never installed by this script: give ``--omrchecker`` (a checkout of github.com/Udayraj123/OMRChecker
with its requirements installed in ``.venv``) or set ``OMRCHECKER_DIR``; without it the speed part
says so and is skipped.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "omr" / "omrchecker"
SNAPSHOT = "expected_results_test_all_samples.ambr"


@dataclass
class Sheet:
    """One sample sheet of the snapshot: its image and OMRChecker's expected answers and score."""

    test: str
    image: Path
    expected: dict[str, str]
    score: float


@dataclass
class Outcome:
    sheet: Sheet
    template: str
    values: dict[str, str] = field(default_factory=dict)
    review: list[str] = field(default_factory=list)
    score: float | None = None
    error: str = ""
    seconds: float = 0.0
    methods: tuple[str, ...] = ()

    @property
    def disagreements(self) -> list[tuple[str, str, str]]:
        return [(q, e, self.values.get(q, "?")) for q, e in self.sheet.expected.items() if self.values.get(q) != e]


def snapshot_path(data: Path) -> Path:
    """The snapshot: ``DATA/expected_results_test_all_samples.ambr`` or, in an OMRChecker checkout, its own."""
    checkout = data / "src" / "tests" / "__snapshots__" / "test_all_samples.ambr"
    return checkout if checkout.is_file() and not (data / SNAPSHOT).is_file() else data / SNAPSHOT


def snapshot_sheets(data: Path) -> list[Sheet]:
    """Every Results row of the snapshot (``.ambr``) whose image is on disk."""
    text = snapshot_path(data).read_text(encoding="utf-8")
    sheets: list[Sheet] = []
    for test, body in re.findall(r"# name: (\S+)\n(.*?)# ---", text, re.S):
        for block in re.findall(r"'[^']*Results/Results_[^']*\.csv': '''\n(.*?)'''", body, re.S):
            lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
            for row in csv.DictReader(io.StringIO("\n".join(lines))):
                image = data / row["input_path"]
                expected = {k: v for k, v in row.items() if k not in ("file_id", "input_path", "output_path", "score")}
                sheets.append(Sheet(test, image, expected, float(row["score"])))
    return sheets


def template_dir(image: Path) -> Path:
    for folder in image.parents:
        if (folder / "template.json").is_file():
            return folder
    raise FileNotFoundError(f"no template.json above {image}")


def read_sheet(sheet: Sheet, template: str = "template.json") -> Outcome:

    from scanning import ScanningError, import_omrchecker, load_foreign_image, read_foreign_page

    folder = template_dir(sheet.image)
    parts = (folder / template).parts
    outcome = Outcome(sheet, "/".join(parts[len(parts) - 1 - parts[::-1].index("samples") + 1:]))
    try:
        spec = import_omrchecker(folder, template=template)
        start = time.process_time()
        reading = read_foreign_page(spec, load_foreign_image(spec, sheet.image.read_bytes(), str(sheet.image)))
    except ScanningError as exc:
        outcome.error = str(exc)
        return outcome
    outcome.seconds = time.process_time() - start
    outcome.values = reading.values()
    outcome.review = [a.field_id for a in reading.answers if a.status == "needs_review"]
    outcome.methods = reading.page.methods
    if spec.keys:
        outcome.score = sum(k.score(outcome.values.get(q, "")) for q, k in spec.keys.items())
    return outcome


def accuracy(sheets: list[Sheet]) -> list[Outcome]:
    outcomes = [read_sheet(s) for s in sheets]
    fb = [s for s in sheets if (template_dir(s.image) / "template_fb_align.json").is_file()]
    outcomes += [read_sheet(s, "template_fb_align.json") for s in fb]
    return outcomes


def print_accuracy(outcomes: list[Outcome], data: Path) -> tuple[int, int]:
    print(f"{'sample image':52s} {'template':44s} {'answers':>7s} {'agree':>5s} {'review':>6s} "
          f"{'score (OMRChecker)':>18s} {'ms':>5s}  registration")
    total = agree = 0
    for o in outcomes:
        name = str(o.sheet.image.relative_to(data / "samples"))
        n = len(o.sheet.expected)
        ok = n - len(o.disagreements) if not o.error else 0
        total, agree = total + n, agree + ok
        score = "-" if o.score is None else f"{o.score:g} ({o.sheet.score:g})"
        print(f"{name:52s} {o.template:44s} {n:7d} {ok:5d} {len(o.review):6d} {score:>18s} "
              f"{o.seconds * 1000:5.0f}  {o.error or ', '.join(o.methods)}")
        for question, expected, got in o.disagreements[:10] if not o.error else []:
            print(f"    {question}: OMRChecker {expected!r}, this library {got!r}")
        if o.review:
            print(f"    to review: {', '.join(f'{q}={o.values.get(q)!r}' for q in o.review)}")
    print(f"answers agreeing with OMRChecker's snapshot: {agree} of {total}")
    return agree, total


# -- speed ----------------------------------------------------------------------------------------

DRIVER = """
import sys, types
import cv2, screeninfo
screeninfo.get_monitors = lambda: [types.SimpleNamespace(width=1920, height=1080, x=0, y=0)]
cv2.imshow = lambda *a, **k: None
cv2.waitKey = lambda *a, **k: ord("q")
cv2.destroyAllWindows = lambda *a, **k: None
sys.path.insert(0, sys.argv[1])
from main import entry_point_for_args
entry_point_for_args({"autoAlign": False, "debug": False, "input_paths": sys.argv[2:-1],
                      "output_dir": sys.argv[-1], "setLayout": False, "silent": True})
"""
"""Runs OMRChecker's own entry point headless (its display calls made no-ops); nothing of it is copied."""

OURS = """
import sys, json
from pathlib import Path
import cv2
from scanning import import_omrchecker, load_foreign_image, read_foreign_page, ScanningError
count, specs = 0, {}
for line in sys.stdin:
    folder, image = json.loads(line)
    try:
        if folder not in specs:  # one import per template, as OMRChecker loads one per folder
            specs[folder] = import_omrchecker(folder)
        gray = load_foreign_image(specs[folder], Path(image).read_bytes(), image)
        read_foreign_page(specs[folder], gray)
    except ScanningError:
        pass
    count += 1
print(count)
"""
"""This library over the same sheets: import each folder's template, read each image (file to answers)."""


def child_cpu(command: list[str], stdin: str = "", cwd: Path | None = None) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(command, input=stdin, capture_output=True, text=True, cwd=cwd, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {result.stderr[-800:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def omrchecker_tree(data: Path, work: Path) -> Path:
    """A copy of the samples with display switched off in every config.json."""
    tree = work / "samples"
    shutil.copytree(data / "samples", tree)
    for config in tree.rglob("config.json"):
        content = json.loads(config.read_text())
        content.setdefault("outputs", {}).update(show_image_level=0, save_image_level=0)
        config.write_text(json.dumps(content))
    return tree


def speed(sheets: list[Sheet], data: Path, checkout: Path, python: Path, rounds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tree = omrchecker_tree(data, work)
        driver = work / "drive_omrchecker.py"
        driver.write_text(DRIVER)
        roots = sorted({str(tree / s.image.relative_to(data / "samples").parts[0]) for s in sheets})
        empty = work / "empty"
        empty.mkdir()
        feed = "".join(json.dumps([str(template_dir(s.image)), str(s.image)]) + "\n" for s in sheets)
        figures: dict[str, list[float]] = {"omrchecker": [], "omrchecker_startup": [], "ours": [], "ours_startup": []}
        for round_ in range(rounds):
            out = work / f"out{round_}"
            figures["omrchecker"].append(child_cpu([str(python), str(driver), str(checkout), *roots, str(out)],
                                                   cwd=checkout))
            figures["omrchecker_startup"].append(child_cpu([str(python), str(driver), str(checkout), str(empty),
                                                            str(work / f"empty_out{round_}")], cwd=checkout))
            figures["ours"].append(child_cpu([sys.executable, "-c", OURS], stdin=feed, cwd=REPO))
            figures["ours_startup"].append(child_cpu([sys.executable, "-c", OURS], stdin="", cwd=REPO))
    best = {k: min(v) for k, v in figures.items()}
    best["sheets"] = float(len(sheets))
    return best


def print_speed(figures: dict[str, float]) -> None:
    n = figures["sheets"]
    ours, theirs = figures["ours"] / n, figures["omrchecker"] / n
    ours_net = (figures["ours"] - figures["ours_startup"]) / n
    theirs_net = (figures["omrchecker"] - figures["omrchecker_startup"]) / n
    print(f"CPU per sheet over {n:.0f} sheets, whole run incl. start-up: this library {ours * 1000:.0f} ms, "
          f"OMRChecker {theirs * 1000:.0f} ms (ratio {ours / theirs:.2f}; target <= 0.5)")
    print(f"CPU per sheet without start-up (this library {figures['ours_startup']:.2f} s, OMRChecker "
          f"{figures['omrchecker_startup']:.2f} s): this library {ours_net * 1000:.0f} ms, OMRChecker "
          f"{theirs_net * 1000:.0f} ms (ratio {ours_net / theirs_net:.2f})")


def find_omrchecker(arg: str | None, python_arg: str | None) -> tuple[Path, Path] | None:
    where = arg or os.environ.get("OMRCHECKER_DIR")
    if not where:
        return None
    checkout = Path(where).expanduser()
    python = Path(python_arg) if python_arg else checkout / ".venv" / "bin" / "python"
    if not (checkout / "main.py").is_file() or not python.is_file():
        print(f"OMRChecker not usable at {checkout} (need main.py and {python})")
        return None
    return checkout, python


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--omrchecker", help="an OMRChecker checkout with its venv in .venv/")
    parser.add_argument("--omrchecker-python", help="OMRChecker's interpreter, if not CHECKOUT/.venv/bin/python")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    if not snapshot_path(args.data).is_file():
        print(f"OMRChecker samples absent: {snapshot_path(args.data)} does not exist; nothing to measure")
        return 0
    sys.path.insert(0, str(REPO))
    all_rows = snapshot_sheets(args.data)
    sheets = [s for s in all_rows if s.image.is_file()]
    print(f"data: {args.data} ({len(sheets)} of {len(all_rows)} snapshot sheets have their image here; "
          f"the others are OMRChecker's community samples, not copied)")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 shared cores: timings are disturbed)")
    agree, total = print_accuracy(accuracy(sheets), args.data)
    found = find_omrchecker(args.omrchecker, args.omrchecker_python)
    if found is None:
        print("speed: OMRChecker is absent (give --omrchecker CHECKOUT or set OMRCHECKER_DIR); not compared")
    else:
        print_speed(speed(sheets, args.data, *found, max(1, args.rounds)))
    return 0 if agree == total else 1


if __name__ == "__main__":
    sys.exit(main())
