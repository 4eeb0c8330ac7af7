"""Timed homework assignments (stage 1, 教师精选时长作业), the 双减 daily caps, and 分层 tiers.

An :class:`Assignment` is built from explicit item ids (:func:`build_assignment`) or from a request such
as "about 30 minutes on these knowledge points, mixed difficulty" (:func:`compose_assignment`); its
``total_minutes`` is the sum of the items' estimated minutes. :class:`HomeworkLedger` keeps each student's
written-homework minutes per day across all subjects and refuses (or warns about) an assignment that
would break a cap, saying which cap and by how much::

    HomeworkCaps (双减, 2021; a school may configure its own)
      grades 1-2   0 min/day   no written homework
      grades 3-6  60 min/day
      grades 7-9  90 min/day
      other grades: no cap

>>> caps = HomeworkCaps()
>>> caps.cap_for(2).minutes, caps.cap_for(4).minutes, caps.cap_for(8).minutes, caps.cap_for(11)
(0.0, 60.0, 90.0, None)
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from homework._bank import ItemBank
from homework._errors import AssignmentError, CapExceededError

__all__ = [
    "TIERS",
    "Assignment",
    "AssignmentRequest",
    "CapBand",
    "CapCheck",
    "HomeworkCaps",
    "HomeworkLedger",
    "build_assignment",
    "compose_assignment",
    "layered_assignments",
]

log = logging.getLogger(__name__)

Tier = Literal["basic", "improve", "extend"]
TIERS: dict[str, tuple[int, int]] = {"basic": (1, 2), "improve": (2, 4), "extend": (3, 5)}
"""分层 tiers and the difficulty range each draws from: 基础 basic, 提高 improve, 拓展 extend."""
MIXED_SHARES = {(1, 2): 0.4, (3, 3): 0.4, (4, 5): 0.2}
"""A "mixed difficulty" request spends about 40% of its minutes on easy items, 40% medium, 20% hard."""


@dataclass(frozen=True)
class Assignment:
    """A set of bank items given to a class on one subject, with each item's estimated minutes."""

    id: str
    subject: str
    grade: int
    item_ids: tuple[str, ...]
    minutes: tuple[float, ...]
    title: str = ""
    tier: str = ""
    knowledge_points: tuple[str, ...] = ()

    @property
    def total_minutes(self) -> float:
        """Sum of the items' estimated minutes."""
        return round(float(sum(self.minutes)), 2)

    def __len__(self) -> int:
        return len(self.item_ids)

    def to_dict(self) -> dict[str, Any]:
        """The assignment as plain JSON-ready data; :meth:`from_dict` reads it back.

        >>> a = Assignment("sx-1", "math", 4, ("m1",), (10.0,))
        >>> Assignment.from_dict(a.to_dict()) == a
        True
        """
        from dataclasses import asdict

        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Assignment:
        """An assignment from :meth:`to_dict`'s data (lists become tuples)."""
        fields = dict(data)
        for name in ("item_ids", "minutes", "knowledge_points"):
            fields[name] = tuple(fields[name])
        return cls(**fields)


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def build_assignment(bank: ItemBank, item_ids: Sequence[str], *, grade: int | None = None,
                     assignment_id: str | None = None, title: str = "", tier: str = "") -> Assignment:
    """An assignment of exactly these items (in this order).

    All items must share one subject. ``grade`` defaults to the highest grade among the items.
    Unknown or repeated ids raise :class:`AssignmentError`.
    """
    if not item_ids:
        raise AssignmentError("an assignment needs at least one item")
    repeated = sorted({i for i in item_ids if list(item_ids).count(i) > 1})
    if repeated:
        raise AssignmentError(f"item(s) {repeated} appear more than once")
    missing = [i for i in item_ids if i not in bank]
    if missing:
        raise AssignmentError(f"no item with id(s) {missing[:10]} in the bank")
    rows = bank.rows(item_ids)
    subjects = sorted(set(rows["subject"].astype(str)))
    if len(subjects) > 1:
        raise AssignmentError(f"an assignment is for one subject; these items span {subjects}")
    kps = tuple(dict.fromkeys(kp for cell in rows["knowledge_points"] for kp in cell.split(";") if kp))
    return Assignment(id=assignment_id or _new_id(subjects[0]), subject=subjects[0],
                      grade=int(grade if grade is not None else rows["grade"].max()),
                      item_ids=tuple(item_ids), minutes=tuple(float(m) for m in rows["minutes"]), title=title,
                      tier=tier, knowledge_points=kps)


