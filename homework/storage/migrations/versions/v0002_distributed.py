"""A district on one store: jobs remember their dispatch, online mastery, model versions, field points.

Revision ID: 0002
Revises: 0001

``jobs.dispatched_at`` and ``jobs.queue`` let a sweeper send again a job whose message a broker lost;
``field_points`` says which knowledge points a sheet's field updates; ``mastery`` keeps each
student's evidence per knowledge point, updated as answers land; ``model_versions`` keeps each
refit per subject and grade (selection reads the newest). A database made at 0001 by this code
already has them (0001 creates the tables as ``_tables.py`` defines them), so each step checks first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from homework.storage import _tables as t

    inspector = sa.inspect(op.get_bind())
    columns = {c["name"] for c in inspector.get_columns("jobs")}
    with op.batch_alter_table("jobs") as batch:
        if "dispatched_at" not in columns:
            batch.add_column(sa.Column("dispatched_at", sa.Float()))
        if "queue" not in columns:
            batch.add_column(sa.Column("queue", sa.String(20)))
    for table in (t.field_points, t.mastery, t.model_versions):
        if not inspector.has_table(table.name):
            table.create(op.get_bind())
