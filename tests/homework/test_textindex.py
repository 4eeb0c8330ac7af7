"""The bigram index finds exactly what a plain substring test finds."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from homework._textindex import BigramIndex

STEMS = pd.read_csv(Path(__file__).resolve().parents[2] / "fixtures" / "bank" / "items.csv", usecols=["stem"])


def _truth(texts: list[str], query: str) -> list[int]:
    return [i for i, t in enumerate(texts) if query.lower() in t.lower()]


def test_search_equals_substring_test_on_real_stems() -> None:
    texts = STEMS["stem"].tolist()
    index = BigramIndex(texts)
    rng = random.Random(0)
    queries = ["相遇", "还剩多少", "千米", "(1/2)", "甲", "?", "%", "平方米", "不存在的短语"]
    for text in rng.sample(texts, 40):  # substrings of real stems, 1 to 6 characters
        start = rng.randrange(len(text))
        queries.append(text[start:start + rng.randint(1, 6)])
    for query in queries:
        assert index.search(query).tolist() == _truth(texts, query), query


@pytest.mark.parametrize("seed", [1, 2])
def test_search_equals_substring_test_on_random_mixed_text(seed: int) -> None:
    rng = random.Random(seed)
    texts = ["".join(rng.choice("甲乙丙abcAB 1") for _ in range(rng.randint(0, 12))) for _ in range(2000)]
    index = BigramIndex(texts)
    mask = np.zeros(len(texts), dtype=bool)
    mask[::3] = True
    for query in ["甲", "甲乙", "ab", "AB", "甲乙丙", "b 1", " ", "x"]:
        want = _truth(texts, query)
        assert index.search(query).tolist() == want
        assert index.search(query, mask).tolist() == [i for i in want if i % 3 == 0]
    assert index.search("").tolist() == list(range(len(texts)))
    assert BigramIndex([]).search("甲").tolist() == []
