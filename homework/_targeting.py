"""Stage 4 of the loop (个性作业靶向投放): each student's next set, picked by the mastery model, as assignments.

Selection itself is :mod:`recommender` (plain data in and out); this module is the domain glue::

    ItemBank  --ItemPool.from_frame (cached per bank)-->  pool of arrays
    KnowledgeGraph  -->  {knowledge point: direct prerequisites}
    HomeworkLedger  -->  each student's budget = min(teacher's minutes, 双减 cap - minutes already set that day)
    select_for_class / tiered_sets (recommender)  -->  picks with reasons
    picks  -->  one Assignment per student (tier "targeted") or per tier, recorded in the ledger

A student whose day is already full gets no set and a note; grades 1-2 (no written homework) are
refused with :class:`CapExceededError`. :func:`history_from_answers` turns graded answers from the
:class:`~homework.ScanStore` into the history selection reads (what was done recently, what was wrong).

>>> from homework import ItemBank
>>> bank = ItemBank()
>>> _ = bank.import_frame(pd.DataFrame({"id": [f"q{i}" for i in range(6)], "grade": 4, "type": "numeric",
...     "stem": "1/2 + 1/4 = ?", "answer": "0.75", "knowledge_points": "number.fraction",
...     "difficulty": [1, 2, 3, 3, 4, 5], "minutes": 3.0}))
>>> mastery = {"s1": {"number.fraction": 0.5}, "s2": {"number.fraction": 0.9}}
>>> ledger = HomeworkLedger()
>>> _ = ledger.assign(Assignment("yw-1", "chinese", 4, ("c1",), (54.0,)), ["s1"], dt.date(2026, 11, 23))
>>> sets = targeted_homework(bank, mastery, ["s1", "s2"], day=dt.date(2026, 11, 23), ledger=ledger,
...                          scope=TargetRequest(grade=4, knowledge_points=("number.fraction",), minutes=9))
>>> {s: (h.budget, h.assignment.item_ids) for s, h in sets.students.items()}
{'s1': (6.0, ('q1', 'q0')), 's2': (9.0, ('q5', 'q4', 'q2'))}
>>> sets.students["s1"].selection.picks[0].reason
'number.fraction: mastery 0.50 ± 0.25 after 0 answers, below 0.80; no prerequisites; predicted success 0.65'
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from homework._assignments import Assignment, HomeworkLedger
from homework._bank import ItemBank
from homework._errors import AssignmentError, CapExceededError
from homework._graph import KnowledgeGraph
from recommender import (
    ItemPool,
    Scope,
    SelectionPolicy,
    TargetedSet,
    TieredSets,
    select_for_class,
    tiered_sets,
)

__all__ = [
    "StudentHomework",
    "TargetRequest",
    "TargetedHomework",
    "TieredHomework",
    "history_from_answers",
    "calibrated_pool",
    "item_pool",
    "load_mastery_model",
    "mastery_from_history",
    "print_targeted",
    "targeted_homework",
    "tiered_homework",
]

log = logging.getLogger(__name__)

DEFAULT_POLICY = SelectionPolicy()
"""The selection rules used unless a caller passes its own (band 0.55-0.83, items by expected learning per minute, mastery at 0.8, ...)."""
_POOLS: weakref.WeakKeyDictionary[ItemBank, tuple[int, ItemPool]] = weakref.WeakKeyDictionary()


class TargetRequest(BaseModel):
    """What a teacher asks of stage 4: "next sets in math for my grade-6 class, fractions and decimals,
    20 minutes, the test is on Friday". Empty ``knowledge_points``: every point the bank has for the
    subject up to ``grade``; ``test_points`` default to ``knowledge_points``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str = Field("math", min_length=1)
    grade: int = Field(ge=1, le=12)
    knowledge_points: tuple[str, ...] = ()
    minutes: float = Field(gt=0, le=240)
    test_date: dt.date | None = None
    test_points: tuple[str, ...] = ()
    tiers: bool = False

    def scope(self) -> Scope:
        """The :class:`recommender.Scope` of this request."""
        return Scope(subject=self.subject, grade=self.grade, knowledge_points=self.knowledge_points,
                     test_date=self.test_date, test_points=self.test_points)


