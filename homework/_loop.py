"""Stage 3 of the loop: graded answers become a response log, the log updates mastery, teachers read it.

The pieces already exist on both sides; this module only translates between them::

    ScanStore.answers (per sheet field)  --responses_from_answers-->  response log (per bank item)
    response log  --model.fit / model.partial_fit (recommender)-->   mastery per student x knowledge point
    mastery  --mastery_table-->  a frame a class report prints;  answers --wrong_answers--> 错题本
    answers  --item_analysis-->  per item: how many got it right, how well it separates students

A response log is the frame :mod:`recommender` reads: ``student_id, item_id, skill_ids, correct``
(score / max score, so partial credit stays partial), ``timestamp``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from homework._assignments import Assignment
from homework._bank import ItemBank
from homework._printing import MINUTES_FIELD, field_items

RESPONSE_COLUMNS = ["student_id", "item_id", "skill_ids", "correct", "timestamp"]


def responses_from_answers(answers: Iterable[Mapping[str, Any]], assignment: Assignment,
                           bank: ItemBank) -> pd.DataFrame:
    """The graded answers of one assignment as a response log, in time order per student.

    Only answers with a grade (auto-graded, or resolved by a teacher) count: an answer still in the
    review queue is not evidence yet. ``answers`` are :meth:`ScanStore.answers` rows.
    """
    items = field_items(assignment)
    skills = {item.id: item.knowledge_points for item in bank.items(list(items.values()))}
    rows = [
        (a["student_id"], items[a["field_id"]], skills[items[a["field_id"]]],
         float(a["score"]) / float(a["max_score"]), float(a["updated_at"]))
        for a in answers
        if a["assignment_id"] == assignment.id and a["field_id"] in items
        and a["grade_status"] == "graded" and a["max_score"]
    ]
    log = pd.DataFrame(rows, columns=RESPONSE_COLUMNS)
    return log.sort_values(["student_id", "timestamp"], kind="stable").reset_index(drop=True)


def minutes_spent(answers: Iterable[Mapping[str, Any]], assignment: Assignment) -> dict[str, float]:
    """Each student's own "minutes spent" on the sheet, where it was read (for time calibration)."""
    out = {}
    for a in answers:
        if a["assignment_id"] == assignment.id and a["field_id"] == MINUTES_FIELD and a["read_status"] == "ok":
            try:
                out[a["student_id"]] = float(a["value"])
            except (TypeError, ValueError):
                continue
    return out


def mastery_table(model: Any, students: Sequence[str], knowledge_points: Sequence[str]) -> pd.DataFrame:
    """One row per student and knowledge point: the model's P(correct), its uncertainty, the evidence.

    ``model`` is any fitted :mod:`recommender` mastery model (``mastery(student_id, skill_ids)``).
    """
    rows = []
    for student in students:
        for kp, m in model.mastery(student, list(knowledge_points)).items():
            rows.append((student, kp, m.p_correct, m.std, m.confidence, m.n_responses))
    return pd.DataFrame(rows, columns=["student_id", "knowledge_point", "p_correct", "std", "confidence",
                                       "n_responses"])


def wrong_answers(answers: Iterable[Mapping[str, Any]], assignment: Assignment, bank: ItemBank,
                  student_id: str | None = None) -> pd.DataFrame:
    """The wrong-answer notebook (错题本): each graded wrong answer with its item's stem and key points."""
    items = field_items(assignment)
    wrong = [a for a in answers if a["assignment_id"] == assignment.id and a["field_id"] in items
             and a["grade_status"] == "graded" and not a["correct"]
             and (student_id is None or a["student_id"] == student_id)]
    by_id = {item.id: item for item in bank.items(list({items[a["field_id"]] for a in wrong}))}
    rows = [(a["student_id"], items[a["field_id"]], by_id[items[a["field_id"]]].stem, a["value"],
             by_id[items[a["field_id"]]].knowledge_points) for a in wrong]
    return pd.DataFrame(rows, columns=["student_id", "item_id", "stem", "answered", "knowledge_points"])


def item_analysis(answers: Iterable[Mapping[str, Any]], assignment: Assignment,
                  bank: ItemBank | None = None) -> pd.DataFrame:
    """Classical item analysis of one assignment, one row per item in sheet order.

    ``facility`` is the mean share of points (the p-value: low = hard); ``discrimination`` the
    correlation of the item's score with the student's score on the rest of the sheet (near 0 or
    negative: the item does not separate strong from weak students, or its key is wrong);
    ``in_review`` how many answers still wait for a teacher; ``top_wrong`` the most frequent wrong
    answer (a choice item's strongest distractor) and ``top_wrong_rate`` its share. Needs at least 3
    graded students for a discrimination (NaN otherwise). With ``bank`` the key is filled in; every
    answer's rate is in :func:`homework.answer_choices`.
    """
    from homework._analytics import answer_frame, item_statistics

    table = item_statistics(answer_frame(answers, [assignment], bank)).set_index("item_id")
    table = table.reindex(list(assignment.item_ids))
    table["graded"] = table["graded"].fillna(0).astype(int)
    table["in_review"] = table["in_review"].fillna(0).astype(int)
    return table.reset_index()[["item_id", "key", "graded", "facility", "discrimination", "top_wrong",
                                "top_wrong_rate", "in_review"]]
