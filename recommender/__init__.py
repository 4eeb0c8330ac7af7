"""Learning: knowledge-mastery models over response logs and selection of targeted sets.

A leaf package: it speaks plain data (pandas frames, numpy arrays) and never imports
``homework``, ``api`` or ``scanning``.
"""

from recommender._bkt import BKT
from recommender._errors import DataFormatError, NotFittedError, RecommenderError
from recommender._history import BestLR, HistoryBoost
from recommender._irt import IRT
from recommender._log import merge_multi_skill_rows, validate_responses
from recommender._models import default_mastery_model
from recommender._pool import ItemPool
from recommender._readers import (
    read_akt,
    read_akt_folds,
    read_assistments_csv,
    read_datashop,
    read_exam_matrix,
)
from recommender._results import SkillMastery
from recommender._select import (
    Pick,
    Scope,
    SelectionPolicy,
    TargetedSet,
    TieredSets,
    select_for_class,
    select_items,
    tiered_sets,
)
from recommender._simulate import Curriculum, LearnerConfig, LearnerSimulator

__all__ = [
    "BKT",
    "BestLR",
    "Curriculum",
    "DataFormatError",
    "HistoryBoost",
    "IRT",
    "ItemPool",
    "LearnerConfig",
    "LearnerSimulator",
    "NotFittedError",
    "Pick",
    "RecommenderError",
    "Scope",
    "SelectionPolicy",
    "SkillMastery",
    "TargetedSet",
    "TieredSets",
    "default_mastery_model",
    "merge_multi_skill_rows",
    "read_akt",
    "read_akt_folds",
    "read_assistments_csv",
    "read_datashop",
    "read_exam_matrix",
    "select_for_class",
    "select_items",
    "tiered_sets",
    "validate_responses",
]
