"""Service benchmark: load, crash and tenancy figures of `homework serve` on loopback, SQLite and PostgreSQL.

    python benchmarks/service.py                          # all three, both engines (several minutes)
    python benchmarks/service.py --engines sqlite --seconds 20 --crash-runs 2
    python benchmarks/service.py --postgres-url postgresql+psycopg://user@host/db   # an existing server

Each part starts the real server (`homework serve`, uvicorn, in-process worker threads) as a process
of its own, on a fresh database; PostgreSQL comes from Debian's packages, started in a temporary
folder by tests/postgres_server.py unless --postgres-url is given.

- **Load**: N clients (default 50) each post one scanned page (a real fixture scan, made unique by
  bytes after the JPEG's end) again and again for --seconds, while another client asks GET /health
  every 100 ms. Printed: the 202's p50/p99, /health's p50/p99, uploads accepted, pages read per
  second by the server's workers (beside benchmarks/scan.py's single-core rate), and then, after the
  queue is drained: uploads lost (accepted, but without a job or without its page) and pages stored
  twice (0 and 0 is the target).
- **Crash**: post uploads, kill -9 the server and a separate `homework worker` while jobs are in
  flight, start the server again (lease 3 s), wait for the queue; every accepted upload must be
  processed exactly once, the store's integrity checks pass, and nothing is orphaned. Repeated.
- **Tenancy**: two schools' data and keys; every route of the OpenAPI document tried with school A's
  teacher and station keys on school B's ids; any answer carrying B's data is a leak.

Figures depend on the machine's load: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SCANS = REPO / "fixtures" / "scans"
SPEC = json.loads((SCANS / "spec.json").read_text(encoding="utf-8"))
SCAN_RATE_NOTE = "benchmarks/scan.py, one core: 48 pages/s (20 bubbles), 5.5 pages/s (10 writing boxes)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


@contextlib.contextmanager
def postgres(url: str | None) -> Iterator[str]:
    """A PostgreSQL server URL: the one given, or a throw-away server from tests/postgres_server.py."""
    if url:
        yield url
        return
    sys.path.append(str(REPO / "benchmarks"))
    from _servers import test_helper

    with test_helper("postgres_server").running() as started:
        yield started


def fresh_database(server: str, engine: str, folder: Path) -> str:
    """An empty database: an SQLite file in ``folder`` or a new database on the PostgreSQL server."""
    if engine == "sqlite":
        return f"sqlite:///{folder / f'bench-{time.monotonic_ns()}.sqlite3'}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"bench_{time.monotonic_ns()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


class Server:
    """`homework serve` in a process of its own (kill() is kill -9)."""

    def __init__(self, url: str, *, workers: int, lease: float = 60.0) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "HOMEWORK_JOB_LEASE_S": str(lease), "HOMEWORK_DOCS": "true"}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import api; api.main()", "serve", "--port", str(self.port), "--database-url", url,
             "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait()

    def _wait(self) -> None:
        import httpx2

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx2.HTTPError):
                if httpx2.get(self.base + "/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        raise RuntimeError("the server did not start within 120 s")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()


def keys(url: str) -> dict[str, str]:
    from homework.storage import KeyStore, open_engine

    store = KeyStore(open_engine(url))
    return {"a_teacher": store.create("teacher", school="A", teacher="t-a"),
            "a_station": store.create("station", school="A"),
            "b_teacher": store.create("teacher", school="B", teacher="t-b"),
            "b_station": store.create("station", school="B")}


def _page(i: int) -> bytes:
    """A real fixture scan; bytes after the JPEG's end make each upload a different file."""
    files = sorted(SCANS.glob("*.jpg"))
    return files[i % len(files)].read_bytes() + f"\nupload {i} {time.time_ns()}".encode()


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


# -- load ----------------------------------------------------------------------------------------

