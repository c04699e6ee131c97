"""What checking a catalogue on open costs: `Catalogue.load` with and without SQLite's page check
(`PRAGMA quick_check`), on the bundled catalogue and on a synthetic library-sized one.

    python scripts/bench_catalogue_open.py [--codes 100000] [--repeats 15]

Prints medians and 99th percentiles of the load and of the check alone, and the check's share of
the load, measured in the same run.
"""
from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

from benchstats import p99
from indicode.catalogue.entries import Occurrence
from indicode.catalogue.lookup import Catalogue
from indicode.catalogue.paths import BUNDLED_DB
from indicode.catalogue.writing import write_catalogue


def _ms(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return sorted(out)


def _check(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA quick_check(3)").fetchall()
    con.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--codes", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    rng = random.Random(0)
    small = Catalogue.load(BUNDLED_DB)
    chars = "".join(sorted({ch for e in small.entries.values() for n in e.names for ch in n}))
    classes = sorted({e.code[:3] for e in small.entries.values() if e.valid})
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.sqlite"
        occs = [Occurrence(code=f"{rng.choice(classes)}{i:06d}", source="synthetic", line=i,
                           name="".join(rng.choice(chars) for _ in range(rng.randint(4, 12))))
                for i in range(args.codes)]
        write_catalogue(big, occs)
        print(f"{'catalogue':24} {'size':>9} {'load ms':>9} {'p99':>7} {'check ms':>9} {'p99':>7} {'share':>6}")
        for label, path in ((f"bundled ({len(small)} codes)", BUNDLED_DB), (f"synthetic ({args.codes:,} codes)", big)):
            load = _ms(partial(Catalogue.load, path), args.repeats)
            check = _ms(partial(_check, path), args.repeats)
            share = statistics.median(check) / statistics.median(load)
            print(f"{label:24} {path.stat().st_size / 1e6:8.2f}M {statistics.median(load):9.2f} {p99(load):7.2f} "
                  f"{statistics.median(check):9.2f} {p99(check):7.2f} {share:6.1%}")


if __name__ == "__main__":
    main()
