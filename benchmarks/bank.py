"""Item-bank figures: import time, memory and query latency at district scale; tagging quality; time
calibration.

    python benchmarks/bank.py [--items 700000] [--json] [--repeat 20]

1. Generates a synthetic bank of ``--items`` rows (stems are the fixture bank's real Math23K/Ape210K
   problems with their numbers changed, so text search meets realistic Chinese), writes it as CSV, and
   times ``ItemBank.import_file`` (read + per-row validation + indices); prints memory (process RSS
   growth and the frame's own size).
2. Times representative filtered queries (median and 95th percentile over ``--repeat`` runs), both as
   row positions and as a pandas frame of the matches. Targets: import <= 60 s, filtered query <= 50 ms.
3. Tagging precision and recall against the hand labels in ``fixtures/bank/hand_labels.csv``.
4. Estimated-minutes calibration error before/after on real DataShop step durations
   (``../shared/data/logs/datashop``; said plainly when absent).

Timings on a shared machine are pessimistic. ``--json`` prints one JSON object per figure.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from homework._bank import ItemBank  # noqa: E402
from homework._taxonomy import TAXONOMY, score_tagging, tag_problem, taxonomy_graph  # noqa: E402

SUBJECTS = (["math"] * 6) + ["chinese", "english", "science", "physics"]
TYPES = ["numeric"] * 10 + ["single_choice"] * 4 + ["multiple_choice"] + ["true_false"] * 2 + ["short_text"] * 2 + \
    ["subjective"]


class Printer:
    """Prints figures as a table or as JSON lines."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def __call__(self, figure: str, value: float | int | str, unit: str = "", **extra: object) -> None:
        if self.as_json:
            print(json.dumps({"figure": figure, "value": value, "unit": unit, **extra}, ensure_ascii=False), flush=True)
        else:
            shown = f"{value:,.3f}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else value
            notes = "  ".join(f"{k}={v}" for k, v in extra.items())
            print(f"{figure:<66} {shown:>12} {unit:<4} {notes}", flush=True)


