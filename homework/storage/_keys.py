"""API keys in the store: hashed, looked up by a public prefix, compared in constant time.

A key reads ``hw_<prefix>_<secret>``. The prefix (8 hex characters) finds the row; the secret
(32 random bytes, URL-safe) is never stored, only its SHA-256, and the digests are compared with
:func:`hmac.compare_digest`. A fast hash is right here: the secret is random, not a password, so
there is nothing to guess at and a slow hash would only slow every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from homework._errors import HomeworkError
from homework.storage import _tables as t

ROLES = ("station", "teacher", "school_admin", "district_admin")


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a key's role, its school (``None`` for a district admin) and teacher."""

    key_id: int
    role: str
    school_id: str | None
    teacher_id: str | None = None

    @property
    def school(self) -> str:
        """The school this principal acts in (a district admin acts in none: nothing is found)."""
        if self.school_id is None:
            from homework._errors import NotFoundError

            raise NotFoundError("a district admin's key reads aggregates, not a school's objects")
        return self.school_id

    @property
    def name(self) -> str:
        """How this principal signs what it does (a teacher's id, else the role and key)."""
        return self.teacher_id or f"{self.role}#{self.key_id}"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyStore:
    """Create, check and revoke API keys."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, role: str, *, school: str | None, teacher: str | None = None, label: str = "") -> str:
        """A new key (shown once: only its hash is kept). A district admin has no school; others must.
        A teacher key names its teacher, who must be on the school's roster when the school has one."""
        if role not in ROLES:
            raise HomeworkError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        if (role == "district_admin") != (school is None):
            raise HomeworkError("a district_admin key has no school; every other role needs --school")
        if role == "teacher" and not teacher:
            raise HomeworkError("a teacher key names its teacher (--teacher ID)")
        from homework.storage._rosters import RosterStore
        from homework.storage._scans import ensure_school

        if school is not None:
            ensure_school(self.engine, school)
            roster = RosterStore(self.engine, school)
            if teacher and roster.has_roster() and not roster.has_teacher(teacher):
                raise HomeworkError(f"teacher {teacher!r} is not on the roster of school {school!r}: add them to the "
                                    "roster first (homework roster import), on the rows of the classes they teach")
        prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
        with self.engine.begin() as db:
            db.execute(insert(t.api_keys).values(
                school_id=school, role=role, teacher_id=teacher, prefix=prefix, hash=_digest(secret), label=label,
                created_at=time.time()))
        return f"hw_{prefix}_{secret}"

    def check(self, key: str) -> Principal | None:
        """The principal of a valid, unrevoked key; ``None`` for anything else."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != "hw" or len(parts[1]) != 8:
            return None
        k = t.api_keys
        with self.engine.connect() as db:
            row = db.execute(select(k.c.key_id, k.c.role, k.c.school_id, k.c.teacher_id, k.c.hash).where(
                k.c.prefix == parts[1], k.c.revoked_at.is_(None))).first()
        if row is None or not hmac.compare_digest(row.hash, _digest(parts[2])):
            return None
        return Principal(row.key_id, row.role, row.school_id, row.teacher_id)

    def revoke(self, key_id: int) -> bool:
        """Revoke a key; ``False`` if there was no such live key."""
        with self.engine.begin() as db:
            done = db.execute(update(t.api_keys).where(t.api_keys.c.key_id == key_id, t.api_keys.c.revoked_at.is_(None))
                              .values(revoked_at=time.time()))
        return bool(done.rowcount)
