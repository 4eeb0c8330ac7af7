"""The loop's verbs in one place: the API, the CLI, the workers and the demo all call these.

:class:`HomeworkService` holds one database and hands out each school's pieces (its scan intake,
its ledger). Its verbs are the loop's actions::

    accept_upload   keep a file and queue its job (one transaction; nothing is read)
    process_job     read, grade and store a claimed job's pages (idempotent; a Celery task can call it)
    run_next_job    claim the oldest job, process it, mark it done or failed
    upload_status   an upload, its job and every page's outcome
    resolve         a teacher's reading of a flagged answer
    review_groups   the open queue as answer groups (identical readings of one field)
    resolve_many    several readings at once (a group, a screenful), in one transaction
    resolve_group   one decision for an answer group
    corrections     overrides, corrected resolutions, kept pages assigned or dismissed
    import_roster   a school's classes, students and teachers from a CSV (row by row)
    import_bank     item files into a school's bank in the store (COPY on PostgreSQL); bank() builds its arrays
    view            what one key may see: a teacher's own classes, an admin's whole school
    compose         homework for a request (one set, or basic/improve/extend tiers); records nothing
    check_homework  what a set would do to the 双减 cap of its day, against the school's ledger
    assign_homework record a set in the ledger, the cap checked inside the same transaction, and
                    register its answer sheets
    targeted        stage 4 with its mastery chosen (district refit, a given model, or BKT on the school)
    assign_targeted each student's (or each tier's) next set, checked against the 双减 cap under the
                    school's ledger lock, recorded, and its answer sheets registered
    report_data     what reports, the 错题本 and grade exports are made from (ledger days included)
    answers         a school's stored answers (one assignment's, or some students')
    history         a school's graded answers as a response log (for mastery)
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine

from homework._errors import HomeworkError, NotFoundError, RosterError
from homework._intake import Accepted, Intake, PageOutcome, UploadReport
from homework._rosters import RosterReport
from homework.storage import (
    DEFAULT_SCHOOL,
    ItemStore,
    Job,
    JobQueue,
    KeyStore,
    LedgerStore,
    Principal,
    RosterStore,
    ScanStore,
    StoredPage,
    current_revision,
    ensure_school,
)

if TYPE_CHECKING:
    from homework._bank import ImportReport, ItemBank
    from homework._corrections import Corrections
    from homework._review import ReviewGroup
    from homework._school_view import SchoolView

log = logging.getLogger(__name__)


class Dispatch(Protocol):
    """Sends an accepted job to a distributed engine (``school, job_id, upload_id, file bytes``)."""

    def __call__(self, school: str, job_id: int, upload_id: int, data: bytes | None = None) -> str | None: ...


@dataclass(frozen=True)
class UploadStatus:
    """An upload as a station or a teacher follows it: its job and each page's outcome so far."""

    upload_id: int
    name: str
    size: int
    station: str | None
    received_at: float
    job: dict[str, Any]
    pages: tuple[StoredPage, ...]


@dataclass(frozen=True)
class TargetedRun:
    """Stage 4's sets (:class:`~homework.TargetedHomework` or :class:`~homework.TieredHomework`), where
    the mastery came from, and how many graded answers were the history."""

    result: Any
    source: str
    history_answers: int


@dataclass(frozen=True)
class JobRun:
    """One job a worker ran: its report, or the error that failed it (its pages stay as stored)."""

    job: Job
    report: UploadReport | None
    error: str | None