def load(url: str, *, clients: int, seconds: float, drain: float, workers: int,
         processes: int) -> dict[str, Any]:
    import httpx2

    k = keys(url)
    server = Server(url, workers=workers)
    readers = [_worker_process(url) for _ in range(processes)]
    teacher, station = {"X-API-Key": k["a_teacher"]}, {"X-API-Key": k["a_station"]}
    httpx2.post(server.base + "/assignments", json=SPEC, headers=teacher, timeout=60).raise_for_status()
    latencies: list[float] = []
    health: list[float] = []
    accepted: list[int] = []
    errors: list[str] = []
    stop = time.monotonic() + seconds
    counter = iter(range(10**9))
    lock = threading.Lock()

    def client() -> None:
        with httpx2.Client(base_url=server.base, headers=station, timeout=60) as http:
            while time.monotonic() < stop:
                with lock:
                    i = next(counter)
                started = time.perf_counter()
                response = http.post("/scans", files=[("files", (f"p{i}.jpg", _page(i), "image/jpeg"))])
                took = time.perf_counter() - started
                with lock:
                    if response.status_code == 202:
                        latencies.append(took)
                        accepted.append(response.json()[0]["upload_id"])
                    else:
                        errors.append(f"{response.status_code} {response.text[:80]}")

    def poll_health() -> None:
        with httpx2.Client(base_url=server.base, timeout=60) as http:
            while time.monotonic() < stop:
                started = time.perf_counter()
                http.get("/health")
                health.append(time.perf_counter() - started)
                time.sleep(0.1)

    before = _done_pages(url)
    started = time.monotonic()
    with ThreadPoolExecutor(clients + 1) as pool:
        futures = [pool.submit(client) for _ in range(clients)] + [pool.submit(poll_health)]
        for future in futures:
            future.result()
    read_during = _done_pages(url) - before
    rate = read_during / (time.monotonic() - started)
    waited = _drain(url, drain)
    server.stop()
    for reader in readers:
        reader.terminate()
        reader.wait()
    check = integrity(url, accepted)
    return {"accepted": len(accepted), "errors": len(errors), "first_errors": errors[:3],
            "p50_202_s": _percentile(latencies, 50), "p99_202_s": _percentile(latencies, 99),
            "p50_health_s": _percentile(health, 50), "p99_health_s": _percentile(health, 99),
            "pages_per_s": rate, "drained_s": waited, **check}


