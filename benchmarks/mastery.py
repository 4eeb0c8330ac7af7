"""Mastery-model benchmark: 5-fold cross-validation by student, our models beside pyBKT.

    python benchmarks/mastery.py [--data-dir DIR ...] [--folds 5] [--json] [--scale] [--no-pybkt]

* AKT line-format folders (default ../shared/data/kt/assist2009 and statics2011): the files ending
  test1.csv ... test5.csv are the five student folds; multi-skill items written once per skill are
  merged into one response first, so no row sees another row's label.
* Exam data (../shared/data/cdm/math2015: FrcSub, Math1, Math2): five random student folds; each
  held-out student is predicted item by item from his earlier items only.
* pyBKT runs on the same folds in a virtual environment of its own (scikit-learn 1.5.2, C++ core
  built from source with g++), created on first use under ~/.cache/homework-bench/pybkt-venv.
* --scale: fit the default model and BKT on a synthetic log 20x ASSISTments 2009 (about 6.5 M responses).

Prints AUC, RMSE, mean fit seconds and peak resident memory (MB, whole process) per model; with
--json one object per line: {"dataset", "model", "auc", "rmse", "fit_s", "peak_mb", "default", ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recommender import BKT, IRT, BestLR, HistoryBoost, read_akt_folds, read_exam_matrix  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
DEFAULT_DIRS = [DATA / "kt" / "assist2009", DATA / "kt" / "statics2011"]
EXAM_DIR = DATA / "cdm" / "math2015"
VENV = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "homework-bench" / "pybkt-venv"
DEFAULT_MODEL = "HistoryBoost"
MODELS: dict[str, Callable[[], Any]] = {
    "HistoryBoost": lambda: HistoryBoost(random_state=0),
    "BestLR": lambda: BestLR(random_state=0),
    "BKT": lambda: BKT(random_state=0),
    "BKT+forget": lambda: BKT(forgetting=True, random_state=0),
    "IRT-1PL": lambda: IRT(random_state=0),
}


class PeakMemory:
    """Samples the process's resident memory every 20 ms while active; ``peak_mb`` afterwards."""

    def __enter__(self) -> PeakMemory:
        import psutil

        self._proc, self._stop, self.peak = psutil.Process(), threading.Event(), 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20


def auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y >= 0.5, p))


def run_folds(name: str, folds: list[pd.DataFrame], models: list[str], n_folds: int, pybkt: bool,
              out: Callable[[dict[str, Any]], None]) -> None:
    """Fit every model on the other folds, predict each held-out fold; one result row per model."""
    results: dict[str, dict[str, list[Any]]] = {}
    build = None
    for k in range(n_folds):
        train = pd.concat([f for i, f in enumerate(folds) if i != k], ignore_index=True)
        test = folds[k]
        for m in models:
            model = MODELS[m]()
            start = time.perf_counter()
            with PeakMemory() as mem:
                model.fit(train)
            fit_s = time.perf_counter() - start
            p = model.predict_proba(test)
            r = results.setdefault(m, {"auc": [], "y": [], "p": [], "fit_s": [], "peak_mb": []})
            r["auc"].append(auc(test["correct"].to_numpy(), p))
            r["y"].append(test["correct"].to_numpy())
            r["p"].append(p)
            r["fit_s"].append(fit_s)
            r["peak_mb"].append(mem.peak_mb)
            if m == DEFAULT_MODEL:
                r.setdefault("update_us", []).append(online_update_us(model, test))
            print(f"  {name} fold {k + 1}: {m} AUC {r['auc'][-1]:.4f} fit {fit_s:.1f}s", file=sys.stderr, flush=True)
        if pybkt:
            res = run_pybkt(train, test)
            build = res["build"]
            r = results.setdefault("pyBKT", {"auc": [], "y": [], "p": [], "fit_s": [], "peak_mb": []})
            p = np.asarray(res["p"])
            r["auc"].append(auc(test["correct"].to_numpy(), p))
            r["y"].append(test["correct"].to_numpy())
            r["p"].append(p)
            r["fit_s"].append(res["fit_s"])
            print(f"  {name} fold {k + 1}: pyBKT [{build}] AUC {r['auc'][-1]:.4f} fit {res['fit_s']:.1f}s",
                  file=sys.stderr, flush=True)
    for m, r in results.items():
        y, p = np.concatenate(r["y"]), np.concatenate(r["p"])
        row = {"dataset": name, "model": m, "auc": round(float(np.mean(r["auc"])), 4),
               "rmse": round(float(np.sqrt(np.mean((p - y) ** 2))), 4),
               "fit_s": round(float(np.mean(r["fit_s"])), 2),
               "peak_mb": round(float(np.max(r["peak_mb"])), 1) if r["peak_mb"] else None,
               "default": m == DEFAULT_MODEL, "folds": n_folds, "responses": int(y.size)}
        if "update_us" in r:
            row["update_us"] = round(float(np.mean(r["update_us"])), 1)
        if m == "pyBKT":
            row["build"] = build
        out(row)


