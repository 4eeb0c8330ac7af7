"""Errors raised by :mod:`recommender`.

``recommender`` is a leaf package (it never imports ``homework``), so it has a root of its own::

    RecommenderError
     ├── DataFormatError   a response log or data file is malformed (names file, line and field)
     └── NotFittedError    a model was used before ``fit`` (also a scikit-learn NotFittedError)
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError


class RecommenderError(Exception):
    """Root of every error raised by :mod:`recommender`."""


class DataFormatError(RecommenderError, ValueError):
    """Input data is malformed; the message names the file, line and field."""


class NotFittedError(RecommenderError, _SklearnNotFittedError):
    """A model was asked to predict before it was fitted."""
