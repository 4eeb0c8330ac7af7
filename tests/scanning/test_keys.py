"""Answer keys: every kind validates from a spec dict, and a bad key is a SpecError naming the problem."""

from __future__ import annotations

import pytest

from scanning import ChoiceKey, NumberKey, ScoreKey, SpecError, TextKey, TrueFalseKey, parse_key


def test_each_kind_parses_to_its_model() -> None:
    assert isinstance(parse_key({"kind": "choice", "correct": "c"}), ChoiceKey)
    assert isinstance(parse_key({"kind": "true_false", "answer": True}), TrueFalseKey)
    assert isinstance(parse_key({"kind": "number", "value": "0.5"}), NumberKey)
    assert isinstance(parse_key({"kind": "text", "accepted": ["猫", "cat"]}), TextKey)
    assert isinstance(parse_key({"kind": "score", "max_points": 6}), ScoreKey)


def test_choice_options_are_upper_cased_sets() -> None:
    key = parse_key(
        {"kind": "choice", "correct": ["a", "C"], "multiple": True, "partial_credit": "proportional"}
    )
    assert isinstance(key, ChoiceKey)
    assert key.correct == frozenset({"A", "C"})
    assert parse_key({"kind": "choice", "correct": "B,D", "multiple": True}).correct == frozenset("BD")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "essay"}, "invalid answer key"),
        ({"kind": "choice", "correct": ["A", "B"]}, "exactly one correct option"),
        ({"kind": "choice", "correct": ["Z"]}, "options must be among"),
        ({"kind": "choice", "correct": "A", "partial_credit": "proportional"}, "multiple choice only"),
        ({"kind": "choice", "correct": []}, "correct"),
        ({"kind": "number", "values": ["three"]}, "cannot read 'three' as a number"),
        ({"kind": "number", "values": [1], "unit_required": True}, "needs at least one accepted unit"),
        ({"kind": "number", "values": [1], "abs_tol": -1}, "abs_tol"),
        ({"kind": "text", "accepted": [" "]}, "blank"),
        ({"kind": "score", "max_points": 0}, "max_points"),
        ({"kind": "true_false", "answer": True, "colour": "red"}, "colour"),
    ],
)
def test_bad_keys_raise_spec_error(data: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_key(data)


def test_number_key_keeps_values_and_the_usual_spellings() -> None:
    key = parse_key({"kind": "number", "values": ["3/4", 2], "units": ["cm"]})
    assert isinstance(key, NumberKey)
    assert key.values == (0.75, 2.0)
    assert key.spellings == ("3/4", "0.75", ".75", "2")
    assert parse_key({"kind": "number", "values": ["１ 1/2"]}).values == (1.5,)


def test_keys_are_frozen() -> None:
    key = parse_key({"kind": "true_false", "answer": False})
    with pytest.raises(ValueError, match="frozen"):
        key.answer = True  # type: ignore[misc]
