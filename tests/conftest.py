"""Fixtures shared by the tests: the store on both engines.

``database_url`` runs a test once on SQLite and once on PostgreSQL. PostgreSQL comes from
``HOMEWORK_TEST_POSTGRES_URL`` (``make test`` starts a server and sets it); without it, outside
CI, one server is started for the session the same way; under ``CI=true`` its absence is an error,
so the PostgreSQL half can never be skipped silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis_server
from postgres_server import URL_VARIABLE, running
from sqlalchemy import Engine

ENGINES = ["sqlite", "postgresql"]


@pytest.fixture(autouse=True)
def _user_data_in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Commands without ``--db`` use the SQLite file of ``HOMEWORK_DATA_DIR``: here, never the user's own."""
    monkeypatch.setenv("HOMEWORK_DATA_DIR", str(tmp_path / "user-data"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server's ``postgres`` database (superuser)."""
    url = os.environ.get(URL_VARIABLE)
    if url:
        yield url
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{URL_VARIABLE} is not set under CI=true: run the tests with `make test`, which starts "
                    "PostgreSQL (tests/postgres_server.py) and sets it")
    with running() as started:
        yield started


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a Redis server (``make test`` starts one; else one is started for the session)."""
    url = os.environ.get(redis_server.URL_VARIABLE)
    if url:
        yield url
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{redis_server.URL_VARIABLE} is not set under CI=true: run the tests with `make test`")
    with redis_server.running() as server:
        yield server.url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """An empty PostgreSQL database (the distributed engine's store)."""
    yield from _postgres_database(postgres_server)


@pytest.fixture
def ordinary_role(postgres_url: str) -> Iterator[Engine]:
    """An engine on an empty migrated PostgreSQL database as an ordinary role (superusers bypass row-level
    security; the service should connect as such a role), dropped afterwards."""
    import uuid

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from homework.storage import open_engine

    role = f"app_{uuid.uuid4().hex[:8]}"
    owner = open_engine(postgres_url)
    with owner.begin() as db:
        db.execute(text(f"CREATE ROLE {role} LOGIN"))
        db.execute(text(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}"))
        db.execute(text(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}"))
    app = open_engine(make_url(postgres_url).set(username=role).render_as_string(hide_password=False))
    try:
        yield app
    finally:
        app.dispose()
        with owner.begin() as db:
            db.execute(text(f"DROP OWNED BY {role}"))
            db.execute(text(f"DROP ROLE {role}"))
        owner.dispose()


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each engine: an SQLite file in ``tmp_path``, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'homework.sqlite3'}"
        return
    yield request.getfixturevalue("postgres_url")


def _postgres_database(server: str) -> Iterator[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as db:
            db.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as db:
            db.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
