"""``homework demo``: the paper loop on the fixtures, as a sequence of small, named steps.

Each step is a function; :func:`run_demo` runs them in order and times them. For now the loop is
the paper round trip (stage 2)::

    1 load_class       the example sheet spec (fixtures/sheets/example.json), grown to a class
    2 print_sheets     every student's answer sheet, one vector PDF
    3 fill_and_scan    students answer in pencil (real handwritten MNIST digits, pencil marks);
                       pages come back from a scanner (150-300 dpi, any way round) or a phone
    4 station_uploads  the files stations post: the feeder's shuffled stack as one multi-page TIFF,
                       phone photos one by one
    5 receive_scans    intake keeps each file; each page is registered, identified from its QR
                       code, read (OMR + OCR) and graded; unsure answers go to the review queue
    6 summarise        per student score, auto-graded vs review, and a check against the truth

Steps 7-11 (:mod:`homework._demo_loop`) then run the loop from the item bank on the same class:
a timed assignment within the 双减 cap, question papers, scans, mastery per knowledge point, and
each student's next set picked by that mastery (stage 4, with A/B/C tiers).
It needs only the repository: the digits come from ``fixtures/handwriting``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homework._errors import HomeworkError
from homework.storage import DEFAULT_SCHOOL

logger = logging.getLogger(__name__)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EXAMPLE_SPEC = FIXTURES / "sheets" / "example.json"
DIGITS = FIXTURES / "handwriting" / "mnist_digits_500.npz"
_NAMES = ("王芳", "刘洋", "陈静", "杨帆", "赵敏", "黄磊", "周杰", "吴婷", "Li Na", "徐明", "孙悦", "马超",
          "胡军", "朱琳", "郭涛", "何欣")

Progress = Callable[[str, int, int], None]
"""Called as ``progress(step, done, total)`` while a step works through pages."""


@dataclass(frozen=True)
class StudentResult:
    """One student's sheet after the round trip."""

    student_id: str
    name: str
    score: float  # points auto-graded as earned
    max_score: float  # points of every keyed field
    auto_graded: int
    to_review: int


@dataclass(frozen=True)
class DemoSummary:
    """What the demo did, how long each step took, and how the reading compares with the truth."""

    assignment_id: str
    out: Path
    pdf: Path
    students: tuple[StudentResult, ...]
    pages: int
    pages_read: int
    seconds: dict[str, float]
    bubble_fields_right: tuple[int, int]  # (right, all) against the generator's truth
    handwriting_auto_right: tuple[int, int]  # (graded right, auto-graded) against the truth
    handwriting_boxes: int
    kept_for_human: tuple[str, ...] = field(default=())
    uploads: tuple[str, ...] = field(default=())
    review_by_type: dict[str, int] = field(default_factory=dict)  # open review items per field type
    review_examples: tuple[str, ...] = field(default=())  # the first items of the queue, with reasons
    loop: Any = None  # homework._demo_loop.LoopSummary: stages 1-3 from the item bank

    @property
    def confidence(self) -> float:
        """Share of answers graded without a teacher (the demo's own reading of itself)."""
        auto = sum(s.auto_graded for s in self.students)
        return auto / max(1, auto + sum(s.to_review for s in self.students))


def load_class(spec_path: Path = EXAMPLE_SPEC, students: int = 12) -> Any:
    """Step 1: the example spec with a class of ``students`` (cut, or grown with made-up pupils)."""
    from scanning import load_spec

    spec = load_spec(spec_path)
    if students == len(spec.students):
        return spec
    extra = [{"id": f"demo{i + 1:02d}", "name": _NAMES[i % len(_NAMES)]} for i in range(len(spec.students), students)]
    data = spec.model_dump(mode="json", by_alias=False, exclude_none=True)
    data["students"] = data["students"][:students] + extra
    return load_spec(data)


def print_sheets(spec: Any, out: Path) -> Path:
    """Step 2: every student's answer sheet as one printable PDF (fonts embedded)."""
    from scanning import render_pdf

    pdf = out / "sheets.pdf"
    render_pdf(spec, pdf)
    return pdf


