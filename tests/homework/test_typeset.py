"""Stems typeset from the dataset's notation, over the whole fixture bank and on the printed paper."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from homework import ItemBank, build_assignment
from homework._printing import render_question_paper
from homework._typeset import stem_html, stem_text, typeset

RAW = re.compile(r"\*|\^|\(\d+/\d+\)|\(\(\)\)|．")


@pytest.mark.parametrize(("raw", "shown"), [
    ("(5/6)的6倍=．", "5/6的6倍 = ____。"),
    ("1(3/4)与(1/2)的和", "1又3/4与1/2的和"),
    ("每段占全长的((())/(()))．", "每段占全长的(  )/(  )。"),
    ("0.8/3/(9/20)*(3/2)=？", "0.8 ÷ 3 ÷ 9/20 × 3/2 = ____？"),
    ("面积为2500m^2，体积7.85m**3，圆心角80**0", "面积为2500m²，体积7.85m³，圆心角80°"),
    ("速度是42千米/时，高=多少厘米？", "速度是42千米/时，高是多少厘米？"),
    ("长3．5米．", "长3.5米。"),
    ("报销费=（医疗费-起付线）*报销率", "报销费=（医疗费-起付线） × 报销率"),
])
def test_notation_becomes_what_a_pupil_reads(raw: str, shown: str) -> None:
    assert stem_text(raw) == shown


def test_no_dataset_notation_is_left_in_the_fixture_bank(bank: ItemBank) -> None:
    stems = bank.frame["stem"].astype(str)
    left = [s for s in stems if RAW.search(stem_text(s))]
    assert len(left) == 2 and all("{_{" in s for s in left)  # the two repeating decimals, written {_{5}**(•)}
    counted = sum(len(re.findall(r"\([\d.]+/[\d.]+\)", s)) for s in stems)
    fractions = sum(t.kind == "frac" for s in stems for t in typeset(s))
    assert fractions == counted > 500
    blanks = sum(t.kind == "blank" and t.below == "_" for s in stems for t in typeset(s))
    assert blanks == stems.str.count(re.escape("((())/(()))")).sum() == 14


def test_html_stacks_fractions_and_escapes_text() -> None:
    assert stem_html("a<b 的(2/3)") == 'a&lt;b 的<span class="frac"><span>2</span><span>3</span></span>'
    assert stem_html("48cm**3") == "48cm<sup>3</sup>"


def test_the_question_paper_prints_no_dataset_notation(bank: ItemBank, tmp_path: Path) -> None:
    stems = bank.frame[bank.frame["stem"].str.contains(r"\(\d+/\d+\)|\*\*|\^|\(\(\)\)", regex=True)
                       & ~bank.frame["stem"].str.contains("{_{", regex=False)]
    assignment = build_assignment(bank, stems["id"].tolist()[:12], assignment_id="typeset-paper")
    pdf = tmp_path / "q.pdf"
    render_question_paper(bank, assignment, [{"id": "s1", "name": "李雷"}], pdf, class_name="六(2)班")
    text = "".join(page.get_textpage().get_text_range() for page in pdfium.PdfDocument(pdf))
    assert "李雷" in text and "六(2)班" in text
    assert not re.search(r"\(\d+/\d+\)|\*\*|\^|\(\(\)\)|．", text)
    first = stems["stem"].iloc[0]
    fraction = next(t for t in typeset(first) if t.kind == "frac")
    assert fraction.text in text and fraction.below in text
