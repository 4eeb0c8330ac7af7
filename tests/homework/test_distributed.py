"""The distributed engine for real: Celery worker processes, a Redis broker and PostgreSQL.

Each test starts ``homework worker --celery`` processes against a fresh PostgreSQL database and the
session's Redis server, sends real scanned pages, and checks what the store holds afterwards: every
page once, its job done (or failed and kept, for a poison file), mastery evidence once per graded
answer, and a model version written by the refit task on the slow queue.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, func, select

from homework import CeleryConfig, CeleryDispatcher, HomeworkService, make_celery
from homework.storage import FieldPoint, MasteryStore, ModelVersions, open_engine
from homework.storage import _tables as t

REPO = Path(__file__).resolve().parents[2]
DIGITS = REPO / "fixtures" / "handwriting" / "mnist_digits_500.npz"
SCHOOL = "sch-1"


def _spec(name: str, students: int, boxes: bool) -> dict[str, object]:
    if boxes:
        fields = [{"id": f"h{i}", "type": "handwriting", "kind": "number", "key": {"values": [v]}}
                  for i, v in enumerate(["3/4", "12", "-2", "0.5"])]
    else:
        fields = [{"id": f"q{i}", "type": "single_choice", "options": 4, "key": {"correct": "ABCD"[i % 4]}}
                  for i in range(10)]
    return {"assignment_id": name, "title": name, "fields": fields,
            "students": [{"id": f"{name}-s{i}", "name": f"学生{i}"} for i in range(students)]}


def _pages(spec: dict[str, object], folder: Path) -> list[bytes]:
    from scanning import DigitBank, generate_set, scanner

    pages = generate_set(spec, folder, [replace(scanner(200, 0), jpeg_quality=(80, 80))], DigitBank.load(DIGITS), seed=3)
    return [(folder / p.file).read_bytes() for p in pages]


def _tiff(jpegs: list[bytes]) -> bytes:
    """Several scanned pages in one multi-page TIFF (as a sheet feeder sends them)."""
    import cv2
    import tifffile

    out = io.BytesIO()
    with tifffile.TiffWriter(out) as tif:
        for data in jpegs:
            tif.write(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE), compression="zlib")
    return out.getvalue()


def _register(service: HomeworkService, spec: dict[str, object], subject: str = "math") -> None:
    from scanning import load_spec

    loaded = load_spec(spec)
    intake = service.intake(SCHOOL)
    with intake.store.transaction() as db:
        intake.register(loaded, db=db)
        intake.mastery.put_field_points(db, loaded.assignment_id, [
            FieldPoint(f.id, f"item-{f.id}", subject, 5, (f"kp-{f.id}",), f.type == "handwriting")
            for f in loaded.fields])


class Workers:
    """``homework worker --celery`` processes, each in a process group of its own (so kill -9 takes it whole)."""

    def __init__(self, database_url: str, broker_url: str, folder: Path, **env: str) -> None:
        self.database_url, self.broker_url, self.folder, self.env = database_url, broker_url, folder, env
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, queues: str = "bubbles,boxes") -> subprocess.Popen[bytes]:
        log = open(self.folder / f"worker-{len(self.processes)}.log", "wb")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "HOMEWORK_LEASE": "4", "HOMEWORK_SWEEP_EVERY": "1", **self.env}
        process = subprocess.Popen(
            [sys.executable, "-c", "from api import main; main()", "worker", "--celery", "--database-url",
             self.database_url, "--broker-url", self.broker_url, "--queues", queues],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.folder.glob("worker-*.log")))


@pytest.fixture
def engine(postgres_url: str) -> Engine:
    return open_engine(postgres_url)


@pytest.fixture
def workers(postgres_url: str, redis_url: str, tmp_path: Path) -> Iterator[Workers]:
    started = Workers(postgres_url, redis_url, tmp_path)
    yield started
    started.stop()


def _service(engine: Engine, postgres_url: str, redis_url: str) -> HomeworkService:
    service = HomeworkService(engine)
    config = replace(CeleryConfig(), broker_url=redis_url, database_url=postgres_url, lease=4.0)
    service.dispatch = CeleryDispatcher(make_celery(config), service)
    return service


def _wait_jobs(engine: Engine, workers: Workers, *, timeout: float = 240.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as db:
            counts = dict(db.execute(select(t.jobs.c.status, func.count()).group_by(t.jobs.c.status)).all())
        if not counts.get("queued") and not counts.get("running"):
            return {str(k): int(v) for k, v in counts.items()}
        time.sleep(0.2)
    raise AssertionError(f"jobs did not finish: {counts}\n{workers.logs()}")


def _count(engine: Engine, table: t.Table, *where: object) -> int:
    with engine.connect() as db:
        return int(db.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def test_celery_workers_read_every_page_once_route_by_sheet_and_add_mastery_once(
        engine: Engine, postgres_url: str, redis_url: str, workers: Workers, tmp_path: Path) -> None:
    service = _service(engine, postgres_url, redis_url)
    bubbles, boxes = _spec("bub", 6, boxes=False), _spec("box", 2, boxes=True)
    _register(service, bubbles)
    _register(service, boxes)
    files = _pages(bubbles, tmp_path / "bub") + _pages(boxes, tmp_path / "box")
    workers.start()
    workers.start()
    accepted = [service.accept_upload(SCHOOL, data, name=f"p{i}.jpg") for i, data in enumerate(files)]
    again = service.accept_upload(SCHOOL, files[0], name="again.jpg")  # the same bytes: no second job
    assert again.duplicate_of == accepted[0].upload_id
    assert _wait_jobs(engine, workers) == {"done": 8}
    with engine.connect() as db:
        queues = dict(db.execute(select(t.jobs.c.queue, func.count()).group_by(t.jobs.c.queue)).all())
    assert queues == {"bubbles": 6, "boxes": 2}
    assert _count(engine, t.pages) == 8 and _count(engine, t.pages, t.pages.c.status == "read") == 8
    graded = _count(engine, t.answers, t.answers.c.grade_status == "graded")
    with engine.connect() as db:
        attempts = db.execute(select(func.sum(t.mastery.c.attempts))).scalar_one()
    assert graded > 50 and attempts == graded  # every graded answer is evidence, once (the rest: review)

    # a message sent twice (a broker redelivery) leaves one result
    service.dispatch.send(accepted[0].job_id, "bubbles")  # type: ignore[union-attr]
    time.sleep(3)
    assert _count(engine, t.pages) == 8 and _count(engine, t.grade_history) == _count(engine, t.answers)


def test_a_worker_killed_mid_file_gives_the_job_to_another(
        engine: Engine, postgres_url: str, redis_url: str, workers: Workers, tmp_path: Path) -> None:
    service = _service(engine, postgres_url, redis_url)
    spec = _spec("kill", 8, boxes=True)
    _register(service, spec)
    first = workers.start()
    time.sleep(1)
    accepted = service.accept_upload(SCHOOL, _tiff(_pages(spec, tmp_path / "kill")), name="feeder.tif")
    deadline = time.monotonic() + 180
    while _count(engine, t.pages) == 0:  # wait until the first worker is mid-file
        assert time.monotonic() < deadline, workers.logs()
        time.sleep(0.05)
    workers.kill(first)
    stored_when_killed = _count(engine, t.pages)
    assert stored_when_killed < 8
    workers.start()
    assert _wait_jobs(engine, workers) == {"done": 1}, workers.logs()
    with engine.connect() as db:
        job = db.execute(select(t.jobs).where(t.jobs.c.job_id == accepted.job_id)).one()
        pages = db.execute(select(t.pages.c.page_in_file)).scalars().all()
    assert sorted(pages) == list(range(8)) and job.attempts == 2


def test_a_file_that_outruns_its_time_limit_every_time_is_kept_for_a_human(
        engine: Engine, postgres_url: str, redis_url: str, tmp_path: Path) -> None:
    spec = _spec("slow", 6, boxes=True)
    service = HomeworkService(engine)
    _register(service, spec)
    limits = {"HOMEWORK_PAGE_SECONDS": "0.05", "HOMEWORK_FILE_SECONDS": "1"}  # 1.3 s for 6 pages of boxes
    config = replace(CeleryConfig.from_env(limits), broker_url=redis_url, database_url=postgres_url, lease=4.0)
    service.dispatch = CeleryDispatcher(make_celery(config), service)
    slow = Workers(postgres_url, redis_url, tmp_path, **limits)
    try:
        slow.start()
        accepted = service.accept_upload(SCHOOL, _tiff(_pages(spec, tmp_path / "slow")), name="slow.tif")
        assert _wait_jobs(engine, slow, timeout=240) == {"failed": 1}, slow.logs()
    finally:
        slow.stop()
    job = service.jobs.job(SCHOOL, accepted.job_id)
    assert job is not None and job["attempts"] == 3 and "kept for a human" in job["error"], job
    assert service.intake(SCHOOL).store.upload(accepted.upload_id) is not None  # the file is kept
    assert _count(engine, t.pages) < 6  # never read to the end


def test_twenty_concurrent_writers_lose_no_mastery_update_against_a_serial_replay(
        postgres_url: str, postgres_server: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    rng = np.random.default_rng(5)
    answers = [(f"s{rng.integers(30)}", f"kp{rng.integers(6)}", float(rng.integers(0, 3)) / 2) for _ in range(2000)]
    concurrent = open_engine(postgres_url)
    store = MasteryStore(concurrent, "default")
    store_rows = [answers[i::20] for i in range(20)]
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def write(rows: list[tuple[str, str, float]]) -> None:
        try:
            barrier.wait()
            for student, point, credit in rows:
                store.record(student, "math", point, credit)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(rows,)) for rows in store_rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors

    serial_name = "serial_" + make_url(postgres_url).database
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(text(f'CREATE DATABASE "{serial_name}"'))
    try:
        serial = open_engine(make_url(postgres_url).set(database=serial_name).render_as_string(hide_password=False))
        replay = MasteryStore(serial, "default")
        for student, point, credit in answers:
            replay.record(student, "math", point, credit)
        got, want = store.evidence(), replay.evidence()
        serial.dispose()
    finally:
        with admin.connect() as db:
            db.execute(text(f'DROP DATABASE "{serial_name}" WITH (FORCE)'))
        admin.dispose()
    assert sum(e.attempts for s in got.values() for e in s.values()) == len(answers)
    assert {s: {k: e.attempts for k, e in ks.items()} for s, ks in got.items()} == \
        {s: {k: e.attempts for k, e in ks.items()} for s, ks in want.items()}
    assert {s: {k: e.credit for k, e in ks.items()} for s, ks in got.items()} == \
        {s: {k: e.credit for k, e in ks.items()} for s, ks in want.items()}  # halves: exact in any order


def test_the_refit_runs_on_the_slow_queue_and_selection_reads_the_newest_version(
        engine: Engine, postgres_url: str, redis_url: str, workers: Workers) -> None:
    from homework.storage import ensure_school

    service = HomeworkService(engine)
    ensure_school(engine, SCHOOL)
    rng = np.random.default_rng(1)
    intake = service.intake(SCHOOL)
    with intake.store.transaction() as db:
        intake.mastery.put_field_points(db, "hw", [FieldPoint(f"f{i}", f"it{i}", "math", 5, (f"kp{i % 3}",), False)
                                                   for i in range(6)])
        upload = intake.store.add_upload(db, "x", intake.store.put_blob(b"x", db), 1, None)
        page = intake.store.add_page(db, upload, 0, "read", "read")
        for s in range(300):
            for i in range(6):
                right = bool(rng.random() < (0.8 if i % 3 else 0.3))
                intake.store.put_answer(db, {
                    "assignment_id": "hw", "student_id": f"s{s}", "field_id": f"f{i}", "page_id": page, "kind": "choice",
                    "value": "A", "confidence": 1.0, "read_status": "ok", "read_reason": "", "score": float(right),
                    "max_score": 1.0, "correct": right, "grade_status": "graded", "grade_reason": "",
                    "graded_by": "scan", "updated_at": float(s * 10 + i)}, because="test")
    config = replace(CeleryConfig(), broker_url=redis_url, database_url=postgres_url)
    app = make_celery(config)
    workers.start(queues="slow")
    for _ in range(2):
        app.send_task("homework.refit", args=("math", 5), queue="slow")
    deadline = time.monotonic() + 300
    while ModelVersions(engine).count("math", 5) < 2:
        assert time.monotonic() < deadline, workers.logs()
        time.sleep(0.5)
    latest = ModelVersions(engine).latest("math", 5)
    assert latest is not None and latest.responses == 1800 and latest.students == 300
    assert latest.priors["kp0"] < 0.5 < latest.priors["kp1"]  # the population rates it learnt
    intake.mastery.record("s0", "math", "kp0", 1.0)
    mastery = service.mastery(SCHOOL, ["s0", "new"], "math", 5)
    assert mastery["new"]["kp0"].p_correct == latest.priors["kp0"] and mastery["s0"]["kp0"].n_responses == 1
    expected = (1.0 + 3 * latest.priors["kp0"]) / 4
    assert mastery["s0"]["kp0"].p_correct == pytest.approx(expected)
