"""The tables of the one store, as SQLAlchemy Core metadata (SQLite and PostgreSQL alike).

Every row that belongs to a school carries ``school_id`` and leads its primary key or its indexes
with it, so a school's rows are found (and, on PostgreSQL, fenced by row-level security) by that
column alone::

    schools ─┬─ classes ─┬ students           teachers, api_keys (hashed)
             │           └ class_teachers     (which teacher teaches a class, per subject)
             ├─ items, kp_edges                (the bank and its knowledge graph)
             ├─ assignments, ledger_minutes    (stage 1 and the 双减 minutes of each student and day)
             ├─ sheet_specs (versioned)        (what a scan is read against; a new answer key = new version)
             ├─ blobs (content-addressed)      (uploaded files and review crops, inside the database)
             ├─ uploads ── jobs                (one job per upload; workers claim it with a lease)
             │        └── pages ── answers ── reviews, grade_history
             └─ ...

Blobs live in the database, not on disk: an upload's bytes and its job commit in one transaction,
and a worker on another machine reads them through the same connection it claims the job with.

Migrations (``homework/storage/migrations``) create and change these tables; ``homework db upgrade``
and every start of the service run them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

ID = String(100)  # ids that people or QR codes carry: schools, students, assignments, items, fields


def _school(*, key: bool = False) -> Column[str]:
    """The owning school; ``key``: it leads the table's primary key."""
    return Column("school_id", ID, ForeignKey("schools.school_id"), nullable=False, primary_key=key)


def _serial(name: str) -> Column[int]:
    return Column(name, Integer, primary_key=True, autoincrement=True)


