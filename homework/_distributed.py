"""The distributed engine: Celery workers with Redis as the broker, over the one PostgreSQL store.

A scan job's processing is the same :meth:`HomeworkService.process_job` call in-process (the
embedded default: ``homework serve`` threads, ``homework worker``) or in a Celery worker
(``homework worker --celery``); ``HOMEWORK_JOBS=celery`` chooses the second. The store stays the
truth: a message only names a job, and :meth:`JobQueue.claim_job` decides who may work on it::

    API: accept_upload ──commit──> dispatch: job id ──> queue "bubbles" | "boxes"   (Redis)
    worker: claim_job(lease) ─> process_job (pages renew the lease) ─> finish ─> ack
            ├─ job done/failed already (a message came twice) ........ ack, nothing done
            ├─ another holder's lease is live ......................... retry when it runs out
            ├─ the reader raised ...................................... give the job back, retry later;
            │                                                            after MAX_ATTEMPTS: failed, kept for a human
            ├─ the store went away (PostgreSQL restart) ............... retry with back-off
            └─ the worker died (kill -9, the time limit, OOM) ......... the message is redelivered (acks late,
                                                                         reject on worker lost), or the sweeper
                                                                         re-sends the job once its lease ran out
    sweeper (a thread in every worker): re-sends jobs a broker lost (leases run out, or queued very long)
    queue "slow": model refits and reports, so they never compete with reading

Processing is idempotent (one stored outcome per page of an upload, one accepted page per sheet
position, mastery evidence in the page's transaction), so a job run twice leaves one result.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from celery import Celery

    from homework._service import HomeworkService

log = logging.getLogger(__name__)

QUEUES = ("bubbles", "boxes", "slow")
"""Bubble-only pages; pages with writing boxes (OCR, ~8x the CPU); refits and reports."""


@dataclass(frozen=True)
class CeleryConfig:
    """How a deployment runs the distributed engine (``HOMEWORK_*`` environment variables).

    ``lease``: seconds a worker holds a job between pages (a dead worker's job is free after it);
    ``page_seconds`` and ``file_seconds``: a file's time limit is this per page plus this; ``sweep_every`` / ``queued_after``: how often each worker looks for jobs a broker lost,
    and how long a job may sit queued before its message is sent again (a long queue is normal in
    a burst: keep it above the time a burst takes to drain).

    >>> CeleryConfig.from_env({"HOMEWORK_BROKER_URL": "redis://10.0.0.5:6379/0"}).broker_url
    'redis://10.0.0.5:6379/0'
    """

    broker_url: str = "redis://127.0.0.1:6379/0"
    database_url: str | None = None
    ocr: str = "rapidocr"
    lease: float = 30.0
    page_seconds: float = 10.0
    file_seconds: float = 30.0
    sweep_every: float = 10.0
    queued_after: float = 900.0
    visibility_timeout: float = 600.0

    @classmethod
    def from_env(cls, env: Any = None) -> CeleryConfig:
        env = os.environ if env is None else env
        floats = ("lease", "page_seconds", "file_seconds", "sweep_every", "queued_after", "visibility_timeout")
        values: dict[str, Any] = {"broker_url": env.get("HOMEWORK_BROKER_URL", cls.broker_url),
                                  "database_url": env.get("HOMEWORK_DATABASE_URL"),
                                  "ocr": env.get("HOMEWORK_OCR_BACKEND", cls.ocr)}
        for name in floats:
            if f"HOMEWORK_{name.upper()}" in env:
                values[name] = float(env[f"HOMEWORK_{name.upper()}"])
        return cls(**values)


def make_celery(config: CeleryConfig) -> Celery:
    """The Celery app with the homework tasks, acking late, one message per worker process at a time."""
    from celery import Celery
    from kombu import Queue

    app = Celery("homework", broker=config.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,  # a message is acked after the job is processed, not when it is taken
        task_reject_on_worker_lost=True,  # a killed worker process gives its message back at once
        worker_prefetch_multiplier=1,  # a worker holds no more than it works on: bursts spread evenly
        task_ignore_result=True,  # the store is the result
        task_queues=[Queue(name) for name in QUEUES],
        task_default_queue="boxes",
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": config.visibility_timeout},
        worker_hijack_root_logger=False,
    )
    app.conf.homework = config

    @app.task(bind=True, name="homework.scan", max_retries=None)
    def scan(task: Any, job_id: int) -> str:
        return run_scan(task, job_id)

    @app.task(bind=True, name="homework.refit", max_retries=3, time_limit=4000, queue="slow")
    def refit(task: Any, subject: str, grade: int, max_responses: int = 2_000_000) -> int:
        from homework._refit import refit_mastery

        return refit_mastery(worker_service(config).engine, subject, grade, max_responses=max_responses).version_id

    return app


# -- the worker side ------------------------------------------------------------------------------

_SERVICE: dict[tuple[str | None, str], HomeworkService] = {}
_SERVICE_LOCK = threading.Lock()


def worker_service(config: CeleryConfig) -> HomeworkService:
    """This worker process's service (one pooled engine per process, made on first use)."""
    from homework._service import HomeworkService
    from homework.storage import open_engine

    key = (config.database_url, config.ocr)
    with _SERVICE_LOCK:
        if key not in _SERVICE:
            if not config.database_url:
                raise RuntimeError("HOMEWORK_DATABASE_URL is not set: a Celery worker needs the shared store")
            _SERVICE[key] = HomeworkService(open_engine(config.database_url), ocr=config.ocr)
        return _SERVICE[key]


def _holder(task: Any) -> str:
    """Who holds a job: this process and this message (a redelivery to a new process is someone else)."""
    return f"celery:{socket.gethostname()}:{os.getpid()}:{task.request.id}"


def run_scan(task: Any, job_id: int) -> str:
    """The body of the ``homework.scan`` task (see the module docstring for each outcome)."""
    from sqlalchemy.exc import DBAPIError

    from homework.storage import MAX_ATTEMPTS

    config: CeleryConfig = task.app.conf.homework
    service, holder = worker_service(config), _holder(task)
    try:
        claimed = service.jobs.claim_job(job_id, holder, lease=config.lease)
    except DBAPIError as exc:
        raise _retry(task, _backoff(task.request.retries), exc) from exc
    if claimed is None:
        return "nothing to do"
    if isinstance(claimed, float):
        raise _retry(task, claimed + 0.5)
    try:
        report = service.process_job(claimed, worker=holder, lease=config.lease)
    except DBAPIError as exc:  # the store went away (restart, failover): the lease keeps the job ours
        log.warning("job %d: the store is unreachable (%s); retrying", job_id, exc)
        raise _retry(task, _backoff(task.request.retries), exc) from exc
    except Exception as exc:  # noqa: BLE001 - the reader failed on this file
        error = f"{type(exc).__name__}: {exc}"
        log.exception("job %d (upload %d), attempt %d failed", job_id, claimed.upload_id, claimed.attempts)
        if claimed.attempts >= MAX_ATTEMPTS:
            service.jobs.finish(job_id, worker=holder, error=f"{error} (after {claimed.attempts} attempts; "
                                                              "the upload is kept for a human)")
            return "failed"
        service.jobs.release(claimed, holder, error)
        raise _retry(task, _backoff(claimed.attempts)) from exc
    service.jobs.finish(job_id, worker=holder)
    return f"{len(report.pages)} page(s)"


def _retry(task: Any, countdown: float, exc: BaseException | None = None) -> Any:
    """``task.retry`` keeping the message's time limit (Celery's retry would drop it)."""
    hard, _soft = task.request.timelimit or (None, None)
    return task.retry(exc=exc, countdown=countdown, time_limit=hard)


def _backoff(attempt: int) -> float:
    return float(min(2 ** attempt, 30))


# -- the sending side -----------------------------------------------------------------------------


class CeleryDispatcher:
    """Sends accepted jobs to their queue; :meth:`sweep` sends again what a broker lost.

    The queue is chosen from the file's assignment, found by reading only the first page's QR code
    (:func:`homework._routing.first_page_assignment`): a sheet without writing boxes goes to
    ``bubbles``, anything else (or unknown) to ``boxes``. Each message carries a hard time limit
    of ``page_seconds`` per page of the file plus ``file_seconds``: past it the worker process is killed, the
    job's lease runs out and the job is tried again, up to ``MAX_ATTEMPTS`` times. (Celery's soft
    limit is not used: it raises wherever the reader is, including inside a database call, which
    leaves that connection unusable.)
    """

    def __init__(self, app: Celery, service: HomeworkService) -> None:
        self.app, self.service = app, service
        self.config: CeleryConfig = app.conf.homework

    def __call__(self, school: str, job_id: int, upload_id: int, data: bytes | None = None) -> str | None:
        """Send the job to its queue; the queue, or ``None`` when the broker could not be reached
        (the job stays queued in the store and the sweeper sends it later)."""
        intake = self.service.intake(school)
        if data is None:
            upload = intake.store.upload(upload_id)
            data = intake.store.get_blob(upload["sha256"]) if upload else b""
        queue = self.route(school, data)
        return queue if self.send(job_id, queue, pages=_page_count(data)) else None

    def route(self, school: str, data: bytes) -> str:
        """``bubbles`` or ``boxes``: where a file of this school belongs."""
        from homework._routing import first_page_assignment

        intake = self.service.intake(school)
        assignment = first_page_assignment(data)
        if assignment is None or not intake.knows(assignment):
            return "boxes"
        spec = intake.spec(assignment)
        return "boxes" if any(f.type == "handwriting" for f in spec.fields) else "bubbles"

    def send(self, job_id: int, queue: str, *, pages: int = 1) -> bool:
        limit = self.config.page_seconds * max(pages, 1) + self.config.file_seconds
        try:
            self.app.send_task("homework.scan", args=(job_id,), queue=queue, time_limit=limit, retry=True,
                               retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5})
        except Exception as exc:  # noqa: BLE001 - kombu raises several kinds when the broker is away
            log.warning("job %d: could not reach the broker (%s); the sweeper will send it", job_id, exc)
            return False
        self.service.jobs.mark_dispatched(job_id, queue)
        return True

    def sweep(self) -> int:
        """Send again every job a broker may have lost; how many were sent."""
        sent = 0
        lost = self.service.jobs.undelivered(lease_grace=self.config.lease, queued_after=self.config.queued_after)
        for job_id, school, upload_id in lost:
            sent += self(school, job_id, upload_id) is not None
        return sent


