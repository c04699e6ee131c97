"""Before/after figures for the review loop: learn from half of the labelled links (their gold code
as the reviewer's decision), then evaluate on the learned half and on the other half.

    python scripts/learn_eval.py tests/data/gold_dev.csv

Runs on a temporary copy of the bundled catalogue; prints end-to-end and top-1 before and after.
"""
from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from indicode.catalogue.store import BUNDLED_DB
from indicode.matcher.evaluate import evaluate
from indicode.matcher.gold import read_gold
from indicode.matcher.linker import Linker


def figures(catalogue: Path, gold) -> dict:
    res = evaluate(Linker.default(catalogue), gold)
    return {k: round(res[k], 3) for k in ("end_to_end", "top1", "accept_share")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("gold", type=Path)
    args = ap.parse_args()
    rows = list(csv.DictReader(args.gold.read_text(encoding="utf-8").splitlines()))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        halves = {"learned": [r for i, r in enumerate(rows) if i % 2 == 0], "other": [r for i, r in enumerate(rows) if i % 2]}
        files = {}
        for name, part in halves.items():
            files[name] = tmp / f"{name}.csv"
            with files[name].open("w", encoding="utf-8", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(part)
        cat = tmp / "catalogue.sqlite"
        shutil.copy(BUNDLED_DB, cat)
        gold = {n: read_gold(f) for n, f in files.items()}
        before = {n: figures(cat, g) for n, g in gold.items()}
        cmd = [sys.executable, "-m", "indicode.cli", "learn", str(files["learned"]), "-c", str(cat), "--reviewer", "gold"]
        subprocess.run(cmd, check=True)
        after = {n: figures(cat, g) for n, g in gold.items()}
    print(f"{'rows':10} {'n':>4} {'figure':12} {'before':>7} {'after':>7}")
    for n in gold:
        for k in before[n]:
            print(f"{n:10} {len(gold[n]):4d} {k:12} {before[n][k]:7.3f} {after[n][k]:7.3f}")


if __name__ == "__main__":
    main()
