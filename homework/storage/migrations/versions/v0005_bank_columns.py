"""The bank in the store: items keep the bank's canonical columns instead of one JSON text.

Revision ID: 0005
Revises: 0004

An item row holds what ``homework.ItemBank`` holds (type, stem, options, answer, tolerance, knowledge
points, difficulty, minutes, source, tags), so the bank's arrays are built from the store with no
per-row parsing and PostgreSQL imports a 700,000-item bank by ``COPY``. Nothing wrote the old
``items.data`` column, so the table is made again when it is empty; a table that holds rows written
by other code is refused with the reason rather than changed. A database made at 0001 by this code
already has the new columns.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from homework.storage import _tables as t

    bind = op.get_bind()
    if "data" not in {c["name"] for c in sa.inspect(bind).get_columns("items")}:
        return
    if bind.execute(sa.text("SELECT count(*) FROM items")).scalar():
        raise RuntimeError("the items table holds rows in the old form (a JSON 'data' column) that this code never "
                           "wrote; export them, empty the table, upgrade, and import them with `homework bank import`")
    op.drop_table("items")
    t.items.create(bind)
    if bind.dialect.name == "postgresql":
        for statement in t.school_wall("items"):
            op.execute(statement)
