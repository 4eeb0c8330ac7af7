"""Items: validation of the answer key against the item type, and conversion to scanning answer keys."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from homework._items import Item, item_answer_key, numeric_value, parse_list
from scanning import Answer, ChoiceKey, NumberKey, ScoreKey, TextKey, TrueFalseKey, grade, parse_key

STEM = "一件上衣的售价是480元，比原价降低了20%，降价了多少元？"


@pytest.mark.parametrize(("text", "value"), [
    ("9", 9.0), ("12.5%", 0.125), ("(2/5)", 0.4), ("1(5/6)", 11 / 6), ("((3)/(4))", 0.75),
    ("480/(1-20%)*20%", 120.0), ("2.75-1(5/6)+3(1/4)-2(1/6)", 2.0), ("-3", -3.0),
])
def test_numeric_value_reads_the_word_problem_notation(text: str, value: float) -> None:
    assert numeric_value(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["x", "", "3 apples", "__import__('os')", "1/0"])
def test_numeric_value_rejects_non_numbers(text: str) -> None:
    with pytest.raises(ValueError, match="not a number|empty"):
        numeric_value(text)


def test_parse_list_accepts_json_and_separated_text() -> None:
    assert parse_list('["1|2", "B"]') == ("1|2", "B")
    assert parse_list("A | B ||C") == ("A", "B", "C")
    with pytest.raises(ValueError, match="malformed JSON"):
        parse_list('["A", ')


@pytest.mark.parametrize(("fields", "message"), [
    ({"type": "single_choice", "options": ["1", "2"], "answer": ["C"]}, "option letters within AB"),
    ({"type": "single_choice", "options": ["1", "2", "3"], "answer": ["AB"]}, "one letter"),
    ({"type": "multiple_choice", "options": ["1"], "answer": ["A"]}, "2 to 8 options"),
    ({"type": "numeric", "answer": ["about 3"]}, "is not a number"),
    ({"type": "numeric", "answer": []}, "at least one accepted answer"),
    ({"type": "true_false", "answer": ["maybe"]}, "T or F"),
    ({"type": "short_text", "answer": ["x"], "tolerance": 0.5}, "numeric items only"),
    ({"type": "numeric", "answer": ["3"], "options": ["1", "2"]}, "takes no options"),
    ({"type": "numeric", "answer": ["3"], "grade": 13}, "less than or equal to 12"),
    ({"type": "numeric", "answer": ["3"], "minutes": 0}, "greater than 0"),
])
def test_item_rejects_keys_that_do_not_fit_its_type(fields: dict, message: str) -> None:
    base = {"id": "q", "grade": 5, "stem": STEM}
    with pytest.raises(ValidationError, match=message):
        Item(**{**base, **fields})


def test_item_keys_convert_to_scanning_keys_that_grade_correctly() -> None:
    numeric = Item(id="m1", grade=6, type="numeric", stem=STEM, answer=["120"], tolerance=0.5)
    key = parse_key(item_answer_key(numeric))
    assert isinstance(key, NumberKey) and key.values == (120.0,)
    assert grade(key, Answer("120")).correct and not grade(key, Answer("96")).correct

    mixed = parse_key(item_answer_key(Item(id="m2", grade=6, type="numeric", stem="?", answer=["1(5/6)"])))
    assert mixed.values == pytest.approx((11 / 6,))

    choice = parse_key(item_answer_key(Item(id="c", grade=4, type="multiple_choice", stem="偶数有哪些？",
                                            options=["2", "3", "4", "5"], answer=["CA"])))
    assert isinstance(choice, ChoiceKey) and choice.multiple and choice.correct == {"A", "C"}

    tf = parse_key(item_answer_key(Item(id="t", grade=4, type="true_false", stem="0.5=1/2", answer=["错"])))
    assert isinstance(tf, TrueFalseKey) and tf.answer is False

    text = parse_key(item_answer_key(Item(id="s", grade=4, type="short_text", stem="?", answer=["平行四边形"])))
    assert isinstance(text, TextKey) and text.accepted == ("平行四边形",)

    essay = parse_key(item_answer_key(Item(id="e", grade=8, type="subjective", stem="证明"), points=6))
    assert isinstance(essay, ScoreKey) and essay.max_points == 6
