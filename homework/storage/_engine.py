"""Opening the store: a database URL becomes an engine, migrated to the newest schema.

SQLite (one file, nothing to set up) is the default; PostgreSQL is named by URL, e.g.
``postgresql+psycopg://user@host/db``. Both get the same tables from the same migrations.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

from homework._errors import StoreError

log = logging.getLogger(__name__)

SQLITE_FILE = "homework.sqlite3"


def default_data_dir() -> Path:
    """The per-user data folder (``$XDG_DATA_HOME/homework-loop``, ``~/.local/share/homework-loop`` on
    Linux; the platform's own place elsewhere): never the working directory, so students' scans are
    never one ``git add .`` away from a commit. ``homework serve`` and every command keep their default
    SQLite store here."""
    import platformdirs

    return platformdirs.user_data_path("homework-loop", appauthor=False)


def sqlite_url(folder: str | Path) -> str:
    """The URL of the default store, one SQLite file in ``folder``.

    >>> sqlite_url("/srv/homework")
    'sqlite:////srv/homework/homework.sqlite3'
    """
    return f"sqlite:///{Path(folder).resolve() / SQLITE_FILE}"


def open_engine(url: str, *, migrate: bool = True) -> Engine:
    """An engine on ``url``, its schema upgraded to the newest migration unless ``migrate=False``."""
    from sqlalchemy.exc import ArgumentError
    from sqlalchemy.exc import OperationalError as SQLOperationalError

    try:
        engine = _create(url)
        if migrate:
            upgrade(engine)
    except (ArgumentError, SQLOperationalError, ModuleNotFoundError) as exc:
        raise StoreError(f"cannot open the store at {_safe(url)}: {exc}") from exc
    return engine


def _create(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        _one_writer_at_a_time(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint; safe with WAL
    cursor.close()


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _one_writer_at_a_time(engine: Engine) -> None:
    """Let the threads of this process take SQLite's single write lock in turn, in order.

    SQLite has one writer. A thread that finds the lock taken waits in SQLite's busy handler, which
    sleeps in growing steps (up to 100 ms) and retries: with 40 request threads writing, that
    waiting, not the writes, made the upload's 202 slow. Here a transaction takes a process lock at
    its first write and gives it back when it ends, so the threads of one server queue on that lock
    and each goes the moment the one before it commits. Reads never take it (WAL: readers do not
    wait for the writer); other processes (``homework worker``) still meet SQLite's own lock.
    """
    lock = threading.RLock()

    @event.listens_for(engine, "before_cursor_execute")
    def _take(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not conn.info.get("writer") and statement.lstrip()[:7].upper().startswith(_WRITES):
            lock.acquire()
            conn.info["writer"] = True

    def _give(conn: Any, *_args: Any) -> None:
        if conn.info.pop("writer", False):
            lock.release()

    event.listen(engine, "commit", _give)
    event.listen(engine, "rollback", _give)

    @event.listens_for(engine, "checkin")
    def _give_back(_dbapi: Any, record: Any) -> None:  # a connection returned in any other way
        if record.info.pop("writer", False):
            lock.release()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision`` (idempotent: a current schema is left as it is)."""
    from alembic import command

    with engine.begin() as connection:
        config = _alembic_config(connection)
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (``None`` before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _alembic_config(connection: Any) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    config.attributes["connection"] = connection
    return config


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL that does not parse is shown as given
        return url
