"""The item bank: import/export round trips, per-row errors, updates by id, and queries."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from homework._bank import COLUMNS, ItemBank
from homework._errors import ItemBankError
from homework._graph import KnowledgeGraph
from homework._items import Item

# Real Math23K / Ape210K problems (ids are theirs), with hand-written metadata.
ROWS = [
    {"id": "m23k-13031", "grade": 5, "type": "numeric", "stem": "一段布剪去6米，正好剪去这段布的(2/5)，这段布还剩多少米？",
     "answer": "9", "knowledge_points": "fraction.of_quantity", "difficulty": 2, "minutes": 2.5},
    {"id": "m23k-2481", "grade": 6, "type": "numeric", "stem": "一件上衣的售价是480元，比原价降低了20%，降价了多少元？",
     "answer": "120", "knowledge_points": "percent.discount", "difficulty": 3, "minutes": 3},
    {"id": "m23k-13974", "grade": 3, "type": "numeric", "stem": "菜场运来3车白菜，每车490千克．卖出865千克后，还剩多少千克？",
     "answer": "605", "knowledge_points": "arithmetic.mixed", "difficulty": 2, "minutes": 2},
    {"id": "ape-275990", "grade": 4, "type": "numeric",
     "stem": "有5筐苹果的重量相等，如果从每筐中取出10kg，那么剩下的苹果相当于原来3筐的重量，原来每筐苹果重多少千克？",
     "answer": "25", "knowledge_points": "arithmetic.mixed;reasoning", "difficulty": 3, "minutes": 4},
    {"id": "tf-1", "grade": 5, "type": "true_false", "stem": "0.5 和 (1/2) 相等。", "stem_en": "0.5 equals one half.",
     "answer": "T", "knowledge_points": "fraction;decimal", "difficulty": 1, "minutes": 0.5},
    {"id": "sc-1", "subject": "Math", "grade": 5, "type": "单选题", "stem": "下面哪个数最大？", "options": "0.5|(2/5)|45%",
     "answer": "A", "knowledge_points": "fraction;decimal;percent", "difficulty": 2, "minutes": 1},
]
GRAPH = KnowledgeGraph.from_edges([
    ("arithmetic", "arithmetic.mixed"), ("arithmetic.mixed", "reasoning"), ("arithmetic", "fraction"),
    ("fraction", "fraction.of_quantity"), ("fraction", "decimal"), ("decimal", "percent"),
    ("percent", "percent.discount")])


@pytest.fixture()
def bank() -> ItemBank:
    bank = ItemBank(GRAPH)
    report = bank.import_frame(pd.DataFrame(ROWS))
    assert (report.added, report.rejected) == (6, 0)
    return bank


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".json", ".jsonl"])
def test_export_then_import_round_trips_every_field(bank: ItemBank, tmp_path: Path, suffix: str) -> None:
    path = bank.export(tmp_path / f"bank{suffix}")
    again = ItemBank(GRAPH)
    report = again.import_file(path)
    assert (report.added, report.updated, report.rejected, report.issues) == (6, 0, 0, ())
    assert again.items(["sc-1", "tf-1", "ape-275990"]) == bank.items(["sc-1", "tf-1", "ape-275990"])
    item = again.get("sc-1")
    assert item.type.value == "single_choice" and item.subject == "math"  # aliases and case normalised
    assert item.options == ("0.5", "(2/5)", "45%") and item.knowledge_points == ("fraction", "decimal", "percent")


def test_invalid_rows_are_reported_by_row_field_and_reason_and_valid_rows_kept(tmp_path: Path) -> None:
    lines = [",".join(["id", "grade", "type", "stem", "answer", "options", "minutes", "knowledge_points"]),
             "ok-1,5,numeric,3+4=?,7,,1,arithmetic",
             "bad-grade,two,numeric,3+4=?,7,,1,arithmetic",
             "bad-type,5,essay question,3+4=?,7,,1,arithmetic",
             ",5,numeric,no id,7,,1,arithmetic",
             "bad-key,5,single_choice,pick,E,A|B|C,1,arithmetic",
             "bad-kp,5,numeric,3+4=?,7,,1,algebra",
             "bad-min,5,numeric,3+4=?,7,,200,arithmetic",
             "ok-2,5,numeric,3+5=?,8,,1,arithmetic"]
    path = tmp_path / "items.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bank = ItemBank(GRAPH)
    report = bank.import_file(path)
    assert (report.added, report.rejected) == (2, 6)
    assert [str(i) for i in report.issues] == [
        "row 3, grade: must be a whole number from 1 to 12, got two",
        "row 4, type: unknown item type 'essay question'; use one of ['multiple_choice', 'numeric', "
        "'short_text', 'single_choice', 'subjective', 'true_false']",
        "row 5, id: missing",
        "row 6, answer: answer must be option letters within ABC, got ['E']",
        "row 7, knowledge_points: unknown knowledge point(s) ['algebra']",
        "row 8, minutes: must be more than 0 and at most 120, got 200",
    ]
    assert sorted(bank.frame["id"]) == ["ok-1", "ok-2"]
    assert report.confidence == pytest.approx(2 / 8)


def test_reimport_by_id_updates_instead_of_duplicating(bank: ItemBank) -> None:
    changed = pd.DataFrame([{**ROWS[0], "minutes": 4, "difficulty": 3},
                            {**ROWS[0], "id": "new-1", "stem": "另一题：6÷(2/5)=?", "answer": "15"}])
    report = bank.import_frame(changed)
    assert (report.added, report.updated, len(bank)) == (1, 1, 7)
    assert bank.get("m23k-13031").minutes == 4 and bank.get("m23k-13031").difficulty == 3
    assert list(bank.query(knowledge_points="fraction.of_quantity")["id"]) == ["m23k-13031", "new-1"]


def test_repeated_ids_inside_one_file_keep_the_last_row(tmp_path: Path) -> None:
    frame = pd.DataFrame([{**ROWS[2], "minutes": 1}, {**ROWS[2], "minutes": 5}])
    bank = ItemBank()
    report = bank.import_frame(frame)
    assert [str(i) for i in report.issues] == ["row 1, id: id 'm23k-13974' appears again at row 2; the later row "
                                               "is kept"]
    assert len(bank) == 1 and bank.get("m23k-13974").minutes == 5


def test_queries_combine_every_filter(bank: ItemBank) -> None:
    ids = lambda frame: sorted(frame["id"])  # noqa: E731
    assert ids(bank.query(grade=5)) == ["m23k-13031", "sc-1", "tf-1"]
    assert ids(bank.query(grade=[3, 4])) == ["ape-275990", "m23k-13974"]
    assert ids(bank.query(subject="MATH", type="true_false")) == ["tf-1"]
    assert ids(bank.query(difficulty=(2, 2), minutes=(1, 2))) == ["m23k-13974", "sc-1"]
    assert ids(bank.query(knowledge_points="fraction")) == ["sc-1", "tf-1"]
    assert ids(bank.query(knowledge_points="fraction", descendants=True)) == [
        "m23k-13031", "m23k-2481", "sc-1", "tf-1"]
    assert ids(bank.query(knowledge_points=["reasoning", "percent.discount"])) == ["ape-275990", "m23k-2481"]
    assert ids(bank.query(text="还剩多少")) == ["m23k-13031", "m23k-13974"]
    assert ids(bank.query(text="ONE HALF")) == ["tf-1"]  # English stems, case-insensitive
    assert ids(bank.query(text="剪", grade=5)) == ["m23k-13031"]
    assert ids(bank.query(text="还剩多少", grade=3)) == ["m23k-13974"]
    assert bank.query(text="不存在的词").empty and bank.query(subject="physics").empty
    assert len(bank.query(limit=2)) == 2
    assert bank.knowledge_point_counts()["fraction"] == 2


def test_bad_files_and_unknown_ids_raise_clear_errors(bank: ItemBank, tmp_path: Path) -> None:
    with pytest.raises(ItemBankError, match="lacks required column"):
        bank.import_frame(pd.DataFrame([{"id": "x", "stem": "?"}]))
    with pytest.raises(ItemBankError, match="unknown item file type '.txt'"):
        bank.import_file(tmp_path / "items.txt")
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")
    with pytest.raises(ItemBankError, match="cannot read item file"):
        bank.import_file(broken)
    with pytest.raises(ItemBankError, match=r"no item with id\(s\) \['nope'\]"):
        bank.get("nope")
    with pytest.raises(ItemBankError, match="needs a bank built with a knowledge-point graph"):
        ItemBank().query(knowledge_points="fraction", descendants=True)
    assert len(bank) == 6  # nothing was lost


def test_items_added_as_models_are_stored_canonically() -> None:
    bank = ItemBank()
    item = Item(id="q", grade=4, type="multiple_choice", stem="偶数有？", options=["2", "3", "4"], answer=["AC"],
                knowledge_points=["parity"], minutes=1, tags=["warm-up"])
    assert bank.add([item]).added == 1
    assert bank.get("q") == item
    assert list(bank.frame.columns) == list(COLUMNS)
