"""CTC arithmetic over a recognizer's per-frame probabilities (numpy only, any backend).

A CTC recognizer gives, for each of ``T`` frames, a probability over ``blank`` + its characters.
A string's probability is the sum over every frame alignment that collapses to it (the forward
algorithm); the greedy *best path* takes each frame's most likely symbol. Here:

- :func:`restrict` keeps only some characters (and blank) and renormalises each frame, so a
  numeric field can never be read as letters;
- :func:`best_path` decodes the greedy string with each character's probability;
- :func:`string_probability` scores any candidate string, e.g. the answer key's own spelling
  (verification) or the decoded string (a calibrated confidence).

>>> import numpy as np
>>> probs = np.array([[0.1, 0.8, 0.1], [0.9, 0.05, 0.05], [0.2, 0.1, 0.7]])  # blank, "a", "b"
>>> best_path(probs, ["", "a", "b"])
('ab', (0.8, 0.7))
>>> round(string_probability(probs, [1, 2]), 3), round(string_probability(probs, [2]), 3)
(0.572, 0.09)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def restrict(probs: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Zero every column not in ``allowed`` (blank, column 0, is always kept) and renormalise rows."""
    out = np.zeros_like(probs)
    keep = np.union1d(allowed, [0])
    out[:, keep] = probs[:, keep]
    out /= np.maximum(out.sum(axis=1, keepdims=True), 1e-30)
    return out


def best_path(probs: np.ndarray, characters: Sequence[str]) -> tuple[str, tuple[float, ...]]:
    """Greedy CTC decoding: the string and, per character, its highest frame probability."""
    ids = probs.argmax(axis=1)
    peak = probs.max(axis=1)
    text: list[str] = []
    conf: list[float] = []
    previous = 0
    for t, idx in enumerate(ids):
        if idx != 0 and idx != previous:
            text.append(characters[idx])
            conf.append(float(peak[t]))
        elif idx != 0 and conf:
            conf[-1] = max(conf[-1], float(peak[t]))
        previous = idx
    return "".join(text), tuple(conf)


def string_probability(
    probs: np.ndarray, labels: Sequence[int], aliases: dict[int, int] | None = None
) -> float:
    """P(labels | frames): the CTC forward algorithm, in scaled probabilities (no underflow).

    ``labels`` are column indices (never 0, the blank). An empty sequence is all blanks.
    ``aliases`` maps a position in ``labels`` to a second column whose probability also counts
    for that position (a glyph the recognizer confuses with it).
    """
    frames = probs.shape[0]
    if len(labels) == 0:
        return float(np.exp(np.log(np.maximum(probs[:, 0], 1e-300)).sum()))
    ext = np.zeros(2 * len(labels) + 1, dtype=np.int64)
    ext[1::2] = labels
    n = len(ext)
    if frames < len(labels) + sum(a == b for a, b in zip(labels, labels[1:], strict=False)):
        return 0.0
    # skip transitions s-2 -> s are allowed into a label that differs from the label two back
    skip = np.zeros(n, dtype=bool)
    skip[3::2] = ext[3::2] != ext[1:-2:2]
    emit = probs[:, ext]
    for pos, column in (aliases or {}).items():
        emit[:, 2 * pos + 1] += probs[:, column]
        # next to its alias, an aliased label behaves like a repeat: a blank must separate them,
        # so one wide glyph cannot be split into both ("1" + "/" from a single written 1)
        if pos > 0 and labels[pos - 1] == column:
            skip[2 * pos + 1] = False
        if pos + 1 < len(labels) and labels[pos + 1] == column:
            skip[2 * pos + 3] = False
    alpha = np.zeros(n)
    alpha[0] = emit[0, 0]
    alpha[1] = emit[0, 1]
    total = alpha.sum()
    if total <= 0:
        return 0.0
    alpha /= total
    log_scale = float(np.log(total))
    for t in range(1, frames):
        prev = alpha
        alpha = prev.copy()
        alpha[1:] += prev[:-1]
        alpha[2:] += np.where(skip[2:], prev[:-2], 0.0)
        alpha *= emit[t]
        total = alpha.sum()
        if total <= 0:
            return 0.0
        alpha /= total
        log_scale += float(np.log(total))
    return float(np.exp(log_scale) * (alpha[-1] + alpha[-2]))
