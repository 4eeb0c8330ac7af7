"""Learning: knowledge-mastery models over response logs and selection of targeted sets.

A leaf package: it speaks plain data (pandas frames, numpy arrays) and never imports
``homework``, ``api`` or ``scanning``.
"""

from recommender._errors import DataFormatError, NotFittedError, RecommenderError

__all__ = ["DataFormatError", "NotFittedError", "RecommenderError"]
