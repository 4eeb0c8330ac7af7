"""Opening the store: a database URL becomes an engine, migrated to the newest schema.

SQLite (one file, nothing to set up) is the default; PostgreSQL is named by URL, e.g.
``postgresql+psycopg://user@host/db``. Both get the same tables from the same migrations.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

from homework._errors import StoreError

log = logging.getLogger(__name__)

SQLITE_FILE = "homework.sqlite3"


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
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint; safe with WAL
    cursor.close()


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
