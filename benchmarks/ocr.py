"""Handwriting benchmark: reading and grading writing-box crops of real handwritten digits, by kind.

    python benchmarks/ocr.py                  # table; 500 answers, about a minute on one core
    python benchmarks/ocr.py --json           # one {"figure", "value", "unit"} object per line
    python benchmarks/ocr.py --answers 2000 --backend paddleocr

Each answer (integer, decimal, fraction - 35% written stacked - or negative, as
``scanning._synth`` writes them) is composed from real MNIST digits of
``../shared/data/handwriting`` (else the 500-digit fixture slice; the output says which), placed
in a box interior with a remnant of the printed border, sensor noise and JPEG damage, then read by
:func:`scanning.read_answer`. It prints:

- plain recognition (no key, numeric charset): share read exactly; and, of readings with
  confidence >= 0.85, the share right and the share of answers they cover;
- grading with verification (:func:`scanning.grade`, default policy) in two mixes: "class" (70% of
  keys are the answer written, 30% another random number, as the page benchmark does) and
  "near-miss" (half the keys differ from what was written in one digit: the adversarial case):
  share auto-graded and share of those graded right;
- milliseconds per box on one thread (crop to ink, recognition, verification).

``benchmarks/scan.py`` measures the same on whole pages (registration included).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED_DIGITS = REPO.parent / "shared" / "data" / "handwriting" / "mnist_t10k_first5000.npz"
FIXTURE_DIGITS = REPO / "fixtures" / "handwriting" / "mnist_digits_500.npz"
KINDS = ("integer", "decimal", "fraction", "negative")


def digit_bank() -> tuple[Any, str]:
    from scanning import DigitBank

    if SHARED_DIGITS.exists():
        return DigitBank.load(SHARED_DIGITS), f"digits: {SHARED_DIGITS} (5,000 MNIST test digits)"
    return DigitBank.load(
        FIXTURE_DIGITS
    ), f"digits: {FIXTURE_DIGITS.relative_to(REPO)} (../shared/data absent)"


def box_crop(text: str, bank: Any, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """A scanned box interior holding ``text`` in one pupil's hand; and whether it is stacked."""
    import cv2

    from scanning._synth import HandStyle, place_in_box, write_number

    style = HandStyle.sample(rng)
    stacked = style.stacked and "/" in text
    bw, bh = int(rng.integers(260, 360)), int(rng.integers(85, 110))
    page = np.full((bh + 40, bw + 40), int(rng.integers(225, 250)), np.uint8)
    cv2.rectangle(page, (20, 20), (20 + bw, 20 + bh), int(rng.integers(30, 90)), 2)
    ink = write_number(text, bank, int(style.height * bh * (0.5 if stacked else 1)), rng, style)
    place_in_box(page, ink, (22, 22, bw - 4, bh - 4), style, rng)
    noisy = page.astype(np.int16) + rng.normal(0, 4, page.shape).astype(np.int16)
    quality = int(rng.integers(60, 90))
    _, jpeg = cv2.imencode(".jpg", noisy.clip(0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality])
    page = cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)
    dx, dy = rng.integers(-3, 4, size=2)  # registration error: a sliver of the border remains
    return page[22 + dy : 20 + bh - 1 + dy, 22 + dx : 20 + bw - 1 + dx], stacked


def near_miss(text: str, rng: np.random.Generator) -> str:
    """``text`` with one digit changed (never a leading zero or a zero denominator)."""
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    while True:
        i = int(rng.choice(digits))
        other = text[:i] + str(int(rng.integers(0, 10))) + text[i + 1 :]
        body = other.lstrip("-")
        if (
            other != text
            and "/0" not in other
            and not (len(body) > 1 and body[0] == "0" and body[1].isdigit())
        ):
            return other


