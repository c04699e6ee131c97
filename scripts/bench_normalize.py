"""Normalize throughput: a cold run against a warm one (vector cache), and a large synthetic run.

    python scripts/bench_normalize.py [--repeats 3] [--big 50000]

1. The five seed documents, in-process, with an empty vector cache, then again with the cache the
   first run filled: median seconds of each over --repeats rounds (each round a fresh cache) and
   their ratio.
2. A CSV of --big rows made by repeating the seed rows with variations (a district prefix, a year
   suffix, a unit in brackets): rows per second, cold cache, against the encoder alone encoding the
   same distinct texts in the same batches (no cache, no matching), timed before and after normalize
   in the same run (their mean is the baseline): the ratio says
   how much matching adds beyond encoding (bulk matching overlaps encoding, see bulk.match_rows).
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

from indicode.bulk import normalize
from indicode.catalogue.paths import BUNDLED_SEEDS
from indicode.catalogue.readers.detect import read_document
from indicode.matcher.linker import Linker
from indicode.matcher.text import clean


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))[1:]

PREFIXES = ["", "", "全区", "市级", "街道", "本单位", "年度", "各部门"]
SUFFIXES = ["", "", "（%）", "（件）", "(2024年)", "情况"]


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--big", type=int, default=50_000)
    args = ap.parse_args()
    seeds = sorted(BUNDLED_SEEDS.glob("*.txt"))
    cold, warm = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            os.environ["INDICODE_CACHE_DIR"] = str(Path(tmp) / f"cache{r}")
            linker = Linker.default()
            cold.append(timed(partial(normalize, seeds, linker)))
            warm.append(timed(partial(normalize, seeds, linker)))
        c, w = statistics.median(cold), statistics.median(warm)
        rows = sum(len(read_document(p).rows) for p in seeds)
        print(f"seeds: {rows} rows; cold median {c:.2f}s, warm median {w:.2f}s, cold/warm {c / w:.1f}x")
        if args.big:
            rng = random.Random(0)
            base = [r for p in seeds for r in read_document(p).rows]
            big = Path(tmp) / "big.csv"
            with big.open("w", encoding="utf-8", newline="") as fh:
                wr = csv.writer(fh)
                wr.writerow(["三级指标", "二级指标", "指标值"])
                for i in range(args.big):
                    r = base[i % len(base)]
                    wr.writerow([rng.choice(PREFIXES) + r.name + rng.choice(SUFFIXES), r.level2, r.value])
            os.environ["INDICODE_CACHE_DIR"] = str(Path(tmp) / "cache-big")
            linker = Linker.default()
            distinct = list(dict.fromkeys(clean(r[0]) or r[0] for r in _rows(big)))

            def encoder_alone() -> float:
                t = time.perf_counter()
                for i in range(0, len(distinct), 64):
                    linker.encoder.encode_queries(distinct[i : i + 64])
                return time.perf_counter() - t

            # the encoder alone before and after normalize, so a change in machine load during the
            # run weighs on both sides of the ratio alike
            before = encoder_alone()
            t = time.perf_counter()
            res = normalize([big], linker)
            secs = time.perf_counter() - t
            enc_secs = (before + encoder_alone()) / 2
            print(f"big: {len(res.records)} rows, {res.unique} distinct, {res.encoded} encoded, {secs:.1f}s, "
                  f"{len(res.records) / secs:.0f} rows/s; encoder alone on the {len(distinct)} distinct texts "
                  f"{enc_secs:.1f}s (mean of before and after); normalize/encoder {secs / enc_secs:.2f}x")


if __name__ == "__main__":
    main()
