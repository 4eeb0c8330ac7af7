"""Settings of the HTTP service, read from the environment (prefix ``HOMEWORK_``) or a ``.env`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from homework.storage import default_data_dir


class Settings(BaseSettings):
    """What a deployment configures. Nothing is read at import: call ``Settings()`` in the app factory.

    ``data_dir``: where uploads, pages, answers and the review queue are kept (default: the per-user
    data folder, see :func:`default_data_dir`). ``open_access``: requests without
    ``X-API-Key`` act as the default school's admin (one machine with nobody else on it, or tests).
    Off by default: every request needs a key made by ``homework keys create`` (stored hashed; each
    key has a school and a role).
    ``bank``: the item bank file (CSV, JSON, JSONL or XLSX, as ``ItemBank.import_file`` reads) that
    ``POST /targeted`` picks from; ``model``: a fitted mastery model saved with ``model.to_json()``
    (BKT, IRT, HistoryBoost or BestLR). Without a model, BKT is fitted on the graded answers the
    store holds (refitted when their number changes).
    ``database_url``: the store, e.g. ``postgresql+psycopg://user@host/homework``; by default one
    SQLite file in ``data_dir``. Its migrations run when the app starts.
    ``workers``: job-taking threads in the server process (0: only ``homework worker`` processes read).
    ``jobs``: who reads scans: ``inprocess`` (the default: ``workers`` threads here and ``homework worker``
    processes polling the store) or ``celery`` (``homework worker --celery`` processes fed through the
    Redis broker at ``broker_url``; the store must then be PostgreSQL).
    ``docs``: whether ``/docs`` and ``/openapi.json`` are served.
    ``health_interval_s``: how often a thread asks the store for ``GET /health`` (which answers from memory).
    """

    model_config = SettingsConfigDict(env_prefix="HOMEWORK_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    open_access: bool = False
    ocr_backend: str = "rapidocr"
    max_upload_mb: int = Field(200, ge=1)
    max_files_per_request: int = Field(50, ge=1)
    max_pages_per_file: int = Field(200, ge=1)
    bank: Path | None = None
    model: Path | None = None
    database_url: str | None = None
    workers: int = Field(1, ge=0, le=64)
    jobs: Literal["inprocess", "celery"] = "inprocess"
    broker_url: str = "redis://127.0.0.1:6379/0"
    job_lease_s: float = Field(60.0, gt=0, description="How long a worker's claim on a job lasts unrenewed.")
    docs: bool = True
    health_interval_s: float = Field(1.0, gt=0, le=60,
                                     description="How often GET /health's snapshot of the store is refreshed.")

    def store_url(self) -> str:
        """The database URL: ``database_url``, or the SQLite file in ``data_dir``."""
        from homework.storage import sqlite_url

        return self.database_url or sqlite_url(self.data_dir)
