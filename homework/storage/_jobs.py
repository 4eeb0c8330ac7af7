"""The scan job queue in the store: one job per upload, claimed by workers under a lease.

A job is ``queued`` when its upload is accepted (in the same transaction), ``running`` while a
worker holds its lease, then ``done`` or ``failed``. A worker that dies stops renewing its lease;
when the lease runs out any worker may claim the job again, and processing is idempotent, so the
pages a dead worker already stored stay as they are. On PostgreSQL the claim is
``SELECT ... FOR UPDATE SKIP LOCKED``, so many workers claim different jobs without waiting on each
other; SQLite has one writer at a time, and the guarded ``UPDATE`` makes a claim exclusive there too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from homework.storage import _tables as t
from homework.storage._tables import new_id

MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Job:
    """A claimed job: which school's upload to process, and the lease the worker holds on it."""

    job_id: int
    school_id: str
    upload_id: int
    attempts: int
    lease_until: float


class JobQueue:
    """The jobs table, for the server (enqueue, status) and the workers (claim, renew, finish)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def enqueue(self, db: Connection, school: str, upload_id: int) -> int:
        """Queue the job of an upload, inside the caller's transaction (the one that kept the upload)."""
        return new_id(db.execute(insert(t.jobs).values(
            school_id=school, upload_id=upload_id, status="queued", attempts=0, created_at=time.time()
        )))

    def claim(self, worker: str, *, lease: float = 60.0) -> Job | None:
        """Take the oldest job that is queued or whose lease ran out; ``None`` when there is none.

        A job that has run out its lease :data:`MAX_ATTEMPTS` times is marked failed instead (its
        file crashed every worker that tried it), and its upload keeps what was stored.
        """
        j = t.jobs
        while True:
            now = time.time()
            claimable = or_(j.c.status == "queued", and_(j.c.status == "running", j.c.lease_until < now))
            with self.engine.begin() as db:
                row = db.execute(select(j.c.job_id, j.c.school_id, j.c.upload_id, j.c.attempts)
                                 .where(claimable).order_by(j.c.job_id).limit(1)
                                 .with_for_update(skip_locked=True)).first()
                if row is None:
                    return None
                if row.attempts >= MAX_ATTEMPTS:
                    db.execute(update(j).where(j.c.job_id == row.job_id, claimable).values(
                        status="failed", finished_at=now, lease_until=None,
                        error=f"abandoned {row.attempts} times by workers that stopped while reading it"))
                    continue
                taken = db.execute(update(j).where(j.c.job_id == row.job_id, claimable).values(
                    status="running", worker=worker, lease_until=now + lease, attempts=row.attempts + 1,
                    started_at=now))
                if taken.rowcount == 1:
                    return Job(row.job_id, row.school_id, row.upload_id, row.attempts + 1, now + lease)

    def renew(self, job: Job, worker: str, *, lease: float = 60.0) -> bool:
        """Extend the lease (while pages are being read); ``False`` if the job was taken from us."""
        with self.engine.begin() as db:
            done = db.execute(update(t.jobs).where(
                t.jobs.c.job_id == job.job_id, t.jobs.c.worker == worker, t.jobs.c.status == "running"
            ).values(lease_until=time.time() + lease))
        return bool(done.rowcount)

    def finish(self, job_id: int, *, worker: str | None, error: str | None = None) -> None:
        """Mark a job done (or failed with ``error``)."""
        with self.engine.begin() as db:
            db.execute(update(t.jobs).where(t.jobs.c.job_id == job_id).values(
                status="failed" if error else "done", error=error, finished_at=time.time(), lease_until=None,
                worker=worker))

    def job(self, school: str, job_id: int) -> dict[str, Any] | None:
        """One job of a school as a plain dict, or ``None``."""
        cols = [c for c in t.jobs.c if c.name != "school_id"]
        with self.engine.connect() as db:
            row = db.execute(select(*cols).where(t.jobs.c.school_id == school, t.jobs.c.job_id == job_id)).first()
        return dict(row._mapping) if row else None

    def job_of_upload(self, school: str, upload_id: int) -> int:
        with self.engine.connect() as db:
            return int(db.execute(select(t.jobs.c.job_id).where(
                t.jobs.c.school_id == school, t.jobs.c.upload_id == upload_id)).scalar_one())

    def counts(self) -> dict[str, int]:
        """How many jobs are in each status (``queued`` is the queue depth)."""
        with self.engine.connect() as db:
            rows = db.execute(select(t.jobs.c.status, func.count()).group_by(t.jobs.c.status)).all()
        return {"queued": 0, "running": 0, "done": 0, "failed": 0, **{r[0]: int(r[1]) for r in rows}}

    def heartbeat(self, worker: str) -> None:
        """Say that ``worker`` is alive (``GET /health`` shows the newest heartbeat)."""
        table = t.workers
        make = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        statement = make(table).values(worker=worker, heartbeat_at=time.time())
        with self.engine.begin() as db:
            db.execute(statement.on_conflict_do_update(index_elements=[table.c.worker],
                                                       set_={"heartbeat_at": statement.excluded.heartbeat_at}))

    def last_heartbeat(self) -> float | None:
        """When any worker last said it was alive (epoch seconds), or ``None``."""
        with self.engine.connect() as db:
            value = db.execute(select(func.max(t.workers.c.heartbeat_at))).scalar()
        return None if value is None else float(value)
