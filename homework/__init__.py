"""The domain and the loop: item bank, assignments, storage, analytics, and the CLI.

Imports flow one way: ``api -> homework -> {scanning, recommender}``.
"""

from homework._analytics import (
    answer_choices,
    answer_frame,
    item_statistics,
    mastery_frame,
    mistake_notebook,
    roster_frame,
    sheet_frame,
)
from homework._assignments import (
    Assignment,
    AssignmentRequest,
    CapCheck,
    HomeworkCaps,
    HomeworkLedger,
    build_assignment,
    compose_assignment,
    layered_assignments,
)
from homework._bank import ImportIssue, ImportReport, ItemBank
from homework._errors import (
    ANY_ERROR,
    AssignmentError,
    CapExceededError,
    HomeworkError,
    ItemBankError,
    ReviewClosedError,
    UnknownAssignmentError,
)
from homework._graph import KnowledgeGraph
from homework._intake import Intake, PageOutcome, UploadReport
from homework._items import Item, ItemType, KnowledgePoint, item_answer_key, numeric_value
from homework._loop import item_analysis, mastery_table, minutes_spent, responses_from_answers, wrong_answers
from homework._printing import (
    PrintedAssignment,
    field_items,
    print_assignment,
    render_question_paper,
    sheet_spec,
)
from homework._store import ReviewItem, ScanStore, StoredPage
from homework._targeting import (
    StudentHomework,
    TargetedHomework,
    TargetRequest,
    TieredHomework,
    history_from_answers,
    item_pool,
    load_mastery_model,
    mastery_from_history,
    print_targeted,
    targeted_homework,
    tiered_homework,
)
from homework._taxonomy import TAXONOMY, TagResult, tag_problem, taxonomy_graph
from homework._timestats import (
    cap_compliance,
    daily_minutes,
    duration_stats,
    score_by_minutes,
    time_differences,
    time_of_day,
)
from homework._timing import TimeCalibrator, calibrate_from_totals, recalibrate_bank, reports_from_totals

__all__ = [
    "answer_choices",
    "answer_frame",
    "cap_compliance",
    "daily_minutes",
    "duration_stats",
    "item_statistics",
    "mastery_frame",
    "mistake_notebook",
    "roster_frame",
    "score_by_minutes",
    "sheet_frame",
    "time_differences",
    "time_of_day",
    "Intake",
    "PageOutcome",
    "ReviewItem",
    "ScanStore",
    "StoredPage",
    "UploadReport",
    "field_items",
    "item_analysis",
    "mastery_table",
    "minutes_spent",
    "responses_from_answers",
    "wrong_answers",
    "ANY_ERROR",
    "TAXONOMY",
    "Assignment",
    "AssignmentRequest",
    "CapCheck",
    "HomeworkCaps",
    "HomeworkLedger",
    "build_assignment",
    "calibrate_from_totals",
    "compose_assignment",
    "layered_assignments",
    "AssignmentError",
    "CapExceededError",
    "HomeworkError",
    "ReviewClosedError",
    "ImportIssue",
    "ImportReport",
    "Item",
    "ItemBank",
    "ItemBankError",
    "ItemType",
    "KnowledgeGraph",
    "KnowledgePoint",
    "PrintedAssignment",
    "TagResult",
    "TimeCalibrator",
    "UnknownAssignmentError",
    "item_answer_key",
    "numeric_value",
    "print_assignment",
    "recalibrate_bank",
    "render_question_paper",
    "reports_from_totals",
    "sheet_spec",
    "tag_problem",
    "taxonomy_graph",
    "StudentHomework",
    "TargetRequest",
    "TargetedHomework",
    "TieredHomework",
    "history_from_answers",
    "item_pool",
    "load_mastery_model",
    "mastery_from_history",
    "print_targeted",
    "targeted_homework",
    "tiered_homework",
]
