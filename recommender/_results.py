"""Frozen results handed to callers."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class SkillMastery:
    """What a model believes about one student's mastery of one knowledge point.

    ``p_correct`` is the predicted probability of answering a typical item of the skill correctly now;
    ``std`` its uncertainty (posterior standard deviation); ``confidence = 1 - 2 * std`` (1 = certain,
    about 0.4 for a skill never seen); ``n_responses`` how many graded responses the student has on it.

    >>> SkillMastery("fractions", 0.8, 0.1, 12).confidence
    0.8
    """

    skill_id: Hashable
    p_correct: float
    std: float
    n_responses: int

    @property
    def confidence(self) -> float:
        return round(min(max(1.0 - 2.0 * self.std, 0.0), 1.0), 6)
