"""The service's job processing on both engines: a live worker renews its lease however long reading takes."""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path

import cv2
import tifffile

from homework import HomeworkService
from homework.storage import open_engine

SCANS = Path(__file__).resolve().parents[2] / "fixtures" / "scans"
LEASE = 2.0  # renewed every 2/3 s; reading all 16 fixture pages takes longer than one lease


def test_a_worker_renews_its_lease_while_it_reads_and_the_job_ends_once(database_url: str) -> None:
    service = HomeworkService(open_engine(database_url))
    service.intake().register(SCANS / "spec.json")
    truth = json.loads((SCANS / "truth.json").read_text(encoding="utf-8"))
    batch = io.BytesIO()
    with tifffile.TiffWriter(batch) as writer:
        for entry in truth["pages"]:
            writer.write(cv2.imread(str(SCANS / entry["file"]), cv2.IMREAD_GRAYSCALE), compression="zlib")
    accepted = service.accept_upload("default", batch.getvalue(), name="batch.tif")
    job = service.jobs.claim("slow", lease=LEASE)
    assert job is not None and job.upload_id == accepted.upload_id
    leases: list[float] = []
    done = threading.Event()

    def watch() -> None:  # what another worker would see: the lease moving on while pages are read
        while not done.is_set():
            leases.append(service.jobs.job("default", job.job_id)["lease_until"])
            done.wait(0.2)

    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.monotonic()
    try:
        report = service.process_job(job, worker="slow", lease=LEASE)
    finally:
        done.set()
        watcher.join()
    assert time.monotonic() - started > LEASE, "reading took less than a lease: nothing was tested"
    assert max(leases) > job.lease_until + LEASE / 2, "the lease was never renewed while the pages were read"
    assert [p.status for p in report.pages] == ["read"] * len(truth["pages"])
    assert service.jobs.finish(job.job_id, worker="slow")
    status = service.upload_status("default", accepted.upload_id)
    assert status.job["status"] == "done" and status.job["attempts"] == 1 and len(status.pages) == len(truth["pages"])
