"""What writing the review workbook costs, against a plain one-sheet .xlsx of the same records
written in the same run (`export.write_frames`, the baseline).

    python scripts/bench_review_sheet.py [--rows 50000] [--repeats 3]

The records are the normalized seed documents (594 rows), and --rows of them repeated with varied
texts (so that the 按文本审核 sheet has many distinct texts). Prints medians and the ratio.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

import pandas as pd

from indicode.bulk import columns_in_order, normalize
from indicode.catalogue.export import write_frames
from indicode.catalogue.paths import BUNDLED_SEEDS
from indicode.matcher.linker import Linker
from indicode.review_sheet import write_workbook


def _write_plain(path: Path, records: list[dict], cols: list[str]) -> None:
    write_frames(path, {"rows": pd.DataFrame(records, columns=cols)})


def _median_s(fn, repeats: int) -> float:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    records = normalize(sorted(BUNDLED_SEEDS.glob("*.txt")), Linker.default()).records
    big = [{**r, "indicator": r["indicator"] + (str(i % 10) if r["indicator"] else "")}
           for i in range(args.rows // len(records) + 1) for r in records][:args.rows]
    print(f"{'records':>8} {'distinct':>8} {'review workbook s':>18} {'plain xlsx s':>13} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for recs, repeats in ((records, args.repeats), (big, 1)):
            cols = columns_in_order(recs)
            distinct = len({(r["indicator"], r["class"]) for r in recs if r["indicator"]})
            wb = _median_s(partial(write_workbook, Path(tmp) / "w.xlsx", recs, cols, []), repeats)
            plain = _median_s(partial(_write_plain, Path(tmp) / "p.xlsx", recs, cols), repeats)
            print(f"{len(recs):8,} {distinct:8,} {wb:18.2f} {plain:13.2f} {wb / plain:6.2f}")


if __name__ == "__main__":
    main()
