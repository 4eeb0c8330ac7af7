"""Mastery at district scale: the periodic refit per subject and grade, and the online estimate.

Two speeds, as a district needs them:

* **Online, as answers land.** Every graded answer adds to its student's evidence per knowledge
  point in the store (:class:`homework.storage.MasteryStore`: attempts and credit, added by the
  database under the row's lock). :func:`online_mastery` turns that evidence into each student's
  P(correct) per point: a Beta posterior whose prior is the population rate of the point,
  ``p = (credit + k * prior) / (attempts + k)`` with ``k = PRIOR_WEIGHT``. Selection reads it.
* **Periodically, per subject and grade** (a Celery task on the ``slow`` queue): :func:`refit_mastery`
  fits the default mastery model (:func:`recommender.default_mastery_model`) on that partition's
  graded answers and stores it as a new version with its population priors; the newest version
  is the one :meth:`HomeworkService.mastery` reads.

Staying within memory as responses grow toward hundreds of millions:

1. **Partition by subject and grade.** A fit only ever reads one partition (about 1/20 of the
   district's responses: 9 grades x 2-3 subjects), through the ``field_points`` join.
2. **Sample whole students.** Students are shuffled and read 500 at a time until ``max_responses``
   rows are in memory (default 2 million). The fit's memory grows with the rows it reads: the
   README measures 704 MB for 274,561 responses and 7.6 GiB for 6.6 million, about 1.1 KB a
   response, so 2 million is about 2.3 GB whatever the district's total (interpolated, not
   measured at 2 million). A point's population rate barely moves past a few thousand students,
   and the default model's trees already learn from at most 2 million rows (``max_tree_rows``).
3. **No per-student state in the model.** The refit keeps no student states (``keep_states=False``);
   a student's state is the evidence rows in the store, updated online, so the model stays a few
   megabytes whatever the number of students.
4. **Warm starts** are not used: a refit from the sample takes minutes (417 s for 6.6 million
   responses in the README), so a nightly refit per partition from scratch is affordable, and it
   never carries an old version's mistakes forward.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger(__name__)

PRIOR_WEIGHT = 3.0
"""How many answers the population prior counts as, in :func:`online_mastery`."""

DEFAULT_PRIOR = 0.6
"""A point's prior before any refit has seen it (about the share of right answers in K-12 homework)."""


def online_mastery(evidence: Mapping[str, Mapping[str, Any]], priors: Mapping[str, float],
                   students: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``{student: {knowledge point: SkillMastery}}`` from evidence and population priors: every point
    a student has evidence on or the refit has a prior for (a newcomer starts at the population's rate).

    >>> from homework.storage import Evidence
    >>> m = online_mastery({"s1": {"frac": Evidence(2, 2.0)}}, {"frac": 0.5}, ["s1", "s2"])
    >>> round(m["s1"]["frac"].p_correct, 2), m["s1"]["frac"].n_responses, m["s2"]["frac"].p_correct
    (0.7, 2, 0.5)
    """
    from homework.storage import Evidence
    from recommender import SkillMastery

    out: dict[str, dict[str, Any]] = {}
    for student in students:
        mine = evidence.get(student, {})
        out[student] = {}
        for point in dict.fromkeys([*priors, *mine]):
            e = mine.get(point, Evidence(0, 0.0))
            prior = float(priors.get(point, DEFAULT_PRIOR))
            p = (e.credit + PRIOR_WEIGHT * prior) / (e.attempts + PRIOR_WEIGHT)
            out[student][point] = SkillMastery(point, p, (p * (1 - p) / (e.attempts + 3)) ** 0.5, e.attempts)
    return out


def refit_mastery(engine: Engine, subject: str, grade: int, *, max_responses: int = 2_000_000,
                  seed: int = 0) -> Any:
    """Fit the mastery model of one subject and grade on (a sample of) its graded answers and store
    it as a new version; returns the :class:`~homework.storage.ModelVersion`.

    Raises :class:`homework.HomeworkError` when the partition has no graded answer yet.
    """
    import numpy as np
    import pandas as pd

    from homework._errors import HomeworkError
    from homework.storage import ModelVersions, graded_responses, graded_students
    from recommender import HistoryBoost

    students = graded_students(engine, subject, grade)
    if not students:
        raise HomeworkError(f"no graded answers of {subject} grade {grade} yet: nothing to refit")
    order = np.random.default_rng(seed).permutation(len(students))
    rows: list[dict[str, Any]] = []
    used = 0
    for at in range(0, len(order), 500):
        chunk = [students[i] for i in order[at:at + 500]]
        for school in sorted({s for s, _ in chunk}):
            rows += graded_responses(engine, subject, grade, school, [st for s, st in chunk if s == school])
        used += len(chunk)
        if len(rows) >= max_responses:
            break
    frame = pd.DataFrame(rows).sort_values(["timestamp", "student_id"], kind="stable")
    model = HistoryBoost(keep_states=False, random_state=seed).fit(frame)
    typical = model.mastery("__population__")
    priors = {str(k): round(float(v.p_correct), 6) for k, v in typical.items()}
    note = f"{len(frame)} responses of {used} of {len(students)} students (sampled whole students)"
    version_id = ModelVersions(engine).save(subject, grade, model.to_json(), priors, responses=len(frame),
                                            students=used, note=note)
    log.info("refit %s grade %d: version %d, %s", subject, grade, version_id, note)
    latest = ModelVersions(engine).latest(subject, grade)
    assert latest is not None
    return latest
