"""Sheet specs: the example fixture loads; every invalid spec raises SpecError naming the path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scanning import NumberKey, SheetSpec, SpecError, load_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sheets" / "example.json"


def _spec(*fields: dict[str, Any], **top: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "assignment_id": "hw-1",
        "title": "小测 Quiz",
        "students": [{"id": "s1", "name": "李雷"}],
        "fields": list(fields),
    }
    return {**base, **top}


def test_example_fixture_has_every_field_type_and_parsed_keys() -> None:
    spec = load_spec(EXAMPLE)
    types = {f.type for f in spec.fields}
    assert types == {
        "single_choice", "multiple_choice", "true_false", "grid_in", "handwriting", "score", "minutes",
    }
    assert isinstance(spec.field("q7").key, NumberKey)
    assert spec.field("q7").key.values == (0.75,)
    assert spec.field("q3").key.multiple is True  # kind and multiple inferred from the field type
    assert spec.class_of(spec.student("s2304")) == "七年级(3)班"
    assert spec.class_of(spec.student("s2301")) == "七年级(2)班"


def test_dict_json_text_bytes_and_path_load_the_same_spec(tmp_path: Path) -> None:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    specs = [load_spec(data), load_spec(json.dumps(data)), load_spec(path.read_bytes()), load_spec(path)]
    assert all(isinstance(s, SheetSpec) for s in specs)
    assert all(s == specs[0] for s in specs)


def test_class_may_be_spelled_class() -> None:
    spec = load_spec(_spec({"id": "1", "type": "true_false"}, **{"class": "7-2"}))
    assert spec.class_name == "7-2"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([{"id": "q1", "type": "single_choice", "options": 9}], r"fields\[0\] \(id 'q1'\)\.options: .*less than or equal to 8"),
        ([{"id": "q1", "type": "multiple_choice", "options": 1}], r"fields\[0\] \(id 'q1'\)\.options: .*greater than or equal to 2"),
        ([{"id": "q1", "type": "essay"}], r"fields\[0\] \(id 'q1'\): .*does not match any of the expected tags"),
        ([{"id": "q|1", "type": "true_false"}], r"fields\[0\] \(id 'q\|1'\)\.id: String should match pattern"),
        ([{"id": "q1", "type": "true_false"}, {"id": "q1", "type": "true_false"}], r"fields\[1\]: id 'q1' is used twice"),
        ([{"id": "q1", "type": "single_choice", "options": 4, "key": {"correct": "E"}}], r"fields\[0\] \(id 'q1'\): key names \['E'\], but the options are ABCD"),
        ([{"id": "q1", "type": "true_false", "key": {"kind": "choice", "correct": "A"}}], r"fields\[0\] \(id 'q1'\): a true_false field needs a 'true_false' key"),
        ([{"id": "q1", "type": "handwriting", "kind": "number", "key": {"accepted": ["x"]}}], r"fields\[0\] \(id 'q1'\)\.key\.values: Field required"),
        ([{"id": "q1", "type": "handwriting", "kind": "text", "key": {"kind": "number", "values": [1]}}], r"a text box needs a 'text' key"),
        ([{"id": "q1", "type": "score", "max_points": 5, "key": {"max_points": 4}}], r"key max_points 4.0 differs from field's 5"),
        ([{"id": "q1", "type": "score"}], r"fields\[0\] \(id 'q1'\)\.max_points: Field required"),
        ([{"id": "q1", "type": "grid_in", "columns": 9}], r"fields\[0\] \(id 'q1'\)\.columns"),
        ([{"id": "q1", "type": "handwriting", "width_mm": 500}], r"fields\[0\] \(id 'q1'\)\.width_mm"),
        ([{"id": "q1", "type": "true_false", "colour": "red"}], r"fields\[0\] \(id 'q1'\)\.colour: Extra inputs are not permitted"),
        ([], r"at least one student and one field"),
    ],
)
def test_invalid_fields_name_their_path(fields: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        load_spec(_spec(*fields))


@pytest.mark.parametrize(
    ("top", "message"),
    [
        ({"paper": "a3"}, r"paper: Input should be 'a4' or 'letter'"),
        ({"students": [{"id": "s1", "name": "A"}, {"id": "s1", "name": "B"}]}, r"students\[1\]: id 's1' is used twice"),
        ({"students": [{"id": "s1"}]}, r"students\[0\] \(id 's1'\)\.name: Field required"),
        ({"assignment_id": "hw 1"}, r"assignment_id: String should match pattern"),
        ({"title": ""}, r"title: String should have at least 1 character"),
    ],
)
def test_invalid_top_level_names_its_path(top: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        load_spec(_spec({"id": "q1", "type": "true_false"}, **top))


def test_unreadable_sources_raise_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read sheet spec"):
        load_spec(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"assignment_id": "hw-1",', encoding="utf-8")
    with pytest.raises(SpecError, match=r"broken.json is not valid JSON"):
        load_spec(broken)
    with pytest.raises(SpecError, match=r"invalid sheet spec: spec: Input should be a valid dictionary"):
        load_spec("[1, 2]")
