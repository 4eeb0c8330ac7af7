"""Run pyBKT on one fold; executed by benchmarks/mastery.py inside pyBKT's own virtual environment.

Reads train/test CSVs (response_id, user_id, skill_name, correct, in time order), fits pyBKT's
standard BKT per skill, averages each response's skill predictions (as our BKT does) and prints one
JSON object: {"build", "fit_s", "response_id", "p"}. It imports nothing from this repository.
"""

from __future__ import annotations

import json
import sys
import time


def main(train_csv: str, test_csv: str, seed: int) -> None:
    import pandas as pd
    from pyBKT.models import Model

    try:
        from pyBKT.fit import E_step  # noqa: F401  (the C++ core)

        build = "C++ (E_step extension)"
    except ImportError:
        build = "pure Python (no C++ extension)"
    train, test = pd.read_csv(train_csv), pd.read_csv(test_csv)
    for frame in (train, test):
        frame["order_id"] = range(len(frame))
        frame["skill_name"] = frame["skill_name"].astype(str)
    model = Model(seed=seed, num_fits=1, parallel=False)
    start = time.perf_counter()
    model.fit(data=train)
    fit_s = time.perf_counter() - start
    known = test["skill_name"].isin(set(train["skill_name"]))
    pred = model.predict(data=test[known].copy())
    # Skills pyBKT never saw in training get the training mean; each response averages its skills.
    p = pd.concat([pred[["response_id", "correct_predictions"]],
                   test.loc[~known, ["response_id"]].assign(correct_predictions=float(train["correct"].mean()))])
    per_response = p.groupby("response_id")["correct_predictions"].mean().sort_index()
    print(json.dumps({"build": build, "fit_s": fit_s, "response_id": per_response.index.tolist(),
                      "p": per_response.round(6).tolist()}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)
