"""Mastery in the store: each student's evidence per knowledge point, and the refitted model versions.

Evidence is two running sums per (school, student, knowledge point): ``attempts`` and ``credit``
(score / max score). An answer adds to them with one ``INSERT ... ON CONFLICT DO UPDATE SET attempts
= attempts + 1, credit = credit + c`` statement: the database applies the addition under the row's
lock, so workers adding at the same moment never overwrite each other (no read-modify-write in
Python), and sums do not depend on the order answers land in, so any interleaving equals a serial
replay. A scanned page adds its answers inside the page's own transaction (the page and its
evidence commit together, exactly once); :meth:`MasteryStore.record` is one small transaction of its
own, for an answer that lands outside a page (a teacher's review). Rows are touched in knowledge
point order, so two transactions of one student cannot deadlock.

A refit per subject and grade writes a new row of ``model_versions``; readers take the newest.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select

from homework.storage import _tables as t
from homework.storage._tables import dialect_insert, new_id


@dataclass(frozen=True)
class FieldPoint:
    """What a sheet's field asks: its bank item, subject, grade and the knowledge points it tests."""

    field_id: str
    item_id: str
    subject: str
    grade: int
    knowledge_points: tuple[str, ...]
    writing: bool


@dataclass(frozen=True)
class Evidence:
    """A student's graded answers on one knowledge point: how many, and the credit they earned."""

    attempts: int
    credit: float


@dataclass(frozen=True)
class ModelVersion:
    """One refit of the mastery model for a subject and grade."""

    version_id: int
    subject: str
    grade: int
    model_json: str
    priors: dict[str, float]
    responses: int
    students: int
    note: str
    created_at: float


class MasteryStore:
    """One school's mastery evidence and sheet field points (see the module docstring)."""

    def __init__(self, engine: Engine, school: str) -> None:
        from homework.storage._scans import ensure_school

        self.engine, self.school = engine, school
        ensure_school(engine, school)

    # -- field points --------------------------------------------------------------------------

    def put_field_points(self, db: Connection, assignment_id: str, points: Iterable[FieldPoint]) -> None:
        """Say which knowledge points each field of an assignment's sheet tests (replacing what was said)."""
        fp = t.field_points
        db.execute(delete(fp).where(fp.c.school_id == self.school, fp.c.assignment_id == assignment_id))
        rows = [{"school_id": self.school, "assignment_id": assignment_id, "field_id": p.field_id,
                 "item_id": p.item_id, "subject": p.subject, "grade": p.grade, "writing": p.writing,
                 "knowledge_points": json.dumps(list(p.knowledge_points))} for p in points]
        if rows:
            db.execute(insert(fp), rows)

    def field_points(self, assignment_id: str, db: Connection | None = None) -> dict[str, FieldPoint]:
        """``{field id: FieldPoint}`` of an assignment (empty when none was recorded)."""
        fp = t.field_points
        query = select(fp.c.field_id, fp.c.item_id, fp.c.subject, fp.c.grade, fp.c.knowledge_points,
                       fp.c.writing).where(fp.c.school_id == self.school, fp.c.assignment_id == assignment_id)
        if db is None:
            with self.engine.connect() as own:
                rows = own.execute(query).all()
        else:
            rows = db.execute(query).all()
        return {r.field_id: FieldPoint(r.field_id, r.item_id, r.subject, int(r.grade),
                                       tuple(json.loads(r.knowledge_points)), bool(r.writing)) for r in rows}

    # -- evidence ------------------------------------------------------------------------------

    def add(self, db: Connection, student: str, subject: str, evidence: Iterable[tuple[str, float]]) -> int:
        """Add answers' credit (0..1 each) to the student's sums inside ``db``'s transaction; returns rows touched.

        One atomic upsert per knowledge point, in knowledge point order (see the module docstring).
        """
        return self.amend(db, student, subject, [(point, 1, credit) for point, credit in evidence])

    def amend(self, db: Connection, student: str, subject: str, changes: Iterable[tuple[str, int, float]]) -> int:
        """Add ``(knowledge point, attempts, credit)`` changes to the student's sums inside ``db``'s
        transaction (a teacher's change to a graded answer: attempts 0, credit new minus old; an answer
        no longer graded: attempts -1); returns rows touched. Atomic per point, as :meth:`add`."""
        summed: dict[str, list[float]] = {}
        for point, attempts, credit in changes:
            total = summed.setdefault(point, [0, 0.0])
            total[0] += attempts
            total[1] += float(credit)
        if not summed:
            return 0
        m = t.mastery
        statement = dialect_insert(db.dialect.name)(m)
        statement = statement.on_conflict_do_update(
            index_elements=[m.c.school_id, m.c.student_id, m.c.knowledge_point],
            set_={"attempts": m.c.attempts + statement.excluded.attempts,
                  "credit": m.c.credit + statement.excluded.credit, "updated_at": statement.excluded.updated_at})
        now = time.time()
        db.execute(statement, [{"school_id": self.school, "student_id": student, "knowledge_point": point,
                                "subject": subject, "attempts": int(summed[point][0]), "credit": summed[point][1],
                                "updated_at": now} for point in sorted(summed)])
        return len(summed)

    def record(self, student: str, subject: str, point: str, credit: float) -> None:
        """One graded answer on one knowledge point, in a small transaction of its own."""
        with self.engine.begin() as db:
            self.add(db, student, subject, [(point, credit)])

    def evidence(self, students: Sequence[str] | None = None) -> dict[str, dict[str, Evidence]]:
        """``{student: {knowledge point: Evidence}}`` of these students (every student when ``None``)."""
        m = t.mastery
        query = select(m.c.student_id, m.c.knowledge_point, m.c.attempts, m.c.credit).where(m.c.school_id == self.school)
        out: dict[str, dict[str, Evidence]] = {}
        for rows in _in_chunks(self.engine, query, m.c.student_id, students):
            for r in rows:
                out.setdefault(r.student_id, {})[r.knowledge_point] = Evidence(int(r.attempts), float(r.credit))
        return out