def measure(
    n: int, seed: int, backend_name: str, errors: list[str] | None = None
) -> tuple[list[tuple[str, float, str]], str]:
    from scanning import charset_for, get_backend, grade, parse_key, read_answer
    from scanning._synth import _random_number

    bank, source = digit_bank()
    backend = get_backend(backend_name)
    rng = np.random.default_rng(seed)
    stats: dict[str, defaultdict[str, float]] = {k: defaultdict(float) for k in (*KINDS, "all")}
    times = []

    def key(text: str) -> Any:
        return parse_key({"kind": "number", "values": [text]})

    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        truth = _random_number(kind, rng)
        crop, _ = box_crop(truth, bank, rng)
        other = truth
        while key(other).values == key(truth).values:
            other = _random_number(str(rng.choice(KINDS)), rng)
        keys = {"right": key(truth), "other": key(other), "miss": key(near_miss(truth, rng))}
        plain = read_answer(crop, None, backend, charset=charset_for(keys["right"]))  # no key to verify
        start = time.perf_counter()
        right = read_answer(crop, keys["right"], backend)
        times.append(time.perf_counter() - start)
        graded = {
            name: grade(k, read_answer(crop, k, backend)) for name, k in keys.items() if name != "right"
        }
        graded["right"] = grade(keys["right"], right)
        for name, g in graded.items():
            if errors is not None and g.status == "graded" and g.correct != (name == "right"):
                errors.append(f"{kind}: wrote {truth!r}, key {keys[name].spellings[0]!r}: {g.reason}")
        for s in (stats[kind], stats["all"]):
            s["n"] += 1
            s["exact"] += plain.text == truth
            if plain.confidence >= 0.85:
                s["confident"] += 1
                s["confident_right"] += plain.text == truth
            # class mix: weight 7 for the right key, 3 for another number
            for name, weight, should in (("right", 7, True), ("other", 3, False)):
                g = graded[name]
                s["class_n"] += weight
                s["class_auto"] += weight * (g.status == "graded")
                s["class_ok"] += weight * (g.status == "graded" and g.correct == should)
            for name, should in (("right", True), ("miss", False)):
                g = graded[name]
                s["near_n"] += 1
                s["near_auto"] += g.status == "graded"
                s["near_ok"] += g.status == "graded" and g.correct == should
    figures = []
    for name, s in stats.items():
        figures += [
            (f"read_exactly[{name}]", 100 * s["exact"] / s["n"], f"% of {int(s['n'])} answers"),
            (
                f"confident_reading_right[{name}]",
                100 * s["confident_right"] / max(1, s["confident"]),
                f"% of {int(s['confident'])} with confidence >= 0.85",
            ),
            (f"confident_reading_share[{name}]", 100 * s["confident"] / s["n"], "% of answers"),
            (f"auto_graded_share[class mix, {name}]", 100 * s["class_auto"] / s["class_n"], "% of answers"),
            (
                f"auto_graded_right[class mix, {name}]",
                100 * s["class_ok"] / max(1, s["class_auto"]),
                "% of auto-graded",
            ),
            (f"auto_graded_share[near-miss mix, {name}]", 100 * s["near_auto"] / s["near_n"], "% of answers"),
            (
                f"auto_graded_right[near-miss mix, {name}]",
                100 * s["near_ok"] / max(1, s["near_auto"]),
                "% of auto-graded",
            ),
        ]
    figures.append(("ms_per_box[median]", 1000 * statistics.median(times), "ms (1 thread, read + verify)"))
    figures.append(("ms_per_box[p90]", 1000 * float(np.percentile(times, 90)), "ms (1 thread)"))
    return figures, source


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=500)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--backend", default="rapidocr")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--errors", action="store_true", help="list every wrong auto-grade")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.path.insert(0, str(REPO))
    errors: list[str] = []
    figures, source = measure(args.answers, args.seed, args.backend, errors if args.errors else None)
    for line in errors:
        print(f"# wrong auto-grade: {line}")
    if args.json:
        for name, value, unit in figures:
            print(json.dumps({"figure": name, "value": round(value, 3), "unit": unit}, ensure_ascii=False))
        return 0
    print(
        f"# {source}; backend {args.backend}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    for name, value, unit in figures:
        print(f"{name:48s} {value:8.2f}  {unit}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