class AssignmentRequest(BaseModel):
    """What a teacher asks for: "about 30 minutes on these knowledge points, mixed difficulty".

    ``difficulty`` is ``"mixed"``, a tier name (``"basic"``, ``"improve"``, ``"extend"``) or an inclusive
    ``(low, high)`` range. ``tolerance`` is how far (as a fraction) the total may land from ``minutes``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    knowledge_points: tuple[str, ...] = Field(min_length=1)
    minutes: float = Field(gt=0, le=240)
    grade: int = Field(ge=1, le=12)
    subject: str = "math"
    difficulty: Literal["mixed", "basic", "improve", "extend"] | tuple[int, int] = "mixed"
    descendants: bool = False
    lower_grades: bool = True
    exclude: tuple[str, ...] = ()
    tolerance: float = Field(default=0.15, ge=0, le=1)
    seed: int = 0
    title: str = ""

    @model_validator(mode="after")
    def _range_is_ordered(self) -> AssignmentRequest:
        if isinstance(self.difficulty, tuple) and not 1 <= self.difficulty[0] <= self.difficulty[1] <= 5:
            raise ValueError(f"difficulty range must satisfy 1 <= low <= high <= 5, got {self.difficulty}")
        return self

    def bands(self) -> dict[tuple[int, int], float]:
        """Difficulty bands and the share of minutes each should get."""
        if self.difficulty == "mixed":
            return dict(MIXED_SHARES)
        if isinstance(self.difficulty, tuple):
            return {self.difficulty: 1.0}
        return {TIERS[self.difficulty]: 1.0}


def _candidates(bank: ItemBank, request: AssignmentRequest) -> dict[tuple[int, int], list[int]]:
    grades = range(1, request.grade + 1) if request.lower_grades else [request.grade]
    frame_ids = bank.column("id")
    rng = np.random.default_rng(request.seed)
    pools: dict[tuple[int, int], list[int]] = {}
    excluded = set(request.exclude)
    for band in request.bands():
        rows = bank.query_positions(subject=request.subject, grade=list(grades),
                                    knowledge_points=list(request.knowledge_points),
                                    descendants=request.descendants, difficulty=band)
        rows = np.array([r for r in rows if frame_ids[r] not in excluded], dtype=np.int64)
        pools[band] = rng.permutation(rows).tolist()
    return pools


def compose_assignment(bank: ItemBank, request: AssignmentRequest, *, assignment_id: str | None = None,
                       tier: str = "") -> Assignment:
    """Pick items for ``request``: about ``request.minutes`` in total, each difficulty band getting its
    share, the requested knowledge points taken in turn so that each is covered.

    Raises :class:`AssignmentError` when no item matches; logs a warning when the total misses the
    target by more than ``request.tolerance``, and one naming each requested knowledge point that no
    picked item covers (e.g. none at that grade).
    """
    pools = _candidates(bank, request)
    if not any(pools.values()):
        raise AssignmentError(f"no {request.subject} item of grade <= {request.grade} covers "
                              f"{list(request.knowledge_points)} at difficulty {request.difficulty!r}")
    ids_column = bank.column("id")
    minutes = bank.column("minutes").astype(float)
    kp_cells = bank.column("knowledge_points")
    high = request.minutes * (1 + request.tolerance)
    chosen: list[int] = []
    total = 0.0
    for band, share in request.bands().items():
        budget = request.minutes * share
        spent = 0.0
        order = _round_robin(pools[band], kp_cells, request.knowledge_points)
        for row in order:
            if spent >= budget * (1 - request.tolerance / 2) or row in chosen:
                continue
            if total + minutes[row] <= high and spent + minutes[row] <= budget * (1 + request.tolerance):
                chosen.append(row)
                spent += minutes[row]
                total += minutes[row]
    chosen = _top_up(chosen, pools, minutes, request, total)
    ids = [str(ids_column[r]) for r in chosen]
    if not ids:
        raise AssignmentError(f"every matching item is longer than {high:g} minutes")
    assignment = build_assignment(bank, ids, grade=request.grade, assignment_id=assignment_id,
                                  title=request.title, tier=tier)
    if abs(assignment.total_minutes - request.minutes) > request.tolerance * request.minutes:
        log.warning("assignment %s totals %.1f min for a %.1f min request (not enough matching items)",
                    assignment.id, assignment.total_minutes, request.minutes)
    covered = {kp for row in chosen for kp in kp_cells[row].split(";")}
    missed = [kp for kp in request.knowledge_points if kp not in covered]
    if missed and not request.descendants:
        log.warning("assignment %s covers none of %s: no matching %s item of grade <= %d fits the request",
                    assignment.id, missed, request.subject, request.grade)
    return assignment


def _round_robin(rows: list[int], kp_cells: np.ndarray, wanted: Sequence[str]) -> list[int]:
    """``rows`` reordered so that the wanted knowledge points take turns (each gets covered early)."""
    queues: list[list[int]] = [[] for _ in wanted]
    other: list[int] = []
    for row in rows:
        cell = kp_cells[row].split(";")
        for queue, kp in zip(queues, wanted, strict=True):
            if kp in cell:
                queue.append(row)
                break
        else:
            other.append(row)
    ordered = [row for turn in zip(*[q + [-1] * (max(map(len, queues)) - len(q)) for q in queues], strict=True)
               for row in turn if row >= 0]
    return ordered + other


def _top_up(chosen: list[int], pools: dict[tuple[int, int], list[int]], minutes: np.ndarray,
            request: AssignmentRequest, total: float) -> list[int]:
    """Fill a remaining gap with the items (from any band) that best fit it."""
    low, high = request.minutes * (1 - request.tolerance), request.minutes * (1 + request.tolerance)
    spare = [r for pool in pools.values() for r in pool if r not in set(chosen)]
    while total < low and spare:
        gap = request.minutes - total
        best = min(spare, key=lambda r: abs(minutes[r] - gap))
        spare.remove(best)
        if total + minutes[best] <= high:
            chosen.append(best)
            total += minutes[best]
    return chosen


def layered_assignments(bank: ItemBank, request: AssignmentRequest,
                        assignment_id: str | None = None) -> dict[str, Assignment]:
    """分层作业: basic, improve and extend variants of one request (same knowledge points and minutes,
    difficulty ranges from :data:`TIERS`), with no item shared between tiers where the bank allows.
    """
    base = assignment_id or _new_id(request.subject)
    variants: dict[str, Assignment] = {}
    used: tuple[str, ...] = request.exclude
    for tier in TIERS:
        tiered = request.model_copy(update={"difficulty": tier, "exclude": used})
        try:
            variants[tier] = compose_assignment(bank, tiered, assignment_id=f"{base}-{tier}", tier=tier)
        except AssignmentError:  # every item of this band was used by a lower tier: allow sharing
            variants[tier] = compose_assignment(bank, tiered.model_copy(update={"exclude": request.exclude}),
                                                assignment_id=f"{base}-{tier}", tier=tier)
        used = used + variants[tier].item_ids
    return variants


# ---------------------------------------------------------------------------------- the 双减 caps


class CapBand(BaseModel):
    """Grades ``low``..``high`` may get at most ``minutes`` of written homework a day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    low: int = Field(ge=1, le=12)
    high: int = Field(ge=1, le=12)
    minutes: float = Field(ge=0, le=600)
    label: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> CapBand:
        if self.low > self.high:
            raise ValueError(f"grade range {self.low}-{self.high} is reversed")
        return self

    def describe(self) -> str:
        """E.g. ``"双减 grades 3-6: at most 60 min/day"``."""
        rule = "no written homework" if self.minutes == 0 else f"at most {self.minutes:g} min/day"
        return f"{self.label or 'cap'} grades {self.low}-{self.high}: {rule}"


