"""Cross-validated accuracy: fit the ranker on some labelled links, measure on the others.

    python scripts/crossval.py ../shared/gold/dev.csv [--folds 5] [--repeats 3]
    python scripts/crossval.py ../shared/gold/dev.csv --by-source

Random folds hold out links; `--by-source` holds out one source document at a time (its links are
then unseen in wording as well as in label), the harder case.

The shipped model is fitted on all of dev.csv, so `indicode evaluate dev.csv` measures it on its own
training links; this script says what to expect on links it has not seen.
"""
from __future__ import annotations

import argparse
import json
import random

import numpy as np

from indicode.catalogue.records import InputError
from indicode.matcher.evaluate import KEYS, metrics, predict_out_of_fold, source_folds
from indicode.matcher.gold import read_gold
from indicode.matcher.linker import Linker


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("gold")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--by-source", action="store_true", help="one fold per source document")
    args = ap.parse_args()
    gold = read_gold(args.gold)
    if args.by_source:
        plans = [source_folds(gold)]
        if len(plans[0]) < 2:
            raise InputError(f"{args.gold}: --by-source needs links from two or more sources (column 'source')")
    else:
        plans = []
        for rep in range(args.repeats):
            idx = list(range(len(gold)))
            random.Random(rep).shuffle(idx)
            plans.append([set(idx[f :: args.folds]) for f in range(args.folds)])
    linker = Linker.default()
    runs = [metrics(gold, predict_out_of_fold(linker, gold, plan)) for plan in plans]
    summary = {k: round(float(np.median([r[k] for r in runs])), 3) for k in KEYS}
    print(json.dumps({"folds": "by source" if args.by_source else args.folds, "repeats": len(plans),
                      "median": summary, "runs": [{k: round(r[k], 3) for k in KEYS} for r in runs]},
                     ensure_ascii=False, indent=1))


if __name__ == "__main__":
    try:
        main()
    except InputError as exc:
        raise SystemExit(f"error: {exc}") from None
