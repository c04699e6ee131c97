"""Cross-validated accuracy: fit the ranker on some labelled links, measure on the others.

    python scripts/crossval.py ../shared/gold/dev.csv [--folds 5] [--seed 0]

The shipped model is fitted on all of dev.csv, so `indicode evaluate dev.csv` measures it on its own
training links; this script says what to expect on links it has not seen.
"""
from __future__ import annotations

import argparse
import json
import random

import numpy as np

from matcher.calibration import fit
from matcher.evaluate import KEYS, metrics, suggest_gold, with_model
from matcher.gold import read_gold
from matcher.linker import Linker


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("gold")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    gold = read_gold(args.gold)
    linker = Linker.default()
    runs = []
    for rep in range(args.repeats):
        idx = list(range(len(gold)))
        random.Random(rep).shuffle(idx)
        pred = [None] * len(gold)
        for f in range(args.folds):
            test = set(idx[f :: args.folds])
            train = [g for i, g in enumerate(gold) if i not in test]
            model = fit(linker, train, fitted_on="crossval")
            tl = with_model(linker, model)
            tg = [g for i, g in enumerate(gold) if i in test]
            for i, s in zip([i for i in range(len(gold)) if i in test], suggest_gold(tl, tg)):
                pred[i] = s
        runs.append(metrics(gold, pred))
    summary = {k: round(float(np.median([r[k] for r in runs])), 3) for k in KEYS}
    print(json.dumps({"folds": args.folds, "repeats": args.repeats, "median": summary,
                      "runs": [{k: round(r[k], 3) for k in KEYS} for r in runs]}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
