"""The fixture generator: real-digit handwriting, pencil marks, scanner and phone damage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scanning._damage import Degradation, degrade, phone, scanner
from scanning._geometry import Bubble, Marker, PageLayout, Rect, WritingBox
from scanning._pencil import DigitBank, HandStyle, apply_ink, bubble_mark_ink, write_number, write_text
from scanning._synth import FieldFill, Mark, fill_page, generate_set, read_truth

DIGITS = Path(__file__).resolve().parents[2] / "fixtures" / "handwriting" / "mnist_digits_500.npz"


@pytest.fixture(scope="module")
def bank() -> DigitBank:
    return DigitBank.load(DIGITS)


def _ink_columns(ink: np.ndarray) -> int:
    """Number of separate ink blobs along x (glyphs side by side)."""
    cols = ink.max(axis=0) > 0.3
    return int(np.count_nonzero(cols[1:] & ~cols[:-1]) + cols[0])


def test_bank_holds_real_digits_of_every_class(bank: DigitBank) -> None:
    assert len(bank) == 500
    assert sorted(set(bank.labels.tolist())) == list(range(10))
    glyph = bank.pick(7, np.random.default_rng(0))
    assert glyph.dtype == np.float32 and glyph.max() > 0.9
    assert glyph[0].max() > 0.12 and glyph[-1].max() > 0.12  # cut to its ink


def test_bank_without_some_digit_is_refused() -> None:
    with pytest.raises(ValueError, match=r"no example of digit\(s\) \[9\]"):
        DigitBank.from_arrays(np.zeros((9, 28, 28), np.uint8), np.arange(9))


def test_numbers_are_composed_glyph_by_glyph(bank: DigitBank) -> None:
    style = HandStyle(spacing=0.3, slant=0.0, jitter=0.0)
    inks = {t: write_number(t, bank, 40, np.random.default_rng(1), style) for t in ("7", "407", "-3", "2.5", "3/4")}
    assert all(ink.dtype == np.float32 and ink.min() >= 0 and ink.max() <= 1 for ink in inks.values())
    assert _ink_columns(inks["7"]) == 1
    assert _ink_columns(inks["407"]) == 3
    assert _ink_columns(inks["-3"]) == 2  # the minus is a stroke of its own
    assert _ink_columns(inks["2.5"]) == 3  # the point is a dot of its own
    assert inks["407"].shape[1] > 2 * inks["7"].shape[1]


def test_stacked_fraction_puts_numerator_over_denominator(bank: DigitBank) -> None:
    rng = np.random.default_rng(2)
    inline = write_number("3/4", bank, 40, rng, HandStyle(stacked=False, jitter=0.0))
    stacked = write_number("3/4", bank, 40, rng, HandStyle(stacked=True, jitter=0.0))
    assert stacked.shape[0] > 1.5 * inline.shape[0]
    rows = stacked.max(axis=1) > 0.3
    bands = int(np.count_nonzero(rows[1:] & ~rows[:-1]) + rows[0])
    assert bands == 3  # numerator, bar, denominator


def test_same_seed_same_handwriting_other_seed_other_writer(bank: DigitBank) -> None:
    a = write_number("12", bank, 40, np.random.default_rng(5), HandStyle())
    b = write_number("12", bank, 40, np.random.default_rng(5), HandStyle())
    c = write_number("12", bank, 40, np.random.default_rng(6), HandStyle())
    assert np.array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)


def test_write_number_refuses_letters(bank: DigitBank) -> None:
    with pytest.raises(ValueError, match="digits with - . / only"):
        write_number("3x", bank, 40, np.random.default_rng(0), HandStyle())


def test_text_stand_in_renders_latin_and_hanzi() -> None:
    rng = np.random.default_rng(0)
    word, hanzi = write_text("cat", 40, rng, HandStyle()), write_text("三角形", 40, rng, HandStyle())
    assert word.max() > 0.9 and hanzi.max() > 0.9
    assert _ink_columns(hanzi) >= 3


def _mean_in_bubble(ink: np.ndarray, level: int, r: float) -> float:
    page = np.full(ink.shape, 240, np.uint8)
    apply_ink(page, ink, 0, 0, level, np.random.default_rng(0))
    yy, xx = np.mgrid[: ink.shape[0], : ink.shape[1]]
    c = ink.shape[0] / 2
    inside = (yy - c) ** 2 + (xx - c) ** 2 <= (0.8 * r) ** 2
    return float(page[inside].mean())


@pytest.mark.parametrize(
    ("style", "low", "high"),
    [("full", 60, 150), ("light", 140, 185), ("partial", 80, 215), ("erased", 195, 236)],
)
def test_bubble_marks_darken_as_their_style_says(style: str, low: float, high: float) -> None:
    rng = np.random.default_rng(11)
    for _ in range(8):
        ink, level = bubble_mark_ink(20.0, style, rng)
        assert low <= _mean_in_bubble(ink, level, 20.0) <= high


def test_partial_marks_cover_forty_to_ninety_percent() -> None:
    rng = np.random.default_rng(3)
    full = [float(bubble_mark_ink(30.0, "full", rng)[0].sum()) for _ in range(20)]
    part = [float(bubble_mark_ink(30.0, "partial", rng)[0].sum()) for _ in range(20)]
    share = np.mean(part) / np.mean(full)
    assert 0.45 <= share <= 0.85


def test_unknown_mark_style_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown mark style 'tick'"):
        bubble_mark_ink(10.0, "tick", np.random.default_rng(0))


def _page() -> tuple[np.ndarray, PageLayout]:
    """A plain 100x140 mm page at 4 px/mm with two bubbles and a writing box."""
    k = 4.0
    layout = PageLayout(
        100 * k, 140 * k, 0, 1,
        markers=tuple(Marker(i, Rect(5 * k + i * 20 * k, 5 * k, 10 * k, 10 * k)) for i in range(4)),
        qr=Rect(70 * k, 5 * k, 20 * k, 20 * k),
        bubbles=(Bubble("q1", "A", 20 * k, 40 * k, 2.5 * k), Bubble("q1", "B", 30 * k, 40 * k, 2.5 * k)),
        boxes=(WritingBox("q2", Rect(15 * k, 60 * k, 60 * k, 15 * k), "number"),),
    )
    return np.full((560, 400), 242, np.uint8), layout


def test_fill_page_marks_the_chosen_bubble_and_writes_in_the_box(bank: DigitBank) -> None:
    image, layout = _page()
    fills = {
        "q1": FieldFill("q1", "B", "ok", "clean", (Mark("B"),)),
        "q2": FieldFill("q2", "42", "ok", "written", written="42", source="mnist"),
    }
    out = fill_page(image, layout, fills, np.random.default_rng(0), bank=bank, stray_marks=0)
    a, b = layout.bubbles

    def mean_at(x: float, y: float) -> float:
        return float(out[int(y) - 6 : int(y) + 6, int(x) - 6 : int(x) + 6].mean())

    assert mean_at(b.cx, b.cy) < 160 < mean_at(a.cx, a.cy)
    box = layout.boxes[0].rect
    inside = out[int(box.y) : int(box.y + box.h), int(box.x) : int(box.x + box.w)]
    assert (inside < 180).sum() > 200
    outside = out.copy()
    outside[int(box.y) : int(box.y + box.h), int(box.x) : int(box.x + box.w)] = 242
    outside[int(a.cy - 15) : int(a.cy + 15), int(a.cx - 15) : int(b.cx + 15)] = 242
    assert (outside < 180).sum() == 0  # nothing else drawn
    assert np.array_equal(image, np.full((560, 400), 242, np.uint8))  # the input is left alone


def test_fill_page_needs_a_digit_bank_for_numbers() -> None:
    image, layout = _page()
    fills = {"q2": FieldFill("q2", "42", "ok", "written", written="42", source="mnist")}
    with pytest.raises(ValueError, match="needs a DigitBank"):
        fill_page(image, layout, fills, np.random.default_rng(0))


def test_stray_marks_keep_clear_of_bubbles_and_boxes() -> None:
    image, layout = _page()
    out = fill_page(image, layout, {}, np.random.default_rng(4), stray_marks=3)
    assert (out < 200).sum() > 0
    for b in layout.bubbles:
        assert out[int(b.cy) - 10 : int(b.cy) + 10, int(b.cx) - 10 : int(b.cx) + 10].min() > 200


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_scanner_turns_the_page_and_keeps_it_grey(turns: int) -> None:
    page = np.full((300, 200), 240, np.uint8)
    page[20:40, 20:40] = 0  # a black square in the top-left corner
    out = degrade(page, scanner(200, turns), np.random.default_rng(turns))
    assert out.ndim == 2 and out.dtype == np.uint8
    assert out.shape == ((300, 200) if turns % 2 == 0 else (200, 300))
    corner = {0: out[:60, :60], 1: out[:60, -60:], 2: out[-60:, -60:], 3: out[-60:, :60]}[turns]
    assert corner.min() < 80  # the square turned with the page


def test_phone_photo_has_background_perspective_and_colour() -> None:
    page = np.full((600, 420), 240, np.uint8)
    out = degrade(page, phone(15), np.random.default_rng(7))
    assert out.ndim == 3 and out.shape[2] == 3
    grey = out.mean(axis=2)
    bright = grey > 170
    assert 0.3 < bright.mean() < 0.9  # the page fills part of the frame, the table the rest
    assert grey[~bright].mean() < 170


def test_degradation_profile_is_checked() -> None:
    with pytest.raises(ValueError, match="quarter_turns must be 0-3"):
        Degradation("x", quarter_turns=4)
    with pytest.raises(ValueError, match="kind must be"):
        Degradation("x", kind="fax")
    with pytest.raises(ValueError, match="uint8 grey or BGR"):
        degrade(np.zeros((10, 10), np.float32), scanner(200), np.random.default_rng(0))


def test_generate_set_writes_pages_and_truth_that_read_back(bank: DigitBank, tmp_path: Path) -> None:
    from scanning import load_spec

    spec = load_spec({
        "assignment_id": "t-1", "title": "Synth 测试", "students": [{"id": "a", "name": "甲"}, {"id": "b", "name": "B"}],
        "fields": [
            {"id": "q1", "type": "single_choice", "options": 4, "key": {"correct": "C"}},
            {"id": "q2", "type": "grid_in", "columns": 3, "key": {"values": ["-1.5"]}},
            {"id": "q3", "type": "handwriting", "kind": "number", "key": {"values": ["3/4"]}},
            {"id": "q4", "type": "minutes"},
        ],
    })
    pages = generate_set(spec, tmp_path, [scanner(150, 2), phone(10, dpi=150)], bank, seed=3)
    assert [(p.student_id, p.profile) for p in pages] == [("a", "scan150-rot180"), ("b", "phone-tilt10")]
    assert read_truth(tmp_path / "truth.json") == pages
    for p in pages:
        data = (tmp_path / p.file).read_bytes()
        assert data[:2] == b"\xff\xd8"  # a JPEG, as a scanner sends it
        assert set(p.fields) == {"q1", "q2", "q3", "q4"}
        grid = p.fields["q2"]
        assert all(m.option == "-" and m.column == 0 for m in grid.marks if m.option == "-")
        assert "".join(m.option for m in grid.marks) == grid.expected
        minutes = p.fields["q4"]
        assert int(minutes.expected or "") == int("".join(m.option for m in minutes.marks))
    again = generate_set(spec, tmp_path / "again", [scanner(150, 2), phone(10, dpi=150)], bank, seed=3)
    assert (tmp_path / "again" / again[0].file).read_bytes() == (tmp_path / pages[0].file).read_bytes()


def test_plans_record_what_a_correct_reader_must_report() -> None:
    from scanning import layout_pages, load_spec
    from scanning._synth import plan_field

    spec = load_spec(Path(__file__).resolve().parents[2] / "fixtures" / "scans" / "spec.json")
    layout = layout_pages(spec)[spec.students[0].id]
    home = {b.field_id: page for page in layout for b in page.bubbles}
    rng = np.random.default_rng(0)
    fills = [plan_field(f, home.get(f.id, layout[0]), rng, ability=0.6) for _ in range(30) for f in spec.fields]
    by_case: dict[str, list[FieldFill]] = {}
    for fill in fills:
        by_case.setdefault(fill.case, []).append(fill)
    for fill in by_case["double"]:
        assert fill.status == "needs_review" and len(fill.marks) == 2 and fill.expected == "".join(sorted(m.option for m in fill.marks))
    for fill in by_case["erasure+mark"]:
        assert fill.status == "needs_review" and sorted(m.style for m in fill.marks) == ["erased", "full"]
    for fill in by_case["blank"]:
        assert fill.expected is None and fill.status == "blank" and fill.marks == ()
    written = by_case["written"]
    assert {f.source for f in written} == {"mnist", "font"}
    assert {f.number_kind for f in written} == {"integer", "decimal", "fraction", "negative", "text"}
    assert all(f.expected == f.written for f in written)


def test_fill_page_draws_where_the_renderer_printed(bank: DigitBank) -> None:
    from scanning import load_spec, render_page_images

    spec = load_spec({"assignment_id": "t-2", "title": "t", "students": [{"id": "a", "name": "A"}],
                      "fields": [{"id": "q", "type": "single_choice", "options": 5}]})
    image, geometry = next(render_page_images(spec, dpi=150))
    out = fill_page(image, geometry, {"q": FieldFill("q", "D", "ok", "clean", (Mark("D"),))},
                    np.random.default_rng(1), stray_marks=0)
    for b in geometry.page.bubbles:
        x, y = geometry.point(b.cx, b.cy)
        centre = out[round(y) - 3 : round(y) + 4, round(x) - 3 : round(x) + 4].mean()
        assert (centre < 160) == (b.option == "D"), b
