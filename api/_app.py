"""The app factory. Nothing is created at import: ``create_app()`` opens the store (running its
migrations) and the service; the app's lifespan starts and stops the in-process workers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import _problems as problems
from api._bank import bank
from api._district import district
from api._health import HealthMonitor
from api._reports import reports
from api._rosters import rosters
from api._routes import assignments, health, jobs, review, scans, targeted, uploads
from api._settings import Settings
from api._sheet_templates import sheet_templates
from api._targeting import Targeting
from homework import HomeworkService, Worker
from homework._worker import worker_name
from homework.storage import open_engine


def _use_celery(service: HomeworkService, settings: Settings) -> None:
    """Send every accepted job to the Celery workers (``HOMEWORK_JOBS=celery``), not to threads here."""
    from dataclasses import replace

    from homework import CeleryConfig, CeleryDispatcher, make_celery

    config = replace(CeleryConfig.from_env(), broker_url=settings.broker_url, database_url=settings.store_url(),
                     ocr=settings.ocr_backend)
    service.dispatch = CeleryDispatcher(make_celery(config), service)


def create_app(settings: Settings | None = None, *, service: HomeworkService | None = None) -> FastAPI:
    """A ready app: ``settings`` default to the environment; ``service`` to one over ``settings.store_url()``."""
    settings = settings or Settings()
    service = service or HomeworkService(open_engine(settings.store_url()), ocr=settings.ocr_backend)
    if settings.jobs == "celery":
        _use_celery(service, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        threads = settings.workers if settings.jobs == "inprocess" else 0
        workers = [Worker(service, name=worker_name(i), lease=settings.job_lease_s).start()
                   for i in range(threads)]
        monitor = HealthMonitor(service, interval=settings.health_interval_s).start()
        app.state.health = monitor
        try:
            yield
        finally:
            monitor.stop()
            for worker in workers:
                worker.stop(timeout=10)

    docs = {} if settings.docs else {"docs_url": None, "redoc_url": None, "openapi_url": None}
    app = FastAPI(title="homework-loop", version="0.1.0", lifespan=lifespan, **docs)  # type: ignore[arg-type]
    app.state.settings = settings
    app.state.service = service
    app.state.targeting = Targeting(settings, service)
    for router in (health, assignments, scans, uploads, jobs, review, targeted, sheet_templates, reports, rosters,
                   district, bank):
        app.include_router(router)

    problems.install(app)
    return app
