"""``homework worker`` and ``homework db upgrade``: the service's processes that need no HTTP."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from homework.cli._app import app
from homework.cli._store import DataDir, DbOption, SchoolOption, open_service, store_url

db_app = typer.Typer(name="db", help="The store's database: migrations, importing an old ledger file.",
                     no_args_is_help=True)
app.add_typer(db_app)


@db_app.command("upgrade")
def db_upgrade(database_url: DbOption = None, data_dir: DataDir = None) -> None:
    """Run the store's migrations up to the newest schema (the server does this when it starts)."""
    from homework import StoreError
    from homework.storage import current_revision, open_engine

    try:
        engine = open_engine(store_url(database_url, data_dir))
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{engine.url.render_as_string(hide_password=True)}: schema at revision {current_revision(engine)}")


@db_app.command("import-ledger")
def db_import_ledger(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="A ledger.json written by an earlier version.")],
    school: SchoolOption = "default",
    database_url: DbOption = None,
    data_dir: DataDir = None,
) -> None:
    """Copy an old ledger file's sets (day, students, minutes) into the school's ledger in the store, once.

    Sets already in the store (same id) are skipped, so running it twice adds nothing."""
    from homework._assignments import HomeworkLedger
    from homework._errors import AssignmentError

    try:
        ledger = HomeworkLedger.from_json(path.read_text(encoding="utf-8"))
    except (AssignmentError, OSError) as exc:
        typer.echo(f"error: {path}: {exc}", err=True)
        raise typer.Exit(2) from exc
    added, skipped = open_service(database_url, data_dir).ledger(school).import_ledger(ledger)
    typer.echo(f"{path}: {added} set(s) added to the ledger of {school}, {skipped} already there")


@app.command("worker")
def worker(
    database_url: DbOption = None,
    data_dir: DataDir = None,
    threads: Annotated[int, typer.Option(min=1, max=64, help="Job-taking threads in this process (with --celery: worker processes).")] = 1,
    ocr: Annotated[str, typer.Option(help="OCR backend for writing boxes: rapidocr or paddleocr.")] = "rapidocr",
    until_idle: Annotated[bool, typer.Option("--until-idle", help="Stop when the queue is empty.")] = False,
    celery: Annotated[bool, typer.Option("--celery", help="Be a Celery worker: take jobs from the broker "
                                         "(HOMEWORK_BROKER_URL, Redis) instead of polling the store.")] = False,
    queues: Annotated[str, typer.Option(help="With --celery: the queues to take from (bubbles, boxes, slow).")]
        = "bubbles,boxes",
    broker_url: Annotated[str | None, typer.Option("--broker-url", envvar="HOMEWORK_BROKER_URL",
                                                   help="With --celery: the Redis broker.")] = None,
    lease: Annotated[float, typer.Option(min=1, help="Seconds a claim on a job lasts unrenewed.")] = 60.0,
    nice: Annotated[int, typer.Option(min=0, max=19, help="Lower this process's CPU priority by this much, so "
                                      "that on a shared machine the API answers first and reading takes the "
                                      "rest (0: no change).")] = 10,
) -> None:
    """Take scan jobs from the store and read them, until stopped (Ctrl-C) or, with --until-idle, done.

    With --celery this is a Celery worker with THREADS worker processes (one job each at a time).
    """
    if nice:
        os.nice(nice)  # reading is batch work: uploads and pages of the API on this machine come first
    if celery:
        _celery_worker(store_url(database_url, data_dir), broker_url, ocr, threads, queues)
        return
    from homework import HomeworkService, StoreError, Worker
    from homework._worker import worker_name
    from homework.storage import open_engine

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        service = HomeworkService(open_engine(store_url(database_url, data_dir)), ocr=ocr)
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    workers = [Worker(service, name=worker_name(i), lease=lease) for i in range(threads)]
    if until_idle:
        done = sum(w.run(until_idle=True) for w in workers)
        typer.echo(f"{done} job(s) processed; the queue is empty")
        return
    for w in workers:
        w.start()
    typer.echo(f"{threads} worker thread(s) taking jobs from {service.engine.url.render_as_string(hide_password=True)}")
    try:
        for w in workers:
            while not w.wait(1.0):
                pass
    except KeyboardInterrupt:
        for w in workers:
            w.stop()


def _celery_worker(database_url: str, broker_url: str | None, ocr: str, processes: int, queues: str) -> None:
    from dataclasses import replace

    from homework import QUEUES, CeleryConfig, StoreError
    from homework._distributed import run_worker
    from homework.storage import open_engine

    wanted = tuple(q.strip() for q in queues.split(",") if q.strip())
    unknown = sorted(set(wanted) - set(QUEUES))
    if unknown or not wanted:
        typer.echo(f"error: unknown queue(s) {unknown or queues!r}; choose from {', '.join(QUEUES)}", err=True)
        raise typer.Exit(2)
    if database_url.startswith("sqlite"):
        typer.echo("error: a Celery worker needs the shared PostgreSQL store: give --database-url", err=True)
        raise typer.Exit(2)
    try:
        open_engine(database_url).dispose()  # migrate once, and fail early on a wrong URL
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    config = CeleryConfig.from_env()
    config = replace(config, database_url=database_url, ocr=ocr, broker_url=broker_url or config.broker_url)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_worker(config, queues=wanted, concurrency=processes)


keys_app = typer.Typer(name="keys", help="API keys: each has a school and a role; stored hashed.", no_args_is_help=True)
app.add_typer(keys_app)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="station, teacher, school_admin or district_admin.")],
    school: Annotated[str | None, typer.Option(help="The key's school (none for district_admin).")] = None,
    teacher: Annotated[str | None, typer.Option(help="The teacher a teacher key signs as.")] = None,
    label: Annotated[str, typer.Option(help="A note: which station, whose laptop.")] = "",
    database_url: DbOption = None,
    data_dir: DataDir = None,
) -> None:
    """Make an API key and print it once (only its hash is kept)."""
    from homework import HomeworkError
    from homework.storage import KeyStore, open_engine

    try:
        key = KeyStore(open_engine(store_url(database_url, data_dir))).create(role, school=school, teacher=teacher,
                                                                              label=label)
    except HomeworkError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(key)
