"""Re-calibrating items' estimated minutes from the "minutes spent" students write on their sheets.

The model works on log-minutes, where reported times are roughly symmetric. An author's estimate
``a_i`` is first corrected by one factor shared by every item (authors tend to be consistently
optimistic or pessimistic), then each item's reports pull its estimate towards their own mean, as much
as their number warrants (empirical-Bayes shrinkage, as in a random-effects model)::

    log m_i = (k * (log a_i + bias) + n_i * mean(log r_i)) / (k + n_i)

with ``bias`` the median log ratio report/estimate over all reports, ``n_i`` the item's report count
and ``k = within-item variance / between-item variance`` of the log reports. An item with no reports
keeps its (bias-corrected) estimate; an item with many converges to its students' typical time.
Single absurd reports (a "0" or "300" scribbled on a sheet) are clipped to 5x either side of the
estimate before they count.

>>> import pandas as pd
>>> reports = pd.DataFrame({"item_id": ["a"] * 6 + ["b"] * 6,
...                         "minutes": [4, 5, 6, 5, 4, 6, 1, 1.5, 1, 1, 2, 1.5]})
>>> model = TimeCalibrator().fit(reports, {"a": 2.0, "b": 2.0, "c": 2.0})
>>> [round(float(m), 1) for m in model.predict(["a", "b", "c"])]
[3.8, 1.8, 2.8]
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from homework._bank import ItemBank
from homework._errors import ItemBankError
from recommender import NotFittedError

__all__ = [
    "CalibrationError",
    "TimeCalibrator",
    "calibrate_from_totals",
    "calibration_error",
    "read_datashop_durations",
    "recalibrate_bank",
    "reports_from_totals",
    "totals_calibration_error",
]

log = logging.getLogger(__name__)

CLIP = np.log(5.0)
"""A single report counts as at most 5x above or below the author's estimate."""


class TimeCalibrator:
    """Per-item time model with shrinkage towards the author's estimate (scikit-learn conventions).

    ``prior_strength`` fixes ``k`` (how many reports weigh as much as the author's estimate); by
    default it is estimated from the reports in :meth:`fit`.
    """

    def __init__(self, prior_strength: float | None = None) -> None:
        self.prior_strength = prior_strength

    def fit(self, reports: pd.DataFrame, estimates: Mapping[str, float] | pd.Series) -> TimeCalibrator:
        """Learn from ``reports`` (columns ``item_id``, ``minutes``) given the authors' ``estimates``."""
        missing = {"item_id", "minutes"} - set(reports.columns)
        if missing:
            raise ItemBankError(f"time reports need columns {sorted(missing)}")
        prior = pd.Series(estimates, dtype=float)
        data = reports[["item_id", "minutes"]].copy()
        data["minutes"] = pd.to_numeric(data["minutes"], errors="coerce")
        usable = data["minutes"].gt(0) & data["item_id"].isin(prior.index)
        if (~usable).any():
            log.warning("ignored %d time report(s) that are not positive numbers or name no known item",
                        int((~usable).sum()))
        data = data[usable]
        log_prior = np.log(prior[data["item_id"]].to_numpy())
        residual = np.clip(np.log(data["minutes"].to_numpy()) - log_prior, -CLIP, CLIP)
        self.bias_ = float(np.median(residual)) if len(residual) else 0.0
        frame = pd.DataFrame({"item_id": data["item_id"].to_numpy(), "r": residual - self.bias_})
        grouped = frame.groupby("item_id")["r"]
        self.item_mean_ = grouped.mean()
        self.item_count_ = grouped.size()
        self.prior_strength_ = self.prior_strength if self.prior_strength is not None else _shrinkage(grouped)
        self.estimates_ = prior
        return self

    def predict(self, item_ids: list[str] | pd.Index) -> np.ndarray:
        """Calibrated minutes for these items (authors' estimates must have been given to :meth:`fit`)."""
        if not hasattr(self, "bias_"):
            raise NotFittedError("TimeCalibrator.predict() called before fit()")
        ids = pd.Index(item_ids)
        unknown = ids.difference(self.estimates_.index)
        if len(unknown):
            raise ItemBankError(f"no author's estimate for item(s) {list(unknown[:10])}")
        n = self.item_count_.reindex(ids, fill_value=0).to_numpy(dtype=float)
        mean = self.item_mean_.reindex(ids, fill_value=0.0).to_numpy(dtype=float)
        pull = n / (n + self.prior_strength_)
        return np.exp(np.log(self.estimates_[ids].to_numpy()) + self.bias_ + pull * mean)

    def table(self) -> pd.DataFrame:
        """Per item: author's minutes, report count, calibrated minutes and ``confidence`` (the weight of
        the reports against the author's estimate, 0..1)."""
        ids = self.estimates_.index
        n = self.item_count_.reindex(ids, fill_value=0)
        return pd.DataFrame({"author_minutes": self.estimates_.to_numpy(), "reports": n.to_numpy(),
                             "calibrated_minutes": np.round(self.predict(ids), 2),
                             "confidence": (n / (n + self.prior_strength_)).round(3).to_numpy()}, index=ids)


