"""Cross-validated accuracy: fit the ranker on some labelled links, measure on the others.

    python scripts/crossval.py tests/data/gold_dev.csv tests/data/gold_external.csv --by-source
    python scripts/crossval.py tests/data/gold_dev.csv tests/data/gold_external.csv --by-file
    python scripts/crossval.py tests/data/gold_dev.csv [--folds 5] [--repeats 3]

Several files are pooled; figures are printed for all rows and per file. Random folds hold out
links; `--by-source` holds out one source at a time (a seed document, or one other province: its
links are then unseen in wording as well as in label), the harder case; `--by-file` fits on the
other files only (the seeds' links measured by a model fitted on other provinces' links, and the
reverse): the hardest.

The shipped model is fitted on all the labelled links, so `indicode evaluate` measures it on its own
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
    ap.add_argument("gold", nargs="+")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--by-source", action="store_true", help="one fold per source document / province")
    ap.add_argument("--by-file", action="store_true", help="one fold per gold file")
    args = ap.parse_args()
    files = {f: read_gold(f) for f in args.gold}
    gold = [g for rows in files.values() for g in rows]
    if args.by_file:
        if len(files) < 2:
            raise InputError(f"{args.gold[0]}: --by-file needs two or more gold files")
        bounds = np.cumsum([0] + [len(rows) for rows in files.values()])
        plans = [[set(range(a, b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]]
    elif args.by_source:
        plans = [source_folds(gold)]
        if len(plans[0]) < 2:
            raise InputError(f"{args.gold[0]}: --by-source needs links from two or more sources (column 'source')")
    else:
        plans = []
        for rep in range(args.repeats):
            idx = list(range(len(gold)))
            random.Random(rep).shuffle(idx)
            plans.append([set(idx[f :: args.folds]) for f in range(args.folds)])
    linker = Linker.default()
    preds = [predict_out_of_fold(linker, gold, plan) for plan in plans]

    def summary(sel: list[int]) -> dict:
        runs = [metrics([gold[i] for i in sel], [p[i] for i in sel]) for p in preds]
        return {"rows": len(sel), **{k: round(float(np.median([r[k] for r in runs])), 3) for k in KEYS}}

    out = {"folds": "by file" if args.by_file else "by source" if args.by_source else args.folds, "repeats": len(plans),
           "all": summary(list(range(len(gold))))}
    start = 0
    if len(files) > 1:
        for f, rows in files.items():
            out[f] = summary(list(range(start, start + len(rows))))
            start += len(rows)
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    try:
        main()
    except InputError as exc:
        raise SystemExit(f"error: {exc}") from None
