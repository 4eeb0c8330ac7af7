"""Workers: take scan jobs from the store and process them through the service.

A :class:`Worker` loops: heartbeat, claim the oldest job (``HomeworkService.run_next_job``), and
sleep ``poll`` seconds when there is none. ``homework serve`` runs workers as threads of the server
process (reading happens there, never on the event loop: OpenCV and ONNX Runtime release the GIL);
``homework worker`` runs them as processes of their own, on any machine that reaches the database.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from homework._service import HomeworkService

log = logging.getLogger(__name__)


def worker_name(index: int = 0) -> str:
    """A name unique to this process and thread slot: host, pid, index."""
    return f"{socket.gethostname()}:{os.getpid()}:{index}"


class Worker:
    """One job-taking loop; :meth:`start` runs it in a daemon thread, :meth:`stop` ends it."""

    def __init__(self, service: HomeworkService, *, name: str | None = None, poll: float = 0.5,
                 lease: float = 60.0) -> None:
        self.service, self.name, self.poll, self.lease = service, name or worker_name(), poll, lease
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self, *, max_jobs: int | None = None, until_idle: bool = False) -> int:
        """Process jobs until :meth:`stop` (or ``max_jobs``, or an empty queue with ``until_idle``)."""
        done = 0
        while not self._stop.is_set() and (max_jobs is None or done < max_jobs):
            self.service.jobs.heartbeat(self.name)
            try:
                job = self.service.run_next_job(self.name, lease=self.lease)
            except Exception:  # noqa: BLE001 - the database went away for a moment: wait and retry
                log.exception("worker %s could not take a job", self.name)
                job = None
            if job is not None:
                done += 1
            elif until_idle:
                break
            else:
                self._stop.wait(self.poll)
        return done

    def start(self) -> Worker:
        self._thread = threading.Thread(target=self.run, name=f"homework-worker-{self.name}", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; whether it has."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    def stop(self, timeout: float | None = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
