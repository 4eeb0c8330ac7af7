"""Printing an assignment: question papers with Chinese stems and answer sheets from scanning."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pypdfium2 as pdfium
import pytest

from homework._assignments import build_assignment
from homework._bank import ItemBank
from homework._errors import AssignmentError
from homework._printing import field_items, print_assignment, sheet_spec
from homework._taxonomy import taxonomy_graph
from scanning import ChoiceKey, NumberKey, ScoreKey, TextKey, TrueFalseKey

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "bank" / "items.csv"
EXTRA = [
    {"id": "sc-1", "grade": 5, "type": "single_choice", "stem": "下面哪个数最大？", "options": "0.5|(2/5)|45%",
     "answer": "A", "minutes": 1, "knowledge_points": "number.fraction"},
    {"id": "mc-1", "grade": 5, "type": "multiple_choice", "stem": "哪些数等于一半？", "options": "0.5|(1/2)|50%|(2/3)",
     "answer": "ABC", "minutes": 1},
    {"id": "tf-1", "grade": 5, "type": "true_false", "stem": "0.5 和 (1/2) 相等。", "stem_en": "0.5 equals one half.",
     "answer": "T", "minutes": 0.5},
    {"id": "st-1", "grade": 5, "type": "short_text", "stem": "四条边相等的长方形叫什么？", "answer": "正方形", "minutes": 0.5},
    {"id": "essay-1", "grade": 5, "type": "subjective", "stem": "说说你是怎样比较分数大小的。", "minutes": 3},
]
ITEMS = ["m23k-2620", "ape-454036", "sc-1", "mc-1", "tf-1", "st-1", "essay-1"]
STUDENTS = [("s01", "李雷"), ("s02", "韩梅梅")]


@pytest.fixture(scope="module")
def bank() -> ItemBank:
    bank = ItemBank(taxonomy_graph())
    bank.import_file(FIXTURE)
    assert bank.import_frame(pd.DataFrame(EXTRA)).added == len(EXTRA)
    return bank


def test_each_item_type_gets_its_sheet_field_and_key(bank: ItemBank) -> None:
    assignment = build_assignment(bank, ITEMS, assignment_id="hw-frac-1", title="分数练习")
    spec = sheet_spec(bank, assignment, STUDENTS, class_name="五(2)班", points={"essay-1": 4})
    types = [(f.id, f.type) for f in spec.fields]
    assert types == [("m23k-2620", "handwriting"), ("ape-454036", "handwriting"), ("sc-1", "single_choice"),
                     ("mc-1", "multiple_choice"), ("tf-1", "true_false"), ("st-1", "handwriting"),
                     ("essay-1", "score"), ("started", "start_time"), ("minutes", "minutes")]
    keys = {f.id: f.key for f in spec.fields}
    assert isinstance(keys["m23k-2620"], NumberKey) and keys["m23k-2620"].values == pytest.approx((0.05,))
    assert isinstance(keys["sc-1"], ChoiceKey) and keys["sc-1"].correct == {"A"}
    assert isinstance(keys["mc-1"], ChoiceKey) and keys["mc-1"].multiple
    assert isinstance(keys["tf-1"], TrueFalseKey) and keys["tf-1"].answer is True
    assert isinstance(keys["st-1"], TextKey) and keys["st-1"].accepted == ("正方形",)
    assert isinstance(keys["essay-1"], ScoreKey) and keys["essay-1"].max_points == 4
    assert [f.printed_label for f in spec.fields[:3]] == ["1", "2", "3"]
    assert field_items(assignment)["sc-1"] == "sc-1"
    with pytest.raises(AssignmentError, match="at least one student"):
        sheet_spec(bank, assignment, [])


def test_print_writes_question_papers_sheets_and_a_combined_document(bank: ItemBank, tmp_path: Path) -> None:
    assignment = build_assignment(bank, ITEMS, assignment_id="hw-frac-1", title="分数练习")
    printed = print_assignment(bank, assignment, STUDENTS, tmp_path / "out", class_name="五(2)班", combined=True)
    assert printed.questions.exists() and printed.sheets.exists() and (tmp_path / "out" / "spec.json").exists()
    questions = pdfium.PdfDocument(printed.questions)
    first = questions[0].get_textpage().get_text_range()
    assert "李雷" in first and "一段钢材长4" in first and "下面哪个数最大" in first  # Chinese stems rendered
    assert "(4/5)" not in first  # typeset: 4 over 5, not the dataset's notation
    assert f"约 {assignment.total_minutes:g} 分钟" in first
    q1, s1 = printed.pages_per_student["s01"]
    combined = pdfium.PdfDocument(printed.combined)
    assert len(combined) == sum(q + s for q, s in printed.pages_per_student.values())
    second_student = combined[q1 + s1].get_textpage().get_text_range()
    assert "韩梅梅" in second_student and "一段钢材长4" in second_student
    assert "hw-frac-1" in combined[q1].get_textpage().get_text_range()  # the sheet follows the questions


def test_a_long_assignment_breaks_across_pages(bank: ItemBank, tmp_path: Path) -> None:
    ids = list(bank.query(text="相遇")["id"][:40])
    printed = print_assignment(bank, build_assignment(bank, ids, assignment_id="long-1"), STUDENTS[:1], tmp_path)
    pages, _ = printed.pages_per_student["s01"]
    doc = pdfium.PdfDocument(printed.questions)
    assert pages >= 2 and len(doc) == pages
    text = "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    assert f"{len(ids)}. " in text and "第 2 页" in text
