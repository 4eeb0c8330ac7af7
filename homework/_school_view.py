"""What one key may see of its school: a teacher's own classes, or an admin's whole school.

:class:`SchoolView` is the school's store handed out already scoped to a principal. A school admin
(and every staff key of a school that keeps no roster in the store) sees the whole school. A
teacher's key, once the school has a roster, sees the students of the classes the roster says they
teach, and through them::

    assignments     those with at least one of their students (sheets and papers print only theirs)
    answers, reviews, crops, missing pages, reports, 错题本, grades     their students' only
    uploads, jobs   the ones they sent, and the ones holding a page of their students
    kept pages      of their students, of their assignments with no student read, or of their uploads
    page files      an upload's original file, when every student on it is theirs (or they sent it)
    targeted sets   for their students only

Anything else answers :class:`~homework.NotFoundError` (404), as another school's objects do, so a
teacher cannot even learn that another class's object exists. Names and classes on papers, sheets
and reports come from the roster where it knows the student (ids otherwise).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from homework._errors import NotFoundError, UnknownAssignmentError

if TYPE_CHECKING:
    from homework._records import Records
    from homework._service import HomeworkService, UploadStatus
    from homework.storage import Principal, ReviewItem, StoredPage, TeacherScope

__all__ = ["SchoolView"]


class SchoolView:
    """One school's objects as ``principal`` may see them (see the module docstring)."""

    def __init__(self, service: HomeworkService, principal: Principal) -> None:
        self.service = service
        self.principal = principal
        self.school = principal.school  # a district admin has none: NotFoundError
        self.intake = service.intake(self.school)
        roster = service.roster(self.school)
        self.teacher: TeacherScope | None = None
        if principal.role == "teacher" and principal.teacher_id and roster.has_roster():
            self.teacher = roster.teacher_scope(principal.teacher_id)

    # -- who and what ---------------------------------------------------------------------------

    @property
    def whole_school(self) -> bool:
        return self.teacher is None

    def sees(self, student_id: str | None) -> bool:
        """Whether this key may see this student's work."""
        return self.teacher is None or (student_id is not None and student_id in self.teacher.students)

    def check_students(self, student_ids: Iterable[str]) -> list[str]:
        """The ids, if every one is this key's to see; else :class:`NotFoundError` naming the first that is not."""
        ids = list(student_ids)
        unseen = [s for s in ids if not self.sees(s)]
        if unseen:
            raise NotFoundError(f"no student {unseen[0]!r} in your classes")
        return ids

    def check_class(self, class_name: str) -> str:
        """The printed name of a class (given by name or roster id) this key may see; else
        :class:`NotFoundError`. Reports name classes as the roster prints them."""
        if self.teacher is not None and class_name not in self.teacher.classes | self.teacher.class_names:
            raise NotFoundError(f"no class {class_name!r} among your classes")
        found = self.service.roster(self.school).classes([class_name])
        return found[0].name if found else class_name

    # -- assignments ----------------------------------------------------------------------------

    def students_of(self, assignment_id: str) -> list[str]:
        """The students an assignment (registered sheet, or foreign sheet) was given to."""
        if self.intake.on_foreign_sheet(assignment_id):
            return [s.id for s in self.intake.foreign(assignment_id).students]
        return [s.id for s in self.intake.spec(assignment_id).students]  # UnknownAssignmentError: 404

    def check_assignment(self, assignment_id: str) -> list[str]:
        """The assignment's students this key sees; :class:`UnknownAssignmentError` when it sees none."""
        mine = [s for s in self.students_of(assignment_id) if self.sees(s)]
        if not mine:
            raise UnknownAssignmentError(f"assignment {assignment_id!r} is not registered")
        return mine

    def check_register(self, assignment_id: str, student_ids: Sequence[str]) -> None:
        """A teacher may register (or re-register) an assignment only for their own students."""
        if self.teacher is None:
            return
        self.check_students(student_ids)
        if self.intake.knows(assignment_id):
            self.check_assignment(assignment_id)

    def people(self, student_ids: Iterable[str]) -> list[dict[str, str]]:
        """Each student as a sheet or paper names them: the roster's name and class, else the id."""
        ids = list(student_ids)
        known = self.service.roster(self.school).people(ids)
        out = []
        for sid in ids:
            person = known.get(sid)
            entry = {"id": sid, "name": person.name if person else sid}
            if person is not None and person.class_name:
                entry["class_name"] = person.class_name
            out.append(entry)
        return out

    def sheets_pdf(self, assignment_id: str) -> bytes:
        """The answer sheets of the students this key sees, named as the roster names them."""
        from io import BytesIO

        from scanning import load_spec, render_pdf

        mine = set(self.check_assignment(assignment_id))
        if self.intake.on_foreign_sheet(assignment_id):
            return self.intake.sheets_pdf(assignment_id)  # a foreign sheet: says why there is none
        spec = self.intake.spec(assignment_id).model_dump(mode="json", by_alias=False)
        named = {p["id"]: p for p in self.people(s["id"] for s in spec["students"])}
        spec["students"] = [{**s, **named[s["id"]]} for s in spec["students"] if s["id"] in mine]
        out = BytesIO()
        render_pdf(load_spec(spec), out)
        return out.getvalue()

    # -- answers, reviews, pages, uploads -------------------------------------------------------

    def answers(self, assignment_id: str) -> list[dict[str, Any]]:
        self.check_assignment(assignment_id)
        return [row for row in self.intake.store.answers(assignment_id) if self.sees(row["student_id"])]

    def missing_pages(self, assignment_id: str) -> dict[str, list[int]]:
        self.check_assignment(assignment_id)
        return {s: pages for s, pages in self.intake.missing_pages(assignment_id).items() if self.sees(s)}

    def reviews(self, assignment_id: str | None = None) -> list[ReviewItem]:
        return [i for i in self.intake.store.reviews(assignment_id=assignment_id) if self.sees(i.student_id)]

    def review(self, review_id: int) -> ReviewItem:
        """One review item this key sees (open or resolved); :class:`NotFoundError` otherwise."""
        try:
            item = self.intake.store.review(review_id)
        except KeyError:
            item = None
        if item is None or not self.sees(item.student_id):
            raise NotFoundError(f"no review item {review_id}")
        return item

    def crop(self, review_id: int) -> bytes:
        item = self.review(review_id)
        if item.crop_sha256 is None:
            raise NotFoundError(f"review item {review_id} has no crop")
        return self.intake.store.get_blob(item.crop_sha256)

    def resolve(self, review_id: int, value: str) -> dict[str, Any]:
        """The teacher's reading of a flagged answer, signed by this key's teacher (or admin)."""
        self.review(review_id)
        return self.service.resolve(self.school, review_id, value, teacher=self.principal.name)

    def _sent(self) -> set[int]:
        return self.intake.store.uploads_by(self.principal.key_id) if self.teacher is not None else set()

    def _sees_page(self, page: StoredPage, sent: set[int]) -> bool:
        if self.teacher is None or page.upload_id in sent or self.sees(page.student_id):
            return True
        return page.student_id is None and page.assignment_id is not None and self._sees_assignment(page.assignment_id)

    def _sees_assignment(self, assignment_id: str) -> bool:
        try:
            self.check_assignment(assignment_id)
        except UnknownAssignmentError:
            return False
        return True

    def kept_pages(self) -> list[StoredPage]:
        """Pages kept for a human that this key may look at."""
        sent = self._sent()
        return [p for p in self.intake.store.pages() if p.status != "read" and self._sees_page(p, sent)]

    def upload_status(self, upload_id: int) -> UploadStatus:
        """An upload this key sent or holding its students' pages, with the pages it may see."""
        status = self.service.upload_status(self.school, upload_id)
        if self.teacher is None:
            return status
        sent = self._sent()
        if upload_id in sent:
            return status
        mine = tuple(p for p in status.pages if self.sees(p.student_id))
        if not mine:
            raise NotFoundError(f"no upload {upload_id}")
        return dataclasses.replace(status, pages=mine)

    def job_status(self, job_id: int) -> dict[str, Any]:
        job = self.service.job_status(self.school, job_id)
        if self.teacher is not None:
            try:
                self.upload_status(int(job["upload_id"]))
            except NotFoundError as exc:
                raise NotFoundError(f"no job {job_id}") from exc
        return job

    def page_file(self, page_id: int) -> tuple[str, bytes]:
        """The original file a page came in: a teacher gets it when they sent it, or when every student
        read on it is theirs (a station's batch with other classes' pages is for a school admin)."""
        name, data = self._upload_of(page_id)
        if self.teacher is None:
            return name, data
        page = self.intake.store.page(page_id)  # there is one: its file was found above
        sent = self._sent()
        if not self._sees_page(page, sent):
            raise NotFoundError(f"no page {page_id}")
        if page.upload_id not in sent and not all(
                self.sees(p.student_id) for p in self.intake.store.pages(upload_id=page.upload_id) if p.student_id):
            raise NotFoundError(f"no page {page_id} you may download whole: its file holds other classes' pages")
        return name, data

    def _upload_of(self, page_id: int) -> tuple[str, bytes]:
        try:
            return self.intake.store.upload_of(page_id)
        except KeyError as exc:
            raise NotFoundError(f"no page {page_id}") from exc

    # -- reports --------------------------------------------------------------------------------

    def records(self, bank: Any, ledger: Any) -> Records:
        """The report records of the students this key sees, named and placed in classes by the roster."""
        from homework._records import store_records

        records = store_records(self.intake.store, bank, ledger, school=self.school)
        roster = records.roster
        people = self.service.roster(self.school).people(roster["student_id"])
        if people:
            roster = roster.assign(
                name=[people[s].name if s in people else n for s, n in zip(roster["student_id"], roster["name"],
                                                                            strict=True)],
                class_name=[people[s].class_name or c if s in people else c
                            for s, c in zip(roster["student_id"], roster["class_name"], strict=True)])
        if self.teacher is not None:
            roster = roster[roster["student_id"].map(self.sees)]
        answers = [a for a in records.answers if self.sees(a["student_id"])]
        return dataclasses.replace(records, answers=answers, roster=roster.reset_index(drop=True))

