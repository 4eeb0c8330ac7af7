"""Rosters: which teachers teach a class (per subject), students found by class, who sent an upload.

Revision ID: 0004
Revises: 0003

``class_teachers`` links a class to each teacher who teaches it (a subject, or ``""`` for a head
teacher): a teacher's key sees the students of these classes only. ``ix_students_class`` finds a
class's students. ``uploads.uploaded_by`` keeps the key that sent a file, so a teacher follows the
uploads they sent. On PostgreSQL the new table gets the school wall of revision 0003. A database
made at 0001 by this code already has the table and index (0001 creates ``_tables.py`` as it is),
so each step checks first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from homework.storage import _tables as t

    bind = op.get_bind()
    inspector = sa.inspect(bind)
    if not inspector.has_table("class_teachers"):
        t.class_teachers.create(bind)
    if bind.dialect.name == "postgresql" and not bind.execute(sa.text(
            "SELECT 1 FROM pg_policies WHERE tablename = 'class_teachers'")).first():
        for statement in t.school_wall("class_teachers"):
            op.execute(statement)
    if "ix_students_class" not in {i["name"] for i in inspector.get_indexes("students")}:
        op.create_index("ix_students_class", "students", ["school_id", "class_id"])
    if "uploaded_by" not in {c["name"] for c in inspector.get_columns("uploads")}:
        with op.batch_alter_table("uploads") as batch:
            batch.add_column(sa.Column("uploaded_by", sa.Integer()))