def online_update_us(model: Any, test: pd.DataFrame, n: int = 5000) -> float:
    """Mean microseconds to apply one graded response to a student's state (``update``, no refit)."""
    rows = test.head(n)
    start = time.perf_counter()
    for s, i, k, c in zip(rows["student_id"], rows["item_id"], rows["skill_ids"], rows["correct"], strict=True):
        model.update(("bench", s), i, k, float(c))
    return (time.perf_counter() - start) / max(len(rows), 1) * 1e6


def ensure_pybkt_venv() -> Path:
    """Create pyBKT's own environment once: scikit-learn 1.5.2 and pyBKT built from source (C++ core)."""
    python = VENV / "bin" / "python"
    if python.exists() and _pybkt_build(python):
        return python
    print(f"creating pyBKT environment in {VENV} (one-off, a few minutes)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip", "setuptools<70", "wheel"], check=True)
    subprocess.run([*pip, "scikit-learn==1.5.2", "numpy<2", "pandas", "requests"], check=True)
    # pyBKT's setup.py silently falls back to pure Python if the C++ build fails; it needs numpy at
    # build time, hence no build isolation, and no cached pure-Python wheel.
    subprocess.run([*pip, "--no-build-isolation", "--no-cache-dir", "--force-reinstall", "--no-deps",
                    "--no-binary", "pybkt", "pybkt==1.4.3"], check=True)
    return python


def _pybkt_build(python: Path) -> str | None:
    probe = "import pyBKT.models\ntry:\n from pyBKT.fit import E_step\n print('C++')\nexcept ImportError:\n print('Python')"
    res = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    return res.stdout.strip() or None


