"""Re-calibrating estimated minutes, on real DataShop step durations (ds96, fixtures/timing)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from homework._bank import ItemBank
from homework._errors import ItemBankError
from homework._timing import (
    TimeCalibrator,
    calibrate_from_totals,
    calibration_error,
    read_datashop_durations,
    recalibrate_bank,
    totals_calibration_error,
)
from recommender import NotFittedError

DS96 = Path(__file__).resolve().parents[2] / "fixtures" / "timing" / "ds96_student_step_durations.txt"


@pytest.fixture(scope="module")
def durations() -> pd.DataFrame:
    return read_datashop_durations(DS96)


def test_datashop_durations_are_read_per_student_and_step(durations: pd.DataFrame) -> None:
    assert list(durations.columns) == ["student", "item_id", "seconds", "steps"]
    assert durations["student"].nunique() == 7 and durations["item_id"].nunique() == 253
    assert (durations["seconds"] > 0).all() and 5 <= durations["seconds"].median() <= 15
    problems = read_datashop_durations(DS96, "problem")
    assert problems["seconds"].sum() == pytest.approx(durations["seconds"].sum())


def test_calibration_cuts_the_error_on_held_out_students(durations: pd.DataFrame) -> None:
    err = calibration_error(durations)
    assert err.confidence == len(durations)
    assert err.mae_after < 0.6 * err.mae_before and err.mdlr_after < 0.6 * err.mdlr_before
    assert err.mae_after < err.mae_bias_only  # the per-item pull helps beyond the shared factor here


def test_shrinkage_weighs_reports_by_their_number() -> None:
    estimates = {"few": 2.0, "many": 2.0, "none": 2.0, "other": 2.0}
    reports = pd.DataFrame({"item_id": ["few"] + ["many"] * 20 + ["other"] * 30,
                            "minutes": [6.0] + [6.0] * 20 + [2.0] * 30})
    model = TimeCalibrator(prior_strength=4).fit(reports, estimates)
    few, many, none = model.predict(["few", "many", "none"])
    assert model.bias_ == 0 and none == pytest.approx(2.0)  # most reports agree with the authors
    assert 2.0 < few < 3.0 < 4.5 < many < 6.0
    table = model.table()
    assert table.loc["many", "confidence"] == pytest.approx(20 / 24, abs=1e-3) and table.loc["none", "reports"] == 0


def test_absurd_reports_are_clipped_and_bad_ones_ignored(caplog: pytest.LogCaptureFixture) -> None:
    reports = pd.DataFrame({"item_id": ["a", "a", "a", "a", "zzz"], "minutes": [3, 3, 300, "abc", 2]})
    model = TimeCalibrator(prior_strength=1).fit(reports, {"a": 3.0})
    assert model.predict(["a"])[0] < 3.0 * 2.5  # one "300" does not make it 100 minutes
    assert "ignored 2 time report(s)" in caplog.text
    with pytest.raises(NotFittedError, match="before fit"):
        TimeCalibrator().predict(["a"])
    with pytest.raises(ItemBankError, match="no author's estimate"):
        model.predict(["b"])
    with pytest.raises(ItemBankError, match="need columns"):
        TimeCalibrator().fit(pd.DataFrame({"id": ["a"]}), {"a": 1.0})
    with pytest.raises(ItemBankError, match="not a DataShop export"):
        read_datashop_durations(Path(__file__))


def test_recalibration_writes_back_into_the_bank() -> None:
    bank = ItemBank()
    bank.import_frame(pd.DataFrame([{"id": f"q{i}", "grade": 5, "type": "numeric", "stem": f"{i}+1=?",
                                     "answer": str(i + 1), "minutes": 2} for i in range(4)]))
    reports = pd.DataFrame({"item_id": ["q0"] * 10 + ["q1"] * 10, "minutes": [6] * 10 + [2] * 10})
    table = recalibrate_bank(bank, reports, prior_strength=2)
    assert list(table.index) == ["q0", "q1"]
    assert bank.get("q0").minutes > 3 and bank.get("q2").minutes == 2  # unreported items unchanged
    assert bank.query(minutes=(3, 10))["id"].tolist() == ["q0"]  # queries see the new minutes
    with pytest.raises(ItemBankError, match="at most 120"):
        bank.set_minutes({"q0": 500})


def test_sheet_totals_are_shared_out_and_slow_items_emerge_across_assignments() -> None:
    truth = {"a": 1.0, "b": 1.0, "c": 4.0, "d": 4.0, "e": 2.0, "f": 2.0}
    pairs = [("a", "c"), ("a", "e"), ("b", "c"), ("b", "d"), ("c", "e"), ("d", "f"), ("e", "f"), ("a", "b"),
             ("c", "d"), ("b", "f")]
    sheets = [(list(pair), {f"s{k}": sum(truth[i] for i in pair) for k in range(20)}) for pair in pairs]
    model = calibrate_from_totals(sheets, dict.fromkeys(truth, 2.0), prior_strength=1)
    got = dict(zip(truth, model.predict(list(truth)), strict=True))
    assert max(got["a"], got["b"]) < min(got["e"], got["f"]) < max(got["e"], got["f"]) < min(got["c"], got["d"])
    single = calibrate_from_totals(sheets, dict.fromkeys(truth, 2.0), prior_strength=1, iterations=1)
    spread = lambda m: float(np.ptp(m.predict(["a", "c"])))  # noqa: E731
    assert spread(model) > spread(single)  # iterating separates the items further
    with pytest.raises(ItemBankError, match="no usable minutes-spent totals"):
        calibrate_from_totals([(["a"], {"s1": None})], {"a": 1.0})


def test_totals_calibration_on_real_steps_beats_the_authors_estimate(durations: pd.DataFrame) -> None:
    problems = read_datashop_durations(DS96)  # ds96 problems have one step each: totals are step times
    err = totals_calibration_error(problems)
    assert err.mae_after < 0.6 * err.mae_before
