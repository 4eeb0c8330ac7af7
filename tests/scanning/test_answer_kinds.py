"""Answer kinds Chinese homework needs: Chinese numerals, numbers with units, expressions and equations."""

from __future__ import annotations

import pytest

from scanning import Answer, SpecError, grade, key_spellings, parse_key, parse_number
from scanning._ocr import charset_for


def _graded(key: dict[str, object], written: str) -> bool:
    result = grade(parse_key(key), Answer(written))
    assert result.status == "graded", result
    return result.correct


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("三百五十", 350),
        ("一千零五", 1005),
        ("十二", 12),
        ("一十八", 18),
        ("两万", 20000),
        ("三万零四百", 30400),
        ("二分之一", 0.5),
        ("一又二分之一", 1.5),
        ("负三点五", -3.5),
        ("零", 0),
        ("3万", 30000),
        ("叁佰伍拾", 350),
    ],
)
def test_chinese_numerals_read_as_numbers(written: str, value: float) -> None:
    parsed = parse_number(written)
    assert parsed is not None and parsed.value == pytest.approx(value) and parsed.unit == ""


@pytest.mark.parametrize("written", ["三五", "百", "十百", "二分之", "分之一"])
def test_broken_chinese_numerals_are_not_numbers(written: str) -> None:
    assert parse_number(written) is None


def test_a_number_key_accepts_chinese_numerals_and_arabic_digits() -> None:
    key = {"kind": "number", "values": ["三百五十"]}
    assert _graded(key, "350") and _graded(key, "三百五十")
    assert not _graded(key, "三百零五") and not _graded(key, "305")
    assert _graded({"kind": "number", "values": ["1/2"]}, "二分之一")
    assert not _graded({"kind": "number", "values": ["1/2"]}, "三分之一")


def test_a_key_given_in_chinese_numerals_lets_the_reader_read_them() -> None:
    key = parse_key({"kind": "number", "values": ["一千零五"]})
    assert "一千零五" in key_spellings(key) and "1005" in key_spellings(key)
    assert "千" in (charset_for(key) or "") and "千" not in (charset_for(parse_key({"kind": "number", "values": [5]})) or "")


@pytest.mark.parametrize(
    ("written", "value", "unit"),
    [("8cm", 8, "cm"), ("6元", 6, "元"), ("3.5千克", 3.5, "千克"), ("三点五千克", 3.5, "千克"), ("5cm²", 5, "cm2")],
)
def test_numbers_with_units(written: str, value: float, unit: str) -> None:
    parsed = parse_number(written)
    assert parsed is not None and (parsed.value, parsed.unit) == (value, unit)


def test_units_convert_only_where_the_key_allows_it() -> None:
    strict = {"kind": "number", "values": [8], "units": ["cm", "厘米"]}
    assert _graded(strict, "8cm") and _graded(strict, "8 厘米")
    assert not _graded(strict, "80mm")  # right amount, but this key wants centimetres
    converting = {**strict, "convert_units": True}
    assert _graded(converting, "80mm") and _graded(converting, "0.8分米") and _graded(converting, "0.08m")
    assert not _graded(converting, "8mm") and not _graded(converting, "8kg")
    money = {"kind": "number", "values": [6], "units": ["元"], "convert_units": True}
    assert _graded(money, "60角") and _graded(money, "6元") and not _graded(money, "6角")
    mass = {"kind": "number", "values": [3.5], "units": ["千克"], "convert_units": True}
    assert _graded(mass, "3500g") and _graded(mass, "3.5kg") and not _graded(mass, "350g")
    time = {"kind": "number", "values": [2], "units": ["小时"], "convert_units": True}
    assert _graded(time, "120分") and _graded(time, "120分钟")  # 分 beside hours is minutes


def _expr(answer: str, written: str, **options: object) -> bool:
    return _graded({"kind": "expression", "answer": answer, **options}, written)


@pytest.mark.parametrize("written", ["2x+3", "3+2x", "x+x+3", "2(x+1)+1", "2*x+3", "２x＋３"])
def test_an_expression_key_accepts_any_equal_expression(written: str) -> None:
    assert _expr("2x+3", written)


@pytest.mark.parametrize("written", ["2x+4", "3x+2", "x=1", "2x"])
def test_an_expression_key_refuses_another_expression(written: str) -> None:
    assert not _expr("2x+3", written)


def test_simplified_refuses_an_unsimplified_expression() -> None:
    assert _expr("2x+3", "3+2x", simplified=True)
    assert not _expr("2x+3", "x+x+3", simplified=True)
    assert "not simplified" in grade(parse_key({"kind": "expression", "answer": "2x+3", "simplified": True}), Answer("x+x+3")).reason


def test_a_solution_key_accepts_its_forms_and_the_bare_value() -> None:
    for written in ("x=3.5", "x=7/2", "3.5=x", "x=3.50", "3.5"):
        assert _expr("x=3.5", written), written
    for written in ("x=3.6", "y=3.5", "2x=7", "-3.5"):
        assert not _expr("x=3.5", written), written
    assert not _expr("x=3.5", "3.5", bare_value=False)


def test_an_arithmetic_statement_key() -> None:
    for written in ("15÷5=3", "15/5=3", "3=15÷5", "3"):
        assert _expr("15÷5=3", written), written
    for written in ("5×3=15", "15÷5=4", "4"):
        assert not _expr("15÷5=3", written), written
    assert _expr("3×4=12", "3*4=12") and _expr("3×4=12", "4×3=12")


def test_inequalities_and_equations_compare_their_solutions() -> None:
    assert _expr("a≥2", "2≤a") and _expr("a≥2", "-a≤-2") and _expr("a≥2", "a>=2")
    assert not _expr("a≥2", "a>2") and not _expr("a≥2", "a≤2") and not _expr("a≥2", "2")
    assert _expr("y=2x+1", "2x-y+1=0") and not _expr("y=2x+1", "y=2x-1")


def test_an_unreadable_expression_is_wrong_when_typed_and_a_bad_key_is_refused() -> None:
    assert not _expr("2x+3", "2x+")
    with pytest.raises(SpecError, match="more than one relation"):
        parse_key({"kind": "expression", "answer": "x=3=3"})
    with pytest.raises(SpecError, match="not an expression"):
        parse_key({"kind": "expression", "answer": "x=3@"})


def test_handwriting_fields_take_expression_keys() -> None:
    from scanning import load_spec

    spec = load_spec(
        {
            "assignment_id": "a1",
            "title": "t",
            "students": [{"id": "s1", "name": "n"}],
            "fields": [{"id": "q1", "type": "handwriting", "kind": "expression", "key": {"answer": "x=3.5"}}],
        }
    )
    assert spec.fields[0].key is not None and spec.fields[0].key.kind == "expression"