def _page_count(data: bytes) -> int:
    """How many pages a file has, from its headers (1 when it cannot be told)."""
    from scanning import ScanningError, count_pages

    try:
        return max(count_pages(data), 1)
    except ScanningError:
        return 1


def start_sweeper(dispatcher: CeleryDispatcher, stop: threading.Event) -> threading.Thread:
    """Run :meth:`CeleryDispatcher.sweep` every ``sweep_every`` seconds until ``stop`` is set."""

    def loop() -> None:
        while not stop.wait(dispatcher.config.sweep_every):
            try:
                if dispatcher.sweep():
                    log.info("sweeper: sent lost jobs again")
            except Exception:  # noqa: BLE001 - the store or broker is away for a moment: next round
                log.warning("sweeper: could not look for lost jobs", exc_info=True)

    thread = threading.Thread(target=loop, name="homework-sweeper", daemon=True)
    thread.start()
    return thread


def run_worker(config: CeleryConfig, *, queues: tuple[str, ...] = ("bubbles", "boxes"), concurrency: int = 1,
               name: str | None = None, loglevel: str = "INFO") -> None:
    """Run a Celery worker in this process (``homework worker --celery``) until it is stopped."""
    from celery.signals import worker_process_init

    def fresh_connections(**_: Any) -> None:  # a forked child must not share the parent's sockets
        import cv2

        cv2.setNumThreads(1)  # one reader per process, one core each: scale out by processes
        with _SERVICE_LOCK:
            for service in _SERVICE.values():
                service.engine.dispose(close=False)
            _SERVICE.clear()

    worker_process_init.connect(fresh_connections, weak=False)
    app = make_celery(config)
    stop = threading.Event()
    service = worker_service(config)  # the parent process's service: the sweeper's
    start_sweeper(CeleryDispatcher(app, service), stop)
    argv = ["worker", f"--queues={','.join(queues)}", f"--concurrency={concurrency}", "--pool=prefork",
            f"--loglevel={loglevel}", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    if name:
        argv.append(f"--hostname={name}")
    try:
        app.worker_main(argv)
    finally:
        stop.set()
        time.sleep(0)
