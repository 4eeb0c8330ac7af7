"""A throw-away PostgreSQL server for the tests: Debian's packages, a temporary folder, loopback only.

``python tests/postgres_server.py run -- COMMAND...`` installs PostgreSQL from Debian's packages if
it is missing (as root, with apt-get), runs ``initdb`` into a temporary folder, starts the server on
127.0.0.1 on a free port, starts a Redis server beside it the same way (``tests/redis_server.py``),
runs COMMAND with ``HOMEWORK_TEST_POSTGRES_URL`` and ``HOMEWORK_TEST_REDIS_URL`` set to them, and
stops both servers and removes their folders afterwards, whether COMMAND passed, failed or was
interrupted. Its exit code is COMMAND's. ``tests/conftest.py`` uses the same :func:`running` when pytest is started
without the variable outside CI.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from debian_packages import apt_install, free_port

URL_VARIABLE = "HOMEWORK_TEST_POSTGRES_URL"
_SERVERS: dict[str, tuple[Path, Path]] = {}  # the URL of a server running() started -> (bin dir, data dir)


def _binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def install() -> Path:
    """The folder of PostgreSQL's server programs, installing Debian's package first if needed."""
    found = _binaries()
    if found is not None:
        return found
    apt_install("postgresql", "PostgreSQL's server programs (initdb, pg_ctl) are")
    found = _binaries()
    if found is None:
        raise RuntimeError("apt-get installed postgresql but pg_ctl is not in /usr/lib/postgresql/*/bin")
    return found


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the ``postgres`` user the package creates."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextlib.contextmanager
def running() -> Iterator[str]:
    """A fresh server for the block; yields its URL (superuser ``postgres``, database ``postgres``)."""
    bin_dir = install()
    folder = Path(tempfile.mkdtemp(prefix="homework-pg-"))
    data, port = folder / "data", free_port()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    os.chmod(folder, 0o700)
    quiet = {"stdout": subprocess.DEVNULL, "check": True}
    try:
        subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                                        "--auth=trust", "-E", "UTF8", "--no-sync"]), **quiet)
        options = (f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=200")
        subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"),
                                        "-o", options, "-w", "-t", "60", "start"]), **quiet)
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        _SERVERS[url] = (bin_dir, data)
        yield url
    finally:
        _SERVERS.pop(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", None)
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                            "-w", "stop"]), stdout=subprocess.DEVNULL, check=False)
        shutil.rmtree(folder, ignore_errors=True)


def restart(url: str) -> None:
    """Stop a server :func:`running` started (fast shutdown: open connections are cut) and start it again."""
    bin_dir, data = _SERVERS[url]
    subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "60",
                                    "restart"]), stdout=subprocess.DEVNULL, check=True)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] != "run" or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    import redis_server

    started = time.perf_counter()
    with running() as url, redis_server.running() as redis:
        print(f"PostgreSQL for the tests at {url}, Redis at {redis.url} (started in "
              f"{time.perf_counter() - started:.1f} s)", flush=True)
        env = {**os.environ, URL_VARIABLE: url, redis_server.URL_VARIABLE: redis.url}
        try:
            return subprocess.run(argv[2:], env=env, check=False).returncode
        except KeyboardInterrupt:
            return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
