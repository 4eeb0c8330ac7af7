"""Which mastery model the platform uses by default, and why (see benchmarks/mastery.py)."""

from __future__ import annotations

from recommender._history import HistoryBoost


def default_mastery_model(random_state: int | None = 0) -> HistoryBoost:
    """The default model: :class:`HistoryBoost`, the best AUC of every model in ``benchmarks/mastery.py``
    on ASSISTments 2009 and Statics 2011 (figures in the README), with fit times inside the budget.

    >>> default_mastery_model().get_params()["max_iter"]
    150
    """
    return HistoryBoost(random_state=random_state)