@dataclass(frozen=True)
class StudentHomework:
    """One student's targeted set: the assignment (``None`` when the day had no room or nothing fitted),
    the recommender's picks with their reasons, the budget and why it is that."""

    student_id: str
    assignment: Assignment | None
    selection: TargetedSet
    budget: float
    budget_reason: str

    @property
    def confidence(self) -> float:
        """The selection's confidence (how sure the mastery estimates behind the picks are)."""
        return self.selection.confidence


@dataclass(frozen=True)
class TargetedHomework:
    """Every student's next set for one day, subject and grade; ``notes`` say who got none and why."""

    day: dt.date
    subject: str
    grade: int
    students: dict[str, StudentHomework]
    notes: tuple[str, ...] = ()

    @property
    def assignments(self) -> dict[str, Assignment]:
        """Student -> assignment, for the students who got a set."""
        return {s: h.assignment for s, h in self.students.items() if h.assignment is not None}

    @property
    def confidence(self) -> float:
        """Mean confidence of the students' selections (0 with none)."""
        values = [h.confidence for h in self.students.values() if h.assignment is not None]
        return float(sum(values) / len(values)) if values else 0.0


@dataclass(frozen=True)
class TieredHomework:
    """分层作业 from mastery: one assignment per tier (``A`` strongest), each student's tier, the budget."""

    day: dt.date
    assignments: dict[str, Assignment]
    tier_of: dict[str, str]
    selection: TieredSets
    budget: float
    notes: tuple[str, ...] = ()

    @property
    def confidence(self) -> float:
        """Mean confidence of the tiers' selections."""
        values = [s.confidence for s in self.selection.sets.values()]
        return float(sum(values) / len(values)) if values else 0.0

    def students(self, tier: str) -> list[str]:
        return [s for s, t in self.tier_of.items() if t == tier]


# ------------------------------------------------------------------------------------ the pieces


def item_pool(bank: ItemBank) -> ItemPool:
    """The bank as a :class:`recommender.ItemPool`, built once per bank and rebuilt when it changes
    (:attr:`ItemBank.version`)."""
    cached = _POOLS.get(bank)
    if cached is not None and cached[0] == bank.version:
        return cached[1]
    if not len(bank):
        raise AssignmentError("the item bank is empty: import items before asking for targeted homework")
    pool = ItemPool.from_frame(bank.frame)
    _POOLS[bank] = (bank.version, pool)
    log.info("item pool built: %d items, %d knowledge points", len(pool), len(pool.kp_names))
    return pool


def calibrated_pool(bank: ItemBank, answers: pd.DataFrame | None) -> ItemPool:
    """The bank's pool with item easiness calibrated on graded ``answers`` (``item_id``, ``correct``), as
    ``benchmarks/policy.py`` calibrates it: an item the class found harder than its label says is
    priced harder. The cached pool is left as the labels made it (each call calibrates a copy)."""
    pool = item_pool(bank)
    if answers is None or answers.empty or not {"item_id", "correct"} <= set(answers.columns):
        return pool
    return pool.recalibrated(answers)


def prerequisite_map(graph: KnowledgeGraph | None) -> dict[str, list[str]]:
    """``{knowledge point: its direct prerequisites}`` of ``graph`` (empty without one)."""
    if graph is None:
        return {}
    return {kp: sorted(graph.prerequisites(kp)) for kp in graph}


def _resolve(scope: Scope | TargetRequest, minutes: float | None) -> tuple[Scope, float, str, int]:
    if isinstance(scope, TargetRequest):
        minutes = scope.minutes if minutes is None else minutes
        scope = scope.scope()
    if minutes is None or minutes <= 0:
        raise AssignmentError(f"targeted homework needs a positive number of minutes, got {minutes}")
    if not scope.subject or scope.grade is None:
        raise AssignmentError("targeted homework needs the scope's subject and the class's grade (for the 双减 cap)")
    return scope, float(minutes), scope.subject, int(scope.grade)


def _unique(students: Sequence[str]) -> list[str]:
    ids = [str(s) for s in students]
    if not ids:
        raise AssignmentError("targeted homework needs at least one student")
    repeated = sorted(s for s, n in Counter(ids).items() if n > 1)
    if repeated:
        raise AssignmentError(f"student(s) {repeated[:10]} appear more than once")
    return ids


