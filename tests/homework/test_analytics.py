"""Stage 3 analytics frames on a simulated class answering the fixture bank's real items."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from homework import (
    Assignment,
    HomeworkError,
    Item,
    ItemBank,
    answer_choices,
    answer_frame,
    cap_compliance,
    daily_minutes,
    duration_stats,
    item_statistics,
    mastery_frame,
    mistake_notebook,
    roster_frame,
    score_by_minutes,
    sheet_frame,
    time_differences,
    time_of_day,
)
from homework._simulated import simulate_records

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture(scope="module")
def records(bank: ItemBank):
    return simulate_records(bank, classes=[("六(1)班", 12), ("六(2)班", 10)], assignments=6, seed=3)


@pytest.fixture(scope="module")
def frames(bank: ItemBank, records):
    answers = answer_frame(records.answers, records.assignments, bank)
    sheets = sheet_frame(records.answers, records.assignments, records.roster, records.days)
    return answers, sheets


def test_answer_frame_has_one_row_per_item_answered_and_leaves_the_time_boxes_out(records, frames) -> None:
    answers, _ = frames
    items = [r for r in records.answers if r["field_id"] not in ("minutes", "started")]
    assert len(answers) == len(items)
    graded = answers[answers["status"] == "graded"]
    assert graded["share"].between(0, 1).all() and graded["share"].notna().all()
    assert answers.loc[answers["status"] == "needs_review", "share"].isna().all()
    math_rows = answers[answers["subject"] == "math"]
    assert all(kps for kps in math_rows["knowledge_points"]) and (math_rows["key"] != "").all()


def test_sheet_frame_reads_the_written_minutes_and_start_time_never_the_scan_time(records, frames) -> None:
    _, sheets = frames
    assert len(sheets) == len(records.roster) * len(records.assignments)
    unread = {(r["assignment_id"], r["student_id"]) for r in records.answers
              if r["field_id"] == "minutes" and r["read_status"] != "ok"}
    assert unread, "the simulated class has unread minutes boxes"
    marked = sheets.set_index(["assignment_id", "student_id"])
    assert marked.loc[sorted(unread), "minutes"].isna().all()
    assert (sheets["started"].dt.hour.between(15, 22)).all()
    assert (sheets["recorded_at"].dt.date > sheets["day"].dt.date).all()  # scanned the next morning
    no_start = [r for r in records.answers if r["field_id"] != "started"]
    assert sheet_frame(no_start, records.assignments, records.roster, records.days)["started"].isna().all()
    assert set(sheets["class_name"]) == {"六(1)班", "六(2)班"} and (sheets["school"] == "示范小学").all()


def test_mastery_frame_counts_the_graded_answers_and_follows_the_share_right(frames) -> None:
    answers, _ = frames
    mastery = mastery_frame(answers)
    graded = answers[answers["share"].notna()].explode("knowledge_points")
    counts = graded.groupby(["student_id", "knowledge_points"]).size()
    lookup = mastery.set_index(["student_id", "knowledge_point"])
    assert (lookup.loc[counts.index, "n_responses"].to_numpy() == counts.to_numpy()).all()
    share = graded.groupby(["student_id", "knowledge_points"])["share"].mean()
    well_seen = counts[counts >= 8].index
    assert np.corrcoef(share[well_seen], lookup.loc[well_seen, "p_correct"])[0, 1] > 0.95
    few, many = lookup[lookup["n_responses"] <= 1], lookup[lookup["n_responses"] >= 10]
    assert few["std"].min() > many["std"].max()  # one answer says less than ten


def test_item_statistics_match_the_answers(frames) -> None:
    answers, _ = frames
    table = item_statistics(answers)
    row = table.iloc[0]
    mine = answers[(answers["assignment_id"] == row.assignment_id) & (answers["item_id"] == row.item_id)]
    assert row.facility == pytest.approx(mine["share"].mean())
    assert row.graded == mine["share"].notna().sum()
    wrong = mine[mine["share"] < 1]["value"].value_counts()
    assert row.top_wrong == wrong.index[0] and row.top_wrong_rate == pytest.approx(wrong.iloc[0] / row.graded)
    math_items = table[table["assignment_id"].str.startswith("math")]
    assert math_items["discrimination"].median() > 0.1  # abler simulated students do better


def test_answer_choices_give_every_option_of_a_choice_item_with_the_key_marked() -> None:
    bank = ItemBank()
    bank.add([Item(id="c1", grade=5, type="single_choice", stem="3/4 = ?", options=("0.34", "0.75", "0.43", "7.5"),
                   answer=("B",), knowledge_points=("number.fraction",))])
    assignment = Assignment("hw", "math", 5, ("c1",), (2.0,))
    picks = "BBBACCD"
    rows = [{"assignment_id": "hw", "student_id": f"s{n}", "field_id": "c1", "value": v, "score": float(v == "B"),
             "max_score": 1.0, "correct": int(v == "B"), "grade_status": "graded", "page_id": 1}
            for n, v in enumerate(picks)]
    choices = answer_choices(answer_frame(rows, [assignment], bank))
    assert choices["answer"].tolist() == ["A", "B", "C", "D"]
    assert choices["rate"].tolist() == pytest.approx([1 / 7, 3 / 7, 2 / 7, 1 / 7])
    assert choices["is_key"].tolist() == [False, True, False, False]
    stats = item_statistics(answer_frame(rows, [assignment], bank))
    assert stats.loc[0, "top_wrong"] == "C" and stats.loc[0, "key"] == "B"


def test_mistake_notebook_pairs_each_wrong_answer_with_an_unseen_item_on_its_point(bank, frames) -> None:
    answers, _ = frames
    student = answers["student_id"].iloc[0]
    notebook = mistake_notebook(answers, bank, student_id=student)
    mine = answers[answers["student_id"] == student]
    wrong = mine[(mine["status"] == "graded") & (mine["share"] < 1)]
    assert len(notebook) == len(wrong) > 0
    done = set(mine["item_id"])
    on_bank = notebook[notebook["item_id"].isin(bank.frame["id"])]
    assert (on_bank["variant_id"] != "").all()
    assert not set(on_bank["variant_id"]) & done and on_bank["variant_id"].is_unique
    for row in on_bank.itertuples():
        assert row.knowledge_points[0] in bank.get(row.variant_id).knowledge_points
        assert row.key == " / ".join(bank.get(row.item_id).answer) and row.answered != row.key


def test_time_of_day_counts_every_started_sheet_in_its_hour(frames) -> None:
    _, sheets = frames
    table = time_of_day(sheets, "class_name")
    assert table["sheets"].sum() == sheets["started"].notna().sum()
    assert len(table) == 24 * 2
    one = table[(table["class_name"] == "六(1)班") & (table["hour"] == 19)]["sheets"].item()
    assert one == ((sheets["class_name"] == "六(1)班") & (sheets["started"].dt.hour == 19)).sum()


def test_duration_and_differences_per_subject_agree_with_the_sheets(frames) -> None:
    _, sheets = frames
    stats = duration_stats(sheets, "subject").set_index("subject")
    for subject, one in sheets.groupby("subject"):
        assert stats.loc[subject, "sheets"] == one["minutes"].notna().sum()
        assert stats.loc[subject, "unknown"] == one["minutes"].isna().sum()
        assert stats.loc[subject, "median"] == pytest.approx(one["minutes"].median())
    diff = time_differences(sheets, ["class_name", "subject"])
    known = sheets[sheets["minutes"].notna()]
    assert diff["vs_all"].to_numpy() == pytest.approx(diff["mean"].to_numpy() - known["minutes"].mean())
    one = known[(known["class_name"] == "六(2)班") & (known["subject"] == "math")]
    row = diff[(diff["class_name"] == "六(2)班") & (diff["subject"] == "math")].iloc[0]
    assert row.ratio_estimate == pytest.approx(one["minutes"].sum() / one["estimated_minutes"].sum())


def test_score_by_minutes_puts_each_sheet_in_one_band(frames) -> None:
    _, sheets = frames
    bands = score_by_minutes(sheets)
    usable = sheets[sheets["minutes"].notna() & sheets["share"].notna()]
    assert bands["sheets"].sum() == len(usable)
    low = usable[usable["minutes"] < 10]
    assert bands.iloc[0]["sheets"] == len(low)


def test_cap_compliance_sums_all_subjects_of_a_day_against_the_grade_cap(frames) -> None:
    _, sheets = frames
    days = daily_minutes(sheets)
    by_hand = sheets.groupby(["student_id", "day"])["minutes"].sum(min_count=1)  # all unread: unknown
    mine = days.set_index(["student_id", "day"])["minutes"]
    assert mine.isna().any() and (mine.isna() == by_hand.isna()).all()
    assert mine.dropna().to_dict() == pytest.approx(by_hand.dropna().to_dict())
    assert (days["cap"] == 60).all()
    over = days[days["minutes"] > 60]
    assert len(over) > 0 and (over["over"] == over["minutes"] - 60).all()
    summary = cap_compliance(sheets).set_index("class_name")
    for name, mine in days.groupby("class_name"):
        assert summary.loc[name, "over_days"] == (mine["minutes"] > 60).sum()
        assert summary.loc[name, "students_over"] == mine[mine["minutes"] > 60]["student_id"].nunique()


def test_grades_one_and_two_have_a_zero_cap_and_unread_minutes_are_not_zero() -> None:
    sheets = pd.DataFrame({"student_id": ["a", "a"], "class_name": "二(1)班", "school": "", "grade": 2,
                           "day": pd.to_datetime(["2026-11-23"] * 2), "minutes": [10.0, np.nan]})
    day = daily_minutes(sheets).iloc[0]
    assert day["cap"] == 0 and day["over"] == 10 and day["unknown"] == 1


def test_a_roster_listing_a_student_twice_is_refused() -> None:
    with pytest.raises(HomeworkError, match="listed twice"):
        roster_frame([{"student_id": "s1"}, {"student_id": "s1", "name": "李雷"}])
    with pytest.raises(HomeworkError, match="student_id"):
        roster_frame([{"name": "李雷"}])


def test_sheets_without_a_day_stay_out_of_the_cap_statistics(records) -> None:
    sheets = sheet_frame(records.answers, records.assignments, records.roster, days=None)
    assert sheets["day"].isna().all() and sheets["started"].isna().all()
    assert daily_minutes(sheets).empty
    assert dt.date(2026, 10, 12) in set(records.days.values())