def run_pybkt(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Any]:
    python = ensure_pybkt_venv()
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, frame in (("train", train), ("test", test)):
            long = frame.assign(response_id=np.arange(len(frame))).explode("skill_ids")
            path = Path(tmp) / f"{name}.csv"
            long.rename(columns={"student_id": "user_id", "skill_ids": "skill_name"})[
                ["response_id", "user_id", "skill_name", "correct"]].to_csv(path, index=False)
            paths.append(str(path))
        res = subprocess.run([str(python), str(ROOT / "benchmarks" / "_pybkt_runner.py"), *paths, "0"],
                             capture_output=True, text=True)
    if res.returncode:
        raise RuntimeError(f"pyBKT failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def exam_folds(directory: Path, k: int = 5, seed: int = 0) -> list[pd.DataFrame]:
    log = read_exam_matrix(directory)
    fold = np.random.default_rng(seed).integers(0, k, size=log["student_id"].max() + 1)
    return [log[fold[log["student_id"].to_numpy()] == i].reset_index(drop=True) for i in range(k)]


def full_fit(name: str, folds: list[pd.DataFrame], out: Callable[[dict[str, Any]], None]) -> None:
    """Fit the default model once on every response of a data set: the fit-time and memory budget."""
    log = pd.concat(folds, ignore_index=True)
    model = MODELS[DEFAULT_MODEL]()
    start = time.perf_counter()
    with PeakMemory() as mem:
        model.fit(log)
    out({"dataset": f"{name} (all, fit only)", "model": DEFAULT_MODEL, "auc": None, "rmse": None,
         "fit_s": round(time.perf_counter() - start, 2), "peak_mb": round(mem.peak_mb, 1), "default": True,
         "responses": len(log)})


def scale_run(base: list[pd.DataFrame], factor: int, out: Callable[[dict[str, Any]], None]) -> None:
    """Fit on a synthetic log: ``factor`` copies of every student (new ids, 10% of labels flipped)."""
    log = pd.concat(base, ignore_index=True)
    rng = np.random.default_rng(0)
    parts = []
    for c in range(factor):
        flip = rng.random(len(log)) < 0.1
        parts.append(log.assign(student_id=log["student_id"].astype(str) + f"#{c}",
                                correct=np.where(flip, 1 - log["correct"], log["correct"])))
    big = pd.concat(parts, ignore_index=True)
    del parts
    print(f"  synthetic log: {len(big):,} responses, {big['student_id'].nunique():,} students",
          file=sys.stderr, flush=True)
    for m in (DEFAULT_MODEL, "BKT"):
        model = MODELS[m]()
        start = time.perf_counter()
        with PeakMemory() as mem:
            model.fit(big)
        out({"dataset": f"synthetic {factor}x assist2009", "model": m, "auc": None, "rmse": None,
             "fit_s": round(time.perf_counter() - start, 1), "peak_mb": round(mem.peak_mb, 1),
             "default": m == DEFAULT_MODEL, "responses": len(big)})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", action="append", type=Path, help="AKT line-format folder (repeatable)")
    ap.add_argument("--folds", type=int, default=5, help="how many of the five folds to hold out in turn")
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of " + ",".join(MODELS))
    ap.add_argument("--no-pybkt", action="store_true", help="skip pyBKT")
    ap.add_argument("--no-exam", action="store_true", help="skip math2015")
    ap.add_argument("--scale", type=int, nargs="?", const=24, default=0,
                    help="also fit on N copies of ASSISTments 2009 (24 copies = 6.6 M responses)")
    args = ap.parse_args(argv)
    models = [m for m in args.models.split(",") if m]
    dirs = args.data_dir or DEFAULT_DIRS
    missing = [d for d in dirs if not d.is_dir()]
    if missing:
        print(f"data folder(s) not found: {', '.join(map(str, missing))}; this benchmark needs the public "
              f"data in ../shared/data (see its README) or --data-dir", file=sys.stderr)
        return 2
    rows: list[dict[str, Any]] = []

    def out(row: dict[str, Any]) -> None:
        rows.append(row)
        if args.json:
            print(json.dumps(row), flush=True)

    for d in dirs:
        folds = read_akt_folds(d)
        run_folds(d.name, folds, models, min(args.folds, len(folds)), not args.no_pybkt, out)
        full_fit(d.name, folds, out)
    if not args.no_exam:
        if EXAM_DIR.is_dir():
            for sub in ("FrcSub", "Math1", "Math2"):
                exam_models = [m for m in models if m in MODELS]
                run_folds(f"math2015/{sub}", exam_folds(EXAM_DIR / sub), exam_models, args.folds, False, out)
        else:
            print(f"exam data not found at {EXAM_DIR}; skipped", file=sys.stderr)
    if args.scale:
        scale_run(read_akt_folds(DEFAULT_DIRS[0]), args.scale, out)
    if not args.json:
        print_table(rows)
    return 0


def print_table(rows: list[dict[str, Any]]) -> None:
    head = f"{'dataset':28} {'model':34} {'AUC':>7} {'RMSE':>7} {'fit s':>8} {'peak MB':>8} {'update us':>9}"
    print(head)
    print("-" * len(head))
    for r in rows:
        name = r["model"] + (" (default)" if r["default"] else "") + (f" [{r['build']}]" if r.get("build") else "")
        fmt = lambda v, f: format(v, f) if v is not None else "-"  # noqa: E731
        print(f"{r['dataset']:28} {name:34} {fmt(r['auc'], '7.4f')} {fmt(r['rmse'], '7.4f')} "
              f"{fmt(r['fit_s'], '8.2f')} {fmt(r['peak_mb'], '8.0f')} {fmt(r.get('update_us'), '9.1f')}")


if __name__ == "__main__":
    raise SystemExit(main())
