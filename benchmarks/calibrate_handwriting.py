"""Calibrating the expression keys' verification threshold on real writing, writers held out.

    python benchmarks/calibrate_handwriting.py          # a few minutes on one core

CROHME's flat expressions and equations (``benchmarks/handwriting.py`` builds the boxes), each read
once with its true key and once with a plausible wrong one, split into two halves by writer. For
each candidate ``GradingPolicy.min_key_probability["expression"]`` it prints, per half, the share
of right answers auto-graded and the wrong decisions. A threshold is chosen on one half and must
make no wrong decision on the other (the writers it never saw). Last run (load average ~15):
0.7: 69.5 / 65.1 % covered, 0 / 0 wrong; 0.6: 74.3 / 67.8 %, 0 / 0; 0.5: 80.0 / 70.4 %, 0 / 1
wrong. So 0.6: the lowest threshold with no wrong decision on held-out writers.
"""

from __future__ import annotations

import os
import sys
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
THRESHOLDS = (0.7, 0.6, 0.5, 0.4)


def main() -> int:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.path.insert(0, str(REPO / "benchmarks"))
    import numpy as np
    from handwriting import DATA, crohme_cases, make_keyer, wrong_key

    from scanning import GradingPolicy, get_backend, grade, read_answer

    if not (DATA / "crohme").exists():
        print(f"# {DATA / 'crohme'} is absent: nothing to calibrate on")
        return 1
    backend, (keyer, _) = get_backend(), make_keyer()
    rng = np.random.default_rng(14)
    rows = []
    for case in crohme_cases(rng):
        if case.kind not in ("equation", "expression"):
            continue
        try:
            wrong = wrong_key(case, case.kind, rng, keyer)
        except ValueError:
            continue
        half = zlib.crc32(case.writer.encode()) % 2
        for should, key in ((True, keyer(case.kind, case.truth)), (False, wrong)):
            rows.append((half, should, key, read_answer(case.crop, key, backend)))
    print(f"# {len(rows) // 2} CROHME expressions and equations; load average {os.getloadavg()[0]:.1f}")
    for threshold in THRESHOLDS:
        policy = GradingPolicy(min_key_probability={"number": 0.7, "text": 0.7, "expression": threshold})
        for half in (0, 1):
            mine = [(should, grade(key, reading, policy)) for h, should, key, reading in rows if h == half]
            right = [g for should, g in mine if should]
            covered = sum(g.status == "graded" for g in right)
            wrong = sum(g.status == "graded" and g.correct != should for should, g in mine)
            print(
                f"threshold {threshold}: writers half {half}: right answers auto-graded "
                f"{100 * covered / max(1, len(right)):.1f} % of {len(right)}, wrong decisions {wrong}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
