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

from homework.storage import _tables as t
from homework.storage._tables import dialect_insert, new_id


def school_transaction(engine: Engine, school: str) -> Any:
    from homework.storage._scans import school_transaction as scoped

    return scoped(engine, school)

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

    def claim_job(self, job_id: int, holder: str, *, lease: float = 60.0) -> Job | float | None:
        """Take one named job (a distributed engine's message names it) for ``holder``.

        Returns the :class:`Job`; or the seconds until another holder's lease runs out (the message
        came twice, or early: try again then); or ``None`` when there is nothing to do (the job is
        done, failed, or unknown). The same ``holder`` takes its own running job again without
        counting an attempt (a task retried after the store went away for a moment). A job claimed
        :data:`MAX_ATTEMPTS` times is failed instead, its upload kept for a human.
        """
        j = t.jobs
        now = time.time()
        with self.engine.begin() as db:
            row = db.execute(select(j.c.job_id, j.c.school_id, j.c.upload_id, j.c.attempts, j.c.status, j.c.worker,
                                    j.c.lease_until).where(j.c.job_id == job_id).with_for_update()).first()
            if row is None or row.status in ("done", "failed"):
                return None
            mine = row.status == "running" and row.worker == holder
            if row.status == "running" and not mine and (row.lease_until or 0) >= now:
                return float(row.lease_until) - now
            attempts = row.attempts if mine else row.attempts + 1
            if attempts > MAX_ATTEMPTS:
                db.execute(update(j).where(j.c.job_id == job_id).values(
                    status="failed", finished_at=now, lease_until=None,
                    error=f"failed {row.attempts} times (the reader crashed, timed out or its worker died): kept "
                          "for a human"))
                return None
            db.execute(update(j).where(j.c.job_id == job_id).values(
                status="running", worker=holder, lease_until=now + lease, attempts=attempts, started_at=now))
        return Job(row.job_id, row.school_id, row.upload_id, attempts, now + lease)

    def release(self, job: Job, holder: str, error: str) -> bool:
        """Give a job back to the queue after a failed attempt (it will be retried); ``False`` if not ours."""
        with self.engine.begin() as db:
            done = db.execute(update(t.jobs).where(
                t.jobs.c.job_id == job.job_id, t.jobs.c.worker == holder, t.jobs.c.status == "running"
            ).values(status="queued", lease_until=None, error=error))
        return bool(done.rowcount)

    def mark_dispatched(self, job_id: int, queue: str) -> None:
        """Note that the job's message went to ``queue`` of the distributed engine just now."""
        with self.engine.begin() as db:
            db.execute(update(t.jobs).where(t.jobs.c.job_id == job_id).values(dispatched_at=time.time(), queue=queue))

    def undelivered(self, *, lease_grace: float, queued_after: float,
                    limit: int = 1000) -> list[tuple[int, str, int]]:
        """Jobs whose message may be lost, marked as dispatched again now: ``[(job id, school, upload id)]``.

        That is a job whose lease ran out ``lease_grace`` seconds ago (its worker died and the broker
        did not give the message back), or one still queued ``queued_after`` seconds after it was last
        sent (the broker lost it, or nobody sent it; a queue is long in a burst, so keep this above the
        time a burst takes to drain). Two sweepers at once get different jobs.
        """
        j = t.jobs
        now = time.time()
        last_sent = func.coalesce(j.c.dispatched_at, j.c.created_at)
        lost = or_(and_(j.c.status == "queued", last_sent < now - queued_after),
                   and_(j.c.status == "running", j.c.lease_until < now - lease_grace,
                        last_sent < now - lease_grace))
        with self.engine.begin() as db:
            rows = db.execute(select(j.c.job_id, j.c.school_id, j.c.upload_id).where(lost).order_by(j.c.job_id)
                              .limit(limit).with_for_update(skip_locked=True)).all()
            if rows:
                db.execute(update(j).where(j.c.job_id.in_([r.job_id for r in rows])).values(dispatched_at=now))
        return [(int(r.job_id), str(r.school_id), int(r.upload_id)) for r in rows]

    def renew(self, job: Job, worker: str, *, lease: float = 60.0) -> bool:
        """Extend the lease (while pages are being read); ``False`` if the job was taken from us."""
        with self.engine.begin() as db:
            done = db.execute(update(t.jobs).where(
                t.jobs.c.job_id == job.job_id, t.jobs.c.worker == worker, t.jobs.c.status == "running"
            ).values(lease_until=time.time() + lease))
        return bool(done.rowcount)

    def finish(self, job_id: int, *, worker: str | None, error: str | None = None) -> bool:
        """Mark a job done (or failed with ``error``) if ``worker`` still holds it (``None``: a job run
        without a claim, e.g. ``Intake.receive``); ``False`` when another worker has it now."""
        j = t.jobs
        holder = j.c.worker.is_(None) if worker is None else j.c.worker == worker
        with self.engine.begin() as db:
            done = db.execute(update(j).where(j.c.job_id == job_id, holder, j.c.status.in_(("queued", "running")))
                              .values(status="failed" if error else "done", error=error, finished_at=time.time(),
                                      lease_until=None))
        return bool(done.rowcount)

    def job(self, school: str, job_id: int) -> dict[str, Any] | None:
        """One job of a school as a plain dict, or ``None``."""
        cols = [c for c in t.jobs.c if c.name != "school_id"]
        with school_transaction(self.engine, school) as db:
            row = db.execute(select(*cols).where(t.jobs.c.school_id == school, t.jobs.c.job_id == job_id)).first()
        return dict(row._mapping) if row else None

    def job_of_upload(self, school: str, upload_id: int) -> int:
        with school_transaction(self.engine, school) as db:
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
        make = dialect_insert(self.engine.dialect.name)
        statement = make(table).values(worker=worker, heartbeat_at=time.time())
        with self.engine.begin() as db:
            db.execute(statement.on_conflict_do_update(index_elements=[table.c.worker],
                                                       set_={"heartbeat_at": statement.excluded.heartbeat_at}))

    def last_heartbeat(self) -> float | None:
        """When any worker last said it was alive (epoch seconds), or ``None``."""
        with self.engine.connect() as db:
            value = db.execute(select(func.max(t.workers.c.heartbeat_at))).scalar()
        return None if value is None else float(value)