def _in_chunks(engine: Engine, query: Any, column: Any, values: Sequence[str] | None) -> Iterator[list[Any]]:
    """Run ``query`` for every row, or for ``column IN values`` 500 at a time (SQLite caps parameters)."""
    with engine.connect() as db:
        if values is None:
            yield list(db.execute(query).all())
            return
        wanted = sorted(set(values))
        for at in range(0, len(wanted), 500):
            yield list(db.execute(query.where(column.in_(wanted[at:at + 500]))).all())


class ModelVersions:
    """The refitted mastery models, per subject and grade (district-wide; the newest is current)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, subject: str, grade: int, model_json: str, priors: dict[str, float], *, responses: int,
             students: int, note: str = "") -> int:
        """Keep a new version; returns its id (higher is newer)."""
        with self.engine.begin() as db:
            return new_id(db.execute(insert(t.model_versions).values(
                subject=subject, grade=grade, model=model_json, priors=json.dumps(priors), responses=responses,
                students=students, note=note, created_at=time.time())))

    def latest(self, subject: str, grade: int) -> ModelVersion | None:
        """The newest version for the subject and grade, or ``None`` before the first refit."""
        v = t.model_versions
        query = (select(v).where(v.c.subject == subject, v.c.grade == grade)
                 .order_by(v.c.version_id.desc()).limit(1))
        with self.engine.connect() as db:
            r = db.execute(query).first()
        if r is None:
            return None
        return ModelVersion(int(r.version_id), r.subject, int(r.grade), r.model, json.loads(r.priors),
                            int(r.responses), int(r.students), r.note, float(r.created_at))

    def count(self, subject: str, grade: int) -> int:
        v = t.model_versions
        with self.engine.connect() as db:
            return int(db.execute(select(func.count()).where(v.c.subject == subject, v.c.grade == grade)).scalar_one())


def graded_students(engine: Engine, subject: str, grade: int) -> list[tuple[str, str]]:
    """Every (school, student) with a graded answer on a field of this subject and grade."""
    a, fp = t.answers, t.field_points
    query = select(a.c.school_id, a.c.student_id).distinct().join(fp, and_(
        fp.c.school_id == a.c.school_id, fp.c.assignment_id == a.c.assignment_id, fp.c.field_id == a.c.field_id,
    )).where(fp.c.subject == subject, fp.c.grade == grade, a.c.grade_status == "graded")
    with engine.connect() as db:
        return sorted((r.school_id, r.student_id) for r in db.execute(query))


def graded_responses(engine: Engine, subject: str, grade: int, school: str,
                     students: Sequence[str]) -> list[dict[str, Any]]:
    """The graded answers of these students of one school on fields of this subject and grade, as
    response rows (``student_id, item_id, skill_ids, correct, timestamp``), oldest first."""
    a, fp = t.answers, t.field_points
    query = select(a.c.student_id, fp.c.item_id, fp.c.knowledge_points, a.c.score, a.c.max_score,
                   a.c.updated_at).join(fp, and_(
                       fp.c.school_id == a.c.school_id, fp.c.assignment_id == a.c.assignment_id,
                       fp.c.field_id == a.c.field_id)).where(
        a.c.school_id == school, fp.c.subject == subject, fp.c.grade == grade, a.c.grade_status == "graded")
    rows: list[dict[str, Any]] = []
    for chunk in _in_chunks(engine, query, a.c.student_id, students):
        rows += [{"student_id": f"{school}/{r.student_id}", "item_id": r.item_id,
                  "skill_ids": tuple(json.loads(r.knowledge_points)),
                  "correct": float(r.score or 0.0) / float(r.max_score or 1.0), "timestamp": float(r.updated_at)}
                 for r in chunk]
    return sorted(rows, key=lambda r: (r["timestamp"], r["student_id"]))
