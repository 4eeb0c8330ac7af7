"""Errors raised by :mod:`recommender`.

``recommender`` is a leaf package (it never imports ``homework``), so it has a root of its own::

    RecommenderError
     ├── DataFormatError   a response log or data file is malformed (names file, line and field)
     └── NotFittedError    a model was used before ``fit`` (a ValueError and AttributeError, as in scikit-learn)
"""

from __future__ import annotations


class RecommenderError(Exception):
    """Root of every error raised by :mod:`recommender`."""


class DataFormatError(RecommenderError, ValueError):
    """Input data is malformed; the message names the file, line and field."""


class NotFittedError(RecommenderError, ValueError, AttributeError):
    """A model was asked to predict before it was fitted.

    Same bases as scikit-learn's ``NotFittedError`` (ValueError, AttributeError), without importing
    scikit-learn here: that import costs seconds, and every ``homework`` command would pay it.
    """