def synthetic_bank(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` valid item rows whose stems are real fixture problems with their numbers redrawn."""
    rng = np.random.default_rng(seed)
    stems = pd.read_csv(ROOT / "fixtures" / "bank" / "items.csv", usecols=["stem"])["stem"].tolist()
    pick = rng.integers(0, len(stems), n)
    numbers = iter(rng.integers(2, 999, n * 8).tolist())
    stem = [re.sub(r"\d+", lambda _m: str(next(numbers, 7)), stems[i]) for i in pick]
    kinds = np.array(TYPES)[rng.integers(0, len(TYPES), n)]
    kps = np.array([kp.id for kp in TAXONOMY])
    k1, k2 = rng.integers(0, len(kps), n), rng.integers(0, len(kps), n)
    two = rng.random(n) < 0.5
    knowledge = np.where(two, np.char.add(np.char.add(kps[k1], ";"), kps[k2]), kps[k1])
    answers = rng.integers(1, 1000, n).astype(str).astype(object)
    options = np.full(n, "", dtype=object)
    choice = (kinds == "single_choice") | (kinds == "multiple_choice")
    options[choice] = '["12", "15", "18", "20"]'
    answers[kinds == "single_choice"] = "B"
    answers[kinds == "multiple_choice"] = "AC"
    answers[kinds == "true_false"] = "T"
    answers[kinds == "short_text"] = "平行四边形"
    answers[kinds == "subjective"] = ""
    return pd.DataFrame({
        "id": np.char.add("syn-", np.arange(n).astype(str)),
        "subject": np.array(SUBJECTS)[rng.integers(0, len(SUBJECTS), n)],
        "grade": rng.integers(1, 10, n), "type": kinds, "stem": stem, "options": options, "answer": answers,
        "knowledge_points": knowledge, "difficulty": rng.integers(1, 6, n),
        "minutes": np.round(rng.gamma(2.0, 1.5, n) + 0.5, 1), "source": "synthetic",
    })


def _rss_mib() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _latency(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    run()  # warm
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), float(np.percentile(times, 95))


def bench_bank(n: int, repeat: int, show: Printer) -> None:
    start = time.perf_counter()
    frame = synthetic_bank(n)
    show("synthetic bank generated", time.perf_counter() - start, "s", items=n)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bank.csv"
        frame.to_csv(path, index=False)
        show("bank CSV size", round(path.stat().st_size / 2**20, 1), "MiB")
        del frame
        gc.collect()
        before = _rss_mib()
        bank = ItemBank(taxonomy_graph())
        start = time.perf_counter()
        report = bank.import_file(path)
        show("import CSV (read + validate + index)", time.perf_counter() - start, "s", target="<=60",
             added=report.added, rejected=report.rejected)
        show("memory: process RSS growth after import", round(_rss_mib() - before, 1), "MiB")
        show("memory: item frame (deep)", round(bank.frame.memory_usage(deep=True).sum() / 2**20, 1), "MiB")
        start = time.perf_counter()
        bank.build_text_index()
        show("text index build (once, lazily on first text query)", time.perf_counter() - start, "s")
        show("memory: process RSS growth with text index", round(_rss_mib() - before, 1), "MiB")
        _bench_queries(bank, repeat, show)
        _bench_updates(bank, n, show)
        start = time.perf_counter()
        bank.export(Path(tmp) / "out.csv")
        show("export CSV", time.perf_counter() - start, "s")


QUERIES: dict[str, dict[str, object]] = {
    "grade + subject": {"grade": 5, "subject": "math"},
    "knowledge point + difficulty range": {"knowledge_points": "number.fraction", "difficulty": (2, 4)},
    "knowledge point with descendants + grade": {"knowledge_points": "number.fraction", "descendants": True,
                                                 "grade": 6},
    "type + minutes range": {"type": "single_choice", "minutes": (1.0, 3.0)},
    "text (2 chars) + grade": {"text": "相遇", "grade": 4},
    "text (4 chars)": {"text": "还剩多少"},
    "all filters": {"subject": "math", "grade": [5, 6], "knowledge_points": "rate.distance", "type": "numeric",
                    "difficulty": (1, 3), "minutes": (0.5, 5.0), "text": "千米"},
}


def _bench_queries(bank: ItemBank, repeat: int, show: Printer) -> None:
    for name, filters in QUERIES.items():
        matches = len(bank.query_positions(**filters))  # type: ignore[arg-type]
        med, p95 = _latency(lambda f=filters: bank.query_positions(**f), repeat)  # type: ignore[misc]
        show(f"query {name}: positions", round(med, 2), "ms", p95=round(p95, 2), matches=matches, target="<=50")
        med, p95 = _latency(lambda f=filters: bank.query(**f), repeat)  # type: ignore[misc]
        show(f"query {name}: frame of all matches", round(med, 2), "ms", p95=round(p95, 2))
        med, p95 = _latency(lambda f=filters: bank.query(**f, limit=50), repeat)  # type: ignore[misc]
        show(f"query {name}: first 50 as frame", round(med, 2), "ms", p95=round(p95, 2))


def _bench_updates(bank: ItemBank, n: int, show: Printer) -> None:
    changed = bank.frame.iloc[: min(10_000, n)].copy()
    changed["minutes"] = changed["minutes"] + 1
    start = time.perf_counter()
    report = bank.import_frame(changed.astype(object))
    show("re-import 10,000 rows by id (update)", time.perf_counter() - start, "s", updated=report.updated,
         added=report.added)


def bench_tagging(show: Printer) -> None:
    with open(ROOT / "fixtures" / "bank" / "hand_labels.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for part in ("dev", "dev2", "test"):
        chosen = [r for r in rows if r["set"] == part]
        truth = {r["id"]: set(r["knowledge_points"].split(";")) for r in chosen}
        guess = {r["id"]: set(tag_problem(r["text"], r["equation"], r["answer"]).knowledge_points) for r in chosen}
        scores = score_tagging(guess, truth)
        show(f"tagging precision vs hand labels ({part})", round(scores.precision, 3), "", items=len(chosen))
        show(f"tagging recall vs hand labels ({part})", round(scores.recall, 3), "", items=len(chosen))
        if part == "test":
            for kp, (precision, recall, support) in scores.per_point.items():
                show(f"  test {kp}: precision / recall", f"{precision:.2f} / {recall:.2f}", "",
                     support=support)


def bench_timing(show: Printer) -> None:
    folder = SHARED / "logs" / "datashop"
    if not folder.exists():
        show("time calibration", "skipped: ../shared/data/logs/datashop is absent", "")
        return
    try:
        from homework._timing import evaluate_datashop
    except ImportError:
        show("time calibration", "not available in this build", "")
        return
    for result in evaluate_datashop(folder):
        for key, value in result.items():
            if key != "dataset":
                show(f"time calibration {result['dataset']}: {key}", value, "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=700_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="one JSON object per figure")
    args = parser.parse_args()
    show = Printer(args.json)
    bench_bank(args.items, args.repeat, show)
    bench_tagging(show)
    bench_timing(show)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
