"""One school's scans in the store: specs, blobs, uploads, pages, answers, reviews and grade history.

:class:`ScanStore` is the school-scoped face of the database for scanned homework. Every query it
makes names its ``school_id``; two stores of two schools on one database never see each other's
rows. Bytes (uploaded files, review crops) are kept in the database by their SHA-256, so that an
upload and its job commit together and a worker on another machine reads what the server received.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from homework.storage import _tables as t
from homework.storage._engine import open_engine, sqlite_url
from homework.storage._tables import dialect_insert, new_id

DEFAULT_SCHOOL = "default"


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


_PAGE_COLUMNS = [t.pages.c[f] for f in StoredPage.__dataclass_fields__]
_ANSWER_COLUMNS = [c for c in t.answers.c if c.name != "school_id"]


def engine_for(place: str | Path | Engine) -> Engine:
    """An engine for a database URL, an existing engine, or a folder (its SQLite file)."""
    if isinstance(place, Engine):
        return place
    if isinstance(place, str) and "://" in place:
        return open_engine(place)
    return open_engine(sqlite_url(place))


class ScanStore:
    """The scans, readings and grades of one school. Safe to reopen; migrates a new database.

    ``place`` is a database URL, an engine, or a folder for the default SQLite file.

    >>> import tempfile
    >>> store = ScanStore(tempfile.mkdtemp())
    >>> with store.transaction() as db:
    ...     sha = store.put_blob(b"%PDF-1.7 ...", db)
    >>> store.get_blob(sha)
    b'%PDF-1.7 ...'
    """

    def __init__(self, place: str | Path | Engine, *, school: str = DEFAULT_SCHOOL) -> None:
        self.engine = engine_for(place)
        self.school = school
        ensure_school(self.engine, school)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Everything inside commits together, or not at all (and sees only this school's rows)."""
        with school_transaction(self.engine, self.school) as db:
            yield db

    def _read(self) -> Any:
        return school_transaction(self.engine, self.school)

    def _mine(self, table: t.Table) -> Any:
        return table.c.school_id == self.school

    # -- blobs ---------------------------------------------------------------------------------

    def put_blob(self, data: bytes, db: Connection) -> str:
        """Keep ``data`` (idempotent) inside ``db``'s transaction and return its SHA-256."""
        sha = hashlib.sha256(data).hexdigest()
        found = db.execute(select(t.blobs.c.sha256).where(self._mine(t.blobs), t.blobs.c.sha256 == sha)).first()
        if found is None:
            db.execute(insert(t.blobs).values(school_id=self.school, sha256=sha, size=len(data), data=data))
        return sha

    def get_blob(self, sha256: str) -> bytes:
        """The bytes kept under ``sha256``; :class:`KeyError` if there are none."""
        with self._read() as db:
            data = db.execute(select(t.blobs.c.data).where(self._mine(t.blobs), t.blobs.c.sha256 == sha256)).scalar()
        if data is None:
            raise KeyError(f"no blob {sha256}")
        return bytes(data)

    # -- specs ---------------------------------------------------------------------------------

    def put_spec(self, assignment_id: str, spec_json: str, key_sha256: str = "",
                 db: Connection | None = None) -> int:
        """Keep a spec; a different answer key makes a new version (returned), the same key updates it.

        Inside ``db``'s transaction when given, else in one of its own."""
        if db is None:
            with self.transaction() as own:
                return self.put_spec(assignment_id, spec_json, key_sha256, own)
        latest = db.execute(
            select(t.sheet_specs.c.version, t.sheet_specs.c.key_sha256)
            .where(self._mine(t.sheet_specs), t.sheet_specs.c.assignment_id == assignment_id)
            .order_by(t.sheet_specs.c.version.desc()).limit(1)
        ).first()
        if latest is not None and latest.key_sha256 == key_sha256:
            db.execute(update(t.sheet_specs).where(
                self._mine(t.sheet_specs), t.sheet_specs.c.assignment_id == assignment_id,
                t.sheet_specs.c.version == latest.version).values(spec_json=spec_json))
            return int(latest.version)
        version = 1 if latest is None else int(latest.version) + 1
        db.execute(insert(t.sheet_specs).values(
            school_id=self.school, assignment_id=assignment_id, version=version, spec_json=spec_json,
            key_sha256=key_sha256, created_at=time.time()))
        return version

    def specs(self) -> dict[str, dict[str, Any]]:
        """Each assignment's newest spec."""
        return {aid: spec for aid, (_, spec) in self.versioned_specs().items()}

    def versioned_specs(self) -> dict[str, tuple[int, dict[str, Any]]]:
        """Each assignment's newest spec, with its version."""
        s = t.sheet_specs
        newest = (select(s.c.assignment_id, func.max(s.c.version).label("version"))
                  .where(self._mine(s)).group_by(s.c.assignment_id).subquery())
        query = select(s.c.assignment_id, s.c.version, s.c.spec_json).join(
            newest, and_(s.c.assignment_id == newest.c.assignment_id, s.c.version == newest.c.version)
        ).where(self._mine(s))
        with self._read() as db:
            return {r.assignment_id: (int(r.version), json.loads(r.spec_json)) for r in db.execute(query)}

    # -- uploads and pages ---------------------------------------------------------------------

    def add_upload(self, db: Connection, name: str, sha: str, size: int, station: str | None,
                   page_count: int | None = None, uploaded_by: int | None = None) -> int:
        """Keep an upload's row; ``uploaded_by`` is the key that sent it."""
        return new_id(db.execute(insert(t.uploads).values(
            school_id=self.school, name=name, sha256=sha, size=size, station=station, page_count=page_count,
            received_at=time.time(), uploaded_by=uploaded_by)))

    def uploads_by(self, key_id: int) -> set[int]:
        """The uploads one key sent."""
        with self._read() as db:
            return set(db.execute(select(t.uploads.c.upload_id).where(
                self._mine(t.uploads), t.uploads.c.uploaded_by == key_id)).scalars())

    def add_page(self, db: Connection, upload_id: int, page_in_file: int, status: str, message: str,
                 sheet: tuple[str, str, int, int] | None = None, confidence: float | None = None,
                 spec_version: int | None = None) -> int:
        """Keep one page's outcome. An accepted page (``status='read'``) for a sheet position that
        already has one raises :class:`sqlalchemy.exc.IntegrityError` (the partial unique index)."""
        a, s, p, n = sheet if sheet else (None, None, None, None)
        return new_id(db.execute(insert(t.pages).values(
            school_id=self.school, upload_id=upload_id, page_in_file=page_in_file, status=status,
            message=message, assignment_id=a, student_id=s, sheet_page=p, sheet_pages=n,
            confidence=confidence, spec_version=spec_version, received_at=time.time())))

    def accepted_page(self, assignment_id: str, student_id: str, sheet_page: int,
                      db: Connection | None = None) -> StoredPage | None:
        """The page already accepted for this sheet position, if any."""
        query = select(*_PAGE_COLUMNS).where(
            self._mine(t.pages), t.pages.c.assignment_id == assignment_id, t.pages.c.student_id == student_id,
            t.pages.c.sheet_page == sheet_page, t.pages.c.status == "read").order_by(t.pages.c.page_id).limit(1)
        row = self._first(query, db)
        return StoredPage(**row._mapping) if row else None

    def page_in_upload(self, db: Connection, upload_id: int, page_in_file: int) -> StoredPage | None:
        """The stored outcome of one page of an upload (``None`` before it was processed)."""
        row = db.execute(select(*_PAGE_COLUMNS).where(
            self._mine(t.pages), t.pages.c.upload_id == upload_id, t.pages.c.page_in_file == page_in_file)).first()
        return StoredPage(**row._mapping) if row else None

    def sheet_pages(self, assignment_id: str, student_id: str) -> tuple[set[int], int | None]:
        """Which pages of a student's sheet were accepted, and how many the sheet has."""
        with self._read() as db:
            rows = db.execute(select(t.pages.c.sheet_page, t.pages.c.sheet_pages).where(
                self._mine(t.pages), t.pages.c.assignment_id == assignment_id,
                t.pages.c.student_id == student_id, t.pages.c.status == "read")).all()
        total = rows[0].sheet_pages if rows else None
        return {r.sheet_page for r in rows}, total

    def pages(self, *, status: str | None = None, upload_id: int | None = None) -> list[StoredPage]:
        """Stored pages, optionally only those with ``status`` or from one upload, oldest first."""
        query = select(*_PAGE_COLUMNS).where(self._mine(t.pages))
        if status is not None:
            query = query.where(t.pages.c.status == status)
        if upload_id is not None:
            query = query.where(t.pages.c.upload_id == upload_id)
        with self._read() as db:
            return [StoredPage(**r._mapping) for r in db.execute(query.order_by(t.pages.c.page_id))]

    def page(self, page_id: int) -> StoredPage:
        """One stored page; :class:`KeyError` if this school has none with that id."""
        row = self._first(select(*_PAGE_COLUMNS).where(self._mine(t.pages), t.pages.c.page_id == page_id))
        if row is None:
            raise KeyError(f"no page {page_id}")
        return StoredPage(**row._mapping)

    def set_page(self, db: Connection, page_id: int, **values: Any) -> None:
        """Change a stored page's outcome (a teacher dismissed it or said whose it is) inside ``db``.
        Accepting it (``status='read'``) for a sheet position that has a page raises
        :class:`sqlalchemy.exc.IntegrityError`, as :meth:`add_page` does."""
        db.execute(update(t.pages).where(self._mine(t.pages), t.pages.c.page_id == page_id).values(**values))

    def upload(self, upload_id: int) -> dict[str, Any] | None:
        """One upload's row (name, size, sha256, page count, station, when), or ``None``."""
        cols = [c for c in t.uploads.c if c.name != "school_id"]
        row = self._first(select(*cols).where(self._mine(t.uploads), t.uploads.c.upload_id == upload_id))
        return dict(row._mapping) if row else None

    def upload_with(self, sha256: str) -> int | None:
        """The first upload of this school with these exact bytes, if any."""
        return self._scalar(select(func.min(t.uploads.c.upload_id)).where(
            self._mine(t.uploads), t.uploads.c.sha256 == sha256))

    def upload_of(self, page_id: int) -> tuple[str, bytes]:
        """The name and original bytes of the file a page came in."""
        row = self._first(select(t.uploads.c.name, t.uploads.c.sha256).join(
            t.pages, t.pages.c.upload_id == t.uploads.c.upload_id).where(
            self._mine(t.pages), t.pages.c.page_id == page_id))
        if row is None:
            raise KeyError(f"no page {page_id}")
        return row.name, self.get_blob(row.sha256)

    # -- answers and reviews -------------------------------------------------------------------

    def put_answer(self, db: Connection, row: dict[str, Any], *, because: str) -> None:
        """Keep an answer (new or changed) and add the change to its grade history."""
        self.put_answers(db, [row], because=because)

    def put_answers(self, db: Connection, rows: list[dict[str, Any]], *, because: str) -> None:
        """Keep a page's answers (new or changed) and add each change to the grade history: two
        statements for the whole page (an upsert and an insert, sent as one batch each), not three a field.
        Every row must have the same keys."""
        if not rows:
            return
        a = t.answers
        values = [{"school_id": self.school, **{k: v for k, v in row.items() if k in a.c and k != "school_id"}}
                  for row in rows]
        keys = ("school_id", "assignment_id", "student_id", "field_id")
        statement = dialect_insert(db.dialect.name)(a)
        statement = statement.on_conflict_do_update(
            index_elements=[a.c[k] for k in keys],
            set_={k: statement.excluded[k] for k in values[0] if k not in keys})
        db.execute(statement, values)
        now = time.time()
        db.execute(insert(t.grade_history), [{
            "school_id": self.school, **{k: v.get(k) for k in (
                "assignment_id", "student_id", "field_id", "value", "score", "max_score", "correct",
                "grade_status", "graded_by")},
            "spec_version": v.get("spec_version", 1), "reason": because, "changed_at": now} for v in values])

    def grade_history(self, assignment_id: str, student_id: str, field_id: str) -> list[dict[str, Any]]:
        """Every grade an answer has had, oldest first."""
        h = t.grade_history
        query = select(*[c for c in h.c if c.name != "school_id"]).where(
            self._mine(h), h.c.assignment_id == assignment_id, h.c.student_id == student_id,
            h.c.field_id == field_id).order_by(h.c.change_id)
        with self._read() as db:
            return [dict(r._mapping) for r in db.execute(query)]

    def add_review(self, db: Connection, *, assignment_id: str, student_id: str, field_id: str,
                   page_id: int, crop_sha256: str | None, reason: str) -> int:
        return new_id(db.execute(insert(t.reviews).values(
            school_id=self.school, assignment_id=assignment_id, student_id=student_id, field_id=field_id,
            page_id=page_id, crop_sha256=crop_sha256, reason=reason, status="open")))

    def reviews(self, *, assignment_id: str | None = None, status: str | None = "open",
                review_id: int | None = None) -> list[ReviewItem]:
        """The review queue (open items by default; ``status=None`` for all), oldest first."""
        r, a = t.reviews, t.answers
        query = select(r.c.review_id, r.c.assignment_id, r.c.student_id, r.c.field_id, r.c.page_id,
                       r.c.crop_sha256, r.c.reason, r.c.status, a.c.value.label("value_read"),
                       a.c.confidence).join(a, and_(
                           a.c.school_id == r.c.school_id, a.c.assignment_id == r.c.assignment_id,
                           a.c.student_id == r.c.student_id, a.c.field_id == r.c.field_id)).where(self._mine(r))
        for column, value in ((r.c.status, status), (r.c.assignment_id, assignment_id), (r.c.review_id, review_id)):
            if value is not None:
                query = query.where(column == value)
        with self._read() as db:
            return [ReviewItem(**row._mapping) for row in db.execute(query.order_by(r.c.review_id))]

    def review(self, review_id: int) -> ReviewItem:
        """One review item, open or resolved; :class:`KeyError` if there is none."""
        found = self.reviews(status=None, review_id=review_id)
        if not found:
            raise KeyError(f"no review item {review_id}")
        return found[0]

    def close_review(self, db: Connection, review_id: int, teacher: str) -> bool:
        """Mark an open review resolved; ``False`` if it was no longer open (another teacher was first)."""
        done = db.execute(update(t.reviews).where(
            self._mine(t.reviews), t.reviews.c.review_id == review_id, t.reviews.c.status == "open"
        ).values(status="resolved", resolved_by=teacher, resolved_at=time.time()))
        return bool(done.rowcount)

    def answer(self, assignment_id: str, student_id: str, field_id: str) -> dict[str, Any]:
        """One stored answer as a plain dict; :class:`KeyError` if there is none."""
        a = t.answers
        row = self._first(select(*_ANSWER_COLUMNS).where(
            self._mine(a), a.c.assignment_id == assignment_id, a.c.student_id == student_id,
            a.c.field_id == field_id))
        if row is None:
            raise KeyError(f"no answer of {student_id} to {field_id} in {assignment_id}")
        return dict(row._mapping)

    def answers(self, assignment_id: str | None = None, *,
                students: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Stored answers as plain dicts, for reports: every one, or one assignment's, or these students'
        (a class's history for selection, without reading the school's)."""
        a = t.answers
        query = select(*_ANSWER_COLUMNS).where(self._mine(a))
        if assignment_id is not None:
            query = query.where(a.c.assignment_id == assignment_id)
        order = (a.c.assignment_id, a.c.student_id, a.c.field_id)
        if students is None:
            with self._read() as db:
                return [dict(r._mapping) for r in db.execute(query.order_by(*order))]
        wanted, rows = sorted(set(students)), []
        with self._read() as db:
            for at in range(0, len(wanted), 500):  # SQLite caps the parameters of one statement
                chunk = query.where(a.c.student_id.in_(wanted[at:at + 500]))
                rows += [dict(r._mapping) for r in db.execute(chunk)]
        return sorted(rows, key=lambda r: (r["assignment_id"], r["student_id"], r["field_id"]))

    # -- helpers -------------------------------------------------------------------------------

    def _first(self, query: Any, db: Connection | None = None) -> Any:
        if db is not None:
            return db.execute(query).first()
        with self._read() as conn:
            return conn.execute(query).first()

    def _scalar(self, query: Any) -> Any:
        with self._read() as db:
            return db.execute(query).scalar()


@contextmanager
def school_transaction(engine: Engine, school: str) -> Iterator[Connection]:
    """A transaction that, on PostgreSQL, sets ``homework.school``: row-level security (migration
    0003) then shows and accepts only this school's rows, whatever a query forgets to filter."""
    with engine.begin() as db:
        if engine.dialect.name == "postgresql":
            db.execute(text("SELECT set_config('homework.school', :school, true)"), {"school": school})
        yield db


def list_schools(engine: Engine) -> list[tuple[str, str]]:
    """Every school of the store: (id, name), by id."""
    with engine.connect() as db:
        return [(r.school_id, r.name) for r in db.execute(
            select(t.schools.c.school_id, t.schools.c.name).order_by(t.schools.c.school_id))]


def ensure_school(engine: Engine, school: str, name: str | None = None) -> None:
    """Create the school's row if it is missing (idempotent, safe when two processes race)."""
    with engine.connect() as db:
        if db.execute(select(t.schools.c.school_id).where(t.schools.c.school_id == school)).first():
            return
    try:
        with engine.begin() as db:
            db.execute(insert(t.schools).values(school_id=school, name=name or school, created_at=time.time()))
    except IntegrityError:
        pass  # another process created it first