def _budgets(ledger: HomeworkLedger, students: Sequence[str], grade: int, minutes: float,
             day: dt.date) -> dict[str, tuple[float, str]]:
    """Each student's minutes for the set and why: the teacher's minutes or what the cap leaves."""
    ledger.caps.allow_homework(grade)
    cap = ledger.caps.cap_for(grade)
    out = {}
    for student in students:
        if cap is None:
            out[student] = (minutes, f"teacher's {minutes:g} min (grade {grade} has no cap)")
            continue
        already = sum(ledger.load(student, day).values())
        room = max(0.0, cap.minutes - already)
        if room >= minutes:
            out[student] = (minutes, f"teacher's {minutes:g} min; {already:g} of the day's {cap.minutes:g} min "
                                     "cap already set")
        else:
            out[student] = (room, f"{room:g} min left under the cap, less than the teacher's {minutes:g} min "
                                  f"({cap.describe()}; {already:g} min already set on {day.isoformat()})")
    return out


# ------------------------------------------------------------------------------- per student


def targeted_homework(bank: ItemBank, mastery: Any, students: Sequence[str], *, scope: Scope | TargetRequest,
                      day: dt.date, minutes: float | None = None, ledger: HomeworkLedger | None = None,
                      history: pd.DataFrame | None = None, policy: SelectionPolicy = DEFAULT_POLICY,
                      graph: KnowledgeGraph | None = None, assignment_id: str | None = None,
                      progress: Callable[[int, int], None] | None = None) -> TargetedHomework:
    """Every student's next set for ``day``, recorded in ``ledger`` (a fresh one with the default caps
    when ``None``), so a second call the same day sees it.

    ``mastery`` is a fitted :mod:`recommender` model, ``{student: {knowledge point: SkillMastery or
    P(correct)}}``, or ``None`` (no evidence yet: every point at selection's prior); ``history`` has
    ``student_id, item_id, correct, date`` rows (:func:`history_from_answers`); prerequisites come from
    ``graph`` or else ``bank.graph``. Item easiness is calibrated on ``history``'s answers
    (:func:`calibrated_pool`), so items the students found harder than their labels are priced so.
    ``minutes`` defaults to a :class:`TargetRequest`'s. Assignment ids are ``f"{assignment_id}-{student}"``
    (a new ``subject-date-random`` base by default; the student's number instead of the id where the
    whole would pass the 40 characters an answer sheet allows). ``progress(done, total)`` is called
    every 500 students. Grades with a cap of 0 raise
    :class:`CapExceededError`; a student with no room left that day gets no set and a note.
    """
    scope, minutes, subject, grade = _resolve(scope, minutes)
    students = _unique(students)
    ledger = ledger if ledger is not None else HomeworkLedger()
    budgets = _budgets(ledger, students, grade, minutes, day)
    mastery = {s: {} for s in students} if mastery is None else mastery
    pool = calibrated_pool(bank, history)
    sets = select_for_class(pool, students, mastery, minutes={s: b for s, (b, _) in budgets.items()},
                            scope=scope, prerequisites=prerequisite_map(graph or bank.graph), history=history,
                            policy=policy, today=day, progress=progress)
    base = assignment_id or f"{subject[:8]}-{day.strftime('%Y%m%d')}-{uuid.uuid4().hex[:6]}"
    out, notes = {}, []
    for number, student in enumerate(students, start=1):
        budget, why = budgets[student]
        chosen = sets[student]
        assignment = None
        if not chosen.picks:
            notes.append(f"{student}: no set ({why}; " + ("; ".join(chosen.notes) or "no item fits") + ")")
        else:
            name = f"{base}-{student}" if len(base) + len(student) < 40 else f"{base}-{number:04d}"
            assignment = _assignment(pool, chosen, name, grade, "targeted", f"个性作业 {subject} {day.isoformat()}")
            ledger.assign(assignment, [student], day)
        out[student] = StudentHomework(student, assignment, chosen, budget, why)
    log.info("targeted homework for %d students on %s: %d sets", len(students), day, len(out) - len(notes))
    return TargetedHomework(day, subject, grade, out, tuple(notes))