def scan_profiles() -> list[Any]:
    """How the demo's pages come back: a school's scanner at 200/300 dpi, some sideways, two phone photos."""
    from scanning import phone, scanner

    return [scanner(200, 0), scanner(200, 2), scanner(300, 0), phone(12), scanner(150, 1), scanner(200, 0),
            scanner(200, 3), phone(8)]


def fill_and_scan(spec: Any, out: Path, seed: int, progress: Progress | None = None) -> list[Any]:
    """Step 3: students fill their sheets in pencil; the pages come back as scanned JPEG files."""
    from scanning import DigitBank, generate_set

    report = _reporter(progress, "fill_and_scan", len(spec.students))
    return generate_set(spec, out / "scans", scan_profiles(), DigitBank.load(DIGITS), seed=seed, progress=report)


def _reporter(progress: Progress | None, step: str, total: int) -> Callable[[int, int], None] | None:
    """``progress`` bound to one step, told at once that the step starts (done 0 of ``total``)."""
    if progress is None:
        return None
    progress(step, 0, total)
    return lambda done, total: progress(step, done, total)


def station_uploads(out: Path, pages: list[Any]) -> list[tuple[Path, str]]:
    """What the stations post: the sheet feeder's pages as one multi-page TIFF, phone photos one by one.

    The feeder's stack is shuffled (pages of different students, out of order), as a class's
    sheets usually are by the time they reach the scanner.
    """
    import cv2
    import numpy as np
    import tifffile

    scanned = [p for p in pages if p.kind == "scanner"]
    np.random.default_rng(len(pages)).shuffle(scanned)
    batch = out / "scans" / "scanner-batch.tif"
    with tifffile.TiffWriter(batch) as tif:
        for page in scanned:
            image = cv2.imread(str(out / "scans" / page.file), cv2.IMREAD_GRAYSCALE)
            tif.write(image, compression="zlib", compressionargs={"level": 1})
    photos = [(out / "scans" / p.file, "phone") for p in pages if p.kind != "scanner"]
    return ([(batch, "scanner")] if scanned else []) + photos


def receive_scans(spec: Any, uploads: list[tuple[Path, str]], out: Path, pages: int,
                  progress: Progress | None = None) -> tuple[Any, list[Any]]:
    """Step 4: stations post their files (kept and queued), a worker reads them: each page is identified
    and graded; unsure -> review. All through the service, as ``homework serve`` does it."""
    service = demo_service(out / "store")
    service.intake().register(spec)
    return service.intake(), receive_all(service, uploads, pages, _reporter(progress, "receive_scans", pages))


def demo_service(folder: Path) -> Any:
    """The service over a fresh SQLite store in ``folder`` (the demo's own, with its OCR models)."""
    from homework._service import HomeworkService
    from homework.storage import SQLITE_FILE, open_engine, sqlite_url

    for old in folder.glob(f"{SQLITE_FILE}*"):  # a run before this one: start again from nothing
        old.unlink()
    return HomeworkService(open_engine(sqlite_url(folder)))


def receive_all(service: Any, uploads: list[tuple[Path, str]], pages: int,
                report: Callable[[int, int], None] | None = None) -> list[Any]:
    """Every upload accepted by ``service``, then its jobs run in this process (the demo's worker),
    oldest first, with ``report(done, pages)`` after each page; the uploads' reports."""
    reports, done = [], 0

    def one_page(_outcome: Any) -> None:
        nonlocal done
        done += 1
        if report:
            report(done, pages)

    for path, station in uploads:
        service.accept_upload(DEFAULT_SCHOOL, path.read_bytes(), name=path.name, station=station)
    while (run := service.run_next_job("demo", progress=one_page)) is not None:
        if run.report is None:
            raise HomeworkError(f"the demo's scan job {run.job.job_id} failed: {run.error}")
        reports.append(run.report)
    return reports


