"""Where scanned homework is kept: uploads, pages, answers, and the teacher's review queue.

:class:`ScanStore` is one folder: an SQLite database (``homework.sqlite3``, WAL mode, safe for one
writer and many readers) and a content-addressed ``blobs/`` folder holding every uploaded file and
every review crop exactly as received, so that nothing a scanner station sends is ever lost::

    root/
      homework.sqlite3     specs, uploads, pages, answers, reviews
      blobs/ab/abcdef...   uploaded files and crops, named by their SHA-256

One school's year of scans (a few hundred thousand pages) fits SQLite comfortably; a district
deployment would put the same tables in PostgreSQL (the SQL here is plain and portable).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS specs (
    assignment_id TEXT PRIMARY KEY, spec_json TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS uploads (
    upload_id INTEGER PRIMARY KEY, name TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    station TEXT, received_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS pages (
    page_id INTEGER PRIMARY KEY, upload_id INTEGER NOT NULL REFERENCES uploads(upload_id),
    page_in_file INTEGER NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL,
    assignment_id TEXT, student_id TEXT, sheet_page INTEGER, sheet_pages INTEGER,
    confidence REAL, received_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS pages_by_sheet ON pages (assignment_id, student_id, sheet_page, status);
CREATE TABLE IF NOT EXISTS answers (
    assignment_id TEXT NOT NULL, student_id TEXT NOT NULL, field_id TEXT NOT NULL,
    page_id INTEGER NOT NULL REFERENCES pages(page_id), kind TEXT NOT NULL,
    value TEXT, confidence REAL NOT NULL, read_status TEXT NOT NULL, read_reason TEXT NOT NULL,
    score REAL, max_score REAL, correct INTEGER, grade_status TEXT NOT NULL, grade_reason TEXT NOT NULL,
    graded_by TEXT NOT NULL, updated_at REAL NOT NULL,
    PRIMARY KEY (assignment_id, student_id, field_id));
CREATE INDEX IF NOT EXISTS answers_by_student ON answers (student_id);
CREATE TABLE IF NOT EXISTS reviews (
    review_id INTEGER PRIMARY KEY, assignment_id TEXT NOT NULL, student_id TEXT NOT NULL,
    field_id TEXT NOT NULL, page_id INTEGER NOT NULL REFERENCES pages(page_id),
    crop_sha256 TEXT, reason TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open',
    resolved_by TEXT, resolved_at REAL);
CREATE INDEX IF NOT EXISTS open_reviews ON reviews (status, assignment_id);
"""


@dataclass(frozen=True)
class StoredPage:
    """One page as the store keeps it; ``status`` says what became of it (see :mod:`homework._intake`)."""

    page_id: int
    upload_id: int
    page_in_file: int
    status: str
    message: str
    assignment_id: str | None
    student_id: str | None
    sheet_page: int | None
    sheet_pages: int | None
    confidence: float | None
    received_at: float


@dataclass(frozen=True)
class ReviewItem:
    """An answer waiting for a teacher: whose, which field, why, and the crop to look at."""

    review_id: int
    assignment_id: str
    student_id: str
    field_id: str
    page_id: int
    crop_sha256: str | None
    reason: str
    status: str
    value_read: str | None
    confidence: float