def _shrinkage(grouped: pd.core.groupby.SeriesGroupBy) -> float:
    """``k = within-item variance / between-item variance`` (method of moments), bounded to [0.5, 50]."""
    within = grouped.var(ddof=1).dropna()
    counts = grouped.size()
    if within.empty or len(counts) < 3:
        return 5.0
    sigma2 = float(np.average(within, weights=counts[within.index] - 1))
    means = grouped.mean()
    tau2 = float(means.var(ddof=1) - np.mean(sigma2 / counts))
    return float(np.clip(sigma2 / tau2, 0.5, 50.0)) if tau2 > 0 else 50.0


def reports_from_totals(bank: ItemBank, item_ids: Sequence[str], totals: Mapping[str, float]) -> pd.DataFrame:
    """Per-item time reports from the total "minutes spent" each student wrote on one assignment's sheet.

    A sheet gives one number for the whole assignment, so it is shared out in proportion to the items'
    current estimates (``item_id``, ``minutes``, ``student`` rows). One assignment alone then only
    rescales its items together; items that appear in several assignments (different mixes, different
    classes) get their own level as the reports accumulate. Blank or non-positive totals are skipped.

    >>> bank = ItemBank()
    >>> _ = bank.import_frame(pd.DataFrame({"id": ["a", "b"], "grade": 5, "type": "numeric", "stem": ["1+1", "2+2"],
    ...                                     "answer": ["2", "4"], "minutes": [2.0, 6.0]}))
    >>> reports_from_totals(bank, ["a", "b"], {"s1": 12, "s2": None}).to_dict("list")
    {'item_id': ['a', 'b'], 'minutes': [3.0, 9.0], 'student': ['s1', 's1']}
    """
    estimates = bank.minutes_of(list(item_ids))
    shares = estimates / estimates.sum()
    rows = []
    for student, total in totals.items():
        if total is None or not np.isfinite(total) or total <= 0:
            continue
        rows += [(item, float(total) * float(share), student) for item, share in zip(item_ids, shares, strict=True)]
    return pd.DataFrame(rows, columns=["item_id", "minutes", "student"])


def calibrate_from_totals(sheets: Sequence[tuple[Sequence[str], Mapping[str, float]]],
                          estimates: Mapping[str, float] | pd.Series, prior_strength: float | None = None,
                          iterations: int = 10) -> TimeCalibrator:
    """A :class:`TimeCalibrator` fitted on whole-sheet totals: ``sheets`` holds, per printed assignment,
    its item ids and each student's total minutes.

    Totals are shared out in proportion to the current per-item estimates, the model is refitted
    (always shrinking towards the authors' ``estimates``), and the shares are recomputed with the new
    estimates, ``iterations`` times (an EM-style fixed point): an item that is slow wherever it appears
    ends up with a larger share than one that is fast.
    """
    prior = pd.Series(estimates, dtype=float)
    items = [(n, item) for n, (ids, _) in enumerate(sheets) for item in ids]
    totals = [(n, float(t)) for n, (_, by_student) in enumerate(sheets) for t in by_student.values()
              if t is not None and np.isfinite(t) and t > 0]
    if not totals:
        raise ItemBankError("no usable minutes-spent totals to calibrate from")
    long = pd.DataFrame(totals, columns=["sheet", "total"]).merge(
        pd.DataFrame(items, columns=["sheet", "item_id"]), on="sheet")
    sheet_of = pd.DataFrame(items, columns=["sheet", "item_id"])
    current = prior.copy()
    model = TimeCalibrator(prior_strength)
    for _ in range(max(1, iterations)):
        weight = current.reindex(sheet_of["item_id"]).to_numpy()
        sums = pd.Series(weight).groupby(sheet_of["sheet"].to_numpy()).sum()
        share = current.reindex(long["item_id"]).to_numpy() / sums.reindex(long["sheet"]).to_numpy()
        reports = pd.DataFrame({"item_id": long["item_id"], "minutes": long["total"].to_numpy() * share})
        model = TimeCalibrator(prior_strength).fit(reports, prior)
        current = pd.Series(model.predict(prior.index), index=prior.index)
    return model