def tiered_homework(bank: ItemBank, mastery: Any, students: Sequence[str], *, scope: Scope | TargetRequest,
                    day: dt.date, minutes: float | None = None, ledger: HomeworkLedger | None = None,
                    history: pd.DataFrame | None = None, policy: SelectionPolicy = DEFAULT_POLICY,
                    graph: KnowledgeGraph | None = None, tiers: Sequence[str] = ("A", "B", "C"),
                    assignment_id: str | None = None) -> TieredHomework:
    """分层作业 by mastery: one sheet per tier (``A`` strongest), each recorded in ``ledger`` for its students.

    Every tier gets the same minutes: the teacher's, or less when a student's day has less room under
    the cap (one sheet per tier cannot be shortened for one student). A student with no room at all is
    left out with a note.
    """
    scope, minutes, subject, grade = _resolve(scope, minutes)
    ledger = ledger if ledger is not None else HomeworkLedger()
    budgets = _budgets(ledger, _unique(students), grade, minutes, day)
    full = [s for s, (b, _) in budgets.items() if b <= 0]
    notes = [f"{s}: no set ({budgets[s][1]})" for s in full]
    members = [s for s in budgets if s not in full]
    if not members:
        raise CapExceededError(f"no student has room under the cap on {day.isoformat()}: " + "; ".join(notes))
    budget = min(budgets[s][0] for s in members)
    mastery = {s: {} for s in members} if mastery is None else mastery
    pool = calibrated_pool(bank, history)
    chosen = tiered_sets(pool, members, mastery, minutes=budget, scope=scope,
                         prerequisites=prerequisite_map(graph or bank.graph), history=history, policy=policy,
                         today=day, tiers=tiers)
    base = assignment_id or f"{subject[:8]}-{day.strftime('%Y%m%d')}-{uuid.uuid4().hex[:6]}"
    assignments = {}
    for tier, picked in chosen.sets.items():
        if not picked.picks:
            notes.append(f"tier {tier}: no set ({'; '.join(picked.notes) or 'no item fits'})")
            continue
        assignments[tier] = _assignment(pool, picked, f"{base}-{tier}", grade, tier,
                                        f"分层作业 {tier} {subject} {day.isoformat()}")
        ledger.assign(assignments[tier], [str(s) for s in chosen.students(tier)], day)
    tier_of = {str(s): t for s, t in chosen.tier_of.items()}
    return TieredHomework(day, assignments, tier_of, chosen, budget, tuple(notes))


def _assignment(pool: ItemPool, chosen: TargetedSet, assignment_id: str, grade: int, tier: str,
                title: str) -> Assignment:
    """The picks as an :class:`Assignment`, from the pool's arrays (no bank lookups: 1 ms a student less)."""
    positions = pool.positions(chosen.item_ids)
    kps = tuple(dict.fromkeys(kp for pos in positions.tolist() for kp in pool.knowledge_points_of(pos)))
    return Assignment(assignment_id, str(pool.subjects[positions[0]]), grade, chosen.item_ids,
                      tuple(p.minutes for p in chosen.picks), title, tier, kps)


# ------------------------------------------------------------------------------- history


def history_from_answers(answers: Iterable[Mapping[str, Any]], bank: ItemBank, *,
                         assignment: Assignment | None = None, day: dt.date | None = None) -> pd.DataFrame:
    """Graded answers (:meth:`ScanStore.answers` rows) as the history selection reads and a mastery model
    fits: ``student_id, item_id, skill_ids, correct, timestamp, date``.

    With ``assignment`` the sheet's field ids are mapped to its items (:func:`homework.field_items`);
    without, an answer counts when its field id is a bank item id (as :func:`homework.sheet_spec` names
    fields). ``date`` is ``day`` when given (the day the homework was set), else the grading day.
    """
    from homework._loop import RESPONSE_COLUMNS, responses_from_answers

    answers = list(answers)
    if assignment is not None:
        log_frame = responses_from_answers(answers, assignment, bank)
    else:
        by_assignment: dict[str, list[Mapping[str, Any]]] = {}
        for a in answers:
            if a["field_id"] in bank:
                by_assignment.setdefault(a["assignment_id"], []).append(a)
        parts = [responses_from_answers(rows, _fields_as_items(name, rows, bank), bank)
                 for name, rows in by_assignment.items()]
        log_frame = (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=RESPONSE_COLUMNS))
    if day is not None:
        dates = pd.Series([day] * len(log_frame), dtype=object)
    else:
        dates = pd.to_datetime(log_frame["timestamp"].astype(float), unit="s").dt.date
    return log_frame.assign(date=dates.to_numpy())


