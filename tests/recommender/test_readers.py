"""Readers on small real slices (fixtures/kt, see SOURCE.md there), including malformed copies."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from recommender import (
    DataFormatError,
    merge_multi_skill_rows,
    read_akt,
    read_assistments_csv,
    read_datashop,
    read_exam_matrix,
    validate_responses,
)

KT = Path(__file__).resolve().parents[2] / "fixtures" / "kt"
ASSIST = KT / "assist2009_pid_sample.csv"


def test_akt_four_line_file_merges_each_multi_skill_item_into_one_response() -> None:
    raw = read_akt(ASSIST, merge=False)
    log = read_akt(ASSIST)
    lines = ASSIST.read_text().splitlines()
    assert len(raw) == sum(len(lines[i].split(",")) for i in range(1, len(lines), 4))
    assert len(log) < len(raw)
    assert log["skill_ids"].map(len).max() >= 2
    # every skill of the raw rows survives the merge, and no label is lost or duplicated
    assert sorted(s for t in log["skill_ids"] for s in t) == sorted(s for t in raw["skill_ids"] for s in t)
    first = log.iloc[0]
    assert (first["student_id"], first["item_id"], first["correct"]) == (lines[0].split(",")[1],
                                                                         int(lines[1].split(",")[0]),
                                                                         float(lines[3].split(",")[0]))


def test_merged_log_has_no_consecutive_copy_that_could_see_its_twin_label() -> None:
    log = read_akt(ASSIST)
    same = (
        (log["student_id"] == log["student_id"].shift())
        & (log["item_id"] == log["item_id"].shift())
        & (log["correct"] == log["correct"].shift())
    )
    prev = log["skill_ids"].shift()
    disjoint = [bool(s) and p is not None and isinstance(p, tuple) and not set(s) & set(p)
                for s, p in zip(log["skill_ids"], prev, strict=True)]
    assert not (same & pd.Series(disjoint)).any()


def test_akt_three_line_file_uses_the_skill_as_item() -> None:
    log = read_akt(KT / "statics_sample.csv")
    lines = (KT / "statics_sample.csv").read_text().splitlines()
    assert len(log) == sum(int(lines[i]) for i in range(0, len(lines), 3))
    assert (log["item_id"] == log["skill_ids"].map(lambda t: t[0])).all()
    assert log["student_id"].nunique() == len(lines) // 3


def test_akt_malformed_label_names_file_line_and_field(tmp_path: Path) -> None:
    lines = ASSIST.read_text().splitlines()
    lines[3] = lines[3].replace("0", "x", 1) if "0" in lines[3] else "x" + lines[3][1:]
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match=r"bad\.csv: line 4, field 'correct'"):
        read_akt(bad)


def test_akt_truncated_student_is_an_error(tmp_path: Path) -> None:
    lines = ASSIST.read_text().splitlines()
    lines[2] = ",".join(lines[2].split(",")[:-1])  # one skill id short
    bad = tmp_path / "short.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match=r"short\.csv: line \d+, field '(skill ids|problem ids|correct|header)'"):
        read_akt(bad)


def test_assistments_csv_groups_rows_of_one_order_id_like_the_akt_merge() -> None:
    log = read_assistments_csv(KT / "assistments_skill_builder_sample.csv")
    raw = pd.read_csv(KT / "assistments_skill_builder_sample.csv")
    assert len(log) == raw["order_id"].nunique()
    akt = read_akt(ASSIST)
    for student, part in log.groupby("student_id", sort=False):
        mine = akt[akt["student_id"] == student]
        assert part["correct"].tolist() == mine["correct"].tolist()
        assert part["skill_ids"].map(len).tolist() == mine["skill_ids"].map(len).tolist()


def test_assistments_csv_blank_skill_is_an_error_unless_a_placeholder_is_given(tmp_path: Path) -> None:
    text = (KT / "assistments_skill_builder_sample.csv").read_text().splitlines()
    fields = text[3].split(",")
    fields[3] = ""
    text[3] = ",".join(fields)
    bad = tmp_path / "blank.csv"
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(DataFormatError, match=r"blank\.csv: line 4, field 'skill_id'"):
        read_assistments_csv(bad)
    kept = read_assistments_csv(bad, missing_skill="unknown")
    assert any("unknown" in t for t in kept["skill_ids"])


def test_assistments_csv_needs_the_documented_columns(tmp_path: Path) -> None:
    bad = tmp_path / "cols.csv"
    bad.write_text("user_id,problem_id,correct\n1,2,1\n")
    with pytest.raises(DataFormatError, match=r"line 1, field\(s\) \['order_id', 'skill_id'\]"):
        read_assistments_csv(bad)


def test_datashop_transactions_keep_first_attempts_with_time_and_duration() -> None:
    log = read_datashop(KT / "datashop_ds76_tx_sample.txt", kc_model="Original")
    assert log["timestamp"].notna().all()
    assert log["duration_s"].iloc[1] == 128.0
    assert not log.duplicated(["student_id", "item_id"]).any()
    assert set(log["correct"]) <= {0.0, 1.0}


def test_datashop_student_step_export_splits_kcs_on_tildes() -> None:
    log = read_datashop(KT / "datashop_ds96_student_step_sample.txt")
    assert log.iloc[0]["skill_ids"] == ("english_text_answer", "english_text_question", "video_preview")
    assert log.iloc[0]["duration_s"] == 16.0
    tx = read_datashop(KT / "datashop_ds96_tx_sample.txt")
    assert tx.iloc[0]["skill_ids"] == ("english_text_answer", "english_text_question", "video_preview")


def test_datashop_unknown_kc_model_names_the_field() -> None:
    with pytest.raises(DataFormatError, match=r"line 1, field 'KC \(Nope\)'"):
        read_datashop(KT / "datashop_ds76_tx_sample.txt", kc_model="Nope")


def test_exam_matrix_uses_the_expert_q_matrix() -> None:
    log = read_exam_matrix(KT / "frcsub_sample")
    assert len(log) == 80 * 20
    names = [line.split("\t", 1)[1].strip().rstrip(",").strip()
             for line in (KT / "frcsub_sample" / "qnames.txt").read_text().splitlines()[1:] if "\t" in line]
    # ReadMe of math2015: "problem 1 requires skill 4, 6, 7"
    assert log.iloc[0]["skill_ids"] == (names[3], names[5], names[6])


def test_exam_matrix_bad_q_entry_names_line_and_field(tmp_path: Path) -> None:
    for f in ("data.txt", "q.txt", "qnames.txt"):
        (tmp_path / f).write_text((KT / "frcsub_sample" / f).read_text())
    q = (tmp_path / "q.txt").read_text().splitlines()
    q[2] = "2" + q[2][1:]
    (tmp_path / "q.txt").write_text("\n".join(q) + "\n")
    with pytest.raises(DataFormatError, match=r"q\.txt: line 3, field 'skill 1'"):
        read_exam_matrix(tmp_path)


def test_validate_rejects_bad_correct_and_empty_skills() -> None:
    log = pd.DataFrame({"student_id": [1, 1], "item_id": [1, 2], "skill_ids": [(1,), ()], "correct": [1, 0]})
    with pytest.raises(DataFormatError, match=r"row 2, field 'skill_ids'"):
        validate_responses(log)
    with pytest.raises(DataFormatError, match=r"missing column\(s\) \['correct'\]"):
        validate_responses(log.drop(columns="correct"))


def test_merge_keeps_a_genuine_second_attempt() -> None:
    log = pd.DataFrame({"student_id": [1, 1, 1], "item_id": [5, 5, 5], "skill_ids": [(1,), (2,), (1,)],
                        "correct": [0.0, 0.0, 0.0]})
    merged = merge_multi_skill_rows(log)
    assert merged["skill_ids"].tolist() == [(1, 2), (1,)]
