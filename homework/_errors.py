"""Errors raised by :mod:`homework`.

``homework`` is the domain layer. Its own errors share the root ``HomeworkError``; errors of the
leaf packages keep their own roots (``scanning.ScanningError``, ``recommender.RecommenderError``),
because a leaf may not import ``homework``. ``ANY_ERROR`` names all three roots for callers such as
the HTTP API that want to catch everything this library raises on purpose::

    HomeworkError
     ├── ItemBankError            an item or a knowledge-point graph is invalid (row, field, reason)
 │    └── UnknownKnowledgePointError  a knowledge point neither the graph nor the bank knows (nearest ids)
     ├── AssignmentError          an assignment cannot be built as asked
     │    └── CapExceededError    it would break a 双减 homework-time cap (says which and by how much)
     ├── UnknownAssignmentError   a scanned page names an assignment this library does not know
     ├── NotFoundError            no such upload, job, page or review in this school
     ├── PageLimitError           a file has more pages than one upload may
     ├── ReviewClosedError        a review item that a teacher already resolved
     ├── RosterError              a roster file cannot be imported as asked (its rows' issues attached)
     └── StoreError               the database cannot be opened or migrated (homework.storage)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender import RecommenderError
from scanning import ScanningError

if TYPE_CHECKING:
    from homework._bank import ImportIssue


class HomeworkError(Exception):
    """Root of every error raised by :mod:`homework` itself."""


class ItemBankError(HomeworkError, ValueError):
    """An item, a bank file or the knowledge-point graph is invalid."""


class UnknownKnowledgePointError(ItemBankError):
    """A knowledge point that neither the bank's graph nor its items know; the message names the
    nearest known ids."""


class AssignmentError(HomeworkError, ValueError):
    """An assignment cannot be built as asked."""


class CapExceededError(AssignmentError):
    """An assignment would break a homework-time cap."""


class UnknownAssignmentError(HomeworkError, KeyError):
    """A scanned page names an assignment that is not known."""


class NotFoundError(HomeworkError, KeyError):
    """No such object in this school (another school's objects are 'not found' too, never 'forbidden')."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class PageLimitError(HomeworkError):
    """A file has more pages than an upload may have (split it, or raise the limit)."""


class StoreError(HomeworkError):
    """The database cannot be opened or migrated (wrong URL, server down, newer schema than this code)."""


class RosterError(HomeworkError, ValueError):
    """A roster cannot be imported as asked; ``issues`` lists each rejected row's field and reason."""

    def __init__(self, message: str, issues: tuple[ImportIssue, ...] = ()) -> None:
        super().__init__(message)
        self.issues = issues


class ReviewClosedError(HomeworkError):
    """A review item was already resolved."""


ANY_ERROR: tuple[type[Exception], ...] = (HomeworkError, ScanningError, RecommenderError)