class HomeworkService:
    """The loop's actions over one database (see the module docstring). Thread-safe.

    ``ocr`` is the OCR backend (or its name) every school's intake reads handwriting with.
    """

    def __init__(self, engine: Engine, *, ocr: Any = "rapidocr") -> None:
        from scanning import get_backend

        self.engine = engine
        self.dispatch: Dispatch | None = None  # set: jobs go to a distributed engine (homework._distributed)
        self.jobs = JobQueue(engine)
        self.keys = KeyStore(engine)
        self.schema_revision = current_revision(engine)  # migrations ran before: it holds while this runs
        self._ocr = get_backend(ocr) if isinstance(ocr, str) else ocr
        self._intakes: dict[str, Intake] = {}
        self._banks: dict[str, tuple[tuple[int, float], ItemBank]] = {}
        self._lock = threading.Lock()
        self._fitted: dict[str, tuple[int, Any, str]] = {}  # school -> (answers, BKT, source), until they change

    def intake(self, school: str = DEFAULT_SCHOOL) -> Intake:
        """The scan intake of one school (made once, then shared)."""
        with self._lock:
            if school not in self._intakes:
                ensure_school(self.engine, school)
                self._intakes[school] = Intake(ScanStore(self.engine, school=school), ocr=self._ocr)
            return self._intakes[school]

    def ledger(self, school: str = DEFAULT_SCHOOL) -> LedgerStore:
        """The 双减 ledger of one school (its intake is made first: nothing opens a connection of its own
        while the ledger's transaction holds the write lock)."""
        self.intake(school)
        return LedgerStore(self.engine, school)

    # -- rosters and who sees what -------------------------------------------------------------

    def roster(self, school: str = DEFAULT_SCHOOL) -> RosterStore:
        """The roster (classes, students, teachers) of one school."""
        return RosterStore(self.engine, school)

    def import_roster(self, school: str, source: str | Path | bytes, *, replace: bool = False) -> RosterReport:
        """Import a roster CSV (see :mod:`homework._rosters`) into a school: valid rows are kept, each invalid
        one is reported. ``replace`` (a class's whole list) refuses a file with any invalid row, since a
        student whose row was rejected would otherwise be taken out of their class."""
        from homework._rosters import read_roster

        read = read_roster(source)
        if not read.rows:
            raise RosterError("no valid roster row: " + "; ".join(map(str, read.issues[:5])), read.issues)
        if replace and read.issues:
            raise RosterError(f"{read.rejected_rows} row(s) are invalid; --replace takes nothing out of a class "
                              "until every row is valid: " + "; ".join(map(str, read.issues[:5])), read.issues)
        classes, students, teachers, left = self.roster(school).put(read.rows, replace=replace)
        log.info("roster of %s: %d classes, %d students, %d teachers, %d left, %d rows rejected", school, classes,
                 students, teachers, len(left), read.rejected_rows)
        return RosterReport(classes, students, teachers, left, read.rejected_rows, read.issues)

    # -- the bank -----------------------------------------------------------------------------

    def import_bank(self, school: str, sources: Sequence[str | Path], *, graph: Any = None) -> ImportReport:
        """Validate item files (CSV, Excel, JSON; see :class:`homework.ItemBank`) against ``graph`` (the
        taxonomy's by default) and write the valid items and the graph's edges into the school's store:
        new ids added, known ids updated. Every invalid row is reported; nothing is written when no row
        is valid."""
        from homework._bank import ImportReport, ItemBank
        from homework._taxonomy import taxonomy_graph

        bank = ItemBank(graph if graph is not None else taxonomy_graph())
        issues: list[Any] = []
        rejected = 0
        for source in sources:
            report = bank.import_file(source)
            issues += report.issues
            rejected += report.rejected
        store = self.items(school)
        known = store.ids() if len(bank) else set()
        if len(bank):
            store.put(bank.frame, bank.graph.edges if bank.graph is not None else None)
        updated = int(bank.frame["id"].isin(known).sum()) if known else 0
        return ImportReport(added=len(bank) - updated, updated=updated, rejected=rejected, issues=tuple(issues))

    def items(self, school: str = DEFAULT_SCHOOL) -> ItemStore:
        """The item bank of one school in the store."""
        return ItemStore(self.engine, school)

    def bank(self, school: str = DEFAULT_SCHOOL) -> ItemBank | None:
        """The school's item bank built from the store (``None`` when it has no items), kept until an
        import changes it: the arrays selection and reports read."""
        from homework._bank import ItemBank
        from homework._graph import KnowledgeGraph

        store = self.items(school)
        version = store.version()
        if version[0] == 0:
            return None
        with self._lock:
            cached = self._banks.get(school)
        if cached is not None and cached[0] == version:
            return cached[1]
        edges = store.edges()
        bank = ItemBank.from_canonical(store.frame(), KnowledgeGraph.from_edges(edges, strict=False) if edges else None)
        with self._lock:
            self._banks[school] = (version, bank)
        return bank

    def schools(self) -> list[tuple[str, str]]:
        """Every school of the store: (id, name)."""
        from homework.storage import list_schools

        return list_schools(self.engine)

    def view(self, principal: Principal) -> SchoolView:
        """What ``principal`` may see of its school: the whole school for an admin (or where the school
        keeps no roster), a teacher's own classes otherwise (see :class:`homework.SchoolView`)."""
        from homework._school_view import SchoolView

        return SchoolView(self, principal)

    # -- scans ---------------------------------------------------------------------------------

    def accept_upload(self, school: str, data: bytes, *, name: str, station: str | None = None,
                      max_pages: int | None = None, uploaded_by: int | None = None) -> Accepted:
        """Keep a file and queue its job; the same bytes twice return the first upload.

        With :attr:`dispatch` set the job is then sent to the distributed engine (a broker that cannot
        be reached loses nothing: the job stays queued in the store and is sent later).
        """
        accepted = self.intake(school).accept(data, name=name, station=station, max_pages=max_pages,
                                              uploaded_by=uploaded_by)
        if self.dispatch is not None and accepted.duplicate_of is None:
            self.dispatch(school, accepted.job_id, accepted.upload_id, data)
        return accepted

    def register_assignment(self, school: str, bank: Any, assignment: Any, spec: Any, *, db: Any = None) -> None:
        """Register an assignment's sheet and the knowledge points each of its fields tests (what a graded
        answer adds mastery evidence to), in one transaction (``db``'s when given)."""
        from homework._printing import field_items
        from homework.storage import FieldPoint

        intake = self.intake(school)
        items = {item.id: item for item in bank.items(list(assignment.item_ids))}
        kinds = {f.id: f.type for f in spec.fields}
        points = [FieldPoint(field, item_id, items[item_id].subject, int(items[item_id].grade),
                             tuple(items[item_id].knowledge_points), kinds.get(field) == "handwriting")
                  for field, item_id in field_items(assignment).items() if item_id in items]
        if db is None:
            with intake.store.transaction() as own:
                self.register_assignment(school, bank, assignment, spec, db=own)
            return
        intake.register(spec, db=db)
        intake.mastery.put_field_points(db, assignment.id, points)
        intake.forget_points(assignment.id)

    def latest_model(self, subject: str, grade: int) -> Any:
        """The newest refit (:class:`homework.storage.ModelVersion`) of a subject and grade, or ``None``."""
        from homework.storage import ModelVersions

        return ModelVersions(self.engine).latest(subject, grade)

    def mastery(self, school: str, students: Sequence[str], subject: str, grade: int) -> dict[str, dict[str, Any]]:
        """Each student's mastery per knowledge point now: the evidence landed so far (online) on the
        newest refit's population priors for the subject and grade (see :func:`homework.online_mastery`)."""
        from homework._refit import online_mastery

        latest = self.latest_model(subject, grade)
        evidence = self.intake(school).mastery.evidence(students)
        return online_mastery(evidence, latest.priors if latest else {}, students)

    def process_job(self, job: Job, *, worker: str, lease: float = 60.0,
                    progress: Callable[[PageOutcome], None] | None = None) -> UploadReport:
        """Read and store every page of a claimed job's upload. A thread renews the lease every third of
        it while this runs, so only a worker that stopped (killed, frozen) loses its job to another."""
        stop = threading.Event()

        def keep_lease() -> None:
            while not stop.wait(lease / 3):
                if not self.jobs.renew(job, worker, lease=lease):
                    log.warning("job %d was taken from %s (its lease ran out)", job.job_id, worker)
                    return

        keeper = threading.Thread(target=keep_lease, name=f"lease-{job.job_id}", daemon=True)
        keeper.start()
        try:
            return self.intake(job.school_id).process(job.upload_id, progress=progress)
        finally:
            stop.set()
            keeper.join()

    def run_next_job(self, worker: str, *, lease: float = 60.0,
                     progress: Callable[[PageOutcome], None] | None = None) -> JobRun | None:
        """Claim the oldest claimable job, process it and record the outcome; ``None`` if there was none."""
        job = self.jobs.claim(worker, lease=lease)
        if job is None:
            return None
        try:
            report = self.process_job(job, worker=worker, lease=lease, progress=progress)
        except Exception as exc:  # noqa: BLE001 - any failure is recorded on the job, the upload is kept
            log.exception("job %d (upload %d) failed", job.job_id, job.upload_id)
            error = f"{type(exc).__name__}: {exc}"
            self.jobs.finish(job.job_id, worker=worker, error=error)
            return JobRun(job, None, error)
        self.jobs.finish(job.job_id, worker=worker)
        return JobRun(job, report, None)

    def upload_status(self, school: str, upload_id: int) -> UploadStatus:
        """An upload of this school with its job and pages; :class:`NotFoundError` otherwise."""
        store = self.intake(school).store
        upload = store.upload(upload_id)
        if upload is None:
            raise NotFoundError(f"no upload {upload_id}")
        job = self.job_status(school, self.jobs.job_of_upload(school, upload_id))
        return UploadStatus(upload_id, upload["name"], upload["size"], upload["station"], upload["received_at"],
                            job, tuple(store.pages(upload_id=upload_id)))

    def job_status(self, school: str, job_id: int) -> dict[str, Any]:
        """One job of this school; :class:`NotFoundError` otherwise."""
        job = self.jobs.job(school, job_id)
        if job is None:
            raise NotFoundError(f"no job {job_id}")
        return job

    # -- the teacher's side --------------------------------------------------------------------

    def resolve(self, school: str, review_id: int, value: str, *, teacher: str) -> dict[str, Any]:
        """Grade a flagged answer with the teacher's reading; :class:`NotFoundError` for an unknown item."""
        try:
            return self.intake(school).resolve(review_id, value, teacher=teacher)
        except KeyError as exc:
            raise NotFoundError(f"no review item {review_id}") from exc

    def corrections(self, school: str) -> Corrections:
        """A teacher's changes to the school's grades and kept pages (see :mod:`homework._corrections`)."""
        from homework._corrections import Corrections

        return Corrections(self.intake(school))

    def review_groups(self, school: str, assignment_id: str | None = None) -> list[ReviewGroup]:
        """The open review queue as answer groups: identical readings of one field, largest first."""
        from homework._review import group_reviews

        return group_reviews(self.intake(school).store.reviews(assignment_id=assignment_id))

    def resolve_many(self, school: str, decisions: Sequence[tuple[int, str | None]], *,
                     teacher: str) -> list[dict[str, Any]]:
        """Resolve several review items in one transaction (``None``: confirm the reading); all or none."""
        return self.corrections(school).resolve(decisions, teacher=teacher)

    def resolve_group(self, school: str, group_id: str, *, teacher: str, value: str | None = None,
                      review_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
        """One decision for an answer group: every open member (or ``review_ids``, which must all be in
        it) graded with ``value``, or with the group's reading when ``value`` is ``None``."""
        group = next((g for g in self.review_groups(school) if g.group_id == group_id), None)
        if group is None:
            raise NotFoundError(f"no open review group {group_id} (its answers may have been resolved)")
        chosen = list(group.review_ids if review_ids is None else review_ids)
        strangers = sorted(set(chosen) - set(group.review_ids))
        if strangers:
            raise HomeworkError(f"review items {strangers} are not open in group {group_id}")
        return self.resolve_many(school, [(rid, value) for rid in chosen], teacher=teacher)

    def answers(self, school: str, assignment_id: str | None = None, *,
                students: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The school's stored answers: every one, one assignment's, or these students'."""
        return self.intake(school).store.answers(assignment_id, students=students)

    def history(self, school: str, bank: Any, students: Sequence[str] | None = None) -> Any:
        """The school's graded answers (or these students') as a response log over ``bank``'s items."""
        from homework._targeting import history_from_answers

        return history_from_answers(self.intake(school).store.answers(students=students), bank)

    # -- stage 1: compose and plan homework ----------------------------------------------------

    @staticmethod
    def compose(bank: Any, request: Any, *, tiers: bool = False, assignment_id: str | None = None) -> dict[str, Any]:
        """Homework for an :class:`~homework.AssignmentRequest`: ``{"": assignment}``, or with ``tiers`` the
        basic/improve/extend variants (分层). Records nothing."""
        from homework._assignments import compose_assignment, layered_assignments

        if tiers:
            return layered_assignments(bank, request, assignment_id=assignment_id)
        return {"": compose_assignment(bank, request, assignment_id=assignment_id)}

    def check_homework(self, school: str, assignment: Any, students: Sequence[str], day: dt.date, *,
                       already: float = 0.0) -> Any:
        """What recording ``assignment`` would do to the 双减 cap of that day, against the school's ledger
        (plus ``already`` minutes the students have that the ledger does not know of). Records nothing."""
        from homework._assignments import Assignment

        ledger = self.ledger(school).ledger(day)
        if already:
            ledger.restore(day, Assignment("earlier", "other subjects", assignment.grade, ("-",), (already,)),
                           students)
        return ledger.check(assignment, students, day)

    def assign_homework(self, school: str, assignment: Any, students: Sequence[str | tuple[str, str]], day: dt.date,
                        *, bank: Any = None, class_name: str = "") -> Any:
        """Record ``assignment`` for ``students`` (ids, or ``(id, name)``) on ``day`` in the school's ledger,
        the 双减 cap checked inside the same transaction (two servers cannot both spend the same minutes);
        with ``bank``, its answer sheets are registered for scanning in that transaction too.

        Returns the :class:`~homework.CapCheck`; over the cap it raises
        :class:`~homework.CapExceededError` and nothing is recorded.
        """
        from homework._printing import sheet_spec

        people = [(s, s) if isinstance(s, str) else (s[0], s[1]) for s in students]
        with self.ledger(school).assigning(day) as (ledger, db):
            check = ledger.assign(assignment, [p for p, _ in people], day)
            if bank is not None:
                spec = sheet_spec(bank, assignment, people, class_name=class_name)
                self.register_assignment(school, bank, assignment, spec, db=db)
        return check

    # -- stage 4: targeted sets ----------------------------------------------------------------

    def targeted(self, school: str, bank: Any, students: Sequence[str], *, scope: Any, day: dt.date,
                 tiers: bool = False, model: tuple[Any, str] | None = None, record: bool = True,
                 assignment_id: str | None = None, **sheets: Any) -> TargetedRun:
        """Stage 4 with its mastery chosen here: the newest district refit's priors with each student's
        evidence (online) when there is one; else ``model`` (a fitted model and where it comes from);
        else BKT fitted on the school's graded answers (kept until their number changes).
        Recorded (and sheets registered) as :meth:`assign_targeted` does; ``record=False`` plans
        against the ledger without recording anything."""
        history, mastery, source = self._mastery_for(school, bank, list(students), scope, model)
        result = self.assign_targeted(school, bank, mastery, students, scope=scope, day=day, history=history,
                                      tiers=tiers, record=record, assignment_id=assignment_id, **sheets)
        return TargetedRun(result, source, len(history))

    def _mastery_for(self, school: str, bank: Any, students: list[str], scope: Any,
                     model: tuple[Any, str] | None) -> tuple[Any, Any, str]:
        from homework._targeting import history_from_answers, mastery_from_history

        store = self.intake(school).store
        refit = self.latest_model(scope.subject, scope.grade)
        if refit is not None:  # a district: the newest refit's priors and each student's evidence, online
            return (history_from_answers(store.answers(students=students), bank),
                    self.mastery(school, students, scope.subject, scope.grade),
                    f"online evidence on refit version {refit.version_id} of {scope.subject} grade {scope.grade} "
                    f"({refit.note})")
        if model is not None:  # the class's own answers are all selection needs
            return history_from_answers(store.answers(students=students), bank), model[0], model[1]
        everyone = history_from_answers(store.answers(), bank)  # BKT on every answer of the school
        with self._lock:
            fitted = self._fitted.get(school)
            if fitted is None or fitted[0] != len(everyone):
                fitted = self._fitted[school] = (len(everyone), *mastery_from_history(everyone))
        return everyone[everyone["student_id"].isin(set(students))], fitted[1], fitted[2]

    def assign_targeted(self, school: str, bank: Any, model: Any, students: Sequence[str], *, scope: Any,
                        day: dt.date, history: Any, tiers: bool = False, record: bool = True,
                        assignment_id: str | None = None, class_name: str = "",
                        names: dict[str, str] | None = None) -> Any:
        """Stage 4 under the school's ledger lock: pick, check the cap, record, register the sheets
        (printed with ``class_name`` and the students' ``names`` when given).

        Returns :class:`~homework.TargetedHomework` (or :class:`~homework.TieredHomework` with ``tiers``).
        Nothing is recorded when any step fails, or with ``record=False`` (planned on the ledger as it is).
        """
        from homework._printing import sheet_spec

        if not record:
            return self._pick(bank, model, students, self.ledger(school).ledger(day), scope=scope, day=day,
                              history=history, tiers=tiers, assignment_id=assignment_id)[0]
        with self.ledger(school).assigning(day) as (ledger, db):
            result, sheets = self._pick(bank, model, students, ledger, scope=scope, day=day, history=history,
                                        tiers=tiers, assignment_id=assignment_id)
            for assignment, members in sheets:
                people = [(s, (names or {}).get(s, s)) for s in members]
                self.register_assignment(school, bank, assignment,
                                         sheet_spec(bank, assignment, people, class_name=class_name), db=db)
        return result

    @staticmethod
    def _pick(bank: Any, model: Any, students: Sequence[str], ledger: Any, *, tiers: bool,
              assignment_id: str | None, **common: Any) -> tuple[Any, list[tuple[Any, list[str]]]]:
        from homework._targeting import targeted_homework, tiered_homework
        from homework._taxonomy import taxonomy_graph

        if tiers:
            tiered = tiered_homework(bank, model, list(students), ledger=ledger, graph=taxonomy_graph(),
                                     assignment_id=assignment_id, **common)
            return tiered, [(a, tiered.students(t)) for t, a in tiered.assignments.items()]
        result = targeted_homework(bank, model, list(students), ledger=ledger, graph=taxonomy_graph(),
                                   assignment_id=assignment_id, **common)
        return result, [(a, [s]) for s, a in result.assignments.items()]

    # -- stage 3: reports ----------------------------------------------------------------------

    def report_data(self, school: str, bank: Any, *, model: Any = None, school_name: str = "") -> Any:
        """What the reports, the 错题本 and the grade exports are made from: the school's graded answers,
        sheets and roster, with each assignment's day from the store's ledger (:func:`homework.report_data`)."""
        from homework._records import store_records
        from homework._reports import report_data

        records = store_records(self.intake(school).store, bank, self.ledger(school).ledger(),
                                school=school_name or school)
        return report_data(records, bank, model=model)
