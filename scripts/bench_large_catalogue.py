"""Suggest latency on a library-sized catalogue (the candidate-union path), in-process.

    python scripts/bench_large_catalogue.py [--codes 100000] [--queries 200]

Builds a synthetic catalogue of --codes codes whose names are drawn from the characters of the
bundled catalogue's names, with a stand-in encoder (hash-seeded unit vectors of 384 dimensions:
vector search cost depends on size and dimension, not on content; the real encoder's cost per query
is in bench_server.py), and measures `Linker.suggest` median and 99th percentile against the same on
the bundled catalogue (full-scan path) in the same run.
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from indicode.catalogue.build import Occurrence
from indicode.catalogue.store import Catalogue, write_catalogue
from indicode.matcher import vector_index
from indicode.matcher.linker import Linker


class StandInEncoder:
    name, dim = "stand-in-384", 384

    def _enc(self, texts):
        out = np.stack([np.random.default_rng(abs(hash(t)) % 2**32).normal(size=self.dim) for t in texts]).astype(np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    encode_queries = encode_passages = _enc


def timings(linker: Linker, queries: list[tuple[str, str]]) -> list[float]:
    out = []
    for t, c in queries:
        s = time.perf_counter()
        linker.suggest(t, c)
        out.append((time.perf_counter() - s) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--codes", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    rng = random.Random(0)
    small = Catalogue.load()
    names = [n for e in small.entries.values() for n in e.names]
    chars = "".join(sorted({ch for n in names for ch in n}))
    classes = sorted({e.code[:3] for e in small.entries.values() if e.valid})
    occs = [Occurrence(code=f"{rng.choice(classes)}{i:06d}", name="".join(rng.choice(chars) for _ in range(rng.randint(4, 12))),
                       source="synthetic", line=i) for i in range(args.codes)]
    queries = [(rng.choice(names), "") for _ in range(args.queries)]
    enc = StandInEncoder()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "big.sqlite"
        write_catalogue(db, occs)
        big = Catalogue.load(db)
        vi = vector_index.build(big, enc, Path(tmp))
        large = Linker(big, enc, index=vi)
        base = Linker(small, enc, index=vector_index.build(small, enc, Path(tmp)))
        b, l = timings(base, queries), timings(large, queries)
    p99 = lambda xs: sorted(xs)[int(0.99 * (len(xs) - 1))]  # noqa: E731
    print(f"bundled catalogue ({len(small)} codes, full scan): median {statistics.median(b):.2f} ms, p99 {p99(b):.2f} ms")
    print(f"synthetic {args.codes} codes ({vi.meta.kind} index, union of 64+64): median {statistics.median(l):.2f} ms, "
          f"p99 {p99(l):.2f} ms ({statistics.median(l) / statistics.median(b):.1f}x)")


if __name__ == "__main__":
    main()