def summarise(spec: Any, out: Path, pdf: Path, intake: Any, reports: list[Any], truth: list[Any],
              seconds: dict[str, float]) -> DemoSummary:
    """Step 5: per student score and review load, plus the reading checked against the truth."""
    answers = intake.store.answers(spec.assignment_id)
    students = tuple(_student_result(spec, s, [a for a in answers if a["student_id"] == s.id]) for s in spec.students)
    bubbles, handwriting, boxes = _against_truth(spec, answers, truth)
    kept = tuple(f"{p.source}: {p.status}" for r in reports for p in r.kept_for_human)
    read = sum(p.status == "read" for r in reports for p in r.pages)
    types = {f.id: f.type for f in spec.fields}
    review: dict[str, int] = {}
    queue = intake.store.reviews(assignment_id=spec.assignment_id)
    for item in queue:
        review[types[item.field_id]] = review.get(types[item.field_id], 0) + 1
    why = {(a["student_id"], a["field_id"]): a["read_reason"] for a in answers}
    examples = tuple(f"{i.student_id} q{spec.field(i.field_id).printed_label}: {why.get((i.student_id, i.field_id)) or i.reason}"
                     for i in queue[:5])
    return DemoSummary(spec.assignment_id, out, pdf, students, len(truth), read, seconds, bubbles, handwriting,
                       boxes, kept, tuple(f"{r.name} ({len(r.pages)} pages)" for r in reports), review, examples)


def _student_result(spec: Any, student: Any, rows: list[dict[str, Any]]) -> StudentResult:
    keyed = [f for f in spec.fields if f.key is not None]
    score = sum(r["score"] or 0.0 for r in rows if r["grade_status"] == "graded")
    auto = sum(r["grade_status"] == "graded" for r in rows)
    review = sum(r["grade_status"] == "needs_review" for r in rows)
    return StudentResult(student.id, student.name, float(score), float(sum(f.key.points for f in keyed)), auto, review)


def _against_truth(spec: Any, answers: list[dict[str, Any]], truth: list[Any]) -> tuple[tuple[int, int], tuple[int, int], int]:
    from scanning import Answer, grade

    rows = {(a["student_id"], a["field_id"]): a for a in answers}
    bubbles_right = bubbles = auto = auto_right = boxes = 0
    for page in truth:
        for fid, fill in page.fields.items():
            row = rows.get((page.student_id, fid))
            if row is None:
                continue
            if fill.written is None and spec.field(fid).type != "handwriting":
                bubbles += 1
                bubbles_right += row["value"] == fill.expected and row["read_status"] == fill.status
                continue
            boxes += 1
            if row["grade_status"] == "graded" and fill.expected is not None:
                auto += 1
                should = grade(spec.field(fid).key, Answer(fill.expected))
                auto_right += abs((row["score"] or 0.0) - should.score) < 1e-9
    return (bubbles_right, bubbles), (auto_right, auto), boxes


def run_demo(out: Path, *, seed: int = 2026, students: int = 12, progress: Progress | None = None) -> DemoSummary:
    """Run every step in order into the folder ``out`` (created; earlier demo files are replaced)."""
    import shutil

    out = Path(out)
    for stale in ("scans", "store", "homework"):
        shutil.rmtree(out / stale, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}

    def timed(name: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        start = time.perf_counter()
        result = fn(*args, **kw)
        seconds[name] = time.perf_counter() - start
        logger.info("demo step %s took %.2f s", name, seconds[name])
        return result

    spec = timed("load_class", load_class, EXAMPLE_SPEC, students)
    pdf = timed("print_sheets", print_sheets, spec, out)
    truth = timed("fill_and_scan", fill_and_scan, spec, out, seed, progress)
    uploads = timed("station_uploads", station_uploads, out, truth)
    intake, reports = timed("receive_scans", receive_scans, spec, uploads, out, len(truth), progress)
    summary = summarise(spec, out, pdf, intake, reports, truth, seconds)
    from dataclasses import replace

    from homework._demo_loop import run_loop

    return replace(summary, loop=run_loop(spec, out, seed, timed, progress))