schools = Table(
    "schools", metadata,
    Column("school_id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

classes = Table(
    "classes", metadata, _school(key=True),
    Column("class_id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("grade", Integer, nullable=False),
    Column("teacher_id", ID),
)

students = Table(
    "students", metadata, _school(key=True),
    Column("student_id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("class_id", ID),  # NULL: no longer in any class of the school (left, or replaced by a new roster)
    Index("ix_students_class", "school_id", "class_id"),
)

teachers = Table(
    "teachers", metadata, _school(key=True),
    Column("teacher_id", ID, primary_key=True),
    Column("name", Text, nullable=False),
)

class_teachers = Table(
    "class_teachers", metadata, _school(key=True),
    Column("class_id", ID, primary_key=True),
    Column("teacher_id", ID, primary_key=True),
    Column("subject", String(40), primary_key=True, server_default=""),  # "" : every subject (a head teacher)
    ForeignKeyConstraint(["school_id", "class_id"], ["classes.school_id", "classes.class_id"]),
    ForeignKeyConstraint(["school_id", "teacher_id"], ["teachers.school_id", "teachers.teacher_id"]),
)

api_keys = Table(
    "api_keys", metadata,
    _serial("key_id"),
    Column("school_id", ID, ForeignKey("schools.school_id")),  # NULL: a district admin's key
    Column("role", String(20), nullable=False),
    Column("teacher_id", ID),
    Column("prefix", String(16), nullable=False, unique=True),  # looked up, then the hash is compared
    Column("hash", String(128), nullable=False),
    Column("label", Text, nullable=False, server_default=""),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
)

items = Table(  # the bank's canonical columns (homework._bank.COLUMNS), as an import validated them
    "items", metadata, _school(key=True),
    Column("item_id", ID, primary_key=True),
    Column("subject", String(40), nullable=False),
    Column("grade", Integer, nullable=False),
    Column("type", String(20), nullable=False),
    Column("stem", Text, nullable=False),
    Column("stem_en", Text, nullable=False, server_default=""),
    Column("image", Text, nullable=False, server_default=""),
    Column("options", Text, nullable=False, server_default=""),  # a JSON array, or ""
    Column("answer", Text, nullable=False, server_default=""),  # a JSON array, or ""
    Column("tolerance", Float, nullable=False, server_default=text("0")),
    Column("knowledge_points", Text, nullable=False, server_default=""),  # ";"-separated
    Column("difficulty", Integer, nullable=False),
    Column("minutes", Float, nullable=False),
    Column("source", Text, nullable=False, server_default=""),
    Column("tags", Text, nullable=False, server_default=""),  # ";"-separated
    Column("updated_at", Float, nullable=False),
)

kp_edges = Table(
    "kp_edges", metadata, _school(key=True),
    Column("prerequisite", ID, primary_key=True),
    Column("point", ID, primary_key=True),
)

assignments = Table(
    "assignments", metadata, _school(key=True),
    Column("assignment_id", ID, primary_key=True),
    Column("day", String(10), nullable=False),  # ISO date the set is for
    Column("data", Text, nullable=False),  # homework.Assignment as JSON
    Column("students", Text, nullable=False),  # JSON list of student ids
    Column("created_at", Float, nullable=False),
)

ledger_minutes = Table(
    "ledger_minutes", metadata, _school(key=True),
    Column("day", String(10), primary_key=True),
    Column("student_id", ID, primary_key=True),
    Column("assignment_id", ID, primary_key=True),
    Column("subject", String(40), nullable=False),
    Column("minutes", Float, nullable=False),
    ForeignKeyConstraint(["school_id", "assignment_id"],
                         ["assignments.school_id", "assignments.assignment_id"]),
)

sheet_specs = Table(
    "sheet_specs", metadata, _school(key=True),
    Column("assignment_id", ID, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("spec_json", Text, nullable=False),
    Column("key_sha256", String(64), nullable=False),  # of the answer keys: a new key is a new version
    Column("created_at", Float, nullable=False),
)

blobs = Table(
    "blobs", metadata, _school(key=True),
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

uploads = Table(
    "uploads", metadata,
    _serial("upload_id"),
    _school(),
    Column("name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("page_count", Integer),  # when the file was cheap to count
    Column("station", Text),
    Column("received_at", Float, nullable=False),
    Column("uploaded_by", Integer),  # the key that sent it (a teacher sees the uploads they sent)
    ForeignKeyConstraint(["school_id", "sha256"], ["blobs.school_id", "blobs.sha256"]),
    Index("ix_uploads_school_sha", "school_id", "sha256"),
)

jobs = Table(
    "jobs", metadata,
    _serial("job_id"),
    _school(),
    Column("upload_id", Integer, ForeignKey("uploads.upload_id"), nullable=False, unique=True),
    Column("status", String(10), nullable=False),  # queued, running, done, failed
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("worker", Text),
    Column("lease_until", Float),
    Column("error", Text),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("dispatched_at", Float),  # when the job was last sent to a distributed engine (Celery)
    Column("queue", String(20)),  # the engine's queue it went to: bubbles, boxes
    Index("ix_jobs_claim", "status", "job_id"),
)

workers = Table(
    "workers", metadata,
    Column("worker", String(200), primary_key=True),
    Column("heartbeat_at", Float, nullable=False),
)

pages = Table(
    "pages", metadata,
    _serial("page_id"),
    _school(),
    Column("upload_id", Integer, ForeignKey("uploads.upload_id"), nullable=False),
    Column("page_in_file", Integer, nullable=False),
    Column("status", String(30), nullable=False),
    Column("message", Text, nullable=False),
    Column("assignment_id", ID),
    Column("student_id", ID),
    Column("sheet_page", Integer),
    Column("sheet_pages", Integer),
    Column("confidence", Float),
    Column("spec_version", Integer),
    Column("received_at", Float, nullable=False),
    Index("uq_pages_upload_page", "upload_id", "page_in_file", unique=True),  # a job run twice: one page
    Index("ix_pages_sheet", "school_id", "assignment_id", "student_id", "sheet_page", "status"),
    # one accepted page per sheet position, whichever worker reads it first
    Index("uq_pages_accepted", "school_id", "assignment_id", "student_id", "sheet_page", unique=True,
          sqlite_where=text("status = 'read'"), postgresql_where=text("status = 'read'")),
)

answers = Table(
    "answers", metadata, _school(key=True),
    Column("assignment_id", ID, primary_key=True),
    Column("student_id", ID, primary_key=True),
    Column("field_id", ID, primary_key=True),
    Column("page_id", Integer, ForeignKey("pages.page_id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("value", Text),
    Column("confidence", Float, nullable=False),
    Column("read_status", String(20), nullable=False),
    Column("read_reason", Text, nullable=False),
    Column("score", Float),
    Column("max_score", Float),
    Column("correct", Boolean),
    Column("grade_status", String(20), nullable=False),
    Column("grade_reason", Text, nullable=False),
    Column("graded_by", Text, nullable=False),
    Column("spec_version", Integer, nullable=False, server_default=text("1")),
    Column("updated_at", Float, nullable=False),
    Index("ix_answers_student", "school_id", "student_id"),
)

reviews = Table(
    "reviews", metadata,
    _serial("review_id"),
    _school(),
    Column("assignment_id", ID, nullable=False),
    Column("student_id", ID, nullable=False),
    Column("field_id", ID, nullable=False),
    Column("page_id", Integer, ForeignKey("pages.page_id"), nullable=False),
    Column("crop_sha256", String(64)),
    Column("reason", Text, nullable=False),
    Column("status", String(10), nullable=False, server_default="open"),
    Column("resolved_by", Text),
    Column("resolved_at", Float),
    Index("ix_reviews_open", "school_id", "status", "assignment_id"),
)

grade_history = Table(
    "grade_history", metadata,
    _serial("change_id"),
    _school(),
    Column("assignment_id", ID, nullable=False),
    Column("student_id", ID, nullable=False),
    Column("field_id", ID, nullable=False),
    Column("value", Text),
    Column("score", Float),
    Column("max_score", Float),
    Column("correct", Boolean),
    Column("grade_status", String(20), nullable=False),
    Column("graded_by", Text, nullable=False),
    Column("spec_version", Integer, nullable=False),
    Column("reason", Text, nullable=False),  # what caused the change: a scan, a review, a regrade
    Column("changed_at", Float, nullable=False),
    Index("ix_grade_history_answer", "school_id", "assignment_id", "student_id", "field_id"),
)

field_points = Table(
    "field_points", metadata, _school(key=True),
    Column("assignment_id", ID, primary_key=True),
    Column("field_id", ID, primary_key=True),
    Column("item_id", ID, nullable=False),
    Column("subject", String(40), nullable=False),
    Column("grade", Integer, nullable=False),
    Column("knowledge_points", Text, nullable=False),  # JSON list: what a graded answer updates
    Column("writing", Boolean, nullable=False),  # a writing box (read by OCR), not a bubble
)

mastery = Table(
    "mastery", metadata, _school(key=True),
    Column("student_id", ID, primary_key=True),
    Column("knowledge_point", ID, primary_key=True),
    Column("subject", String(40), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("credit", Float, nullable=False),  # the sum of score / max score over the attempts
    Column("updated_at", Float, nullable=False),
)

model_versions = Table(
    "model_versions", metadata,
    _serial("version_id"),
    Column("subject", String(40), nullable=False),
    Column("grade", Integer, nullable=False),
    Column("model", Text, nullable=False),  # the fitted mastery model's to_json()
    Column("priors", Text, nullable=False),  # JSON {knowledge point: population P(correct)}
    Column("responses", Integer, nullable=False),  # responses the fit read (after sampling)
    Column("students", Integer, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_model_versions_latest", "subject", "grade", "version_id"),
)

SCHOOL_RULE = "coalesce(current_setting('homework.school', true), '') IN ('', school_id)"
"""PostgreSQL's row-level security policy on a school's table (migrations 0003, 0004): a transaction that
set ``homework.school`` sees and writes only that school's rows; one that set nothing (a worker) sees all."""


def school_wall(table: str) -> list[str]:
    """The statements that put :data:`SCHOOL_RULE` on ``table`` (PostgreSQL)."""
    return [f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY", f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY school_wall ON {table} USING ({SCHOOL_RULE}) WITH CHECK ({SCHOOL_RULE})"]


SCHOOL_TABLES = tuple(t for t in metadata.sorted_tables if "school_id" in t.c and t is not schools)


def new_id(result: Any) -> int:
    """The id an ``INSERT`` into a table with a serial key just made."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the insert made no row")
    return int(key[0])


def dialect_insert(dialect: str) -> Any:
    """The ``INSERT`` construct with ``on_conflict_do_update`` of this dialect (PostgreSQL or SQLite)."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return pg_insert if dialect == "postgresql" else sqlite_insert
