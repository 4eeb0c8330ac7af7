"""Regenerate ``fixtures/bank/items.csv`` from the Math23K and Ape210K copies in ``../shared/data/items``.

    python benchmarks/build_fixture_bank.py [--per-source 1000]

Takes a seeded sample of each set plus every hand-labelled problem (``fixtures/bank/hand_labels.csv``),
tags them with the rule-based tagger (``homework._taxonomy``), validates them through the item bank and
writes the bank as CSV. Problems whose answer is not a number are reported and left out.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "items"
OUT = ROOT / "fixtures" / "bank"
SOURCES = {  # name, id prefix, files
    "Math23K": ("m23k", ["math23k/testset.json", "math23k/validset.json"]),
    "Ape210K": ("ape", ["ape210k/test.ape.json", "ape210k/valid.ape.json"]),
}


def _load(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if text.lstrip().startswith("[") else [json.loads(line) for line in text.splitlines()
                                                                   if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-source", type=int, default=1000, help="problems sampled from each set")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if not DATA.exists():
        print(f"{DATA} is absent: the fixture bank can only be rebuilt next to ../shared/data", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    from homework._bank import ItemBank
    from homework._taxonomy import items_from_word_problems, taxonomy_graph

    with open(OUT / "hand_labels.csv", encoding="utf-8") as handle:
        labelled = {row["id"] for row in csv.DictReader(handle)}
    rng = random.Random(args.seed)
    rows = []
    for source, (prefix, files) in SOURCES.items():
        problems = [p for f in files for p in _load(DATA / f)]
        chosen = {p["id"] for p in rng.sample(problems, args.per_source)}
        chosen |= {p["id"] for p in problems if f"{prefix}-{p['id']}" in labelled}
        rows += items_from_word_problems([p for p in problems if p["id"] in chosen], source, prefix)
    import pandas as pd

    bank = ItemBank(taxonomy_graph())
    report = bank.import_frame(pd.DataFrame(rows))
    for issue in report.issues:
        print(f"left out: {issue}", file=sys.stderr)
    missing = labelled - set(bank.frame["id"])
    if missing:
        print(f"hand-labelled problems not in the bank: {sorted(missing)}", file=sys.stderr)
        return 1
    bank.export(OUT / "items.csv")
    print(f"wrote {len(bank)} items to {OUT / 'items.csv'} ({report.rejected} left out)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