class ScanStore:
    """The folder that keeps scans, readings and grades. Safe to reopen; creates itself if new.

    >>> import tempfile
    >>> store = ScanStore(tempfile.mkdtemp())
    >>> sha = store.put_blob(b"%PDF-1.7 ...")
    >>> store.get_blob(sha)
    b'%PDF-1.7 ...'
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        (self.root / "blobs").mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.root / "homework.sqlite3", check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._db.execute(
            "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        self._db.commit()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Everything inside commits together, or not at all."""
        try:
            yield self._db
            self._db.commit()
        except BaseException:
            self._db.rollback()
            raise

    # -- blobs ---------------------------------------------------------------------------------

    def put_blob(self, data: bytes) -> str:
        """Keep ``data`` (idempotent) and return its SHA-256."""
        sha = hashlib.sha256(data).hexdigest()
        path = self._blob_path(sha)
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return sha

    def get_blob(self, sha256: str) -> bytes:
        """The bytes kept under ``sha256``; :class:`KeyError` if there are none."""
        path = self._blob_path(sha256)
        if not path.exists():
            raise KeyError(f"no blob {sha256}")
        return path.read_bytes()

    def _blob_path(self, sha: str) -> Path:
        if len(sha) != 64 or not all(c in "0123456789abcdef" for c in sha):
            raise KeyError(f"not a blob id: {sha!r}")
        return self.root / "blobs" / sha[:2] / sha

    # -- specs ---------------------------------------------------------------------------------

    def put_spec(self, assignment_id: str, spec_json: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO specs VALUES (?, ?, ?) ON CONFLICT(assignment_id) DO UPDATE SET "
                "spec_json = excluded.spec_json",
                (assignment_id, spec_json, time.time()),
            )

    def specs(self) -> dict[str, dict[str, Any]]:
        rows = self._db.execute("SELECT assignment_id, spec_json FROM specs").fetchall()
        return {r["assignment_id"]: json.loads(r["spec_json"]) for r in rows}

    # -- uploads and pages ---------------------------------------------------------------------

    def add_upload(self, db: sqlite3.Connection, name: str, sha: str, size: int, station: str | None) -> int:
        cur = db.execute(
            "INSERT INTO uploads (name, sha256, size, station, received_at) VALUES (?, ?, ?, ?, ?)",
            (name, sha, size, station, time.time()),
        )
        return int(cur.lastrowid or 0)

    def add_page(self, db: sqlite3.Connection, upload_id: int, page_in_file: int, status: str, message: str,
                 sheet: tuple[str, str, int, int] | None = None, confidence: float | None = None) -> int:
        a, s, p, n = sheet if sheet else (None, None, None, None)
        cur = db.execute(
            "INSERT INTO pages (upload_id, page_in_file, status, message, assignment_id, student_id, "
            "sheet_page, sheet_pages, confidence, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (upload_id, page_in_file, status, message, a, s, p, n, confidence, time.time()),
        )
        return int(cur.lastrowid or 0)

    def accepted_page(self, assignment_id: str, student_id: str, sheet_page: int) -> StoredPage | None:
        """The page already accepted for this sheet position, if any."""
        row = self._db.execute(
            "SELECT * FROM pages WHERE assignment_id = ? AND student_id = ? AND sheet_page = ? "
            "AND status = 'read' ORDER BY page_id LIMIT 1",
            (assignment_id, student_id, sheet_page),
        ).fetchone()
        return StoredPage(**dict(row)) if row else None

    def sheet_pages(self, assignment_id: str, student_id: str) -> tuple[set[int], int | None]:
        """Which pages of a student's sheet were accepted, and how many the sheet has."""
        rows = self._db.execute(
            "SELECT sheet_page, sheet_pages FROM pages WHERE assignment_id = ? AND student_id = ? "
            "AND status = 'read'",
            (assignment_id, student_id),
        ).fetchall()
        total = rows[0]["sheet_pages"] if rows else None
        return {r["sheet_page"] for r in rows}, total

    def pages(self, *, status: str | None = None, upload_id: int | None = None) -> list[StoredPage]:
        """Stored pages, optionally only those with ``status`` or from one upload, oldest first."""
        sql, args = "SELECT * FROM pages WHERE 1 = 1", list[Any]()
        if status is not None:
            sql, args = sql + " AND status = ?", [*args, status]
        if upload_id is not None:
            sql, args = sql + " AND upload_id = ?", [*args, upload_id]
        return [StoredPage(**dict(r)) for r in self._db.execute(sql + " ORDER BY page_id", args)]

    def upload_of(self, page_id: int) -> tuple[str, bytes]:
        """The name and original bytes of the file a page came in."""
        row = self._db.execute(
            "SELECT u.name, u.sha256 FROM pages p JOIN uploads u USING (upload_id) WHERE p.page_id = ?",
            (page_id,),
        ).fetchone()
        if row is None:
            raise KeyError(f"no page {page_id}")
        return row["name"], self.get_blob(row["sha256"])

    # -- answers and reviews -------------------------------------------------------------------

    def put_answer(self, db: sqlite3.Connection, row: dict[str, Any]) -> None:
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        db.execute(f"INSERT OR REPLACE INTO answers ({cols}) VALUES ({marks})", tuple(row.values()))

    def add_review(self, db: sqlite3.Connection, *, assignment_id: str, student_id: str, field_id: str,
                   page_id: int, crop_sha256: str | None, reason: str) -> int:
        cur = db.execute(
            "INSERT INTO reviews (assignment_id, student_id, field_id, page_id, crop_sha256, reason) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (assignment_id, student_id, field_id, page_id, crop_sha256, reason),
        )
        return int(cur.lastrowid or 0)

    def reviews(self, *, assignment_id: str | None = None, status: str | None = "open",
                review_id: int | None = None) -> list[ReviewItem]:
        """The review queue (open items by default; ``status=None`` for all), oldest first."""
        sql = (
            "SELECT r.review_id, r.assignment_id, r.student_id, r.field_id, r.page_id, r.crop_sha256, "
            "r.reason, r.status, a.value AS value_read, a.confidence FROM reviews r JOIN answers a "
            "USING (assignment_id, student_id, field_id) WHERE 1 = 1"
        )
        args: list[Any] = []
        for column, value in (("r.status", status), ("r.assignment_id", assignment_id), ("r.review_id", review_id)):
            if value is not None:
                sql, args = sql + f" AND {column} = ?", [*args, value]
        return [ReviewItem(**dict(r)) for r in self._db.execute(sql + " ORDER BY r.review_id", args)]

    def review(self, review_id: int) -> ReviewItem:
        """One review item, open or resolved; :class:`KeyError` if there is none."""
        found = self.reviews(status=None, review_id=review_id)
        if not found:
            raise KeyError(f"no review item {review_id}")
        return found[0]

    def close_review(self, db: sqlite3.Connection, review_id: int, teacher: str) -> None:
        db.execute(
            "UPDATE reviews SET status = 'resolved', resolved_by = ?, resolved_at = ? WHERE review_id = ?",
            (teacher, time.time(), review_id),
        )

    def answer(self, assignment_id: str, student_id: str, field_id: str) -> dict[str, Any]:
        """One stored answer as a plain dict; :class:`KeyError` if there is none."""
        row = self._db.execute(
            "SELECT * FROM answers WHERE assignment_id = ? AND student_id = ? AND field_id = ?",
            (assignment_id, student_id, field_id),
        ).fetchone()
        if row is None:
            raise KeyError(f"no answer of {student_id} to {field_id} in {assignment_id}")
        return dict(row)

    def answers(self, assignment_id: str | None = None, *,
                students: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Stored answers as plain dicts, for reports: every one, or one assignment's, or these students'
        (a class's history for selection, without reading the district's)."""
        where, args = [], list[Any]()
        if assignment_id is not None:
            where, args = ["assignment_id = ?"], [assignment_id]
        if students is None:
            return self._answers(where, args)
        wanted = sorted(set(students))
        rows = []
        for at in range(0, len(wanted), 500):  # SQLite caps the parameters of one statement
            chunk = wanted[at:at + 500]
            rows += self._answers(where + [f"student_id IN ({', '.join('?' * len(chunk))})"], args + chunk)
        return sorted(rows, key=lambda r: (r["assignment_id"], r["student_id"], r["field_id"]))

    def _answers(self, where: list[str], args: list[Any]) -> list[dict[str, Any]]:
        sql = "SELECT * FROM answers" + (" WHERE " + " AND ".join(where) if where else "")
        return [dict(r) for r in self._db.execute(sql + " ORDER BY assignment_id, student_id, field_id", args)]