def totals_calibration_error(durations: pd.DataFrame, seconds_per_step: float = 45.0,
                             seconds_base: float = 30.0) -> CalibrationError:
    """Leave-one-student-out error when only totals are reported: each DataShop problem plays a sheet
    whose total is the sum of its steps, steps play items, and each held-out student's real step times
    are predicted from the other students' problem totals (``durations`` at step level with the problem
    name before " / " in ``item_id``)."""
    problem = durations["item_id"].str.split(" / ", n=1).str[0]

    def fit(others: pd.DataFrame, estimate: pd.Series) -> TimeCalibrator:
        sheets = []
        for _, group in others.groupby(problem[others.index]):
            items = sorted(group["item_id"].unique())
            totals = group.groupby("student")["seconds"].sum() / 60.0
            full = group.groupby("student")["item_id"].nunique() == len(items)  # a total covers every step
            if full.any():
                sheets.append((items, totals[full].to_dict()))
        return calibrate_from_totals(sheets, estimate)

    return _leave_one_student_out(durations, fit, seconds_per_step, seconds_base)


def recalibrate_bank(bank: ItemBank, reports: pd.DataFrame, prior_strength: float | None = None) -> pd.DataFrame:
    """Fit a :class:`TimeCalibrator` on students' reported minutes (``item_id``, ``minutes``) with the
    bank's current estimates as the authors', write the calibrated minutes of the reported items back
    into the bank, and return :meth:`TimeCalibrator.table` for them."""
    ids = pd.Index(reports["item_id"].astype(str).unique())
    estimates = pd.Series(bank.minutes_of(list(ids)), index=ids)
    model = TimeCalibrator(prior_strength).fit(reports.assign(item_id=reports["item_id"].astype(str)), estimates)
    table = model.table()
    bank.set_minutes(table["calibrated_minutes"].clip(lower=0.1))
    log.info("re-calibrated %d items (shared factor x%.2f, prior strength %.1f reports)", len(table),
             float(np.exp(model.bias_)), model.prior_strength_)
    return table


# ------------------------------------------------------------------------------- real durations


def read_datashop_durations(path: str | Path, level: str = "step") -> pd.DataFrame:
    """Per student and item, the seconds spent, from a DataShop export (transactions or student-step).

    ``level="step"`` makes each problem step an item, ``"problem"`` each problem (its steps summed). Only
    a student's first view of a problem counts. Columns: ``student``, ``item_id``, ``seconds``,
    ``steps`` (how many steps the item has).
    """
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise ItemBankError(f"cannot read DataShop export {path}: {exc}") from exc
    duration = next((c for c in ("Step Duration (sec)", "Duration (sec)") if c in table.columns), None)
    needed = {"Anon Student Id", "Problem Name", "Step Name"}
    if duration is None or needed - set(table.columns):
        raise ItemBankError(f"{path}: not a DataShop export (needs {sorted(needed)} and a duration column)")
    if "Problem View" in table.columns:
        table = table[table["Problem View"].isin(["1", ""])]
    seconds = pd.to_numeric(table[duration], errors="coerce")
    steps = pd.DataFrame({"student": table["Anon Student Id"], "problem": table["Problem Name"],
                          "step": table["Step Name"], "seconds": seconds})
    steps = steps.dropna(subset=["seconds"]).groupby(["student", "problem", "step"], as_index=False)["seconds"].sum()
    steps = steps[steps["seconds"] > 0]
    per_problem = steps.groupby("problem")["step"].nunique()
    if level == "step":
        steps["item_id"] = steps["problem"] + " / " + steps["step"]
        steps["steps"] = 1
        return steps[["student", "item_id", "seconds", "steps"]].reset_index(drop=True)
    if level != "problem":
        raise ValueError(f"level must be 'step' or 'problem', got {level!r}")
    problems = steps.groupby(["student", "problem"], as_index=False)["seconds"].sum()
    problems["steps"] = problems["problem"].map(per_problem).astype(int)
    return problems.rename(columns={"problem": "item_id"})[["student", "item_id", "seconds", "steps"]]


