"""PostgreSQL row-level security on every school-owned table: the second wall between schools.

Revision ID: 0003
Revises: 0002

Each transaction of a school's store sets ``homework.school`` (``set_config(..., true)``); the
policy then shows and accepts only that school's rows, even to a query that forgot its
``school_id`` filter. A session that never sets it (the district's workers claiming jobs,
migrations, an operator) sees every row. ``FORCE`` applies the policy to the tables' owner too;
PostgreSQL superusers bypass row security, so the service should connect as an ordinary role.
SQLite has no row security: this revision does nothing there.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("classes", "students", "teachers", "items", "kp_edges", "assignments", "ledger_minutes", "sheet_specs",
          "blobs", "uploads", "jobs", "pages", "answers", "reviews", "grade_history", "field_points", "mastery")


def upgrade() -> None:
    from homework.storage._tables import school_wall

    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        for statement in school_wall(table):
            op.execute(statement)
