"""The one store: schools, rosters, keys, bank, assignments and ledger, specs, blobs, uploads, jobs,
pages, answers, reviews, grade history.

Revision ID: 0001
Revises:

This first revision creates the tables as ``homework/storage/_tables.py`` defines them. Every later
change to ``_tables.py`` comes with a revision of explicit ``op`` calls (``tests/homework/
test_storage.py`` fails when the migrated schema and the tables differ).
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    from homework.storage._tables import metadata

    metadata.create_all(op.get_bind())
