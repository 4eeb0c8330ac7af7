"""One school's roster in the store: classes, students, teachers, and which teacher teaches which class.

:class:`RosterStore` writes an imported roster (upserts by id; ``replace`` takes the students no
longer listed out of the file's classes) and answers what the service asks of it: whether a
school has a roster at all, whether a student is on it, a teacher's classes and students, and each
student's name and class for papers and reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, select, update

from homework.storage import _tables as t
from homework.storage._scans import ensure_school, school_transaction
from homework.storage._tables import dialect_insert


@dataclass(frozen=True)
class ClassInfo:
    """A class of the roster: its id, printed name, grade, its teachers (id, subject) and students."""

    class_id: str
    name: str
    grade: int
    teachers: tuple[tuple[str, str], ...]
    students: tuple[str, ...]


@dataclass(frozen=True)
class Person:
    """A student as papers and reports show them: name and class (the class's printed name)."""

    student_id: str
    name: str
    class_id: str | None
    class_name: str


@dataclass(frozen=True)
class TeacherScope:
    """What a teacher's key may see: the classes they teach (ids and printed names) and their students."""

    teacher_id: str
    classes: frozenset[str]
    class_names: frozenset[str]
    students: frozenset[str]


class RosterStore:
    """The roster of one school (every query names its ``school_id``)."""

    def __init__(self, engine: Engine, school: str) -> None:
        self.engine = engine
        self.school = school

    def _mine(self, table: t.Table) -> Any:
        return table.c.school_id == self.school

    # -- writing -------------------------------------------------------------------------------

    def put(self, rows: Sequence[Any], *, replace: bool = False) -> tuple[int, int, int, tuple[str, ...]]:
        """Upsert the classes, students and teachers of ``rows`` (:class:`homework.RosterRow`), in one
        transaction. ``replace``: in each class of ``rows``, students not listed leave the class and
        teachers not listed stop teaching it. Returns (classes, students, teachers, students who left)."""
        ensure_school(self.engine, self.school)
        classes = {r.class_id: {"name": r.display_name, "grade": r.grade} for r in rows}
        students = {r.student_id: {"name": r.student_name, "class_id": r.class_id} for r in rows if r.student_id}
        teachers = {r.teacher_id: {"name": r.teacher_name or r.teacher_id} for r in rows if r.teacher_id}
        links = {(r.class_id, r.teacher_id, r.subject) for r in rows if r.teacher_id}
        with school_transaction(self.engine, self.school) as db:
            self._upsert(db, t.classes, "class_id", classes)
            self._upsert(db, t.teachers, "teacher_id", teachers)
            self._upsert(db, t.students, "student_id", students)
            left = self._replace(db, set(classes), set(students), links) if replace else ()
            self._link(db, links)
        return len(classes), len(students), len(teachers), left

    def _upsert(self, db: Connection, table: t.Table, key: str, rows: dict[str, dict[str, Any]]) -> None:
        if not rows:
            return
        values = [{"school_id": self.school, key: k, **v} for k, v in rows.items()]
        statement = dialect_insert(db.dialect.name)(table)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.school_id, table.c[key]],
            set_={c: statement.excluded[c] for c in values[0] if c not in ("school_id", key)})
        db.execute(statement, values)

    def _replace(self, db: Connection, classes: set[str], listed: set[str],
                 links: set[tuple[str, str, str]]) -> tuple[str, ...]:
        s, ct = t.students, t.class_teachers
        current = db.execute(select(s.c.student_id).where(self._mine(s), s.c.class_id.in_(sorted(classes)))).scalars()
        left = tuple(sorted(set(current) - listed))
        for at in range(0, len(left), 500):
            db.execute(update(s).where(self._mine(s), s.c.student_id.in_(left[at:at + 500])).values(class_id=None))
        old = db.execute(select(ct.c.class_id, ct.c.teacher_id, ct.c.subject).where(
            self._mine(ct), ct.c.class_id.in_(sorted(classes)))).all()
        for link in {tuple(row) for row in old} - links:
            db.execute(delete(ct).where(self._mine(ct), ct.c.class_id == link[0], ct.c.teacher_id == link[1],
                                        ct.c.subject == link[2]))
        return left

    def _link(self, db: Connection, links: set[tuple[str, str, str]]) -> None:
        if not links:
            return
        ct = t.class_teachers
        values = [{"school_id": self.school, "class_id": c, "teacher_id": te, "subject": su} for c, te, su in links]
        db.execute(dialect_insert(db.dialect.name)(ct).on_conflict_do_nothing(), values)

    # -- reading -------------------------------------------------------------------------------

    def has_roster(self) -> bool:
        """Whether this school imported a roster (any class)."""
        with school_transaction(self.engine, self.school) as db:
            return db.execute(select(t.classes.c.class_id).where(self._mine(t.classes)).limit(1)).first() is not None

    def has_teacher(self, teacher_id: str) -> bool:
        with school_transaction(self.engine, self.school) as db:
            return db.execute(select(t.teachers.c.teacher_id).where(
                self._mine(t.teachers), t.teachers.c.teacher_id == teacher_id)).first() is not None

    def enrolled(self, student_id: str) -> bool:
        """Whether the student is in a class of this school's roster now."""
        s = t.students
        with school_transaction(self.engine, self.school) as db:
            return db.execute(select(s.c.student_id).where(
                self._mine(s), s.c.student_id == student_id, s.c.class_id.is_not(None))).first() is not None

    def teacher_scope(self, teacher_id: str) -> TeacherScope:
        """The classes a teacher teaches (any subject) and the students now in them."""
        c, ct, s = t.classes, t.class_teachers, t.students
        with school_transaction(self.engine, self.school) as db:
            classes = db.execute(select(c.c.class_id, c.c.name).join(ct, and_(
                ct.c.school_id == c.c.school_id, ct.c.class_id == c.c.class_id)).where(
                self._mine(c), ct.c.teacher_id == teacher_id)).all()
            ids = sorted({row.class_id for row in classes})
            students = db.execute(select(s.c.student_id).where(self._mine(s), s.c.class_id.in_(ids))).scalars()
            return TeacherScope(teacher_id, frozenset(ids), frozenset(row.name for row in classes),
                                frozenset(students))

    def classes(self, class_ids: Iterable[str] | None = None) -> list[ClassInfo]:
        """The roster's classes (or these), each with its teachers and students, by id."""
        c, ct, s = t.classes, t.class_teachers, t.students
        wanted = None if class_ids is None else sorted(set(class_ids))
        with school_transaction(self.engine, self.school) as db:
            query = select(c.c.class_id, c.c.name, c.c.grade).where(self._mine(c)).order_by(c.c.class_id)
            rows = db.execute(query if wanted is None else query.where(c.c.class_id.in_(wanted))).all()
            teachers = db.execute(select(ct.c.class_id, ct.c.teacher_id, ct.c.subject).where(self._mine(ct))).all()
            members = db.execute(select(s.c.class_id, s.c.student_id).where(
                self._mine(s), s.c.class_id.is_not(None)).order_by(s.c.student_id)).all()
        return [ClassInfo(r.class_id, r.name, int(r.grade),
                          tuple(sorted((x.teacher_id, x.subject) for x in teachers if x.class_id == r.class_id)),
                          tuple(m.student_id for m in members if m.class_id == r.class_id)) for r in rows]

    def people(self, student_ids: Iterable[str]) -> dict[str, Person]:
        """Name and class of each of these students the roster knows (a student who left: no class)."""
        s, c = t.students, t.classes
        wanted, found = sorted(set(student_ids)), {}
        query = select(s.c.student_id, s.c.name, s.c.class_id, c.c.name.label("class_name")).outerjoin(
            c, and_(c.c.school_id == s.c.school_id, c.c.class_id == s.c.class_id)).where(self._mine(s))
        with school_transaction(self.engine, self.school) as db:
            for at in range(0, len(wanted), 500):  # SQLite caps the parameters of one statement
                for r in db.execute(query.where(s.c.student_id.in_(wanted[at:at + 500]))):
                    found[r.student_id] = Person(r.student_id, r.name, r.class_id, r.class_name or "")
        return found