def _worker_process(url: str, lease: float = 60.0) -> subprocess.Popen[bytes]:
    """`homework worker` in a process of its own."""
    return subprocess.Popen([sys.executable, "-c", "import api; api.main()", "worker", "--database-url", url,
                             "--lease", str(lease)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _done_pages(url: str) -> int:
    from sqlalchemy import func, select

    from homework.storage import open_engine
    from homework.storage._tables import pages

    engine = open_engine(url, migrate=False)
    with engine.connect() as db:
        count = int(db.execute(select(func.count()).select_from(pages)).scalar_one())
    engine.dispose()
    return count


def _drain(url: str, limit: float) -> float:
    """Wait (up to ``limit`` s) until no job is queued or running; the seconds waited."""
    from homework.storage import JobQueue, open_engine

    engine = open_engine(url, migrate=False)
    started = time.monotonic()
    while time.monotonic() - started < limit:
        counts = JobQueue(engine).counts()
        if counts["queued"] == 0 and counts["running"] == 0:
            break
        time.sleep(1)
    engine.dispose()
    return time.monotonic() - started


def integrity(url: str, accepted: list[int]) -> dict[str, Any]:
    """Lost uploads, pages stored twice, orphans and the engine's own checks, on the finished store."""
    from sqlalchemy import func, select, text

    from homework.storage import _tables as t
    from homework.storage import open_engine

    engine = open_engine(url, migrate=False)
    with engine.connect() as db:
        jobs = {r.upload_id: r for r in db.execute(select(t.jobs.c.upload_id, t.jobs.c.status, t.jobs.c.attempts))}
        pages = dict(db.execute(select(t.pages.c.upload_id, func.count()).group_by(t.pages.c.upload_id)).all())
        twice = db.execute(select(func.count()).select_from(
            select(t.pages.c.upload_id, t.pages.c.page_in_file).group_by(t.pages.c.upload_id, t.pages.c.page_in_file)
            .having(func.count() > 1).subquery())).scalar_one()
        unreferenced = db.execute(text(
            "SELECT count(*) FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM uploads u WHERE u.school_id = b.school_id "
            "AND u.sha256 = b.sha256) AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.school_id = b.school_id AND "
            "r.crop_sha256 = b.sha256)")).scalar_one()
        uploads_without_job = db.execute(text(
            "SELECT count(*) FROM uploads u WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.upload_id = u.upload_id)"
        )).scalar_one()
        engine_check = _engine_check(db, engine.dialect.name)
    engine.dispose()
    done = [u for u in accepted if u in jobs and jobs[u].status == "done"]
    return {
        "lost": sum(1 for u in accepted if u not in jobs) + uploads_without_job,
        "done": len(done), "still_queued": sum(1 for u in accepted if u in jobs and jobs[u].status == "queued"),
        "failed": sum(1 for u in accepted if u in jobs and jobs[u].status == "failed"),
        "done_without_page": sum(1 for u in done if pages.get(u, 0) != 1),
        "pages_stored_twice": int(twice), "orphan_blobs": int(unreferenced),
        "retried_jobs": sum(1 for r in jobs.values() if r.attempts > 1), "engine_check": engine_check,
    }


def _engine_check(db: Any, dialect: str) -> str:
    from sqlalchemy import text

    if dialect == "sqlite":
        ok = db.execute(text("PRAGMA integrity_check")).scalar_one()
        bad_keys = db.execute(text("PRAGMA foreign_key_check")).all()
        return f"{ok}, {len(bad_keys)} foreign-key violations"
    return "foreign keys enforced by PostgreSQL"


# -- crash ---------------------------------------------------------------------------------------

def crash(url: str, *, uploads: int) -> dict[str, Any]:
    """Post, kill -9 the server and a worker process mid-flight, restart, wait, check."""
    import httpx2

    k = keys(url)
    server = Server(url, workers=2, lease=3.0)
    teacher, station = {"X-API-Key": k["a_teacher"]}, {"X-API-Key": k["a_station"]}
    httpx2.post(server.base + "/assignments", json=SPEC, headers=teacher, timeout=60).raise_for_status()
    worker = _worker_process(url, lease=3.0)
    accepted: list[int] = []
    with httpx2.Client(base_url=server.base, headers=station, timeout=60) as http:
        for i in range(uploads):
            response = http.post("/scans", files=[("files", (f"c{i}.jpg", _page(i), "image/jpeg"))])
            accepted.append(response.json()[0]["upload_id"])
    _wait_running(url)
    server.kill()
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    in_flight = _counts(url)
    server = Server(url, workers=2, lease=3.0)
    waited = _drain(url, 600)
    server.stop()
    return {"accepted": len(accepted), "at_kill": in_flight, "recovered_in_s": waited, **integrity(url, accepted)}


def _counts(url: str) -> dict[str, int]:
    from homework.storage import JobQueue, open_engine

    engine = open_engine(url, migrate=False)
    counts = JobQueue(engine).counts()
    engine.dispose()
    return counts


def _wait_running(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _counts(url)["running"] == 0:
        time.sleep(0.1)


# -- tenancy -------------------------------------------------------------------------------------

def tenancy(url: str) -> dict[str, Any]:
    """Every route with school A's keys on school B's ids: leaks are answers that carry B's data."""
    import httpx2

    k = keys(url)
    server = Server(url, workers=1)
    b = {"X-API-Key": k["b_teacher"]}
    with httpx2.Client(base_url=server.base, timeout=120) as http:
        http.post("/assignments", json=SPEC, headers=b).raise_for_status()
        upload = http.post("/scans", headers={"X-API-Key": k["b_station"]},
                           files=[("files", ("b.jpg", _page(0), "image/jpeg"))]).json()[0]
        while http.get(upload["job_url"], headers=b).json()["status"] not in ("done", "failed"):
            time.sleep(0.2)
        status = http.get(upload["upload_url"], headers=b).json()
        review = http.get("/review", headers=b).json()
        ids = {"assignment_id": SPEC["assignment_id"], "upload_id": upload["upload_id"], "job_id": upload["job_id"],
               "page_id": status["pages"][0]["page_id"], "review_id": review[0]["review_id"] if review else 1,
               "class_name": SPEC["class_name"], "student_id": SPEC["students"][0]["id"], "fmt": "csv"}
        secrets = [SPEC["assignment_id"], *(s["id"] for s in SPEC["students"])]
        tried = leaks = 0
        for path, methods in http.get("/openapi.json").json()["paths"].items():
            if path == "/health":
                continue
            missing = {p.split("}")[0] for p in path.split("{")[1:]} - ids.keys()
            if missing:
                raise SystemExit(f"tenancy: no school-B value for {sorted(missing)} in {path}; add one to `ids`")
            for method in methods:
                for who in ("a_teacher", "a_station"):
                    response = http.request(method.upper(), path.format(**ids), headers={"X-API-Key": k[who]},
                                            json={"value": "A"} if method == "post" and "review" in path else None)
                    tried += 1
                    body = response.text if response.status_code < 300 else ""
                    leaks += any(s in body for s in secrets) if response.status_code < 300 and method == "get" else 0
        after = http.get(f"/assignments/{SPEC['assignment_id']}/answers", headers=b).json()
    server.stop()
    untouched = not any(a["graded_by"] not in ("auto",) for a in after)
    return {"requests": tried, "leaks": leaks, "b_answers_untouched": untouched}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--drain", type=float, default=120.0, help="Seconds to let the workers finish the queue.")
    parser.add_argument("--workers", type=int, default=0, help="Worker threads inside the server process.")
    parser.add_argument("--worker-processes", type=int, default=2,
                        help="`homework worker` processes beside the server (the event loop then only does I/O).")
    parser.add_argument("--crash-runs", type=int, default=5)
    parser.add_argument("--crash-uploads", type=int, default=20)
    parser.add_argument("--parts", nargs="+", default=["load", "crash", "tenancy"], choices=["load", "crash", "tenancy"])
    args = parser.parse_args()
    print(f"cores {os.cpu_count()}, {_load()}; single-core reading rate: {SCAN_RATE_NOTE}")
    with tempfile.TemporaryDirectory() as tmp, postgres(args.postgres_url if "postgresql" in args.engines else
                                                        "unused") as server:
        for engine in args.engines:
            if "load" in args.parts:
                figures = load(fresh_database(server, engine, Path(tmp)), clients=args.clients,
                               seconds=args.seconds, drain=args.drain, workers=args.workers,
                               processes=args.worker_processes)
                print(f"[{engine}] load, {args.clients} clients x {args.seconds:g} s, {args.workers} worker threads "
                      f"in the server, {args.worker_processes} worker processes ({_load()}):")
                print(json.dumps(figures, indent=1))
            if "crash" in args.parts:
                for run in range(1, args.crash_runs + 1):
                    figures = crash(fresh_database(server, engine, Path(tmp)), uploads=args.crash_uploads)
                    print(f"[{engine}] crash run {run}: " + json.dumps(figures))
            if "tenancy" in args.parts:
                print(f"[{engine}] tenancy: " + json.dumps(tenancy(fresh_database(server, engine, Path(tmp)))))


if __name__ == "__main__":
    main()
