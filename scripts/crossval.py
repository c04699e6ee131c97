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
from pathlib import Path

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
    ap.add_argument("--rows", type=Path, help="write each row's held-out answer here (JSON Lines, first run)")
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
    if args.rows:
        write_rows(args.rows, gold, preds[0])


def write_rows(path: Path, gold: list, sugg: list) -> None:
    """Each row's held-out answer, to compare two versions row by row (which rows a change gains and
    loses): uid, text, class, gold, decision, code decided, top code and score, right or not."""
    with path.open("w", encoding="utf-8") as fh:
        for g, s in zip(gold, sugg, strict=True):
            top = s.top
            fh.write(json.dumps({"uid": g.uid, "source": g.source, "name": g.name, "level2": g.level2,
                                 "gold": g.gold, "decision": str(s.decision), "code": s.code,
                                 "top": top.code if top else "", "top_name": top.name if top else "",
                                 "features": {k: round(v, 3) for k, v in (top.features if top else {}).items() if v},
                                 "score": round(top.score, 3) if top else 0.0,
                                 "top1": bool(top and top.code in g.acceptable),
                                 "rank": next((i for i, c in enumerate(s.candidates[:5], 1)
                                               if c.code in g.acceptable), 0),
                                 "right": (s.code or "NIL") in g.acceptable}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    try:
        main()
    except InputError as exc:
        raise SystemExit(f"error: {exc}") from None
