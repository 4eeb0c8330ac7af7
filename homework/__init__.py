"""The domain and the loop: item bank, assignments, storage, analytics, and the CLI.

Imports flow one way: ``api -> homework -> {scanning, recommender}``.
"""

from homework._errors import (
    ANY_ERROR,
    AssignmentError,
    CapExceededError,
    DuplicatePageError,
    HomeworkError,
    ItemBankError,
    UnknownAssignmentError,
)

__all__ = [
    "ANY_ERROR",
    "AssignmentError",
    "CapExceededError",
    "DuplicatePageError",
    "HomeworkError",
    "ItemBankError",
    "UnknownAssignmentError",
]
