"""One school's item bank in the store: the items (the bank's canonical columns) and the knowledge graph.

:class:`ItemStore` writes a validated bank frame (new ids added, known ids updated) and reads it back
as a frame the bank's arrays are built from. On PostgreSQL both go through ``COPY`` (psycopg 3's
``cursor.copy``): rows are copied into a temporary table and merged from there with one
``INSERT ... ON CONFLICT``, since ``COPY FROM`` into a table under row-level security is refused
and an upsert cannot be copied; reading copies a query's result out as CSV. SQLite takes batched
upserts and a plain ``SELECT``.
"""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, insert, select, text

from homework.storage import _tables as t
from homework.storage._scans import ensure_school, school_transaction
from homework.storage._tables import dialect_insert

log = logging.getLogger(__name__)

BANK_COLUMNS = ("id", "subject", "grade", "type", "stem", "stem_en", "image", "options", "answer", "tolerance",
                "knowledge_points", "difficulty", "minutes", "source", "tags")
"""The bank's canonical columns (``homework._bank.COLUMNS``); ``id`` is stored as ``item_id``."""
_STORED = ("item_id", *BANK_COLUMNS[1:])
_CHUNK = 50_000


class ItemStore:
    """The items and knowledge-point edges of one school."""

    def __init__(self, engine: Engine, school: str) -> None:
        self.engine = engine
        self.school = school

    def version(self) -> tuple[int, float]:
        """How many items there are and when one last changed: what a cache of the bank keys on."""
        i = t.items
        with school_transaction(self.engine, self.school) as db:
            row = db.execute(select(func.count(), func.max(i.c.updated_at)).where(i.c.school_id == self.school)).one()
        return int(row[0]), float(row[1] or 0.0)

    def ids(self) -> set[str]:
        i = t.items
        with school_transaction(self.engine, self.school) as db:
            return set(db.execute(select(i.c.item_id).where(i.c.school_id == self.school)).scalars())

    def put(self, frame: pd.DataFrame, edges: Iterable[tuple[str, str]] | None = None) -> int:
        """Write the items of a validated bank frame (canonical columns) in one transaction: new ids are
        added, known ids updated. ``edges`` (prerequisite, point), when given, replace the school's
        knowledge graph. Returns the rows written."""
        ensure_school(self.engine, self.school)
        rows = _stored(frame, self.school)
        with school_transaction(self.engine, self.school) as db:
            if db.dialect.name == "postgresql":
                _copy_in(db, rows)
            else:
                _upsert(db, rows)
            if edges is not None:
                self._put_edges(db, edges)
        return len(rows)

    def _put_edges(self, db: Connection, edges: Iterable[tuple[str, str]]) -> None:
        e = t.kp_edges
        db.execute(delete(e).where(e.c.school_id == self.school))
        values = [{"school_id": self.school, "prerequisite": a, "point": b} for a, b in dict.fromkeys(edges)]
        if values:
            db.execute(insert(e), values)

    def edges(self) -> list[tuple[str, str]]:
        """The school's knowledge graph as (prerequisite, point) pairs."""
        e = t.kp_edges
        with school_transaction(self.engine, self.school) as db:
            return [(r.prerequisite, r.point) for r in db.execute(
                select(e.c.prerequisite, e.c.point).where(e.c.school_id == self.school).order_by(e.c.prerequisite,
                                                                                                 e.c.point))]

    def frame(self) -> pd.DataFrame:
        """Every item in the bank's canonical columns, by id (empty when the school has no bank)."""
        with school_transaction(self.engine, self.school) as db:
            frame = _copy_out(db, self.school) if db.dialect.name == "postgresql" else _select(db, self.school)
        return frame.rename(columns={"item_id": "id"})[list(BANK_COLUMNS)]


def _stored(frame: pd.DataFrame, school: str) -> pd.DataFrame:
    """The frame as the table's rows: ``item_id``, every column filled (no NULLs), categories as text."""
    rows = frame[list(BANK_COLUMNS)].rename(columns={"id": "item_id"}).astype(
        {c: object for c in ("subject", "type", "source")})
    rows = rows.fillna({c: "" for c in _STORED if c not in ("grade", "difficulty", "minutes", "tolerance")})
    rows = rows.fillna({"tolerance": 0.0})
    rows.insert(0, "school_id", school)
    rows["updated_at"] = time.time()
    return rows


def _upsert(db: Connection, rows: pd.DataFrame) -> None:
    i = t.items
    columns = list(rows.columns)
    for start in range(0, len(rows), _CHUNK):
        values = rows.iloc[start:start + _CHUNK].to_dict(orient="records")
        statement = dialect_insert(db.dialect.name)(i)
        statement = statement.on_conflict_do_update(
            index_elements=[i.c.school_id, i.c.item_id],
            set_={c: statement.excluded[c] for c in columns if c not in ("school_id", "item_id")})
        db.execute(statement, values)


def _csv_chunks(rows: pd.DataFrame) -> Iterator[str]:
    for start in range(0, len(rows), _CHUNK):
        # every value quoted: an unquoted empty field would be read as NULL
        yield rows.iloc[start:start + _CHUNK].to_csv(index=False, header=False, quoting=csv.QUOTE_ALL,
                                                     lineterminator="\n")


def _copy_in(db: Connection, rows: pd.DataFrame) -> None:
    """COPY the rows into a temporary table, then merge them into ``items`` with one upsert."""
    columns = ", ".join(rows.columns)
    db.execute(text("CREATE TEMP TABLE items_in (LIKE items INCLUDING DEFAULTS) ON COMMIT DROP"))
    raw: Any = db.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY items_in ({columns}) FROM STDIN (FORMAT csv)") as copy:
        for chunk in _csv_chunks(rows):
            copy.write(chunk)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in rows.columns if c not in ("school_id", "item_id"))
    db.execute(text(f"INSERT INTO items ({columns}) SELECT {columns} FROM items_in "
                    f"ON CONFLICT (school_id, item_id) DO UPDATE SET {updates}"))
    db.execute(text("DROP TABLE items_in"))


def _copy_out(db: Connection, school: str) -> pd.DataFrame:
    raw: Any = db.connection.driver_connection
    out = io.BytesIO()
    query = f"COPY (SELECT {', '.join(_STORED)} FROM items WHERE school_id = %s ORDER BY item_id) TO STDOUT (FORMAT csv)"
    with raw.cursor() as cursor, cursor.copy(query, (school,)) as copy:
        for block in copy:
            out.write(block)
    out.seek(0)
    return _typed_text(pd.read_csv(out, names=list(_STORED), dtype=str, keep_default_na=False, na_filter=False))


def _select(db: Connection, school: str) -> pd.DataFrame:
    i = t.items
    query = select(*[i.c[c] for c in _STORED]).where(i.c.school_id == school).order_by(i.c.item_id)
    result = db.execute(query)
    return _typed_text(pd.DataFrame(result.fetchall(), columns=list(_STORED)))


def _typed_text(frame: pd.DataFrame) -> pd.DataFrame:
    numbers = {"grade": int, "difficulty": int, "minutes": float, "tolerance": float}
    return frame.astype({c: kind for c, kind in numbers.items()} | {c: object for c in _STORED if c not in numbers})
