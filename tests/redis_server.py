"""A throw-away Redis server for the tests and benchmarks: Debian's ``redis-server``, loopback only.

:func:`running` installs Debian's ``redis-server`` package if it is missing (as root, with apt-get),
starts a server on 127.0.0.1 on a free port with its files in a temporary folder, and stops it and
removes the folder afterwards. The append-only file is on (``appendfsync everysec``), as a
deployment should run it, so the queue survives a restart (:meth:`RedisServer.restart`).
``tests/postgres_server.py run`` starts one beside PostgreSQL and sets ``HOMEWORK_TEST_REDIS_URL``.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from debian_packages import apt_install, free_port

URL_VARIABLE = "HOMEWORK_TEST_REDIS_URL"


def install() -> str:
    """The path of ``redis-server``, installing Debian's package first if needed."""
    found = shutil.which("redis-server")
    if found:
        return found
    apt_install("redis-server", "redis-server is")
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("apt-get installed redis-server but it is not on PATH")
    return found


class RedisServer:
    """One ``redis-server`` process on loopback; :meth:`restart` stops it and starts it again, same port."""

    def __init__(self, folder: Path) -> None:
        self.binary, self.folder, self.port = install(), folder, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder),
                   "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--protected-mode", "yes",
                   "--logfile", str(self.folder / "redis.log")]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start; see {self.folder / 'redis.log'}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop as an operator would (SIGTERM: the append-only file is flushed first)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextlib.contextmanager
def running() -> Iterator[RedisServer]:
    """A fresh server for the block."""
    folder = Path(tempfile.mkdtemp(prefix="homework-redis-"))
    server = RedisServer(folder)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