@dataclass(frozen=True)
class CalibrationError:
    """Error of estimated against real times of held-out students, before and after calibration.

    ``mae_*`` are mean absolute errors in seconds, ``mdlr_*`` median absolute log ratios (0.69 = off by
    a factor of 2); ``mae_bias_only`` is the error with the shared correction factor but no per-item
    pull (what per-item calibration adds beyond it); ``confidence`` is the number of held-out
    observations scored.
    """

    mae_before: float
    mae_after: float
    mdlr_before: float
    mdlr_after: float
    mae_bias_only: float
    confidence: int


def calibration_error(durations: pd.DataFrame, seconds_per_step: float = 45.0, seconds_base: float = 30.0,
                      prior_strength: float | None = None) -> CalibrationError:
    """Leave-one-student-out error of the author's estimate and of the calibrated one.

    The author's estimate of an item is the bank's own rule, ``seconds_base + seconds_per_step x steps``
    (half a minute to read and answer, 45 s a step; see ``homework._taxonomy``); each student's real
    times are predicted from the other students' reports.
    """
    def fit(others: pd.DataFrame, estimate: pd.Series) -> TimeCalibrator:
        reports = pd.DataFrame({"item_id": others["item_id"], "minutes": others["seconds"] / 60.0})
        return TimeCalibrator(prior_strength).fit(reports, estimate)

    return _leave_one_student_out(durations, fit, seconds_per_step, seconds_base)


def _leave_one_student_out(durations: pd.DataFrame,
                           fit: Callable[[pd.DataFrame, pd.Series], TimeCalibrator],
                           seconds_per_step: float, seconds_base: float) -> CalibrationError:
    estimate = (seconds_base + seconds_per_step * durations.groupby("item_id")["steps"].first()) / 60.0
    before, after, factor, actual = [], [], [], []
    for student, held in durations.groupby("student"):
        model = fit(durations[durations["student"] != student], estimate)
        author = estimate[held["item_id"]].to_numpy()
        before.append(author * 60.0)
        after.append(model.predict(held["item_id"].tolist()) * 60.0)
        factor.append(author * np.exp(model.bias_) * 60.0)
        actual.append(held["seconds"].to_numpy(dtype=float))
    b, a, f, y = (np.concatenate(x) for x in (before, after, factor, actual))
    return CalibrationError(float(np.mean(np.abs(b - y))), float(np.mean(np.abs(a - y))),
                            float(np.median(np.abs(np.log(b / y)))), float(np.median(np.abs(np.log(a / y)))),
                            float(np.mean(np.abs(f - y))), len(y))


def evaluate_datashop(folder: str | Path) -> list[dict[str, object]]:
    """Calibration error before/after on every DataShop export in ``folder``, at step and problem level."""
    results: list[dict[str, object]] = []
    for path in sorted(Path(folder).glob("*.txt")):
        if path.name == "SOURCE.txt":
            continue
        for level in ("step", "problem"):
            durations = read_datashop_durations(path, level)
            if durations["student"].nunique() < 2 or (level == "problem" and (durations["steps"] == 1).all()):
                continue  # nobody to hold out, or problems of one step (the step figures already say it)
            runs = [("", calibration_error(durations))]
            problems = pd.Series(durations["item_id"].unique()).str.split(" / ", n=1).str[0]
            if level == "step" and problems.duplicated().any():  # some problem has several steps
                runs.append((", from sheet totals", totals_calibration_error(durations)))
            for label, err in runs:
                results.append({"dataset": f"{_short(path.name)} ({level}{label})",
                                "observations": err.confidence,
                                "MAE s before": round(err.mae_before, 1), "MAE s after": round(err.mae_after, 1),
                                "MAE s shared factor only": round(err.mae_bias_only, 1),
                                "median |log ratio| before": round(err.mdlr_before, 3),
                                "median |log ratio| after": round(err.mdlr_after, 3)})
    return results


def _short(name: str) -> str:
    parts = [p for p in name.split("_") if p.startswith("ds") and p[2:].isdigit()]
    kind = "student-step" if "student_step" in name else "transactions"
    return f"{parts[0] if parts else name} {kind}"
