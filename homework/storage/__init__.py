"""The one store: SQLAlchemy tables and Alembic migrations, on SQLite (default) or PostgreSQL (by URL).

Only this sub-package speaks SQL. It sits inside ``homework`` (not beside it) because the service
verbs, the CLI and the demo in ``homework`` open it, and imports flow one way into ``homework``.

>>> import tempfile
>>> engine = open_engine(sqlite_url(tempfile.mkdtemp()))
>>> current_revision(engine)
'0005'
"""

from homework.storage._engine import (
    SQLITE_FILE,
    StoreError,
    current_revision,
    default_data_dir,
    open_engine,
    sqlite_url,
    upgrade,
)
from homework.storage._items import ItemStore
from homework.storage._jobs import MAX_ATTEMPTS, Job, JobQueue
from homework.storage._keys import ROLES, KeyStore, Principal
from homework.storage._ledger import LedgerStore
from homework.storage._mastery import (
    Evidence,
    FieldPoint,
    MasteryStore,
    ModelVersion,
    ModelVersions,
    graded_responses,
    graded_students,
)
from homework.storage._rosters import ClassInfo, Person, RosterStore, TeacherScope
from homework.storage._scans import (
    DEFAULT_SCHOOL,
    ReviewItem,
    ScanStore,
    StoredPage,
    engine_for,
    ensure_school,
    list_schools,
)

__all__ = [
    "ClassInfo",
    "ItemStore",
    "Person",
    "RosterStore",
    "TeacherScope",
    "DEFAULT_SCHOOL",
    "Evidence",
    "FieldPoint",
    "MasteryStore",
    "ModelVersion",
    "ModelVersions",
    "graded_responses",
    "graded_students",
    "Job",
    "JobQueue",
    "KeyStore",
    "LedgerStore",
    "Principal",
    "ROLES",
    "MAX_ATTEMPTS",
    "ReviewItem",
    "SQLITE_FILE",
    "ScanStore",
    "StoreError",
    "StoredPage",
    "current_revision",
    "default_data_dir",
    "engine_for",
    "ensure_school",
    "list_schools",
    "open_engine",
    "sqlite_url",
    "upgrade",
]
