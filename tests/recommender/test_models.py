"""Mastery models on real ASSISTments 2009 / Statics 2011 slices: contract, no leakage, online, JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from recommender import (
    BKT,
    IRT,
    BestLR,
    DataFormatError,
    HistoryBoost,
    NotFittedError,
    SkillMastery,
    read_akt,
    read_exam_matrix,
)
from recommender._features import StudentHistory, history_features
from recommender._log import encode, validate_responses

KT = Path(__file__).resolve().parents[2] / "fixtures" / "kt"

FACTORIES = {
    "HistoryBoost": lambda rs=0: HistoryBoost(max_iter=30, min_samples_leaf=20, random_state=rs),
    "BestLR": lambda rs=0: BestLR(random_state=rs),
    "BKT": lambda rs=0: BKT(random_state=rs),
    "BKT+forget": lambda rs=0: BKT(forgetting=True, random_state=rs),
    "IRT": lambda rs=0: IRT(two_pl=True, random_state=rs),
}


@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, pd.DataFrame]:
    log = read_akt(KT / "assist2009_pid_sample.csv")
    students = log["student_id"].unique()
    held = set(students[-6:])
    return log[~log["student_id"].isin(held)].reset_index(drop=True), log[log["student_id"].isin(held)].reset_index(drop=True)


@pytest.fixture(scope="module")
def fitted(split: tuple[pd.DataFrame, pd.DataFrame]) -> dict[str, Any]:
    train, _ = split
    return {name: make().fit(train) for name, make in FACTORIES.items()}


@pytest.mark.parametrize("name", FACTORIES)
def test_fit_predict_contract(name: str, fitted: dict[str, Any], split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, test = split
    model = fitted[name]
    p = model.predict_proba(test)
    assert p.shape == (len(test),)
    assert np.all((p > 0) & (p < 1))
    learned = [a for a in vars(model) if a.endswith("_") and not a.startswith("_")]
    assert learned, "fit sets learned attributes ending in _"
    # better than chance on real held-out students
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(test["correct"] >= 0.5, p) > 0.6


@pytest.mark.parametrize("name", FACTORIES)
def test_not_fitted_raises(name: str, split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    model = FACTORIES[name]()
    assert not [a for a in vars(model) if a.endswith("_")]
    with pytest.raises(NotFittedError, match="not fitted yet"):
        model.predict_proba(split[1])
    with pytest.raises(NotFittedError, match="not fitted yet"):
        model.mastery("someone")
    with pytest.raises(NotFittedError, match="not fitted yet"):
        model.to_json()


@pytest.mark.parametrize("name", FACTORIES)
def test_no_row_sees_its_own_or_a_later_label(name: str, fitted: dict[str, Any],
                                              split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, test = split
    model = fitted[name]
    base = model.predict_proba(test)
    student = test["student_id"].iloc[0]
    rows = np.flatnonzero(test["student_id"].to_numpy() == student)
    t = rows[len(rows) // 2]
    flipped = test.copy()
    later = rows[rows >= t]
    flipped.loc[later, "correct"] = 1.0 - flipped.loc[later, "correct"]
    p = model.predict_proba(flipped)
    assert np.array_equal(p[: t + 1], base[: t + 1]), "row t or an earlier row changed when labels from t on flipped"
    others = test["student_id"].to_numpy() != student
    assert np.array_equal(p[others], base[others])
    assert not np.allclose(p[later[1:]], base[later[1:]]), "later rows must react to the flipped history"


@pytest.mark.parametrize("name", FACTORIES)
def test_json_round_trip_gives_identical_predictions(name: str, fitted: dict[str, Any],
                                                     split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, test = split
    model = fitted[name]
    text = model.to_json()
    assert '"version":1' in text and "pickle" not in text
    again = type(model).from_json(text)
    assert np.array_equal(again.predict_proba(test), model.predict_proba(test))
    student = next(iter(model.states_))
    assert again.mastery(student) == model.mastery(student)


def test_from_json_rejects_another_model_or_version(fitted: dict[str, Any]) -> None:
    text = fitted["BKT"].to_json()
    with pytest.raises(DataFormatError, match="field 'model': 'BKT' cannot be loaded as IRT"):
        IRT.from_json(text)
    with pytest.raises(DataFormatError, match="field 'version': 99"):
        BKT.from_json(text.replace('"version":1', '"version":99'))


@pytest.mark.parametrize("name", FACTORIES)
def test_partial_fit_through_a_sequence_equals_batch_prediction(name: str, fitted: dict[str, Any],
                                                                split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, test = split
    model = type(fitted[name]).from_json(fitted[name].to_json())  # a copy we may update
    student = test["student_id"].iloc[-1]
    seq = test[test["student_id"] == student].reset_index(drop=True)
    batch = model.predict_proba(seq)
    online = []
    for _, row in seq.iterrows():
        online.append(model.predict_next(("new", student), row["item_id"], row["skill_ids"]))
        model.partial_fit(pd.DataFrame([row.to_dict() | {"student_id": ("new", student)}]))
    np.testing.assert_allclose(online, batch, rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", FACTORIES)
def test_random_state_makes_fits_reproducible(name: str, split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, test = split
    a = FACTORIES[name](7).fit(train).predict_proba(test)
    b = FACTORIES[name](7).fit(train).predict_proba(test)
    assert np.array_equal(a, b)


def test_history_features_batch_equals_running_state_on_statics() -> None:
    log = validate_responses(read_akt(KT / "statics_sample.csv"))
    model = HistoryBoost(max_iter=5, keep_states=False, random_state=0).fit(log)
    enc = encode(log, model._item_vocab, model._skill_vocab)
    X = history_features(enc, model.tables_.priors(enc))
    rows = log.iloc[enc.order]
    state = StudentHistory()
    first = rows["student_id"].iloc[0]
    for t, (_, r) in enumerate(rows[rows["student_id"] == first].iterrows()):
        pri_row, skill_p = model.tables_.row_priors(model._item_vocab.get(r["item_id"], -1),
                                                    [model._skill_vocab.get(k, -1) for k in r["skill_ids"]])
        np.testing.assert_allclose(state.features(r["skill_ids"], r["item_id"], pri_row, skill_p,
                                                  model.tables_.global_p), X[t], rtol=1e-9, atol=1e-9)
        state.update(r["skill_ids"], r["item_id"], r["correct"], pri_row)


def test_bkt_mastery_rises_with_correct_answers_and_carries_uncertainty(fitted: dict[str, Any]) -> None:
    model = BKT.from_json(fitted["BKT"].to_json())
    skill = model.skill_ids_[0]
    before = model.mastery("pupil", [skill])[skill]
    for _ in range(4):
        model.update("pupil", "any item", (skill,), 1.0)
    after = model.mastery("pupil", [skill])[skill]
    assert isinstance(after, SkillMastery)
    assert after.p_correct > before.p_correct
    assert 0 <= after.confidence <= 1 and after.std > 0


@pytest.mark.parametrize("name", ["HistoryBoost", "IRT"])
def test_mastery_reports_every_skill_with_an_uncertainty_that_shrinks(name: str, fitted: dict[str, Any]) -> None:
    model = type(fitted[name]).from_json(fitted[name].to_json())
    skill = model.skill_ids_[0]
    cold = model.mastery("newcomer")
    assert set(cold) == set(model.skill_ids_)
    for _ in range(6):
        model.update("newcomer", "unseen item", (skill,), 1.0)
    warm = model.mastery("newcomer")[skill]
    assert warm.std < cold[skill].std
    assert warm.p_correct > cold[skill].p_correct


def test_irt_on_exam_matrix_with_partial_credit() -> None:
    log = read_exam_matrix(KT / "frcsub_sample")
    train, test = log[log["student_id"] < 60], log[log["student_id"] >= 60]
    model = IRT(random_state=0).fit(train)
    p = model.predict_proba(test)
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(test["correct"] >= 0.5, p) > 0.7


def test_partial_credit_is_accepted_by_the_history_model() -> None:
    log = read_exam_matrix(KT / "frcsub_sample")
    rng = np.random.default_rng(0)
    log = log.assign(correct=np.clip(log["correct"] * 0.8 + rng.random(len(log)) * 0.2, 0, 1))
    p = HistoryBoost(max_iter=10, min_samples_leaf=20, random_state=0).fit(log).predict_proba(log)
    assert np.corrcoef(p, log["correct"])[0, 1] > 0.3
