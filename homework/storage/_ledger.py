"""The 双减 ledger in the store: every assigned set with its day and students, and each student's minutes.

Two server processes (or a server and the CLI) share one ledger: :meth:`LedgerStore.assigning`
holds the school's ledger lock for the whole check-and-record, so no two sets can both pass a cap
that only one of them fits under.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, insert, select, update

from homework._assignments import Assignment, HomeworkLedger
from homework.storage import _tables as t
from homework.storage._scans import school_transaction


class LedgerStore:
    """One school's homework ledger, kept in the database."""

    def __init__(self, engine: Engine, school: str) -> None:
        from homework.storage._scans import ensure_school

        self.engine, self.school = engine, school
        ensure_school(engine, school)  # its row is what :meth:`assigning` locks: it must exist

    def ledger(self, *days: dt.date) -> HomeworkLedger:
        """The ledger of these days (every day when none is named), to read."""
        with school_transaction(self.engine, self.school) as db:
            return self._load(db, days)

    @contextmanager
    def assigning(self, *days: dt.date) -> Iterator[tuple[HomeworkLedger, Connection]]:
        """The ledger of these days and the transaction it is in; what the block adds to the ledger is
        stored when the block succeeds (write anything else that must go with it through the connection).

        The school's row is locked first (a row lock on PostgreSQL, the write lock on SQLite), so
        concurrent callers check the caps one after another.
        """
        with school_transaction(self.engine, self.school) as db:
            db.execute(update(t.schools).where(t.schools.c.school_id == self.school)
                       .values(name=t.schools.c.name))
            ledger = self._load(db, days)
            known = {a.id for a, _, _ in ledger.recorded()}
            yield ledger, db
            for assignment, students, day in ledger.recorded():
                if assignment.id not in known:
                    self._save(db, day, assignment, students)

    def import_ledger(self, ledger: HomeworkLedger) -> tuple[int, int]:
        """Copy the sets of a ledger kept elsewhere (an old ``ledger.json``) into this one, as recorded then:
        the caps are not checked again. Sets whose id is already here are skipped. Returns (added, skipped)."""
        a = t.assignments
        added = skipped = 0
        with school_transaction(self.engine, self.school) as db:
            known = set(db.execute(select(a.c.assignment_id).where(a.c.school_id == self.school)).scalars())
            for assignment, students, day in ledger.recorded():
                if assignment.id in known:
                    skipped += 1
                    continue
                self._save(db, day, assignment, students)
                known.add(assignment.id)
                added += 1
        return added, skipped

    def find(self, assignment_id: str) -> tuple[Assignment, frozenset[str], dt.date] | None:
        """A recorded set, its students and its day (``None`` if it was never recorded)."""
        a = t.assignments
        with school_transaction(self.engine, self.school) as db:
            row = db.execute(select(a.c.data, a.c.students, a.c.day).where(
                a.c.school_id == self.school, a.c.assignment_id == assignment_id)).first()
        if row is None:
            return None
        return (Assignment.from_dict(json.loads(row.data)), frozenset(json.loads(row.students)),
                dt.date.fromisoformat(row.day))

    def _load(self, db: Connection, days: tuple[dt.date, ...]) -> HomeworkLedger:
        a = t.assignments
        query = select(a.c.data, a.c.students, a.c.day).where(a.c.school_id == self.school)
        if days:
            query = query.where(a.c.day.in_([d.isoformat() for d in days]))
        ledger = HomeworkLedger()
        for row in db.execute(query.order_by(a.c.created_at, a.c.assignment_id)):
            ledger.restore(dt.date.fromisoformat(row.day), Assignment.from_dict(json.loads(row.data)),
                           json.loads(row.students))
        return ledger

    def _save(self, db: Connection, day: dt.date, assignment: Assignment, students: frozenset[str]) -> None:
        db.execute(insert(t.assignments).values(
            school_id=self.school, assignment_id=assignment.id, day=day.isoformat(),
            data=json.dumps(assignment.to_dict(), ensure_ascii=False), students=json.dumps(sorted(students)),
            created_at=time.time()))
        if students:
            db.execute(insert(t.ledger_minutes), [
                {"school_id": self.school, "day": day.isoformat(), "student_id": s,
                 "assignment_id": assignment.id, "subject": assignment.subject,
                 "minutes": assignment.total_minutes} for s in sorted(students)])