def _fields_as_items(assignment_id: str, rows: list[Mapping[str, Any]], bank: ItemBank) -> Assignment:
    """A stand-in assignment whose items are the answered field ids (each a bank item id)."""
    ids = tuple(dict.fromkeys(str(a["field_id"]) for a in rows))
    return Assignment(assignment_id, "", 0, ids, tuple(float(m) for m in bank.minutes_of(list(ids))))


MODEL_CLASSES = ("BKT", "IRT", "HistoryBoost", "BestLR")
"""Mastery models :func:`load_mastery_model` can load (each has ``from_json``)."""


def load_mastery_model(path: str | Path) -> Any:
    """A fitted mastery model saved with ``model.to_json()``; the class is read from the file.

    An unreadable file or one that is not such a model is a :class:`recommender.DataFormatError`.
    """
    import json

    import recommender

    try:
        text = Path(path).read_text(encoding="utf-8")
        name = json.loads(text).get("model")
    except (OSError, ValueError, AttributeError) as exc:
        raise recommender.DataFormatError(f"{path}: field 'model': not a saved mastery model ({exc})") from exc
    if name not in MODEL_CLASSES:
        raise recommender.DataFormatError(f"{path}: field 'model': {name!r} is not one of {list(MODEL_CLASSES)}")
    return getattr(recommender, name).from_json(text)


def mastery_from_history(history: pd.DataFrame) -> tuple[Any, str]:
    """BKT fitted on ``history`` (:func:`history_from_answers`) and a line saying so; ``(None, ...)`` when
    there is no graded answer yet (selection then starts every point at its prior)."""
    from recommender import BKT

    if history.empty:
        return None, "no graded answers yet: every knowledge point at the prior"
    return BKT(random_state=0).fit(history), f"BKT fitted on {len(history)} graded answers"


# ------------------------------------------------------------------------------- printing


def print_targeted(bank: ItemBank, homework: TargetedHomework | TieredHomework, out_dir: str | Path, *,
                   names: Mapping[str, str] | None = None, class_name: str = "",
                   progress: Callable[[int, int], None] | None = None) -> Path:
    """Print every set (question paper, then the answer sheets) and merge them into
    ``out_dir/targeted.pdf``, one document a teacher prints; returns its path. Per student sets go to
    ``out_dir/<student>/``; tiers to ``out_dir/tier-<A>/``, one paper with a sheet for each member.
    ``progress(done, total)`` is called after each set."""
    import pypdfium2 as pdfium

    from homework._printing import print_assignment

    out = Path(out_dir)
    groups = _print_groups(homework, names or {})
    if not groups:
        raise AssignmentError("no student has a targeted set to print")
    merged = pdfium.PdfDocument.new()
    for done, (folder, assignment, people) in enumerate(groups, start=1):
        printed = print_assignment(bank, assignment, people, out / folder, class_name=class_name, combined=True)
        part = pdfium.PdfDocument(printed.combined or out / folder / "combined.pdf")
        merged.import_pages(part)
        part.close()
        if progress is not None:
            progress(done, len(groups))
    target = out / "targeted.pdf"
    merged.save(target)
    merged.close()
    return target


def _print_groups(homework: TargetedHomework | TieredHomework,
                  names: Mapping[str, str]) -> list[tuple[str, Assignment, list[dict[str, str]]]]:
    """(folder, assignment, students) for each set to print."""
    def person(student: str) -> dict[str, str]:
        return {"id": student, "name": names.get(student, student)}

    if isinstance(homework, TieredHomework):
        return [(f"tier-{tier}", assignment, [person(s) for s in homework.students(tier)])
                for tier, assignment in sorted(homework.assignments.items()) if homework.students(tier)]
    return [(student, assignment, [person(student)]) for student, assignment in homework.assignments.items()]
