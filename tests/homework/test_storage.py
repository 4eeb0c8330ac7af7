"""The one store on SQLite and PostgreSQL: migrations, the job queue and its leases, the ledger's lock,
schools kept apart."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import Engine

from homework import Assignment, CapExceededError, StoreError
from homework.storage import MAX_ATTEMPTS, JobQueue, LedgerStore, ScanStore, current_revision, open_engine

DAY = dt.date(2026, 11, 24)


@pytest.fixture
def engine(database_url: str) -> Engine:
    return open_engine(database_url)


def _queue_uploads(engine: Engine, count: int, school: str = "default") -> list[int]:
    store = ScanStore(engine, school=school)
    jobs = []
    for i in range(count):
        with store.transaction() as db:
            sha = store.put_blob(f"file {i}".encode(), db)
            upload = store.add_upload(db, f"f{i}.png", sha, 6, None)
            jobs.append(JobQueue(engine).enqueue(db, school, upload))
    return jobs


def test_the_migrated_schema_is_the_tables_and_upgrading_again_changes_nothing(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from homework.storage import upgrade
    from homework.storage._tables import metadata

    assert current_revision(engine) == "0005"
    upgrade(engine)
    with engine.connect() as db:
        assert compare_metadata(MigrationContext.configure(db), metadata) == []


def test_a_bad_url_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(StoreError, match="cannot open the store at postgresql") as caught:
        open_engine("postgresql+psycopg://nobody:hunter2@127.0.0.1:1/none")
    assert "hunter2" not in str(caught.value) and "***" in str(caught.value)
    with pytest.raises(StoreError, match="cannot open the store at nosuchdb://x: Can't load plugin"):
        open_engine("nosuchdb://x")


def test_workers_claim_each_job_once_and_a_lost_lease_is_taken_again(engine: Engine) -> None:
    queue = JobQueue(engine)
    first, second = _queue_uploads(engine, 2)
    a, b = queue.claim("w-a", lease=60), queue.claim("w-b", lease=0.2)
    assert (a.job_id, b.job_id) == (first, second) and queue.claim("w-c") is None
    assert queue.counts()["running"] == 2
    time.sleep(0.3)  # w-b died: its lease runs out
    again = queue.claim("w-c", lease=60)
    assert again is not None and (again.job_id, again.attempts) == (second, 2)
    assert not queue.renew(b, "w-b") and queue.renew(again, "w-c")
    assert not queue.finish(second, worker="w-b")  # w-b woke up: the job is w-c's now
    assert queue.job("default", second)["status"] == "running"
    assert queue.finish(again.job_id, worker="w-c")
    assert queue.job("default", second)["status"] == "done" and queue.counts()["done"] == 1


def test_a_job_that_kills_every_worker_is_failed_after_the_last_attempt(engine: Engine) -> None:
    queue = JobQueue(engine)
    (job,) = _queue_uploads(engine, 1)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        claimed = queue.claim(f"w{attempt}", lease=0.05)
        assert claimed is not None and claimed.attempts == attempt
        time.sleep(0.1)
    assert queue.claim("w-last") is None
    failed = queue.job("default", job)
    assert failed["status"] == "failed" and f"abandoned {MAX_ATTEMPTS} times" in failed["error"]


def test_concurrent_workers_never_claim_the_same_job(engine: Engine) -> None:
    jobs = set(_queue_uploads(engine, 40))
    claimed: list[int] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        queue = JobQueue(engine)
        while (job := queue.claim(name, lease=60)) is not None:
            with lock:
                claimed.append(job.job_id)
            queue.finish(job.job_id, worker=name)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(jobs)
    assert JobQueue(engine).counts() == {"queued": 0, "running": 0, "done": 40, "failed": 0}


def test_two_writers_cannot_both_pass_the_cap(engine: Engine) -> None:
    """Each of 6 threads tries 40 minutes for the same student and day (cap 60): exactly one may."""
    from homework.storage import ensure_school

    ensure_school(engine, "default")
    outcomes: list[str] = []

    def assign(i: int) -> None:
        try:
            with LedgerStore(engine, "default").assigning(DAY) as (ledger, _db):
                time.sleep(0.05)  # widen the window a race would need
                ledger.assign(Assignment(f"sx-{i}", "math", 5, ("m1",), (40.0,)), ["s1"], DAY)
            outcomes.append("ok")
        except CapExceededError:
            outcomes.append("refused")

    threads = [threading.Thread(target=assign, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok"] + ["refused"] * 5
    ledger = LedgerStore(engine, "default").ledger(DAY)
    assert ledger.load("s1", DAY) == {"math": 40.0}
    (entry,) = ledger.recorded()
    assert LedgerStore(engine, "default").find(entry[0].id) == entry


def test_schools_do_not_see_each_others_rows(engine: Engine) -> None:
    a, b = ScanStore(engine, school="school-a"), ScanStore(engine, school="school-b")
    with a.transaction() as db:
        sha = a.put_blob(b"a's scan", db)
        upload = a.add_upload(db, "a.png", sha, 8, None)
        page = a.add_page(db, upload, 0, "bad_image", "kept")
    assert a.upload(upload) is not None and b.upload(upload) is None
    assert a.get_blob(sha) == b"a's scan"
    with pytest.raises(KeyError):
        b.get_blob(sha)
    with pytest.raises(KeyError):
        b.upload_of(page)
    assert [p.page_id for p in a.pages()] == [page] and b.pages() == []
    assert b.upload_with(sha) is None and a.upload_with(sha) == upload


def test_row_level_security_is_a_second_wall_on_postgresql(ordinary_role: Engine) -> None:
    """As an ordinary role (superusers bypass row security), a school's transaction sees and writes only
    its own rows even when a query forgets the school filter; an unscoped session (a worker) sees all."""
    from sqlalchemy import insert, text

    from homework.storage import _tables as t

    app = ordinary_role
    a, b = ScanStore(app, school="A"), ScanStore(app, school="B")
    for store in (a, b):
        with store.transaction() as db:
            sha = store.put_blob(f"{store.school}'s scan".encode(), db)
            upload = store.add_upload(db, "p.png", sha, 10, None)
            store.add_page(db, upload, 0, "bad_image", "kept")
    with a.transaction() as db:  # no WHERE school_id: the policy filters
        assert {r[0] for r in db.execute(text("SELECT school_id FROM pages"))} == {"A"}
        assert {r[0] for r in db.execute(text("SELECT school_id FROM blobs"))} == {"A"}
    with pytest.raises(Exception, match="row-level security"), a.transaction() as db:
        db.execute(insert(t.pages).values(school_id="B", upload_id=upload, page_in_file=1, status="x",
                                          message="forged", received_at=0.0))
    with app.connect() as db:  # a district worker's session sets no school
        assert {r[0] for r in db.execute(text("SELECT school_id FROM pages"))} == {"A", "B"}
    assert [p.status for p in b.pages()] == ["bad_image"]