class HomeworkCaps(BaseModel):
    """Daily written-homework caps per grade band; the default is the 2021 双减 policy. A school may
    configure stricter (or, where allowed, other) bands, e.g. from its settings JSON::

        HomeworkCaps.model_validate({"bands": [{"low": 3, "high": 6, "minutes": 45, "label": "school"}]})
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    bands: tuple[CapBand, ...] = (
        CapBand(low=1, high=2, minutes=0, label="双减"),
        CapBand(low=3, high=6, minutes=60, label="双减"),
        CapBand(low=7, high=9, minutes=90, label="双减"),
    )
    on_exceed: Literal["refuse", "warn"] = "refuse"

    @model_validator(mode="after")
    def _no_overlap(self) -> HomeworkCaps:
        seen: dict[int, CapBand] = {}
        for band in self.bands:
            for grade in range(band.low, band.high + 1):
                if grade in seen:
                    raise ValueError(f"grade {grade} is in two cap bands ({seen[grade].describe()!r} and "
                                     f"{band.describe()!r})")
                seen[grade] = band
        return self

    def cap_for(self, grade: int) -> CapBand | None:
        """The band that caps ``grade``, or ``None`` when it has no cap."""
        return next((band for band in self.bands if band.low <= grade <= band.high), None)

    def allow_homework(self, grade: int) -> None:
        """Raise :class:`CapExceededError`, citing the rule, when ``grade`` may get no written homework.

        >>> HomeworkCaps().allow_homework(2)
        Traceback (most recent call last):
        ...
        homework._errors.CapExceededError: 双减 grades 1-2: no written homework: grade 2 may not get written homework
        """
        cap = self.cap_for(grade)
        if cap is not None and cap.minutes == 0:
            raise CapExceededError(f"{cap.describe()}: grade {grade} may not get written homework")


@dataclass(frozen=True)
class CapCheck:
    """Whether adding an assignment keeps every student within the day's cap.

    ``over_by`` is the largest excess over the cap among the students (0 when within it); ``students_over``
    names them. ``message`` says which cap and by how much.
    """

    ok: bool
    day: dt.date
    grade: int
    cap: CapBand | None
    new_minutes: float
    highest_total: float
    over_by: float
    students_over: tuple[str, ...] = ()
    message: str = ""


@dataclass
class _Entry:
    assignment: Assignment
    students: frozenset[str]


@dataclass
class HomeworkLedger:
    """Every student's assigned written-homework minutes per day, across all subjects, checked against
    :class:`HomeworkCaps`.

    >>> ledger = HomeworkLedger()
    >>> day = dt.date(2026, 11, 23)
    >>> chinese = Assignment("yw-1", "chinese", 4, ("c1", "c2"), (20.0, 15.0))
    >>> math = Assignment("sx-1", "math", 4, ("m1", "m2", "m3"), (10.0, 10.0, 15.0))
    >>> ledger.assign(chinese, ["s01", "s02"], day).ok
    True
    >>> ledger.assign(math, ["s01", "s02"], day)
    Traceback (most recent call last):
    ...
    homework._errors.CapExceededError: 双减 grades 3-6: at most 60 min/day is exceeded by 10 min on 2026-11-23: 'sx-1' (math, 35 min) would bring 2 student(s) to 70 min (s01, s02; already assigned: chinese 35 min)
    """

    caps: HomeworkCaps = field(default_factory=HomeworkCaps)
    _entries: dict[dt.date, list[_Entry]] = field(default_factory=dict)
    _loads: dict[tuple[dt.date, str], dict[str, float]] = field(default_factory=dict, repr=False)

    def load(self, student: str, day: dt.date) -> dict[str, float]:
        """Minutes already assigned to ``student`` on ``day``, per subject."""
        return dict(self._loads.get((day, student), {}))

    def find(self, assignment_id: str) -> tuple[Assignment, frozenset[str], dt.date] | None:
        """The recorded assignment with this id, its students and its day (``None`` if never recorded).

        >>> ledger = HomeworkLedger()
        >>> _ = ledger.assign(Assignment("sx-1", "math", 4, ("m1",), (10.0,)), ["s01"], dt.date(2026, 11, 23))
        >>> assignment, students, day = ledger.find("sx-1")
        >>> assignment.item_ids, sorted(students), day.isoformat(), ledger.find("nope")
        (('m1',), ['s01'], '2026-11-23', None)
        """
        for day, entries in self._entries.items():
            for entry in entries:
                if entry.assignment.id == assignment_id:
                    return entry.assignment, entry.students, day
        return None

    def recorded(self) -> list[tuple[Assignment, frozenset[str], dt.date]]:
        """Every recorded assignment with its students and day, by day (for reports).

        >>> ledger = HomeworkLedger()
        >>> _ = ledger.assign(Assignment("sx-1", "math", 4, ("m1",), (10.0,)), ["s01"], dt.date(2026, 11, 23))
        >>> [(a.id, d.isoformat()) for a, _, d in ledger.recorded()]
        [('sx-1', '2026-11-23')]
        """
        return [(e.assignment, e.students, day) for day, entries in sorted(self._entries.items()) for e in entries]

    def restore(self, day: dt.date, assignment: Assignment, students: Iterable[str]) -> None:
        """Record an assignment kept earlier (from a file or a database) without checking the cap again."""
        self._record(day, _Entry(assignment, frozenset(students)))

    def _record(self, day: dt.date, entry: _Entry) -> None:
        self._entries.setdefault(day, []).append(entry)
        subject, minutes = entry.assignment.subject, entry.assignment.total_minutes
        for student in entry.students:  # indexed per (day, student): a class of 10,000 stays linear
            load = self._loads.setdefault((day, student), {})
            load[subject] = load.get(subject, 0.0) + minutes

    def check(self, assignment: Assignment, students: Iterable[str], day: dt.date) -> CapCheck:
        """What assigning ``assignment`` to ``students`` on ``day`` would do to the cap (records nothing)."""
        students = sorted(set(students))
        if not students:
            raise AssignmentError("assign to at least one student")
        cap = self.caps.cap_for(assignment.grade)
        totals = {s: sum(self.load(s, day).values()) + assignment.total_minutes for s in students}
        highest = max(totals.values())
        if cap is None or highest <= cap.minutes + 1e-9:
            return CapCheck(True, day, assignment.grade, cap, assignment.total_minutes, highest, 0.0)
        over = tuple(s for s, t in totals.items() if t > cap.minutes + 1e-9)
        return CapCheck(False, day, assignment.grade, cap, assignment.total_minutes, highest,
                        round(highest - cap.minutes, 2), over, self._message(assignment, cap, over, highest, day))

    def _message(self, assignment: Assignment, cap: CapBand, over: tuple[str, ...], highest: float,
                 day: dt.date) -> str:
        worst = max(over, key=lambda s: sum(self.load(s, day).values()))
        already = ", ".join(f"{subject} {m:g} min" for subject, m in sorted(self.load(worst, day).items()))
        shown = ", ".join(over[:5]) + (f" and {len(over) - 5} more" if len(over) > 5 else "")
        return (f"{cap.describe()} is exceeded by {highest - cap.minutes:g} min on {day.isoformat()}: "
                f"{assignment.id!r} ({assignment.subject}, {assignment.total_minutes:g} min) would bring "
                f"{len(over)} student(s) to {highest:g} min ({shown}; already assigned: {already or 'nothing'})")

    def to_json(self) -> str:
        """The ledger (caps and every recorded assignment) as versioned JSON."""
        import json

        days = {day.isoformat(): [{"assignment": e.assignment.to_dict(), "students": sorted(e.students)}
                                  for e in entries] for day, entries in sorted(self._entries.items())}
        return json.dumps({"version": 1, "caps": self.caps.model_dump(), "days": days}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> HomeworkLedger:
        """A ledger written by :meth:`to_json`; :class:`AssignmentError` if the text is not one.

        >>> again = HomeworkLedger.from_json(HomeworkLedger().to_json())
        >>> again.caps == HomeworkCaps()
        True
        """
        import json

        try:
            data = json.loads(text)
            if data.get("version") != 1:
                raise ValueError(f"unknown ledger version {data.get('version')!r}")
            ledger = cls(HomeworkCaps.model_validate(data["caps"]))
            for day, entries in data["days"].items():
                for entry in entries:
                    ledger.restore(dt.date.fromisoformat(day), Assignment.from_dict(entry["assignment"]),
                                   entry["students"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AssignmentError(f"not a homework ledger: {exc}") from exc
        return ledger

    def assign(self, assignment: Assignment, students: Iterable[str], day: dt.date) -> CapCheck:
        """Record the assignment for these students on ``day``.

        Over a cap it raises :class:`CapExceededError` (``caps.on_exceed == "refuse"``) and records
        nothing, or records it and logs the warning (``"warn"``); the returned :class:`CapCheck` carries
        the message either way.
        """
        students = frozenset(students)
        result = self.check(assignment, students, day)
        if not result.ok:
            if self.caps.on_exceed == "refuse":
                raise CapExceededError(result.message)
            log.warning("%s", result.message)
        self._record(day, _Entry(assignment, students))
        return result
